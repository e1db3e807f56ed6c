//! `capsim sweep`, `sensitivity` and `solve` against answers worked out by hand and against
//! runs made one by one.

use std::path::{Path, PathBuf};
use std::process::Command;

use capsim::model;
use capsim::montecarlo::metric_value;
use capsim::scenario::{self, Source};

fn capsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_capsim"))
}

/// The scenario of `tests/data/stranded.yaml`: with M MW, max(0, 47,400 − 2,000 M) units are
/// stranded at the end (worked out in its header).
fn stranded() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/stranded.yaml")
}

fn ok(c: &mut Command) -> serde_json::Value {
    let out = c.output().expect("capsim runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("--json gives JSON")
}

fn csv_rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).expect("csv");
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header = r
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let rows = r
        .records()
        .map(|x| x.expect("row").iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

#[test]
fn solve_finds_the_power_that_strands_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let doc = ok(capsim()
        .arg("solve")
        .arg(stranded())
        .args(["--vary", "sites.S.megawatts", "--range", "1..50"])
        .args([
            "--target",
            "stranded_end <= 0",
            "--tolerance",
            "0.001",
            "--json",
        ])
        .arg("--out")
        .arg(tmp.path().join("solve")));
    // 47,400 units × 500 W = 23.7 MW; bisection stops within 0.001 MW above it.
    let answer = doc["answer"].as_f64().expect("an answer");
    assert!((23.7..=23.701).contains(&answer), "{answer}");
    assert_eq!(doc["metric_at_answer"], 0.0);
    assert_eq!(doc["monotone"], true);
    assert!(doc["runs"].as_u64().unwrap() >= 9);
    // Every trial is consistent with the formula.
    let (header, rows) = csv_rows(&tmp.path().join("solve/solve.csv"));
    assert_eq!(header, ["x", "stranded_end", "met", "phase"]);
    for r in rows {
        let x: f64 = r[0].parse().unwrap();
        let m: f64 = r[1].parse().unwrap();
        let units_fitting = (x * 1e6 / 500.0).floor();
        assert_eq!(m, (47_400.0 - units_fitting).max(0.0), "at {x} MW");
    }
    // The largest power that still strands something: just below 23.7.
    let doc = ok(capsim()
        .arg("solve")
        .arg(stranded())
        .args([
            "--vary",
            "sites.S.megawatts",
            "--range",
            "1..50",
            "--largest",
        ])
        .args([
            "--target",
            "stranded_end >= 1",
            "--tolerance",
            "0.001",
            "--json",
        ])
        .arg("--out")
        .arg(tmp.path().join("solve2")));
    let answer = doc["answer"].as_f64().expect("an answer");
    assert!((23.699..23.7).contains(&answer), "{answer}");
}

#[test]
fn sensitivity_of_stranded_units_to_power_is_worked_out_by_hand() {
    let tmp = tempfile::tempdir().unwrap();
    let doc = ok(capsim()
        .arg("sensitivity")
        .arg(stranded())
        .args(["--set", "sites.S.megawatts=20", "--metric", "stranded_end"])
        .args([
            "--params",
            "sites.S.megawatts,products.P.packaging_yield",
            "--json",
        ])
        .arg("--out")
        .arg(tmp.path().join("sens")));
    // 20 MW fit 40,000 units: 7,400 stranded; 16 MW: 15,400; 24 MW: none.
    assert_eq!(doc["base_value"], 7_400.0);
    // Yield 0.6 makes 720 units a day, 79 x 720 = 56,880 delivered: 16,880 stranded; yield
    // 0.4 makes 480, 37,920 delivered: none. Its swing (16,880) ranks it first.
    let first = &doc["effects"][0];
    assert_eq!(first["input"], "products.P.packaging_yield");
    assert_eq!(first["base"], "0.5");
    assert_eq!(first["low"], 0.0);
    assert_eq!(first["high"], 16_880.0);
    assert_eq!(first["swing"], 16_880.0);
    let second = &doc["effects"][1];
    assert_eq!(second["input"], "sites.S.megawatts");
    assert_eq!(second["low"], 15_400.0);
    assert_eq!(second["high"], 0.0);
    assert_eq!(second["swing"], 15_400.0);
    assert_eq!(second["status"], "ok");
    // An input whose +20% leaves its valid range (a yield of 0.9 raised to 1.08) is raised
    // as far as it loads (issue 16: it used to be skipped as invalid).
    let doc = ok(capsim()
        .arg("sensitivity")
        .arg(stranded())
        .args([
            "--set",
            "products.P.packaging_yield=0.9",
            "--metric",
            "stranded_end",
        ])
        .args(["--params", "products.P.packaging_yield", "--json"])
        .arg("--out")
        .arg(tmp.path().join("sens2")));
    let status = doc["effects"][0]["status"].as_str().unwrap();
    assert_eq!(
        status,
        "ok, varied by -20% / +10% (the most its valid range allows)"
    );
    assert!(tmp.path().join("sens2/sensitivity.csv").exists());
}

