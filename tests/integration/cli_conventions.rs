//! The command line's conventions (issue 6): help with examples, exit codes, `--quiet`,
//! `--json`, `NO_COLOR`, completions, the man page and the scenario schema.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn capsim() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_capsim"));
    // The tests set colour themselves; an inherited NO_COLOR must not decide for them.
    c.env_remove("NO_COLOR");
    c
}

fn run(args: &[&str]) -> Output {
    capsim().args(args).output().expect("capsim runs")
}

fn stdout_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn has_keys(v: &Value, keys: &[&str]) {
    for k in keys {
        assert!(v.get(k).is_some(), "missing key {k} in {v}");
    }
}

/// The default scenario with `packages_per_wafer` misspelled once, and the line it is on.
fn misspelled(dir: &Path) -> (std::path::PathBuf, u64) {
    let text = std::fs::read_to_string("scenarios/default.yaml")
        .expect("default scenario")
        .replacen(
            "    packages_per_wafer: 15 ",
            "    packages_per_wafr: 15 ",
            1,
        );
    let line = text
        .lines()
        .position(|l| l.contains("packages_per_wafr"))
        .expect("the typo is there") as u64
        + 1;
    let path = dir.join("typo.yaml");
    std::fs::write(&path, text).expect("write");
    (path, line)
}

#[test]
fn every_help_shows_examples_and_exits_0() {
    // Every subcommand, from the definition.
    let cmd = capsim::cli::command();
    let mut pages: Vec<Vec<&str>> = vec![vec!["--help"], vec!["help", "run"]];
    pages.extend(cmd.get_subcommands().map(|s| vec![s.get_name(), "--help"]));
    for args in pages {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(0), "capsim {args:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Examples:"), "capsim {args:?}:\n{text}");
    }
    let top = String::from_utf8_lossy(&run(&["--help"]).stdout).into_owned();
    assert!(
        top.contains("Exit codes:") && top.contains("docs/cli.md"),
        "{top}"
    );
}

#[test]
fn version_exits_0_and_usage_errors_exit_2() {
    let v = run(&["--version"]);
    assert_eq!(v.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&v.stdout).starts_with("capsim "));
    for args in [
        vec!["run", "--no-such-flag"],
        vec!["compare", "only-one.yaml"],
        vec!["completions", "tcsh"],
        vec!["man", "nope"],
        vec!["--color", "sometimes", "schema"],
        vec![],
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "capsim {args:?}");
        assert!(out.stdout.is_empty(), "capsim {args:?} printed on stdout");
    }
}

#[test]
fn run_json_is_one_document_with_the_documented_keys() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("o");
    let out = capsim()
        .args([
            "run",
            "--json",
            "--no-charts",
            "--set",
            "end=2023-03-31",
            "--out",
        ])
        .arg(&dir)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let doc = stdout_json(&out);
    has_keys(
        &doc,
        &["scenario", "out_dir", "files", "summary", "warnings"],
    );
    assert_eq!(doc["scenario"], "default");
    assert_eq!(doc["out_dir"], dir.display().to_string());
    let files: Vec<&str> = doc["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(files.contains(&"summary.json") && files.contains(&"timeseries.csv"));
    assert!(!files.contains(&"report.md"), "--no-charts draws nothing");
    // The summary is summary.json's object.
    let written: Value =
        serde_json::from_slice(&std::fs::read(dir.join("summary.json")).expect("summary"))
            .expect("json");
    assert_eq!(doc["summary"], written);
    // Launches after 2023-03-31 are warned about: a warning is structured like an error.
    let w = &doc["warnings"][0];
    has_keys(w, &["file", "line", "column", "path", "message"]);
    assert_eq!(w["severity"], "warning");
    assert!(w["line"].as_u64().is_some(), "{w}");
}

