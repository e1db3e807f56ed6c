//! The `capsim` binary as a user runs it: outputs, determinism, errors, exit codes.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::common::{assert_success, capsim};

const FILES: [&str; 5] = [
    "timeseries.csv",
    "summary.json",
    "events.csv",
    "ledger.csv",
    "manifest.json",
];

fn run_to(dir: &Path, extra: &[&str]) -> std::process::Output {
    let out = capsim()
        .arg("run")
        .args(extra)
        .arg("--out")
        .arg(dir)
        .output()
        .expect("capsim runs");
    assert!(
        out.status.success(),
        "capsim run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn run_writes_every_output_and_is_byte_identical_for_a_seed() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let out = run_to(&a, &["--seed", "7"]);
    run_to(&b, &["--seed", "7"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("scenario default"), "{stdout}");
    for f in FILES {
        let x = std::fs::read(a.join(f)).expect(f);
        let y = std::fs::read(b.join(f)).expect(f);
        assert!(!x.is_empty(), "{f} is empty");
        assert!(x == y, "{f} differs between two runs with the same seed");
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("summary.json")).expect("summary"))
            .expect("summary is JSON");
    assert_eq!(summary["seed"], 7);
    for key in [
        "scenario",
        "start",
        "end",
        "first_shortage",
        "shortage_days",
        "peak_unserved_share",
        "pause_episodes",
        "pause_days",
        "lost_signups",
        "lost_revenue_usd",
        "lead_time_peak_days",
        "lead_time_peak_date",
        "capex_usd",
        "production_by_year",
        "fleet_end",
        "binding_constraint_days",
    ] {
        assert!(summary.get(key).is_some(), "summary.json lacks {key}");
    }
    let header = std::fs::read_to_string(a.join("timeseries.csv")).expect("csv");
    assert!(header.starts_with("date,demand_h100e,capacity_h100e,"));
    // One row per day of 2023-2025 plus the header.
    assert_eq!(header.lines().count(), 1 + 1096);
}

#[test]
fn a_different_seed_changes_random_failures() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    run_to(&a, &["--seed", "1"]);
    run_to(&b, &["--seed", "2"]);
    let x = std::fs::read(a.join("timeseries.csv")).expect("a");
    let y = std::fs::read(b.join("timeseries.csv")).expect("b");
    assert!(x != y, "failures are drawn from seeded streams");
}

/// A negative seed is an invalid value of `--seed`, not a flag: no advice to write `-- -1`,
/// which would make `-1` the scenario's path.
#[test]
fn a_negative_seed_is_refused_as_a_value() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = capsim()
        .args(["run", "--no-charts", "--seed", "-1", "--out"])
        .arg(tmp.path())
        .output()
        .expect("capsim runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("invalid value '-1' for '--seed <N>'"), "{err}");
    assert!(!err.contains("-- -1"), "{err}");
    assert!(std::fs::read_dir(tmp.path()).expect("dir").next().is_none());
}

#[test]
fn bad_yaml_names_file_line_and_field_and_keeps_old_outputs() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("out");
    run_to(&out, &[]);
    let before = std::fs::read(out.join("summary.json")).expect("summary");
    let bad = tmp.path().join("bad.yaml");
    let text = std::fs::read_to_string("scenarios/default.yaml")
        .expect("default scenario")
        .replacen(
            "    packages_per_wafer: 15 ",
            "    packages_per_wafr: 15 ",
            1,
        );
    std::fs::write(&bad, text).expect("write");
    let res = capsim()
        .args(["run"])
        .arg(&bad)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("capsim runs");
    assert_eq!(res.status.code(), Some(2));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(err.contains("unknown field `packages_per_wafr`"), "{err}");
    assert!(err.contains("did you mean `packages_per_wafer`"), "{err}");
    assert!(err.contains("bad.yaml:"), "{err}");
    assert!(err.contains("products[0].packages_per_wafr"), "{err}");
    // The previous outputs are untouched.
    assert_eq!(
        std::fs::read(out.join("summary.json")).expect("summary"),
        before
    );
}

#[test]
fn validate_reports_every_problem_with_its_line() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let bad = tmp.path().join("two.yaml");
    let text = std::fs::read_to_string("scenarios/default.yaml")
        .expect("default scenario")
        .replacen("    packaging_yield: 0.9", "    packaging_yeild: 0.9", 1)
        .replacen("    vendor: Nvidia", "    vendor: Nvidai", 2);
    std::fs::write(&bad, &text).expect("write");
    let res = capsim().arg("validate").arg(&bad).output().expect("runs");
    assert_eq!(res.status.code(), Some(2));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(err.contains("packaging_yeild"), "{err}");
    // Shape errors are reported first; fix the key and the name errors show.
    let text = text.replacen("packaging_yeild", "packaging_yield", 1);
    std::fs::write(&bad, &text).expect("write");
    let res = capsim().arg("validate").arg(&bad).output().expect("runs");
    let err = String::from_utf8_lossy(&res.stderr);
    assert_eq!(err.matches("names no vendor").count(), 2, "{err}");
    assert!(err.contains("did you mean `Nvidia`"), "{err}");
    let line = text
        .lines()
        .position(|l| l.contains("Nvidai"))
        .map(|i| i + 1)
        .unwrap_or(0);
    assert!(err.contains(&format!("two.yaml:{line}:")), "{err}");
}