#[test]
fn sweep_rows_are_the_runs_made_one_by_one() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sweep");
    ok(capsim()
        .args(["sweep", "--set", "end=2023-09", "--json"])
        .args(["--vary", "products.H100.power_w=600,800"])
        .args(["--vary", "segments.paid.pause.pause_above+=0..0.2:3"])
        .arg("--out")
        .arg(&dir));
    let (header, rows) = csv_rows(&dir.join("sweep.csv"));
    assert_eq!(rows.len(), 6);
    assert_eq!(header[1], "products.H100.power_w");
    assert_eq!(header[2], "segments.paid.pause.pause_above+");
    for (i, row) in rows.iter().enumerate() {
        let power: f64 = row[1].parse().unwrap();
        let add: f64 = row[2].parse().unwrap();
        // The default's pause_above is 0.8.
        let sets = vec![
            "end=2023-09".to_string(),
            format!("products.H100.power_w={power}"),
            format!("segments.paid.pause.pause_above={}", 0.8 + add),
        ];
        let loaded = scenario::load(Source::BuiltIn, &sets).expect("loads");
        let run = model::simulate(&loaded.scenario, loaded.scenario.seed);
        for metric in [
            "pause_days",
            "capex_usd",
            "fleet_end_h100e",
            "lost_revenue_usd",
        ] {
            let c = header.iter().position(|h| h == metric).unwrap();
            let got: f64 = row[c].parse().unwrap();
            let want = metric_value(&run.summary, metric);
            assert!(
                (got - want).abs() <= 1e-9 * want.abs().max(1.0),
                "point {i} {metric}: sweep {got}, run {want}"
            );
        }
    }
    // The points differ (else the check above proves little).
    let c = header.iter().position(|h| h == "pause_days").unwrap();
    let distinct: std::collections::BTreeSet<&str> = rows.iter().map(|r| r[c].as_str()).collect();
    assert!(distinct.len() > 1, "{distinct:?}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["command"], "sweep");
}

#[test]
fn sweep_under_replications_gives_percentiles() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sweep");
    ok(capsim()
        .args(["sweep", "--set", "end=2023-04", "--reps", "3", "--json"])
        .args(["--vary", "products.H100.annual_failure_rate=0.05,0.5"])
        .arg("--out")
        .arg(&dir));
    let (header, rows) = csv_rows(&dir.join("sweep.csv"));
    assert_eq!(rows.len(), 2);
    for col in [
        "pause_days.mean",
        "pause_days.p5",
        "pause_days.p95",
        "fleet_end_h100e.ci95_high",
    ] {
        assert!(header.iter().any(|h| h == col), "{col} missing");
    }
}

