//! Monte Carlo charts (issue 4): the fan of capacity and demand, the daily probability of a
//! pause and the histograms of pause days and lost revenue, drawn from `bands.csv`,
//! `replications.csv` and `summary.json`; their section in `report.md`; `capsim chart`
//! redrawing them byte for byte; a histogram of equal values; malformed files.

use std::io::Cursor;
use std::path::Path;
use std::process::Output;
use std::sync::OnceLock;

use capsim::report::charts::{Chart, HEIGHT, WIDTH, draw_montecarlo};
use capsim::report::data::{ChartData, McData};
use capsim::report::{chart_data, mc_data, read_output_dir};

use super::common::{capsim, chart_refused};

/// Runs `capsim` with `args` and asserts that it succeeds.
fn capsim_ok<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    let out = capsim().args(args).output().expect("capsim runs");
    assert!(
        out.status.success(),
        "capsim failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The four Monte Carlo charts, in order.
const MC_CHARTS: [&str; 4] = [
    "fan_capacity_demand",
    "pause_probability",
    "hist_pause_days",
    "hist_lost_revenue",
];

/// A small operator (150 units to start, 36 more a month at most) whose accelerators fail at
/// 60% a year: with so few units the failures differ enough between replications to give
/// wide fans and histograms, and both segments pause in most replications.
const SPREAD: &str = "name: spread
market: legacy
start: 2024-01-01
end: 2025-06-30
seed: 7
supply:
  packaging_lines:
    - {name: L, capacity_wafers_per_month: 2}
products:
  - {name: P, vendor: V, packaging_line: L, packages_per_wafer: 20, packaging_yield: 0.9,
     hbm_stacks: 0, h100_equivalents: 1, power_w: 700, price_usd: 30000, cycle_time_days: 30,
     annual_failure_rate: 0.6, lifetime_years: 5}
vendors:
  - {name: V, allocation: pro_rata, shipping_days: 10}
buyers:
  - {name: Op, kind: operator, region: R0, review_every_days: 7, products: {P: 1.0},
     headroom: 0.1, initial_fleet: {P: 150}}
segments:
  - name: paid
    growth: {logistic: {capacity: 20000, rate_per_year: 2.0, midpoint: 2024-09-01}}
    churn_per_month: 0.03
    queries_per_user_per_day: 10
    tokens_per_query: 1000
    h100_seconds_per_1k_tokens: 60
    peak_factor: 1.5
    revenue_per_user_per_month: 20
    priority: 1
    pause: {pause_above: 1.05, pause_after_days: 2, resume_below: 0.95, resume_after_days: 5,
            min_pause_days: 7}
  - name: free
    growth: {logistic: {capacity: 60000, rate_per_year: 2.0, midpoint: 2024-12-01}}
    churn_per_month: 0.05
    queries_per_user_per_day: 5
    tokens_per_query: 800
    h100_seconds_per_1k_tokens: 60
    peak_factor: 1.5
    revenue_per_user_per_month: 0
    priority: 2
    pause: {pause_above: 1.1, pause_after_days: 3, resume_below: 0.95, resume_after_days: 5,
            min_pause_days: 7}
";

/// Replications of the fixture.
const REPS: u64 = 40;

/// A temporary folder with `spread.yaml`, `with/` (run with charts) and `without/` (run with
/// `--no-charts`, then redrawn by `capsim chart`), made once for the tests that read them.
fn runs() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let tmp = tempfile::tempdir().expect("temp dir");
        let yaml = tmp.path().join("spread.yaml");
        std::fs::write(&yaml, SPREAD).expect("write scenario");
        let (yaml, reps) = (yaml.display().to_string(), REPS.to_string());
        let dir = |d: &str| tmp.path().join(d).display().to_string();
        let (with, without) = (dir("with"), dir("without"));
        capsim_ok(&["run", &yaml, "--reps", &reps, "--out", &with]);
        capsim_ok(&[
            "run",
            &yaml,
            "--reps",
            &reps,
            "--out",
            &without,
            "--no-charts",
        ]);
        capsim_ok(&["chart", &without]);
        tmp
    })
    .path()
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn svg_of(name: &str) -> String {
    String::from_utf8(read(&runs().join(format!("with/charts/{name}.svg")))).expect("UTF-8")
}