/// Several shape errors in one list item (a misspelt key, a string for a number, a list for
/// a timeline) are all reported, each at its own line, and once each.
#[test]
fn validate_reports_every_shape_error_of_one_item() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let bad = tmp.path().join("three.yaml");
    let text = std::fs::read_to_string("scenarios/default.yaml").expect("default scenario");
    let a100 = text.find("  - name: A100").expect("the A100 item");
    let (head, tail) = text.split_at(a100);
    let tail = tail
        .replacen("    packaging_yield: 0.9", "    packaging_yeld: 0.9", 1)
        .replacen("    power_w: 400", "    power_w: lots", 1)
        .replacen("    price_usd: 15000", "    price_usd: [1]", 1);
    let text = format!("{head}{tail}");
    std::fs::write(&bad, &text).expect("write");
    let res = capsim().arg("validate").arg(&bad).output().expect("runs");
    assert_eq!(res.status.code(), Some(2));
    let err = String::from_utf8_lossy(&res.stderr);
    let line = |needle: &str| {
        text.lines()
            .position(|l| l.contains(needle))
            .map(|i| i + 1)
            .unwrap_or(0)
    };
    for (needle, says) in [
        ("packaging_yeld", "did you mean `packaging_yield`?"),
        ("power_w: lots", "found a string \"lots\""),
        ("price_usd: [1]", "found a list"),
    ] {
        assert!(err.contains(says), "{says}: {err}");
        assert!(
            err.contains(&format!("three.yaml:{}:", line(needle))),
            "{needle}: {err}"
        );
    }
    assert!(err.contains("3 errors found"), "{err}");
    assert!(!err.contains("missing field"), "{err}");
}

/// A scenario file that is not there: a YAML file of a close name in its folder is suggested,
/// and nothing is written.
#[test]
fn a_misspelt_scenario_file_gets_a_suggestion() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = capsim()
        .args(["run", "scenarios/defualt.yaml", "--out"])
        .arg(tmp.path().join("o"))
        .output()
        .expect("capsim runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "cannot read scenarios/defualt.yaml: no such file; did you mean `default.yaml`?"
        ),
        "{err}"
    );
    assert!(std::fs::read_dir(tmp.path()).expect("dir").next().is_none());
}

#[test]
fn validate_accepts_the_shipped_scenarios() {
    let res = capsim()
        .args(["validate", "scenarios/default.yaml"])
        .output()
        .expect("runs");
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
}

#[test]
fn set_overrides_a_field_and_a_bad_path_is_refused() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("o");
    run_to(&out, &["--set", "end=2023-06-30"]);
    let csv = std::fs::read_to_string(out.join("timeseries.csv")).expect("csv");
    assert_eq!(csv.lines().count(), 1 + 181);
    let res = capsim()
        .args(["run", "--set", "products.H10.power_w=800", "--out"])
        .arg(tmp.path().join("p"))
        .output()
        .expect("runs");
    assert_eq!(res.status.code(), Some(2));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(err.contains("H10"), "{err}");
    assert!(!tmp.path().join("p").exists(), "no output on bad input");
}

#[test]
fn extends_overrides_one_field_of_a_named_item() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let base = std::fs::canonicalize("scenarios/default.yaml").expect("path");
    let child = tmp.path().join("child.yaml");
    std::fs::write(
        &child,
        format!(
            "extends: {}\nname: child\nend: 2023-03-31\nproducts:\n  - name: H100\n    power_w: 800\n",
            base.display()
        ),
    )
    .expect("write");
    let out = tmp.path().join("c");
    run_to(&out, &[child.to_str().expect("utf8")]);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).expect("manifest"))
            .expect("json");
    let products = manifest["resolved_scenario"]["products"]
        .as_array()
        .expect("products");
    let h100 = products
        .iter()
        .find(|p| p["name"] == "H100")
        .expect("H100 kept");
    assert_eq!(h100["power_w"], 800.0);
    assert_eq!(
        h100["packages_per_wafer"], 15.0,
        "other fields come from the base"
    );
    assert_eq!(products.len(), 7, "the other six products are kept");
    assert_eq!(manifest["scenario"], "child");
}