#[test]
fn validate_json_gives_structured_errors_and_exits_2() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (bad, line) = misspelled(tmp.path());
    let out = capsim()
        .args(["validate", "--json"])
        .arg(&bad)
        .arg("scenarios/default.yaml")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "an invalid file exits 2");
    let doc = stdout_json(&out);
    let files = doc["files"].as_array().expect("files");
    assert_eq!(files.len(), 2);
    for f in files {
        has_keys(f, &["file", "ok", "scenario", "errors", "warnings"]);
    }
    let (bad_doc, good_doc) = (&files[0], &files[1]);
    assert_eq!(bad_doc["ok"], false);
    assert_eq!(bad_doc["scenario"], Value::Null);
    let e = &bad_doc["errors"][0];
    has_keys(e, &["file", "line", "column", "path", "message"]);
    assert_eq!(e["file"], bad.display().to_string());
    assert_eq!(e["line"], line);
    assert_eq!(e["column"], 5, "the key starts after four spaces");
    assert_eq!(e["path"], "products[0].packages_per_wafr");
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("did you mean `packages_per_wafer`")),
        "{e}"
    );
    assert_eq!(good_doc["ok"], true);
    assert_eq!(good_doc["scenario"], "default");
    assert_eq!(good_doc["errors"], serde_json::json!([]));
    // People still get the rendered errors on stderr.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("typo.yaml:{line}:5")), "{err}");
}

#[test]
fn a_failed_run_with_json_prints_its_errors_as_json() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (bad, line) = misspelled(tmp.path());
    let out = capsim()
        .args(["run", "--json"])
        .arg(&bad)
        .arg("--out")
        .arg(tmp.path().join("o"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let doc = stdout_json(&out);
    has_keys(&doc, &["errors", "warnings"]);
    assert_eq!(doc["errors"][0]["line"], line);
    assert!(
        !tmp.path().join("o").exists(),
        "nothing written on bad input"
    );
}

#[test]
fn chart_and_compare_json_have_the_documented_keys() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("o");
    let out = capsim()
        .args([
            "run",
            "--quiet",
            "--no-charts",
            "--set",
            "end=2023-02-28",
            "--out",
        ])
        .arg(&dir)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty(), "--quiet prints nothing on stdout");

    let out = capsim()
        .args(["chart", "--json"])
        .arg(&dir)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let doc = stdout_json(&out);
    has_keys(&doc, &["out_dir", "files"]);
    let files = doc["files"].as_array().expect("files");
    assert!(files.iter().any(|f| f == "report.md"), "{doc}");
    assert!(files.iter().any(|f| f == "charts/supply.png"), "{doc}");

    let out = capsim()
        .args(["compare", "--json", "--set", "end=2023-02-28"])
        .arg("scenarios/default.yaml")
        .arg("scenarios/default.yaml")
        .arg("--out")
        .arg(tmp.path().join("cmp"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let doc = stdout_json(&out);
    has_keys(&doc, &["out_dir", "files", "scenarios", "warnings"]);
    let runs = doc["scenarios"].as_array().expect("scenarios");
    assert_eq!(runs.len(), 2);
    for r in runs {
        has_keys(r, &["scenario", "file", "folder", "summary"]);
    }
    // Two scenarios of one name get a folder each.
    assert_eq!(runs[0]["folder"], "default");
    assert_eq!(runs[1]["folder"], "default-2");
    let files = doc["files"].as_array().expect("files");
    assert!(files.iter().any(|f| f == "compare.md"), "{doc}");
}

#[test]
fn quiet_validate_prints_nothing_on_stdout() {
    let out = run(&["validate", "--quiet", "scenarios/default.yaml"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
}

#[test]
fn no_color_gives_no_escape_codes_and_always_gives_them() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (bad, _) = misspelled(tmp.path());
    let validate = |no_color: bool, extra: &[&str]| {
        let mut c = capsim();
        if no_color {
            c.env("NO_COLOR", "1");
        }
        let out = c
            .arg("validate")
            .args(extra)
            .arg(&bad)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2));
        out
    };
    for out in [
        validate(true, &[]),
        validate(false, &[]),
        validate(true, &["--json"]),
    ] {
        assert!(!out.stderr.contains(&0x1b), "ESC on stderr");
        assert!(!out.stdout.contains(&0x1b), "ESC on stdout");
        assert!(String::from_utf8_lossy(&out.stderr).contains("error: unknown field"));
    }
    // Asked for, colour is given even into a pipe: a bold red label (then the message in
    // bold, as rustc's).
    let out = validate(false, &["--color", "always"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("\x1b[1m\x1b[31merror\x1b[0m\x1b[1m: unknown field"),
        "{err}"
    );
    let out = validate(false, &["--color", "never"]);
    assert!(!out.stderr.contains(&0x1b));
}

#[test]
fn completions_cover_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = run(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!text.trim().is_empty(), "{shell}");
        for sub in ["compare", "validate", "schema"] {
            assert!(text.contains(sub), "{shell} completions lack {sub}");
        }
    }
}

