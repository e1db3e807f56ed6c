//! The `capsim` binary: parse the command line, hand it to the library, exit with its code.

/// mimalloc rather than the system's allocator: a run's memory is almost all new, and
/// mimalloc asks the system for it in transparent huge pages where Linux allows them, so a
/// run takes a page fault for each 2 MiB rather than each 4 KiB (docs/performance.md,
/// "Where capsim stands"). The library's benchmarks and tests use the system's allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    capsim::cli::main(capsim::cli::parse())
}