#[test]
fn extends_cycle_is_refused() {
    let tmp = tempfile::tempdir().expect("temp dir");
    std::fs::write(tmp.path().join("a.yaml"), "extends: b.yaml\nname: a\n").expect("a");
    std::fs::write(tmp.path().join("b.yaml"), "extends: a.yaml\nname: b\n").expect("b");
    let res = capsim()
        .arg("validate")
        .arg(tmp.path().join("a.yaml"))
        .output()
        .expect("runs");
    assert_eq!(res.status.code(), Some(2));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(err.contains("cycle"), "{err}");
}

#[test]
fn the_readme_what_if_replaces_a_timeline_whole() {
    // The example in README.md: a timeline in a what-if replaces the base's, it does not
    // add its dates to the base's.
    let tmp = tempfile::tempdir().expect("temp dir");
    let base = std::fs::canonicalize("scenarios/default.yaml").expect("path");
    let child = tmp.path().join("cowos-early.yaml");
    std::fs::write(
        &child,
        format!(
            "extends: {}\nname: cowos-early\nsupply:\n  packaging_lines:\n    - name: CoWoS-S\n      capacity_wafers_per_month: {{2023-01: 7000, 2023-06: 15000, 2024-06: 35000}}\n",
            base.display()
        ),
    )
    .expect("write");
    let out = tmp.path().join("o");
    run_to(
        &out,
        &[child.to_str().expect("utf8"), "--set", "end=2023-12-31"],
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).expect("manifest"))
            .expect("json");
    let line = &manifest["resolved_scenario"]["supply"]["packaging_lines"][0];
    assert_eq!(line["name"], "CoWoS-S");
    let points = line["capacity_wafers_per_month"]
        .as_object()
        .expect("a dated map");
    let dates: Vec<&str> = points.keys().map(String::as_str).collect();
    assert_eq!(dates, vec!["2023-01", "2023-06", "2024-06"]);
}

#[test]
fn the_manifest_reruns_to_the_same_outcome() {
    // manifest.json's resolved scenario (defaults filled, extends and --set applied) is
    // itself a scenario: JSON is YAML. Running it gives the same summary.
    let tmp = tempfile::tempdir().expect("temp dir");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    run_to(&a, &["--set", "end=2024-06-30"]);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("manifest.json")).expect("manifest"))
            .expect("json");
    let again = tmp.path().join("again.yaml");
    std::fs::write(
        &again,
        serde_json::to_string_pretty(&manifest["resolved_scenario"]).expect("json"),
    )
    .expect("write");
    run_to(&b, &[again.to_str().expect("utf8")]);
    assert_eq!(
        std::fs::read(a.join("summary.json")).expect("a"),
        std::fs::read(b.join("summary.json")).expect("b")
    );
    assert_eq!(
        std::fs::read(a.join("timeseries.csv")).expect("a"),
        std::fs::read(b.join("timeseries.csv")).expect("b")
    );
}

#[test]
fn a_build_finished_before_the_start_is_power_already_there() {
    // Regression: a build that came online before the run began used to schedule an event
    // in the past (a panic in debug builds) and charge its power as capex on day 0.
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("o");
    run_to(
        &out,
        &[
            "--set",
            "sites.0.builds=[{start: 2021-01, months: 6, megawatts: 50}]",
            "--set",
            "end=2023-01-31",
        ],
    );
    let without = tmp.path().join("w");
    run_to(
        &without,
        &["--set", "sites.0.builds=[]", "--set", "end=2023-01-31"],
    );
    let day0 = |dir: &std::path::Path, name: &str| -> String {
        let csv = std::fs::read_to_string(dir.join("timeseries.csv")).expect("csv");
        let header: Vec<&str> = csv.lines().next().unwrap_or_default().split(',').collect();
        let c = header.iter().position(|h| *h == name).expect(name);
        let first: Vec<&str> = csv.lines().nth(1).unwrap_or_default().split(',').collect();
        first[c].to_string()
    };
    // 80 MW of the site plus the 50 MW build, both there on day 0 and not charged: day 0's
    // capex is the accelerators shipped that day, as without the build.
    assert_eq!(day0(&out, "power_available_mw"), "130");
    assert_eq!(day0(&without, "power_available_mw"), "80");
    assert_eq!(
        day0(&out, "capex_usd_per_day"),
        day0(&without, "capex_usd_per_day")
    );
}