#[test]
fn man_prints_roff_pages_from_the_definition() {
    let out = run(&["man"]);
    assert_eq!(out.status.code(), Some(0));
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(
        page.starts_with(".TH capsim 1"),
        "{}",
        &page[..page.len().min(200)]
    );
    for section in [".SH SYNOPSIS", ".SH EXAMPLES", ".SH EXIT STATUS"] {
        assert!(page.contains(section), "no {section}");
    }
    let out = run(&["man", "validate"]);
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(page.starts_with(".TH capsim-validate 1"), "{page}");
    assert!(page.contains("\\-\\-json"), "{page}");
}

/// The schema as `capsim schema` prints it.
fn schema() -> Value {
    let out = run(&["schema"]);
    assert_eq!(out.status.code(), Some(0));
    stdout_json(&out)
}

/// A validator for the schema (draft-07, no network), and what it says of a YAML text.
struct Validator {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

impl Validator {
    fn new() -> Validator {
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        compiler
            .add_resource("capsim.schema.json", schema())
            .expect("a resource");
        let index = compiler
            .compile("capsim.schema.json", &mut schemas)
            .expect("the schema compiles");
        Validator { schemas, index }
    }

    /// `Ok` or the validator's message, for a YAML scenario converted to JSON.
    fn check_yaml(&self, yaml: &str) -> Result<(), String> {
        let value: Value = serde_saphyr::from_str(yaml).expect("YAML converts to JSON");
        self.check(&value)
    }

