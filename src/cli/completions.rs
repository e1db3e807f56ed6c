//! `capsim completions SHELL`: a completion script generated from the command line.

use clap::Args;
use clap_complete::Shell;

use super::ui::{self, Failure};

pub const AFTER_HELP: &str = "Examples:
  capsim completions bash > ~/.local/share/bash-completion/completions/capsim
  capsim completions zsh > ~/.zfunc/_capsim     # with fpath+=(~/.zfunc) before compinit
  capsim completions fish > ~/.config/fish/completions/capsim.fish
  capsim completions powershell >> $PROFILE
  capsim completions elvish > ~/.config/elvish/lib/capsim.elv   # then `use capsim`

Open a new shell afterwards. Details per shell in docs/cli.md.";

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(a: CompletionsArgs) -> Result<(), Failure> {
    let mut buf = Vec::new();
    clap_complete::generate(a.shell, &mut super::command(), "capsim", &mut buf);
    ui::write_stdout(&buf)
}