#[test]
fn run_draws_the_charts_and_chart_redraws_them_identically() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    run_to(&a, &["--set", "end=2023-12-31"]);
    run_to(&b, &["--set", "end=2023-12-31", "--no-charts"]);
    assert!(!b.join("charts").exists() && !b.join("report.md").exists());
    let report = std::fs::read_to_string(a.join("report.md")).expect("report.md");
    for name in [
        "capacity_demand",
        "supply",
        "fleet",
        "market",
        "users",
        "money",
    ] {
        let png = std::fs::read(a.join(format!("charts/{name}.png"))).expect("png");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{name}.png is a PNG");
        let svg = std::fs::read_to_string(a.join(format!("charts/{name}.svg"))).expect("svg");
        assert!(
            svg.trim_start().starts_with("<svg") || svg.contains("<svg"),
            "{name}.svg"
        );
        assert!(
            report.contains(&format!("(charts/{name}.png)")),
            "report.md shows {name}"
        );
    }
    assert!(report.contains("## Summary") && report.contains("## Events"));
    // `capsim chart` redraws from the files alone, byte for byte what `run` drew.
    let res = capsim().arg("chart").arg(&b).output().expect("runs");
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    for f in [
        "charts/capacity_demand.png",
        "charts/money.svg",
        "report.md",
    ] {
        assert_eq!(
            std::fs::read(a.join(f)).expect("a"),
            std::fs::read(b.join(f)).expect("b"),
            "{f} differs between run and chart"
        );
    }
    // The data files are kept as they were.
    assert_eq!(
        std::fs::read(a.join("timeseries.csv")).expect("a"),
        std::fs::read(b.join("timeseries.csv")).expect("b")
    );
}

#[test]
fn chart_on_a_folder_that_is_not_a_run_is_bad_input() {
    let tmp = tempfile::tempdir().expect("temp dir");
    std::fs::write(tmp.path().join("notes.txt"), "hello").expect("write");
    let err = super::common::chart_refused(tmp.path());
    assert!(err.contains("timeseries.csv"), "{err}");
    // Nothing was changed.
    assert!(tmp.path().join("notes.txt").exists());
    // A folder that is not there, or a file, is named as such (not as an unmarked folder).
    let err = super::common::chart_refused(&tmp.path().join("nosuch"));
    assert!(err.contains("no such folder"), "{err}");
    let err = super::common::chart_refused(&tmp.path().join("notes.txt"));
    assert!(err.contains("not a folder"), "{err}");
    // A relative path is said to be looked for where capsim ran, and where runs write.
    let res = capsim()
        .current_dir(tmp.path())
        .args(["chart", "output/default"])
        .output()
        .expect("runs");
    assert_eq!(res.status.code(), Some(2));
    let err = String::from_utf8_lossy(&res.stderr);
    let here = std::fs::canonicalize(tmp.path()).expect("path");
    assert!(
        err.contains(&format!(
            "output/default: no such folder in {}",
            here.display()
        )) && err.contains("output/<scenario>/ under the folder it was run from"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("notes.txt")).unwrap(),
        "hello"
    );
}

/// `scenarios/default.yaml` (absolute) and a what-if `NAME.yaml` in `dir` that extends it
/// with `body` (YAML lines).
fn what_if_of_default(dir: &Path, name: &str, body: &str) -> (PathBuf, PathBuf) {
    let base = std::fs::canonicalize("scenarios/default.yaml").expect("path");
    let what_if = dir.join(format!("{name}.yaml"));
    std::fs::write(
        &what_if,
        format!("extends: {}\nname: {name}\n{body}", base.display()),
    )
    .expect("write");
    (base, what_if)
}