#[test]
fn bad_what_if_arguments_are_refused_with_the_reason() {
    for (args, says) in [
        (
            vec!["sweep", "--vary", "products.H900.power_w=1,2"],
            "has no `H900`",
        ),
        (
            vec!["sweep", "--vary", "products.H100.power_w"],
            "needs the form",
        ),
        (
            vec!["sweep", "--vary", "products.H100.name=1,2"],
            "not a number",
        ),
        (
            vec!["sweep", "--vary", "products.H100.power_w=-5,700"],
            "does not load",
        ),
        (
            vec![
                "solve",
                "--vary",
                "products.H100.power_w",
                "--range",
                "5..1",
                "--target",
                "pause_days <= 0",
            ],
            "LO must be below HI",
        ),
        (
            vec![
                "solve",
                "--vary",
                "products.H100.power_w",
                "--range",
                "500..900",
                "--target",
                "pause_day <= 0",
            ],
            "did you mean `pause_days`",
        ),
        (
            vec!["sensitivity", "--metric", "pause_days", "--delta", "150%"],
            "between 0 and 100%",
        ),
    ] {
        let out = capsim().args(&args).output().expect("capsim runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

/// The files of an output folder, as `(relative name, bytes)`, charts included.
fn folder(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = capsim::report::read_output_dir(dir).expect("folder reads");
    for e in std::fs::read_dir(dir.join("charts")).expect("charts/") {
        let e = e.unwrap();
        let name = format!("charts/{}", e.file_name().to_string_lossy());
        files.push((name, std::fs::read(e.path()).unwrap()));
    }
    files.sort();
    files
}

/// Asserts that `charts/<stem>.png` is a 1600x900 PNG and `.svg` an SVG holding `texts`.
fn assert_chart(dir: &Path, stem: &str, texts: &[&str]) {
    use capsim::report::charts::{HEIGHT, WIDTH};
    let png = std::fs::read(dir.join(format!("charts/{stem}.png")))
        .unwrap_or_else(|e| panic!("{stem}.png: {e}"));
    let reader = png::Decoder::new(std::io::Cursor::new(&png))
        .read_info()
        .unwrap_or_else(|e| panic!("{stem}.png does not decode: {e}"));
    assert_eq!(
        (reader.info().width, reader.info().height),
        (WIDTH, HEIGHT),
        "{stem}"
    );
    let svg = std::fs::read_to_string(dir.join(format!("charts/{stem}.svg"))).unwrap();
    assert!(svg.trim_start().starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    for t in texts {
        assert!(svg.contains(t), "{stem}.svg lacks {t:?}");
    }
    assert!(!svg.contains("NaN"), "{stem}.svg has NaN");
}

/// Asserts that the charts are listed in `files` of --json and manifest.json, and that
/// drawing them again from the folder's CSV and manifest.json gives the same bytes.
fn assert_listed_and_redrawn(doc: &serde_json::Value, dir: &Path, stems: &[&str]) {
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    for stem in stems {
        for ext in ["png", "svg"] {
            let name = format!("charts/{stem}.{ext}");
            for (what, files) in [("--json", &doc["files"]), ("manifest", &manifest["files"])] {
                let listed = files.as_array().unwrap().iter().any(|f| f == &name);
                assert!(listed, "{name} not in the {what} files: {files}");
            }
        }
    }
    let files = folder(dir);
    let redrawn = capsim::report::whatif::redraw(&files).expect("redraws");
    assert_eq!(redrawn.len(), stems.len() * 2);
    for (name, bytes) in redrawn {
        let on_disk = files.iter().find(|(n, _)| *n == name).expect("written");
        assert!(on_disk.1 == bytes, "{name} differs when drawn again");
    }
}

/// Issue 8: the charts of sweep (one and two inputs), sensitivity and solve.
#[test]
fn what_if_charts_are_drawn_from_the_csv_files() {
    let tmp = tempfile::tempdir().unwrap();
    // One input: the metric against it.
    let dir = tmp.path().join("sweep1");
    let doc = ok(capsim()
        .arg("sweep")
        .arg(stranded())
        .args([
            "--vary",
            "sites.S.megawatts=10..30:5",
            "--metric",
            "stranded_end",
        ])
        .arg("--json")
        .arg("--out")
        .arg(&dir));
    assert_chart(
        &dir,
        "sweep_stranded_end",
        &[
            "Sweep of stranded_end — solve-hand",
            "sites.S.megawatts (MW)",
            "stranded_end (units)",
            "one run per point",
        ],
    );
    assert!(!dir.join("charts/sweep_stranded_end_heatmap.png").exists());
    assert_listed_and_redrawn(&doc, &dir, &["sweep_stranded_end"]);

    // Two inputs: a line per value of the second, and the heatmap.
    let dir = tmp.path().join("sweep2");
    let doc = ok(capsim()
        .arg("sweep")
        .arg(stranded())
        .args(["--vary", "sites.S.megawatts=10..30:3"])
        .args(["--vary", "products.P.packaging_yield+=0,0.1"])
        .args(["--metric", "stranded_end", "--json", "--out"])
        .arg(&dir));
    assert_chart(
        &dir,
        "sweep_stranded_end",
        &["P.packaging_yield (added)", "= 0.1"],
    );
    // 20 MW, yield 0.5: 7,400 stranded (the sensitivity test's arithmetic): a cell label.
    assert_chart(
        &dir,
        "sweep_stranded_end_heatmap",
        &[
            "over two inputs",
            "sites.S.megawatts (MW)",
            "added to products.P.packaging_yield",
            "stranded_end",
            "7,400",
        ],
    );
    assert_listed_and_redrawn(
        &doc,
        &dir,
        &["sweep_stranded_end", "sweep_stranded_end_heatmap"],
    );

    // Sensitivity: the tornado, paths as labels.
    let dir = tmp.path().join("sens");
    let doc = ok(capsim()
        .arg("sensitivity")
        .arg(stranded())
        .args(["--set", "sites.S.megawatts=20", "--metric", "stranded_end"])
        .args([
            "--params",
            "sites.S.megawatts,products.P.packaging_yield",
            "--json",
            "--out",
        ])
        .arg(&dir));
    assert_chart(
        &dir,
        "tornado_stranded_end",
        &[
            "Sensitivity of stranded_end",
            "sites.S.megawatts",
            "products.P.packaging_yield",
            "input lowered by 20%",
            "input raised by 20%",
            "base 7,400",
            "stranded_end (units)",
        ],
    );
    assert_listed_and_redrawn(&doc, &dir, &["tornado_stranded_end"]);

    // Solve: the trials, the target and the answer (23.7 MW, see the first test).
    let dir = tmp.path().join("solve");
    let doc = ok(capsim()
        .arg("solve")
        .arg(stranded())
        .args(["--vary", "sites.S.megawatts", "--range", "1..50"])
        .args(["--target", "stranded_end <= 0", "--json", "--out"])
        .arg(&dir));
    assert_chart(
        &dir,
        "solve_stranded_end",
        &[
            "target: stranded_end",
            // As the console says it: to the tolerance (0.049), rounded up; and as found.
            "answer: 23.73",
            "the smallest value meeting the target: 23.73 (found 23.729 to within 0.049;",
            "scan (evenly spaced)",
            "bisection",
            "sites.S.megawatts (MW)",
        ],
    );
    assert_listed_and_redrawn(&doc, &dir, &["solve_stranded_end"]);
}

#[test]
fn no_charts_writes_none_and_lists_none() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sweep");
    let doc = ok(capsim()
        .arg("sweep")
        .arg(stranded())
        .args([
            "--vary",
            "sites.S.megawatts=10,20",
            "--no-charts",
            "--json",
            "--out",
        ])
        .arg(&dir));
    assert!(!dir.join("charts").exists());
    assert_eq!(
        doc["files"],
        serde_json::json!(["sweep.csv", "manifest.json"])
    );
    // The printed outputs line names what was written.
    let out = capsim()
        .arg("solve")
        .arg(stranded())
        .args(["--vary", "sites.S.megawatts", "--range", "1..50"])
        .args(["--target", "stranded_end <= 0", "--out"])
        .arg(tmp.path().join("solve"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("(solve.csv, charts/solve_stranded_end.png|svg, manifest.json)"),
        "{text}"
    );
}

#[test]
fn a_malformed_csv_is_refused_with_the_row_and_column() {
    use capsim::report::whatif::{Context, sensitivity_charts, solve_charts, sweep_charts};
    let args = serde_json::json!({
        "vary": [{"path": "sites.S.megawatts", "op": "set", "values": [10.0, 20.0]}],
        "metric": "stranded_end",
    });
    let c = Context {
        scenario: "x",
        replications: 1,
        arguments: &args,
    };
    let good = b"point,sites.S.megawatts,stranded_end\n0,10,27400\n1,20,7400\n";
    assert!(sweep_charts(good, &c).is_ok());
    for (csv, says) in [
        (
            &b"point,sites.S.megawatts,stranded_end\n0,10,lots\n"[..],
            "row 2: `lots` in column `stranded_end` is not a number",
        ),
        (
            b"point,sites.S.megawatts,fleet_end_h100e\n0,10,1\n",
            "no column `stranded_end`",
        ),
        (b"x,y\n1,2\n", "the first column must be `point`"),
        (b"point,sites.S.megawatts,stranded_end\n0,10\n", "sweep.csv"),
    ] {
        let e = sweep_charts(csv, &c).unwrap_err().to_string();
        assert!(
            e.contains("cannot read sweep.csv") && e.contains(says),
            "{e}"
        );
    }
    let args = serde_json::json!({"vary": "a", "target": "m <= 1", "answer": null});
    let c = Context {
        scenario: "x",
        replications: 1,
        arguments: &args,
    };
    let e = solve_charts(b"x,m,met,phase\n1,2,maybe,scan\n", &c)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`maybe` in column `met` is neither true nor false"),
        "{e}"
    );
    let args = serde_json::json!({"metric": "m", "delta": 0.2});
    let c = Context {
        scenario: "x",
        replications: 1,
        arguments: &args,
    };
    let e = sensitivity_charts(b"rank,input\n1,a\n", &c)
        .unwrap_err()
        .to_string();
    assert!(e.contains("<metric>.low"), "{e}");
}

#[test]
fn additions_from_a_date_start_on_that_date() {
    // Doubling the line from 2024-02-01 (day 31): 600 units a day are started on days 0..30
    // and 1,200 (HBM allows 2,400 stacks = 1,200 units a day) from day 31. Units delivered by
    // day 90 were started by day 78: 31 x 600 + 48 x 1,200 = 76,200; 2,000 fit in 1 MW, so
    // 74,200 are stranded (45,400 without the addition).
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("from");
    ok(capsim()
        .arg("sweep")
        .arg(stranded())
        .args([
            "--vary",
            "supply.packaging_lines.L.capacity_wafers_per_month+=0,3650",
        ])
        .args([
            "--from",
            "2024-02",
            "--metric",
            "stranded_end",
            "--no-charts",
            "--json",
        ])
        .arg("--out")
        .arg(&dir));
    let (header, rows) = csv_rows(&dir.join("sweep.csv"));
    let c = header.iter().position(|h| h == "stranded_end").unwrap();
    assert_eq!(rows[0][c], "45400");
    assert_eq!(rows[1][c], "74200");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["arguments"]["from"], "2024-02-01");
    // --from with a plain `=` is refused.
    let out = capsim()
        .arg("sweep")
        .arg(stranded())
        .args(["--vary", "sites.S.megawatts=1,2", "--from", "2024-02"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--from applies to additions"));
}

#[test]
fn a_sweep_beyond_max_runs_is_refused_with_an_estimate_and_writes_nothing() {
    // Issue 13: a grid-size estimate before a sweep starts, refused beyond a cap unless asked
    // for. 3 points x 2 replications = 6 runs, against --max-runs 5.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sweep");
    let out = capsim()
        .args([
            "sweep",
            "--set",
            "end=2023-03-31",
            "--reps",
            "2",
            "--max-runs",
            "5",
        ])
        .args(["--vary", "products.H100.power_w=600,700,800", "--no-charts"])
        .arg("--out")
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("3 points x 2 replications = 6 runs"), "{err}");
    assert!(err.contains("--max-runs 6"), "{err}");
    assert!(err.contains("would take about"), "{err}");
    assert!(!dir.exists(), "nothing written");
    // Asked for, it runs.
    ok(capsim()
        .args([
            "sweep",
            "--set",
            "end=2023-03-31",
            "--reps",
            "2",
            "--max-runs",
            "6",
        ])
        .args([
            "--vary",
            "products.H100.power_w=600,700,800",
            "--no-charts",
            "--json",
        ])
        .arg("--out")
        .arg(&dir));
    assert!(dir.join("sweep.csv").is_file());
}

#[test]
fn sensitivity_varies_inputs_at_the_edge_of_their_range_as_far_as_they_go() {
    // H100's packaging yield is 0.9: +20% would be 1.08, past a share's 1, so it is raised
    // by +10% (0.99); the operator's H100 share is 1 at the start: it can only be lowered,
    // and its other side runs at its value as it is.
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args([
            "sensitivity",
            "scenarios/default.yaml",
            "--metric",
            "shortage_days",
        ])
        .args(["--params", "products.H100.packaging_yield"])
        .args(["--params", "buyers.OpenAI-like.products.H100"])
        .args(["--set", "end=2023-06-30", "--json", "--out"])
        .arg(tmp.path().join("s"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let status = |input: &str| {
        doc["effects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["input"] == input)
            .map(|e| e["status"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(
        status("products.H100.packaging_yield"),
        "ok, varied by -20% / +10% (the most its valid range allows)"
    );
    assert_eq!(
        status("buyers.OpenAI-like.products.H100"),
        "ok, varied by -20% / +0% (the most its valid range allows)"
    );
}
