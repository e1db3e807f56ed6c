//! The `capsim` binary: parse the command line, hand it to the library, exit with its code.

/// mimalloc rather than the system's allocator: a Monte Carlo run spends 2-3% less CPU
/// (docs/performance.md, "Where capsim stands"). Built without asking the kernel for
/// transparent huge pages (the crate's `no_thp`): they sped up runs made back to back but
/// slowed a run after a pause two to three times on a virtual machine. The library's
/// benchmarks and tests use the system's allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    capsim::cli::main(capsim::cli::parse())
}
