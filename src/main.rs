//! The `capsim` binary: parse the command line, hand it to the library, exit with its code.

use clap::Parser;

fn main() -> std::process::ExitCode {
    capsim::cli::main(capsim::cli::Cli::parse())
}