#[test]
fn compare_overlays_two_scenarios_and_tabulates_differences() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (base, what_if) = what_if_of_default(
        tmp.path(),
        "cowos-late",
        "supply:\n  packaging_lines:\n    - name: CoWoS-S\n      capacity_wafers_per_month: 6000\n",
    );
    let out = tmp.path().join("cmp");
    let res = capsim()
        .arg("compare")
        .arg(&base)
        .arg(&what_if)
        .args(["--set", "end=2023-12-31", "--out"])
        .arg(&out)
        .output()
        .expect("runs");
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    let md = std::fs::read_to_string(out.join("compare.md")).expect("compare.md");
    assert!(md.contains("default") && md.contains("cowos-late"), "{md}");
    assert!(md.contains("Δ vs default"), "{md}");
    assert!(md.contains("(charts/compare_capacity_demand.png)"));
    // One period (`--set end` applies to both): no word of periods.
    assert!(!md.contains("different periods"), "{md}");
    assert!(
        !String::from_utf8_lossy(&res.stderr).contains("different periods"),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    for f in [
        "charts/compare_capacity_demand.png",
        "charts/compare_users.svg",
        "default/summary.json",
        "cowos-late/summary.json",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    // Less packaging capacity cannot mean fewer shortage days for the same demand.
    let days = |dir: &str| -> i64 {
        let v: serde_json::Value = serde_json::from_slice(
            &std::fs::read(out.join(dir).join("summary.json")).expect("summary"),
        )
        .expect("json");
        v["shortage_days"].as_i64().unwrap_or(-1)
    };
    assert!(days("cowos-late") >= days("default"));
}

#[test]
fn compare_says_when_the_scenarios_cover_different_periods() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (base, shorter) = what_if_of_default(tmp.path(), "shorter", "end: 2023-06-30\n");
    let out = tmp.path().join("cmp");
    let res = capsim()
        .arg("compare")
        .arg(&base)
        .arg(&shorter)
        .args(["--json", "--out"])
        .arg(&out)
        .output()
        .expect("runs");
    assert_success(&res);
    // On stderr as a warning, in --json's warnings, and in compare.md, with both periods.
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert!(
        stderr.contains("warning: the scenarios cover different periods (default 2023-01-01 to 2025-12-31, shorter 2023-01-01 to 2023-06-30)"),
        "{stderr}"
    );
    let doc: serde_json::Value = serde_json::from_slice(&res.stdout).expect("json");
    let warned = doc["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .any(|w| {
            w["message"]
                .as_str()
                .unwrap_or("")
                .contains("different periods")
        });
    assert!(warned, "{doc}");
    let md = std::fs::read_to_string(out.join("compare.md")).expect("compare.md");
    assert!(
        md.contains("**The scenarios cover different periods** (`default` 2023-01-01 to 2025-12-31, 1096 days; `shorter` 2023-01-01 to 2023-06-30, 181 days): totals"),
        "{md}"
    );
    assert!(md.contains("`--set end=YYYY-MM-DD`"), "{md}");
    // The folder is written whole all the same, and `capsim chart` draws compare.md again
    // with the paragraph, byte for byte.
    assert!(out.join("shorter/summary.json").exists());
    std::fs::remove_file(out.join("compare.md")).expect("remove");
    let res = capsim().arg("chart").arg(&out).output().expect("runs");
    assert_success(&res);
    assert_eq!(
        std::fs::read_to_string(out.join("compare.md")).expect("compare.md again"),
        md
    );
}

#[test]
fn chart_draws_again_the_reports_a_user_deleted_and_says_which_data_file_is_missing() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("run");
    let res = capsim()
        .args(["run", "--set", "end=2023-03-31", "-q", "--out"])
        .arg(&out)
        .output()
        .expect("runs");
    assert_success(&res);
    let html = std::fs::read(out.join("report.html")).expect("report.html");
    std::fs::remove_file(out.join("report.html")).expect("remove");
    std::fs::remove_file(out.join("charts/market.png")).expect("remove");
    let res = capsim().arg("chart").arg(&out).output().expect("runs");
    assert_success(&res);
    assert_eq!(
        std::fs::read(out.join("report.html")).expect("drawn again"),
        html
    );
    assert!(out.join("charts/market.png").exists());
    // A data file cannot be drawn again: the error names it as read, not written.
    std::fs::remove_file(out.join("summary.json")).expect("remove");
    let res = capsim().arg("chart").arg(&out).output().expect("runs");
    assert_eq!(res.status.code(), Some(2), "{res:?}");
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert!(
        stderr.contains("cannot read") && stderr.contains("summary.json"),
        "{stderr}"
    );
}

