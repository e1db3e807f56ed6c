//! `capsim man [SUBCOMMAND]`: roff man pages generated from the command line.

use clap::Args;

use super::ui::{self, Failure, Problem};

pub const AFTER_HELP: &str = "Examples:
  capsim man > capsim.1 && man ./capsim.1
  capsim man run > capsim-run.1               # one page per subcommand, as git does
  mkdir -p ~/.local/share/man/man1 && capsim man > ~/.local/share/man/man1/capsim.1";

#[derive(Debug, Args)]
pub struct ManArgs {
    /// A subcommand's page (`capsim-run(1)`) instead of capsim(1).
    // Its possible values, the subcommands' names, are set by `cli::command`.
    #[arg(value_name = "SUBCOMMAND")]
    pub subcommand: Option<String>,
}

pub fn run(a: ManArgs) -> Result<(), Failure> {
    let subcommand = a.subcommand.as_deref();
    // clap has already refused names that are not subcommands.
    let page = man_page(subcommand).ok_or_else(|| {
        Failure::bad_input(vec![Problem::error(format!(
            "no subcommand named `{}`",
            subcommand.unwrap_or_default()
        ))])
    })?;
    ui::write_stdout(page.as_bytes())
}

/// The roff man page of capsim, or of one subcommand (`capsim-run(1)`), from the clap
/// definition: clap_mangen's sections, then the `after_help` text (examples, exit codes) as
/// sections of its own, kept line for line. `None` for an unknown subcommand.
pub fn man_page(subcommand: Option<&str>) -> Option<String> {
    let mut cmd = super::command();
    cmd.build();
    // `capsim help` is clap's; it has no page of its own.
    let cmd = cmd.mut_subcommand("help", |h| h.hide(true));
    let source = format!("capsim {}", cmd.get_version().unwrap_or_default());
    let cmd = match subcommand {
        None => cmd,
        Some(name) => cmd.find_subcommand(name)?.clone(),
    };
    let extra = cmd
        .get_after_help()
        .map(|h| h.to_string())
        .unwrap_or_default();
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.after_help(None::<&str>))
        .source(source)
        .render(&mut buf)
        .ok()?;
    let page = String::from_utf8(buf).ok()?;
    // clap_mangen starts with a string definition for apostrophes; the page proper (and
    // `whatis`) wants `.TH` first, and the definition works as well after it.
    let (preamble, body) = match page.find("\n.TH ") {
        Some(i) => page.split_at(i + 1),
        None => ("", page.as_str()),
    };
    let (th, rest) = body.split_once('\n').unwrap_or((body, ""));
    let sections = roff_sections(&extra);
    let (before_version, version) = match rest.find(".SH VERSION") {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    Some(format!(
        "{th}\n{preamble}{before_version}{sections}{version}"
    ))
}

/// Turns `after_help` text into roff: a line such as `Examples:` starts a section
/// (`Exit codes:` becomes the customary EXIT STATUS), and the text is kept line for line.
fn roff_sections(text: &str) -> String {
    let mut out = String::new();
    let mut open = false;
    for line in text.lines() {
        let heading = !line.is_empty()
            && !line.starts_with(' ')
            && line.ends_with(':')
            && !line[..line.len() - 1].contains(':');
        if heading {
            if open {
                out.push_str(".fi\n");
            }
            let title = match &line[..line.len() - 1] {
                "Exit codes" => "EXIT STATUS".to_string(),
                t => t.to_uppercase(),
            };
            out.push_str(&format!(".SH {title}\n.nf\n"));
            open = true;
        } else {
            if !open {
                out.push_str(".SH NOTES\n.nf\n");
                open = true;
            }
            out.push_str(&roff_escape(line));
            out.push('\n');
        }
    }
    if open {
        out.push_str(".fi\n");
    }
    out
}

/// Escapes a line of text for roff: backslashes, hyphens (so `--out` stays two ASCII
/// hyphens), and a leading `.` or `'` that would read as a request.
fn roff_escape(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    if line.starts_with('.') || line.starts_with('\'') {
        out.push_str("\\&");
    }
    for c in line.chars() {
        match c {
            '\\' => out.push_str("\\e"),
            '-' => out.push_str("\\-"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_help_becomes_man_sections_line_for_line() {
        let roff = roff_sections("Examples:\n  capsim run --out x\n\nExit codes:\n  0  ok\n");
        assert_eq!(
            roff,
            ".SH EXAMPLES\n.nf\n  capsim run \\-\\-out x\n\n.fi\n.SH EXIT STATUS\n.nf\n  0  ok\n.fi\n"
        );
        assert_eq!(roff_escape(".hidden \\ x"), "\\&.hidden \\e x");
    }

    #[test]
    fn a_man_page_starts_with_its_title() {
        let page = man_page(None).expect("a page");
        assert!(page.starts_with(".TH capsim 1"), "{}", &page[..80]);
        assert!(page.contains(".SH EXIT STATUS"));
        let run = man_page(Some("run")).expect("a page");
        assert!(run.starts_with(".TH capsim-run 1"), "{}", &run[..80]);
        assert!(run.contains("\\-\\-no\\-charts"));
        assert!(man_page(Some("nope")).is_none());
        // Every page has its examples, and no line of prose was taken for a heading.
        const KNOWN: [&str; 10] = [
            "NAME",
            "SYNOPSIS",
            "DESCRIPTION",
            "OPTIONS",
            "SUBCOMMANDS",
            "EXAMPLES",
            "EXIT STATUS",
            "ENVIRONMENT",
            "SEE ALSO",
            "VERSION",
        ];
        let cmd = crate::cli::command();
        let names = cmd.get_subcommands().map(|c| Some(c.get_name()));
        for sub in names.chain([None]) {
            let page = man_page(sub).expect("a page");
            assert!(page.contains(".SH EXAMPLES"), "{sub:?}");
            for heading in page.lines().filter_map(|l| l.strip_prefix(".SH ")) {
                assert!(KNOWN.contains(&heading), "{sub:?}: section {heading}");
            }
        }
    }
}