    fn check(&self, value: &Value) -> Result<(), String> {
        self.schemas
            .validate(value, self.index)
            .map_err(|e| format!("{e:#}"))
    }
}

#[test]
fn schema_is_json_and_refuses_unknown_keys_at_the_top() {
    let s = schema();
    assert_eq!(s["additionalProperties"], false);
    assert_eq!(s["$schema"], "http://json-schema.org/draft-07/schema#");
    assert!(s["properties"]["supply"].is_object());
}

#[test]
fn the_schema_accepts_the_shipped_scenario_and_refuses_mistakes() {
    let v = Validator::new();
    let default = std::fs::read_to_string("scenarios/default.yaml").expect("default");
    v.check_yaml(&default)
        .unwrap_or_else(|e| panic!("default.yaml does not fit the schema: {e}"));

    // A misspelled key, at the top and deep down, is refused by additionalProperties.
    let typo = default.replacen(
        "    packages_per_wafer: 15 ",
        "    packages_per_wafr: 15 ",
        1,
    );
    let err = v
        .check_yaml(&typo)
        .expect_err("a misspelled key is refused");
    assert!(err.contains("'packages_per_wafr' not allowed"), "{err}");
    let typo = default.replacen("\nseed: 1\n", "\nsede: 1\n", 1);
    let err = v
        .check_yaml(&typo)
        .expect_err("a misspelled key is refused");
    assert!(err.contains("'sede' not allowed"), "{err}");
    // A missing required field, a string for a number, an unknown enum value.
    assert!(
        v.check_yaml(&default.replacen("\nstart: 2023-01-01\n", "\n", 1))
            .is_err()
    );
    assert!(
        v.check_yaml(&default.replacen("    power_w: 700", "    power_w: lots", 1))
            .is_err()
    );
    assert!(
        v.check_yaml(&default.replacen("interpolation: linear", "interpolation: cubic", 1))
            .is_err()
    );
}

#[test]
fn the_schema_accepts_every_library_scenario_and_distributions_for_numbers() {
    let v = Validator::new();
    let mut files: Vec<_> = std::fs::read_dir("scenarios")
        .expect("scenarios/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.iter().any(|f| f.ends_with("uncertain.yaml")));
    for f in files {
        let text = std::fs::read_to_string(&f).expect("readable");
        v.check_yaml(&text)
            .unwrap_or_else(|e| panic!("{} does not fit the schema: {e}", f.display()));
    }
    let what_if =
        |field: &str| format!("extends: base.yaml\nproducts:\n  - name: H100\n    {field}\n");
    for good in [
        "power_w: {normal: {mean: 700, sd: 30, max: 800}}",
        "cycle_time_days: {pert: {min: 60, mode: 90, max: 150}}",
        "price_usd: {2024-01: {uniform: {min: 20000, max: 30000}}}",
    ] {
        v.check_yaml(&what_if(good))
            .unwrap_or_else(|e| panic!("{good} fits the schema: {e}"));
    }
    for bad in [
        "power_w: {normall: {mean: 700, sd: 30}}",
        "power_w: {normal: {mean: 700, stdev: 30}}",
        "power_w: {normal: {mean: 700}}",
    ] {
        assert!(v.check_yaml(&what_if(bad)).is_err(), "{bad} is refused");
    }
}

#[test]
fn the_schema_lets_a_what_if_leave_out_what_its_base_gives() {
    let v = Validator::new();
    // The README's what-if: only a name and one line's capacity.
    let what_if = "extends: default.yaml\nname: cowos-early\nsupply:\n  packaging_lines:\n    - name: CoWoS-S\n      capacity_wafers_per_month: {2023-01: 7000, 2024-06: 35000}\n";
    v.check_yaml(what_if)
        .unwrap_or_else(|e| panic!("a what-if fits the schema: {e}"));
    // Unknown keys are still refused in a what-if.
    let typo = what_if.replace("capacity_wafers_per_month", "capacity_wafer_per_month");
    assert!(v.check_yaml(&typo).is_err());
    // Without `extends:` the same file lacks start, end, products, ...
    let alone = what_if.replacen("extends: default.yaml\n", "", 1);
    assert!(v.check_yaml(&alone).is_err());
}

#[test]
fn the_schema_accepts_every_timeline_form_and_the_resolved_manifest() {
    let v = Validator::new();
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("o");
    let out = capsim()
        .args([
            "run",
            "-q",
            "--no-charts",
            "--set",
            "end=2023-01-31",
            "--out",
        ])
        .arg(&dir)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    // manifest.json's resolved scenario is itself a scenario, defaults filled.
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("manifest"))
            .expect("json");
    v.check(&manifest["resolved_scenario"])
        .unwrap_or_else(|e| panic!("the resolved scenario fits the schema: {e}"));
    let line = |capacity: &str| {
        format!(
            "extends: base.yaml\nsupply:\n  packaging_lines:\n    - name: L\n      capacity_wafers_per_month: {capacity}\n"
        )
    };
    for good in [
        "8000",
        "{2023-06: 8000, 2024-01-15: 15000}",
        "{interpolation: step, 2023-06: 8000}",
        "{interpolation: linear, points: {2023-06: 8000}}",
    ] {
        v.check_yaml(&line(good))
            .unwrap_or_else(|e| panic!("{good} is a timeline: {e}"));
    }
    for bad in [
        "eight thousand",
        "{june: 8000}",
        "{2023-06: many}",
        "{points: {2023-06: 1}, extra: 1}",
        "{interpolation: linear}",
    ] {
        assert!(v.check_yaml(&line(bad)).is_err(), "{bad} is not a timeline");
    }
}