#[test]
fn init_writes_a_scenario_to_start_from_and_never_replaces_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let init = |args: &[&str]| {
        capsim()
            .arg("init")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap()
    };
    // A copy of the built-in baseline, its observations and the schema its modeline names.
    let out = init(&["chips", "--from", "baseline"]);
    assert_success(&out);
    let text = std::fs::read_to_string(dir.join("chips.yaml")).unwrap();
    assert!(text.starts_with("# yaml-language-server: $schema=./capsim.schema.json\n"));
    assert!(text.contains("\nname: chips\n"), "{text}");
    assert!(!text.contains("\nname: baseline\n"));
    // The library's own comments ("every what-if in this folder ...") are said to be the
    // library's, before them.
    let said = text
        .find("(what they say of \"this folder\" is of that library)")
        .expect("the copy says whose comments follow");
    assert!(
        said < text
            .find("root of the library")
            .expect("the library's comment")
    );
    assert!(dir.join("observed/2023.csv").is_file());
    let schema: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("capsim.schema.json")).unwrap()).unwrap();
    assert!(schema["properties"]["warm_start_utilisation"].is_object());
    // It loads and backtests from the user's folder.
    let bt = capsim()
        .args(["backtest", "chips.yaml", "--no-charts", "-q", "--out", "o"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert_success(&bt);
    // A what-if on a file, extending it by a relative path.
    std::fs::create_dir(dir.join("w")).unwrap();
    let out = init(&["faster", "--from", "chips.yaml", "--dir", "w"]);
    assert_success(&out);
    let what_if = std::fs::read_to_string(dir.join("w/faster.yaml")).unwrap();
    assert!(what_if.contains("\nextends: ../chips.yaml\n"), "{what_if}");
    let v = capsim()
        .args(["validate", "w/faster.yaml"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert_success(&v);
    // Never replaces: a taken name is refused and the file is left as it was; an existing
    // schema is kept.
    std::fs::write(dir.join("mine.yaml"), "my notes\n").unwrap();
    let out = init(&["mine"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("never replaces"));
    assert_eq!(
        std::fs::read_to_string(dir.join("mine.yaml")).unwrap(),
        "my notes\n"
    );
    std::fs::write(dir.join("capsim.schema.json"), "{}\n").unwrap();
    let out = init(&["other"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("kept ./capsim.schema.json"));
    assert_eq!(
        std::fs::read_to_string(dir.join("capsim.schema.json")).unwrap(),
        "{}\n"
    );
    // A name with a folder in it is refused.
    assert_eq!(init(&["../escape"]).status.code(), Some(2));
    assert!(!tmp.path().parent().unwrap().join("escape.yaml").exists());
    // A --dir that is not there is made, as `init --help`'s example expects ...
    let out = init(&["slower", "--from", "chips.yaml", "--dir", "new/what-ifs"]);
    assert_success(&out);
    let what_if = std::fs::read_to_string(dir.join("new/what-ifs/slower.yaml")).unwrap();
    assert!(
        what_if.contains("\nextends: ../../chips.yaml\n"),
        "{what_if}"
    );
    // ... but not when the base fails to load, and a file named as --dir is refused and kept.
    let out = init(&["x", "--from", "nosuch.yaml", "--dir", "never"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!dir.join("never").exists());
    let out = init(&["x", "--dir", "mine.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a folder"));
    assert_eq!(
        std::fs::read_to_string(dir.join("mine.yaml")).unwrap(),
        "my notes\n"
    );
}

#[test]
fn a_what_if_can_extend_a_built_in_scenario_from_any_folder() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("w.yaml"),
        "name: w\nextends: builtin:default\nend: 2023-06-30\nexpect: []\n",
    )
    .unwrap();
    let out = capsim()
        .args(["run", "w.yaml", "--no-charts", "-q", "--out", "o"])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_success(&out);
    // The built-in baseline brings its built-in observations.
    std::fs::write(
        tmp.path().join("b.yaml"),
        "name: b\nextends: builtin:baseline\nend: 2023-12-31\n",
    )
    .unwrap();
    let out = capsim()
        .args(["backtest", "b.yaml", "--no-charts", "--json", "--out", "ob"])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_success(&out);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc["observations"].as_array().unwrap().len() >= 10);
    // An unknown built-in is located, with the list.
    std::fs::write(
        tmp.path().join("x.yaml"),
        "name: x\nextends: builtin:nope\n",
    )
    .unwrap();
    let out = capsim()
        .args(["validate", "x.yaml"])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("x.yaml:2:10"), "{err}");
    assert!(
        err.contains("`builtin:default` and `builtin:baseline`"),
        "{err}"
    );
}

#[test]
fn a_timeline_can_come_from_a_csv_file_with_errors_located_in_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir(dir.join("data")).unwrap();
    std::fs::write(
        dir.join("data/cowos.csv"),
        "# CoWoS-S capacity, wafers a month\nmonth,wpm,note\n2023-01,7000,guess\n\
         2023-06,8000,\"DigiTimes, mid-2023\"\n2023-11,15000,press\n",
    )
    .unwrap();
    let scenario = |value_column: &str| {
        format!(
            "name: w\nextends: builtin:default\nend: 2023-12-31\nexpect: []\nsupply:\n  \
             packaging_lines:\n    - name: CoWoS-S\n      capacity_wafers_per_month: {{csv: \
             data/cowos.csv, date: month, value: {value_column}, interpolation: linear, \
             source: \"DigiTimes; press\"}}\n"
        )
    };
    std::fs::write(dir.join("w.yaml"), scenario("wpm")).unwrap();
    let out = capsim()
        .args(["run", "w.yaml", "--no-charts", "-q", "--out", "o"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert_success(&out);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("o/manifest.json")).unwrap()).unwrap();
    // The timeline the file gives, linear between its points: 7,000 on Jan 1, 8,000 on Jun 1.
    let tl =
        &manifest["resolved_scenario"]["supply"]["packaging_lines"][0]["capacity_wafers_per_month"];
    assert_eq!(tl["interpolation"], "linear");
    assert_eq!(tl["points"]["2023-06"], 8000.0);
    assert_eq!(tl["points"]["2023-11"], 15000.0);
    // The manifest hashes every file read, the CSV with its recorded source.
    let inputs = manifest["input_files"].as_array().unwrap();
    let csv = inputs.iter().find(|f| f["role"] == "timeline").unwrap();
    assert!(csv["path"].as_str().unwrap().ends_with("data/cowos.csv"));
    assert_eq!(csv["source"], "DigiTimes; press");
    assert_eq!(csv["sha256"].as_str().unwrap().len(), 64);
    assert!(inputs.iter().any(|f| f["path"] == "builtin:default"));
    // The run's capacity follows the file: 7000 x 12 / 365 wafers on the first day.
    let ts = std::fs::read_to_string(dir.join("o/timeseries.csv")).unwrap();
    let header: Vec<&str> = ts.lines().next().unwrap().split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == "packaging_capacity_wafers_per_day[CoWoS-S]")
        .unwrap();
    let first: f64 = ts
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(col)
        .unwrap()
        .parse()
        .unwrap();
    assert!((first - 7000.0 * 12.0 / 365.0).abs() < 1e-9, "{first}");

    // A misspelt column: at the scenario's `value:`, with the CSV's columns.
    std::fs::write(dir.join("w.yaml"), scenario("wmp")).unwrap();
    let out = capsim()
        .args(["validate", "w.yaml"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("has no column `wmp`, did you mean `wpm`?"),
        "{err}"
    );
    assert!(err.contains("w.yaml:8:"), "{err}");
    // A bad number: at its line and column in the CSV.
    std::fs::write(dir.join("w.yaml"), scenario("wpm")).unwrap();
    std::fs::write(
        dir.join("data/cowos.csv"),
        "month,wpm\n2023-01,7000\n2023-06,8x0\n",
    )
    .unwrap();
    let out = capsim()
        .args(["validate", "w.yaml"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("data/cowos.csv:3:9"), "{err}");
    assert!(err.contains("expected a number"), "{err}");
}

/// The code block of docs/outputs.md that starts with `# example: NAME`.
fn doc_example(name: &str) -> String {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/outputs.md"))
            .unwrap();
    let start = doc
        .find(&format!("# example: {name}\n"))
        .unwrap_or_else(|| panic!("no example {name}"));
    let end = doc[start..].find("```").unwrap();
    doc[start..start + end].to_string()
}

#[test]
fn tidy_outputs_feed_the_documented_analysis_examples() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let res = capsim()
        .arg("run")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline.yaml"))
        .args(["--tidy", "--no-charts", "-q", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_success(&res);
    // The long file holds every cell of the wide one, value for value.
    let wide = std::fs::read_to_string(out.join("timeseries.csv")).unwrap();
    let long = std::fs::read_to_string(out.join("timeseries_long.csv")).unwrap();
    let header: Vec<&str> = wide.lines().next().unwrap().split(',').collect();
    let days = wide.lines().count() - 1;
    assert_eq!(long.lines().count() - 1, days * (header.len() - 1));
    assert!(long.starts_with("date,metric,entity,value,unit\n"));
    let first_day = wide.lines().nth(1).unwrap();
    let h100 = header
        .iter()
        .position(|h| *h == "production_units_per_day[H100]")
        .unwrap();
    let want = format!(
        "{},production_units_per_day,H100,{},units/day",
        &first_day[..10],
        first_day.split(',').nth(h100).unwrap()
    );
    assert!(long.contains(&want), "{want}");
    let units = std::fs::read_to_string(out.join("units.csv")).unwrap();
    assert!(
        units.contains("\nprice_usd,USD/unit,price of new orders,A100;H100;"),
        "{units}"
    );

    // The documented examples run on it and agree.
    let python = |code: &str| {
        let script = tmp.path().join("example.py");
        std::fs::write(&script, code).unwrap();
        Command::new("python3").arg(&script).arg(&out).output()
    };
    let Ok(stdlib) = python(&doc_example("stdlib")) else {
        panic!("python3 is needed for this test (the machine has it; see README)");
    };
    assert!(
        stdlib.status.success(),
        "{}",
        String::from_utf8_lossy(&stdlib.stderr)
    );
    let text = String::from_utf8_lossy(&stdlib.stdout).into_owned();
    assert!(text.starts_with("{'2023': "), "{text}");
    assert!(
        text.contains("worst shortage ") && text.contains(" H100e on 20"),
        "{text}"
    );
    let has_pandas = Command::new("python3")
        .args(["-c", "import pandas"])
        .output()
        .is_ok_and(|o| o.status.success());
    if has_pandas {
        let pandas = python(&doc_example("pandas")).unwrap();
        assert!(
            pandas.status.success(),
            "{}",
            String::from_utf8_lossy(&pandas.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&pandas.stdout), text);
    }
}

#[test]
fn every_daily_metric_has_the_unit_docs_give_it() {
    use capsim::report::tidy::{UNITS, split_column, unit_of};
    // Every column of runs that between them have every kind of column (logic, HBM,
    // reservations, power limits, several segments and lines) has a unit in the one list.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for scenario in ["default", "baseline", "export-cutoff", "power-limit"] {
        let loaded = capsim::scenario::load(
            capsim::scenario::Source::File(&root.join(format!("scenarios/{scenario}.yaml"))),
            &[],
        )
        .unwrap_or_else(|e| panic!("{scenario}: {}", e.render()));
        let run = capsim::model::simulate(&loaded.scenario, loaded.scenario.seed);
        for c in run.columns.iter().chain(&run.text_columns) {
            let (m, _) = split_column(c);
            assert!(
                unit_of(m).is_some(),
                "{scenario}: `{m}` has no unit in report::tidy::UNITS"
            );
        }
    }
    // And the list agrees with docs/outputs.md's tables.
    let doc = std::fs::read_to_string(root.join("docs/outputs.md")).unwrap();
    for (metric, unit, _) in UNITS {
        let row = doc
            .lines()
            .find(|l| {
                l.starts_with(&format!("| `{metric}` |"))
                    || l.starts_with(&format!("| `{metric}` (text) |"))
                    || l.starts_with(&format!("| `{metric}[<"))
            })
            .unwrap_or_else(|| panic!("docs/outputs.md has no row for `{metric}`"));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        assert_eq!(
            cells[2], unit,
            "docs/outputs.md gives `{metric}` the unit `{}`",
            cells[2]
        );
    }
}

#[test]
fn jobs_sets_the_threads_and_never_the_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let uncertain = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/uncertain.yaml");
    let run = |jobs: &str| {
        let out = tmp.path().join(format!("j{jobs}"));
        let res = capsim()
            .args(["-j", jobs, "run"])
            .arg(&uncertain)
            .args([
                "--reps",
                "24",
                "--no-charts",
                "-q",
                "--set",
                "end=2023-12-31",
                "--out",
            ])
            .arg(&out)
            .output()
            .unwrap();
        assert_success(&res);
        out
    };
    let (one, two) = (run("1"), run("2"));
    for f in [
        "bands.csv",
        "replications.csv",
        "summary.json",
        "timeseries.csv",
    ] {
        assert_eq!(
            std::fs::read(one.join(f)).unwrap(),
            std::fs::read(two.join(f)).unwrap(),
            "{f} differs between -j 1 and -j 2"
        );
    }
    // Every command takes it (a global flag), and 0 threads is refused.
    for cmd in [
        "run",
        "sweep",
        "sensitivity",
        "solve",
        "compare",
        "check",
        "merge",
    ] {
        let help = capsim().args([cmd, "--help"]).output().unwrap();
        assert!(
            String::from_utf8_lossy(&help.stdout).contains("-j, --jobs <N>"),
            "{cmd}"
        );
    }
    let res = capsim()
        .args(["-j", "0", "run", "--no-charts"])
        .output()
        .unwrap();
    assert_eq!(res.status.code(), Some(2));
}

#[test]
fn chart_redraws_compare_and_what_if_folders_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let default = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/default.yaml");
    let cmp = tmp.path().join("cmp");
    let res = capsim()
        .arg("compare")
        .args([&default, &default])
        .args(["--set", "end=2023-12-31", "-q", "--out"])
        .arg(&cmp)
        .output()
        .unwrap();
    assert_success(&res);
    let sweep = tmp.path().join("sweep");
    let res = capsim()
        .arg("sweep")
        .arg(&default)
        .args([
            "--vary",
            "supply.packaging_lines.CoWoS-S.capacity_wafers_per_month=0..20000:3",
            "--set",
            "end=2023-12-31",
            "-q",
            "--out",
        ])
        .arg(&sweep)
        .output()
        .unwrap();
    assert_success(&res);
    for (dir, data) in [
        (&cmp, vec!["compare.md", "default/summary.json"]),
        (&sweep, vec!["sweep.csv"]),
    ] {
        let charts: Vec<String> = std::fs::read_dir(dir.join("charts"))
            .unwrap()
            .map(|e| format!("charts/{}", e.unwrap().file_name().to_string_lossy()))
            .collect();
        assert!(charts.len() >= 2, "{charts:?}");
        let kept: Vec<String> = data.iter().map(|s| s.to_string()).chain(charts).collect();
        let before: Vec<Vec<u8>> = kept
            .iter()
            .map(|f| std::fs::read(dir.join(f)).unwrap())
            .collect();
        std::fs::remove_dir_all(dir.join("charts")).unwrap();
        let res = capsim().arg("chart").arg(dir).output().unwrap();
        assert_success(&res);
        for (f, b) in kept.iter().zip(&before) {
            assert_eq!(
                &std::fs::read(dir.join(f)).unwrap(),
                b,
                "{f} differs after a redraw"
            );
        }
    }
}
