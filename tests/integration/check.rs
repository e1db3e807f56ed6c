//! `capsim check`: assertions, golden outputs, tolerances and --bless, on a user's own folder.

use std::path::Path;
use std::process::Command;

fn capsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_capsim"))
}

/// A folder with one scenario (the default, shortened) and the given `expect:` block.
fn folder(expect: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("temp dir");
    let text = std::fs::read_to_string("scenarios/default.yaml").expect("default scenario");
    // Keep the run short: a year.
    let text = text.replacen("end: 2025-12-31", "end: 2023-12-31", 1);
    let text = match text.find("\nexpect:") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    std::fs::write(
        tmp.path().join("mine.yaml"),
        format!("{text}\nexpect:\n{expect}"),
    )
    .expect("write");
    tmp
}

fn check(dir: &Path, extra: &[&str]) -> (i32, String) {
    let out = capsim()
        .arg("check")
        .arg(dir)
        .args(extra)
        .output()
        .expect("capsim runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

const TRUE_STORY: &str = "  - metric: first_shortage
    before: 2023-06-01
  - metric: shortage_days
    between: [30, 365]
  - event: {kind: pause, subject: paid}
    happens: true
    after: 2023-02-01
  - event: {kind: export_rule}
    happens: true
";

#[test]
fn golden_outputs_are_recorded_then_matched() {
    let dir = folder(TRUE_STORY);
    // No golden outputs yet: a failure that says how to record them.
    let (code, text) = check(dir.path(), &[]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("no golden outputs") && text.contains("--bless"),
        "{text}"
    );
    let (code, text) = check(dir.path(), &["--bless"]);
    assert_eq!(code, 0, "{text}");
    assert!(
        dir.path().join("golden/default/summary.json").exists(),
        "{text}"
    );
    let (code, text) = check(dir.path(), &[]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("PASS default") && text.contains("4 of 4 assertions hold"),
        "{text}"
    );
}

#[test]
fn a_symlink_loop_in_the_folder_is_not_followed() {
    let dir = folder(TRUE_STORY);
    // A link to the folder itself, and one from a sub-folder to its parent: followed, they
    // never end. Both stay inside the test's own folder, so even a walker that followed
    // them could not reach (and bless goldens beside) anyone else's scenarios.
    std::os::unix::fs::symlink(".", dir.path().join("loop")).expect("symlink");
    std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
    std::os::unix::fs::symlink("..", dir.path().join("sub/up")).expect("symlink");
    let (code, text) = check(dir.path(), &["--bless"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(text.matches("mine.yaml").count(), 1, "{text}");
}

#[test]
fn a_golden_holding_a_non_finite_value_fails() {
    let dir = folder(TRUE_STORY);
    check(dir.path(), &["--bless"]);
    let series = dir.path().join("golden/default/timeseries.csv");
    let csv = std::fs::read_to_string(&series).expect("golden csv");
    let mut lines: Vec<String> = csv.lines().map(str::to_string).collect();
    let mut cells: Vec<String> = lines[101].split(',').map(str::to_string).collect();
    cells[1] = "inf".into();
    lines[101] = cells.join(",");
    std::fs::write(&series, lines.join("\n") + "\n").expect("write");
    // Any tolerance: `inf` is never within it (the allowed difference was infinite).
    let (code, text) = check(dir.path(), &["--tolerance", "5%"]);
    assert_ne!(code, 0, "{text}");
    assert!(text.contains("`inf` is not a finite number"), "{text}");
}

#[test]
fn an_altered_golden_file_fails_with_a_readable_diff() {
    let dir = folder(TRUE_STORY);
    check(dir.path(), &["--bless"]);
    let golden = dir.path().join("golden/default/summary.json");
    let text = std::fs::read_to_string(&golden).expect("golden");
    let changed = text.replacen("\"shortage_days\": ", "\"shortage_days\": 1", 1);
    assert_ne!(text, changed);
    std::fs::write(&golden, changed).expect("write");
    let series = dir.path().join("golden/default/timeseries.csv");
    let csv = std::fs::read_to_string(&series).expect("golden csv");
    // Double the demand on one day (the second column of line 101: day 100, 2023-04-11).
    let mut lines: Vec<String> = csv.lines().map(str::to_string).collect();
    let mut cells: Vec<String> = lines[101].split(',').map(str::to_string).collect();
    let v: f64 = cells[1].parse().expect("a number");
    cells[1] = format!("{}", v * 2.0);
    lines[101] = cells.join(",");
    std::fs::write(&series, lines.join("\n") + "\n").expect("write");

    let (code, text) = check(dir.path(), &[]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("FAIL default"), "{text}");
    assert!(
        text.contains("what moved") && text.contains("summary: shortage_days"),
        "{text}"
    );
    assert!(
        text.contains("series: demand_h100e") && text.contains("1 day, 2023-04-11"),
        "{text}"
    );
    // The changed numbers are shown from what to what.
    assert!(text.contains("-50.0%"), "{text}");
    // --bless shows what moved, then accepts it.
    let (code, text) = check(dir.path(), &["--bless"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("summary: shortage_days"), "{text}");
    assert_eq!(check(dir.path(), &[]).0, 0);
}

#[test]
fn a_tolerance_accepts_small_moves_only() {
    let dir = folder(TRUE_STORY);
    check(dir.path(), &["--bless"]);
    let golden = dir.path().join("golden/default/summary.json");
    let text = std::fs::read_to_string(&golden).expect("golden");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    let days = v["shortage_days"].as_i64().expect("days");
    // Move shortage_days by one day: within 5%, not within the default.
    let changed = text.replacen(
        &format!("\"shortage_days\": {days}"),
        &format!("\"shortage_days\": {}", days + 1),
        1,
    );
    std::fs::write(&golden, changed).expect("write");
    assert_eq!(check(dir.path(), &[]).0, 1);
    assert_eq!(check(dir.path(), &["--tolerance", "5%"]).0, 0);
    assert_eq!(check(dir.path(), &["--tolerance", "abs:2"]).0, 0);
    let (code, text) = check(dir.path(), &["--tolerance", "lots"]);
    assert_eq!(code, 2, "{text}");
}

#[test]
fn a_false_assertion_fails_and_says_why() {
    let dir = folder(
        "  - metric: shortage_days
    below: 5
    because: the operator never runs short (it does)
  - metric: first_shortage
    never: true
",
    );
    let (code, text) = check(dir.path(), &["--bless"]);
    assert_eq!(code, 1, "assertions still fail when blessing: {text}");
    assert!(
        text.contains("assertion failed: shortage_days below 5 (got"),
        "{text}"
    );
    assert!(
        text.contains("because: the operator never runs short"),
        "{text}"
    );
    assert!(
        text.contains("first_shortage never (null) (got 2023-"),
        "{text}"
    );
    assert!(text.contains("0 of 2 assertions hold"), "{text}");
}

#[test]
fn a_misspelled_metric_is_bad_input_with_a_suggestion() {
    let dir = folder("  - metric: pause_dayz\n    below: 5\n");
    let (code, text) = check(dir.path(), &[]);
    // The scenario does not load: bad input (exit 2), as `validate` says too.
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("did you mean `pause_days`"), "{text}");
    let out = capsim()
        .arg("validate")
        .arg(dir.path().join("mine.yaml"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn check_json_reports_every_scenario() {
    let dir = folder(TRUE_STORY);
    check(dir.path(), &["--bless"]);
    let out = capsim()
        .arg("check")
        .arg(dir.path())
        .arg("--json")
        .output()
        .expect("runs");
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["passed"], true);
    assert_eq!(v["scenarios"][0]["scenario"], "default");
    assert_eq!(
        v["scenarios"][0]["assertions"].as_array().map(Vec::len),
        Some(4)
    );
}

#[test]
fn the_scenario_library_passes_its_assertions_and_matches_its_golden_outputs() {
    // Every scenario in scenarios/ (the built-in default, the baseline and its what-ifs)
    // tells its story and has not moved. After a deliberate model change: `capsim check
    // scenarios/ --bless`, read what moved, commit the goldens with the reason.
    let (code, text) = check(Path::new("scenarios"), &[]);
    assert_eq!(code, 0, "{text}");
    let passed = text.lines().filter(|l| l.starts_with("PASS")).count();
    let files = std::fs::read_dir("scenarios")
        .expect("scenarios/")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "yaml"))
        })
        .count();
    assert_eq!(passed, files, "{text}");
}

#[test]
fn a_scenario_that_does_not_load_is_bad_input_and_never_matches_a_golden() {
    let tmp = folder("  - metric: shortage_days\n    at_most: 10000\n");
    std::fs::write(
        tmp.path().join("broken.yaml"),
        "name: broken\nstart: 2023-01-01\nend: 2023-02-01\nprodcts: []\n",
    )
    .unwrap();
    let (code, text) = check(tmp.path(), &["--bless"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("FAIL "), "{text}");
    assert!(text.contains("broken.yaml: does not load"), "{text}");
    // Located, with the likely intended key.
    assert!(
        text.contains("broken.yaml:4:1: unknown field `prodcts`"),
        "{text}"
    );
    assert!(!text.contains("outputs match golden"), "{text}");
    // The scenario that loads was still checked (and blessed).
    assert!(text.contains("golden outputs recorded"), "{text}");
}

#[test]
fn junit_reports_each_scenario_and_replaces_only_its_own_report() {
    let tmp = folder(
        "  - metric: shortage_days\n    at_most: 0\n    because: a <failing> & \"quoted\" reason\n",
    );
    std::fs::write(
        tmp.path().join("broken.yaml"),
        "name: broken\nprodcts: []\n",
    )
    .unwrap();
    let report = tmp.path().join("out").join("junit.xml");
    std::fs::create_dir(tmp.path().join("out")).unwrap();
    let (code, text) = check(tmp.path(), &["--junit", report.to_str().unwrap()]);
    assert_eq!(code, 2, "{text}");
    let xml = std::fs::read_to_string(&report).unwrap();
    assert!(xml.starts_with(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- written by capsim check -->\n"
    ));
    assert!(
        xml.contains("tests=\"2\" failures=\"1\" errors=\"1\""),
        "{xml}"
    );
    assert!(xml.contains("<error message=\"does not load\">"), "{xml}");
    assert!(xml.contains("<failure message=\"FAIL "), "{xml}");
    // Text is escaped: the `because:` with markup characters cannot break the XML.
    assert!(
        xml.contains("a &lt;failing&gt; &amp; &quot;quoted&quot; reason"),
        "{xml}"
    );
    assert!(!xml.contains("<failing>"));
    assert_eq!(xml.matches("<testcase ").count(), 2);
    // Its own report is replaced.
    std::fs::remove_file(tmp.path().join("broken.yaml")).unwrap();
    let (code, text) = check(tmp.path(), &["--junit", report.to_str().unwrap()]);
    assert_eq!(code, 1, "{text}");
    let xml = std::fs::read_to_string(&report).unwrap();
    assert!(
        xml.contains("tests=\"1\" failures=\"1\" errors=\"0\""),
        "{xml}"
    );
    // A user's file is never replaced.
    let mine = tmp.path().join("out").join("notes.xml");
    std::fs::write(&mine, "<notes>mine</notes>\n").unwrap();
    let (code, text) = check(tmp.path(), &["--junit", mine.to_str().unwrap()]);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("is not a JUnit report written by capsim check"),
        "{text}"
    );
    assert_eq!(
        std::fs::read_to_string(&mine).unwrap(),
        "<notes>mine</notes>\n"
    );
}