fn assert_holds(what: &str, svg: &str, texts: &[&str]) {
    for t in texts {
        assert!(svg.contains(t), "{what}: SVG lacks {t:?}");
    }
}

fn assert_png_1600x900(what: &str, png: &[u8]) {
    let reader = png::Decoder::new(Cursor::new(png))
        .read_info()
        .unwrap_or_else(|e| panic!("{what}: PNG does not decode: {e}"));
    let info = reader.info();
    assert_eq!((info.width, info.height), (WIDTH, HEIGHT), "{what}");
}

#[test]
fn a_monte_carlo_run_draws_four_more_charts_as_1600x900_pngs_and_svgs() {
    for name in MC_CHARTS {
        let png = read(&runs().join(format!("with/charts/{name}.png")));
        assert_png_1600x900(name, &png);
        let svg = svg_of(name);
        assert!(svg.trim_start().starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        // Every title names the replications and the scenario.
        assert_holds(name, &svg, &[&format!("{REPS} replications"), "spread"]);
    }
    // The ordinary charts of the representative replication are still there.
    assert!(runs().join("with/charts/capacity_demand.png").exists());
}

#[test]
fn every_monte_carlo_svg_holds_its_axis_units_and_legend() {
    assert_holds(
        "fan_capacity_demand",
        &svg_of("fan_capacity_demand"),
        &[
            "Capacity vs demand",
            "H100-equivalents (H100e)",
            "serving capacity",
            "demand",
            "median (P50)",
            "P25–P75: middle half",
            "P5–P95: 90% of runs",
            // A dated time axis, as the other charts.
            "Jan 2025",
        ],
    );
    assert_holds(
        "pause_probability",
        &svg_of("pause_probability"),
        &[
            "Probability of a sign-up pause",
            "replications paused that day",
            "0%",
            "100%",
            "paid",
            "free",
        ],
    );
    assert_holds(
        "hist_pause_days",
        &svg_of("hist_pause_days"),
        &[
            "Paused segment-days",
            "sign-up pause days, summed over segments (segment-days)",
            "replications",
            "median",
            "P5",
            "P95",
        ],
    );
    assert_holds(
        "hist_lost_revenue",
        &svg_of("hist_lost_revenue"),
        &[
            "Revenue lost",
            "revenue lost to sign-up pauses and shortage churn (USD)",
            "$",
            "median $",
        ],
    );
}

#[test]
fn report_md_of_a_monte_carlo_run_has_an_uncertainty_section() {
    let md = String::from_utf8(read(&runs().join("with/report.md"))).expect("UTF-8");
    let summary: serde_json::Value =
        serde_json::from_slice(&read(&runs().join("with/summary.json"))).expect("JSON");
    let rep = summary["replications"]["representative"]
        .as_u64()
        .expect("representative");
    let section = md
        .find(&format!("## Uncertainty ({REPS} replications)"))
        .expect("the section");
    // Before the summary, which says whose it is.
    let summary_at = md
        .find(&format!("## Summary of replication {rep}"))
        .expect("summary heading");
    assert!(section < summary_at);
    let shows = format!("shows replication {rep}");
    for text in [
        shows.as_str(),
        "| metric | median | P5 – P95 | mean (95% CI) |",
        "| Paused segment-days |",
        "| Revenue lost | $",
        "| segment | sign-ups paused in | first pause: median | P5 – P95 |",
        "| paid |",
    ] {
        assert!(md.contains(text), "report.md lacks {text:?}:\n{md}");
    }
    for name in MC_CHARTS {
        assert!(md.contains(&format!("(charts/{name}.png)")), "{name}");
    }
    // The median of pause days in the table is the one in summary.json.
    let p50 = summary["replications"]["metrics"]["pause_days"]["p50"]
        .as_f64()
        .expect("p50");
    let row = md
        .lines()
        .find(|l| l.starts_with("| Paused segment-days |"))
        .expect("row");
    let shown = format!("{p50:.1}");
    assert!(
        row.contains(&format!(
            "| {} |",
            shown.strip_suffix(".0").unwrap_or(&shown)
        )),
        "{row}"
    );
}

#[test]
fn chart_redraws_the_monte_carlo_charts_byte_for_byte() {
    let charts = runs().join("with/charts");
    let mut names: Vec<String> = std::fs::read_dir(&charts)
        .expect("charts/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // Six ordinary charts and four Monte Carlo charts, PNG and SVG each.
    assert_eq!(names.len(), 20, "{names:?}");
    for f in names
        .iter()
        .map(|n| format!("charts/{n}"))
        .chain(["report.md".to_string()])
    {
        assert!(
            read(&runs().join("with").join(&f)) == read(&runs().join("without").join(&f)),
            "{f} differs between run and chart"
        );
    }
}

#[test]
fn a_single_run_report_has_no_uncertainty_section() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let yaml = tmp.path().join("spread.yaml");
    std::fs::write(&yaml, SPREAD).expect("write");
    let one = tmp.path().join("one").display().to_string();
    capsim_ok(&["run", &yaml.display().to_string(), "--out", &one]);
    let md = std::fs::read_to_string(tmp.path().join("one/report.md")).expect("report.md");
    assert!(!md.contains("Uncertainty"));
    assert!(md.contains("\n## Summary\n"));
    assert!(
        !tmp.path()
            .join("one/charts/fan_capacity_demand.png")
            .exists()
    );
}

/// The files of the fixture's Monte Carlo run (without charts), to alter.
fn mc_files() -> Vec<(String, Vec<u8>)> {
    read_output_dir(&runs().join("without")).expect("read")
}

fn set(files: &mut [(String, Vec<u8>)], name: &str, bytes: Vec<u8>) {
    let f = files.iter_mut().find(|(n, _)| n == name).expect(name);
    f.1 = bytes;
}

fn parse(files: &[(String, Vec<u8>)]) -> (ChartData, McData) {
    let data = chart_data(files).expect("core files parse");
    let mc = mc_data(files).expect("MC files parse").expect("MC files");
    (data, mc)
}

#[test]
fn a_histogram_of_equal_values_draws_one_bar() {
    // Every replication gave 12 pause days and $0 lost: replications.csv rewritten so, and
    // its statistics in summary.json to match.
    let mut files = mc_files();
    let csv = String::from_utf8(
        files
            .iter()
            .find(|(n, _)| n == "replications.csv")
            .expect("csv")
            .1
            .clone(),
    )
    .expect("UTF-8");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (pd, lr) = (col("pause_days"), col("lost_revenue_usd"));
    let mut out = header.join(",") + "\n";
    for l in lines {
        let mut fields: Vec<&str> = l.split(',').collect();
        fields[pd] = "12";
        fields[lr] = "0";
        out += &(fields.join(",") + "\n");
    }
    set(&mut files, "replications.csv", out.into_bytes());
    let mut summary: serde_json::Value = serde_json::from_slice(
        &files
            .iter()
            .find(|(n, _)| n == "summary.json")
            .expect("summary")
            .1,
    )
    .expect("JSON");
    for (metric, v) in [("pause_days", 12.0), ("lost_revenue_usd", 0.0)] {
        let m = &mut summary["replications"]["metrics"][metric];
        for k in [
            "mean",
            "ci95_low",
            "ci95_high",
            "min",
            "p5",
            "p25",
            "p50",
            "p75",
            "p95",
            "max",
        ] {
            m[k] = serde_json::json!(v);
        }
    }
    set(
        &mut files,
        "summary.json",
        serde_json::to_vec_pretty(&summary).expect("JSON"),
    );
    let (data, mc) = parse(&files);
    let charts = draw_montecarlo(&data, &mc).expect("equal values draw");
    let find = |name: &str| -> &Chart { charts.iter().find(|c| c.name == name).expect(name) };
    for c in &charts {
        assert_png_1600x900(c.name, &c.png);
    }
    let days = String::from_utf8(find("hist_pause_days").svg.clone()).expect("UTF-8");
    // One line and one label for the three equal statistics, the value the one tick.
    assert_holds(
        "hist_pause_days",
        &days,
        &["P5 = median = P95: 12", "all equal: 12"],
    );
    assert!(!days.contains("P5 and P95"));
    let money = String::from_utf8(find("hist_lost_revenue").svg.clone()).expect("UTF-8");
    assert_holds(
        "hist_lost_revenue",
        &money,
        &["P5 = median = P95: $0", "all equal: $0"],
    );
    assert!(
        find("hist_pause_days")
            .caption
            .contains("every replication gave the same value"),
        "{}",
        find("hist_pause_days").caption
    );
}

#[test]
fn malformed_monte_carlo_files_give_errors_naming_the_file_and_column() {
    let bands = mc_files()
        .into_iter()
        .find(|(n, _)| n == "bands.csv")
        .expect("bands.csv")
        .1;
    let text = String::from_utf8(bands).expect("UTF-8");
    let header: Vec<&str> = text.lines().next().expect("header").split(',').collect();
    let p50 = header
        .iter()
        .position(|h| *h == "demand_h100e.p50")
        .expect("column");
    // A word where a number belongs, on the second day (row 3 of the file).
    let broken: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let mut f: Vec<&str> = l.split(',').collect();
            if i == 2 {
                f[p50] = "lots";
            }
            f.join(",") + "\n"
        })
        .collect();
    let mut files = mc_files();
    set(&mut files, "bands.csv", broken.into_bytes());
    let err = mc_data(&files)
        .expect_err("a word is not a number")
        .to_string();
    assert!(err.contains("bands.csv"), "{err}");
    assert!(
        err.contains("column `demand_h100e.p50`, row 3: `lots` is not a number"),
        "{err}"
    );

    // A missing column.
    let dropped: String = text
        .lines()
        .map(|l| {
            let mut f: Vec<&str> = l.split(',').collect();
            f.remove(p50);
            f.join(",") + "\n"
        })
        .collect();
    set(&mut files, "bands.csv", dropped.into_bytes());
    let err = mc_data(&files).expect_err("no median").to_string();
    assert!(
        err.contains("bands.csv") && err.contains("`demand_h100e.p50`"),
        "{err}"
    );

    // bands.csv without replications.csv.
    let mut files = mc_files();
    files.retain(|(n, _)| n != "replications.csv");
    let err = mc_data(&files)
        .expect_err("no replications.csv")
        .to_string();
    assert!(
        err.contains("replications.csv") && err.contains("missing"),
        "{err}"
    );
    assert!(McData::from_bytes(b"date\n", b"replication\n", b"{}").is_err());

    // `capsim chart` says so and exits 2, leaving the folder as it was.
    let tmp = tempfile::tempdir().expect("temp dir");
    for (name, bytes) in mc_files() {
        std::fs::write(tmp.path().join(&name), bytes).expect("write");
    }
    // The marker too: `capsim chart` reads only folders capsim wrote.
    std::fs::copy(
        runs().join("without/.capsim-output"),
        tmp.path().join(".capsim-output"),
    )
    .expect("marker");
    std::fs::write(
        tmp.path().join("bands.csv"),
        "date,demand_h100e.p5\nyesterday,1\n",
    )
    .expect("write");
    let err = chart_refused(tmp.path());
    assert!(
        err.contains("bands.csv") && err.contains("row 2: bad date"),
        "{err}"
    );
}
