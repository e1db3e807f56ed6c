//! Charts (issue 3): valid PNG and SVG at the stated size, SVG text that names what is drawn
//! (titles, axis units, legend entries), the pause band of a run with a known pause, the
//! comparison of two runs, and edge cases that must not panic.

use std::io::Cursor;
use std::sync::OnceLock;

use capsim::model::simulate;
use capsim::report::charts::{Chart, HEIGHT, WIDTH, draw_all, draw_compare};
use capsim::report::data::ChartData;
use capsim::report::{events_csv, summary_json, timeseries_csv};
use capsim::scenario::{Source, load};

/// The six charts, in order.
const NAMES: [&str; 6] = [
    "capacity_demand",
    "supply",
    "fleet",
    "market",
    "users",
    "money",
];

/// Runs the built-in scenario with `sets` and parses its files back, as `capsim chart` does.
fn chart_data(sets: &[&str]) -> ChartData {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let loaded = match load(Source::BuiltIn, &sets) {
        Ok(l) => l,
        Err(e) => panic!("scenario did not load:\n{}", e.render()),
    };
    let run = simulate(&loaded.scenario, loaded.scenario.seed);
    ChartData::from_bytes(
        &timeseries_csv(&run).expect("timeseries"),
        &summary_json(&run).expect("summary"),
        &events_csv(&loaded.scenario, &run).expect("events"),
    )
    .expect("outputs parse back")
}

/// 2023 of the default scenario: paid sign-ups pause from 2023-02-21 to 2023-07-28.
fn year_2023() -> &'static ChartData {
    static DATA: OnceLock<ChartData> = OnceLock::new();
    DATA.get_or_init(|| chart_data(&["end=2023-12-31"]))
}

fn charts_2023() -> &'static [Chart] {
    static CHARTS: OnceLock<Vec<Chart>> = OnceLock::new();
    CHARTS.get_or_init(|| draw_all(year_2023(), None).expect("charts draw"))
}

fn chart<'a>(charts: &'a [Chart], name: &str) -> &'a Chart {
    charts
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no chart {name}"))
}

fn svg_text(c: &Chart) -> &str {
    std::str::from_utf8(&c.svg).expect("SVG is UTF-8")
}

/// Asserts that `c` is a PNG of WIDTH x HEIGHT and an SVG document.
fn assert_valid(c: &Chart) {
    assert!(
        c.png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{}: no PNG signature",
        c.name
    );
    let decoder = png::Decoder::new(Cursor::new(&c.png));
    let reader = decoder
        .read_info()
        .unwrap_or_else(|e| panic!("{}: PNG does not decode: {e}", c.name));
    let info = reader.info();
    assert_eq!((info.width, info.height), (WIDTH, HEIGHT), "{}", c.name);
    let svg = svg_text(c).trim();
    assert!(
        svg.starts_with("<svg"),
        "{}: SVG starts {:?}",
        c.name,
        &svg[..20]
    );
    assert!(svg.ends_with("</svg>"), "{}: SVG is not closed", c.name);
    assert!(svg.contains("<text"), "{}: SVG text is not text", c.name);
}

/// Asserts that the SVG of `c` holds every one of `texts`.
fn assert_holds(c: &Chart, texts: &[&str]) {
    let svg = svg_text(c);
    for t in texts {
        assert!(svg.contains(t), "{}: SVG lacks {t:?}", c.name);
    }
}

#[test]
fn a_run_gives_six_charts_each_a_1600x900_png_and_an_svg() {
    let charts = charts_2023();
    let names: Vec<&str> = charts.iter().map(|c| c.name).collect();
    assert_eq!(names, NAMES);
    for c in charts {
        assert_valid(c);
        assert!(c.title.contains("default"), "{}: {}", c.name, c.title);
        assert!(c.caption.ends_with('.'), "{}: {}", c.name, c.caption);
    }
}

#[test]
fn every_svg_holds_its_title_axis_units_dates_and_legend() {
    let data = year_2023();
    let charts = charts_2023();
    let products = data.products();
    let segments = data.segments();
    assert!(products.len() >= 2 && segments.len() >= 2);
    for c in charts {
        // Month labels under the time axis: 2023 gets one every 1-3 months.
        assert_holds(c, &[&c.title, "Jul 2023"]);
    }
    let capacity = chart(charts, "capacity_demand");
    assert_holds(
        capacity,
        &[
            "H100-equivalents (H100e)",
            "demand",
            "serving capacity",
            "launch",
        ],
    );
    let supply = chart(charts, "supply");
    assert_holds(supply, &["units/day", "wafers/day", "packaging ("]);
    let fleet = chart(charts, "fleet");
    assert_holds(fleet, &["units", "MW", "stranded units", "in use (all-in)"]);
    for p in &products {
        assert_holds(supply, &[p]);
        assert_holds(fleet, &[p]);
    }
    let market = chart(charts, "market");
    assert_holds(market, &["units", "weeks", "USD per unit"]);
    let users = chart(charts, "users");
    assert_holds(users, &["users", "users/day"]);
    for s in &segments {
        assert_holds(users, &[s, &format!("{s}: sign-ups arriving per day")]);
    }
    let money = chart(charts, "money");
    assert_holds(
        money,
        &[
            "USD",
            "US cents per query",
            "capex: $",
            "revenue: $",
            // Revenue lost on a scale of its own (it was a flat line under $40B of capex).
            "Revenue lost to sign-up pauses and churn, cumulative",
            "lost to pauses: $",
            "lost to churn: $",
        ],
    );
}

#[test]
fn a_run_with_a_pause_shows_the_pause_band_regression_issue_3() {
    // The default scenario pauses paid sign-ups in 2023 (2023-02-21 to 2023-07-28 when this
    // was written); every episode gets a labelled band.
    let data = year_2023();
    assert!(
        !data.summary.pause_episodes.is_empty(),
        "the fixture lost its pause"
    );
    let capacity = chart(charts_2023(), "capacity_demand");
    for e in &data.summary.pause_episodes {
        let label = format!("{} sign-ups paused, {} days", e.segment, e.days);
        assert_holds(capacity, &[&label]);
    }
    assert_holds(chart(charts_2023(), "users"), &["sign-ups paused ("]);
}

#[test]
fn dated_events_are_marked_with_their_names() {
    let data = year_2023();
    let marked: Vec<&str> = data
        .events
        .iter()
        .filter(|e| ["launch", "export_rule", "reservation_start"].contains(&e.kind.as_str()))
        .map(|e| e.subject.as_str())
        .collect();
    assert!(!marked.is_empty(), "the fixture has no launch");
    let capacity = chart(charts_2023(), "capacity_demand");
    for subject in marked {
        // Labels are cut at 34 characters.
        let shown: String = subject.chars().take(34).collect();
        assert_holds(capacity, &[&shown]);
    }
}

#[test]
fn the_same_data_gives_the_same_bytes() {
    let again = draw_all(year_2023(), None).expect("charts draw");
    for (a, b) in charts_2023().iter().zip(&again) {
        assert!(a.png == b.png, "{}: PNG differs between two draws", a.name);
        assert!(a.svg == b.svg, "{}: SVG differs between two draws", a.name);
    }
}

#[test]
fn compare_overlays_two_runs_and_names_them() {
    let other = chart_data(&[
        "end=2023-12-31",
        "name=early-pause",
        "segments.paid.pause.pause_above=0.7",
        "segments.paid.pause.resume_below=0.6",
    ]);
    let runs = vec![year_2023().clone(), other];
    let charts = draw_compare(&runs).expect("compare draws");
    let names: Vec<&str> = charts.iter().map(|c| c.name).collect();
    assert_eq!(names, ["compare_capacity_demand", "compare_users"]);
    for c in &charts {
        assert_valid(c);
        assert!(
            c.title.contains("default") && c.title.contains("early-pause"),
            "{}",
            c.title
        );
        assert_holds(c, &[&c.title]);
    }
    let cap = &charts[0];
    assert_holds(
        cap,
        &[
            "H100-equivalents (H100e)",
            "default: paid paused",
            "early-pause: paid paused",
        ],
    );
    assert_holds(&charts[1], &["default: paid", "early-pause: free"]);
}

#[test]
fn a_one_day_run_draws() {
    // A scenario runs at least two days: keep the first row of a two-day run.
    let mut one_day = chart_data(&["end=2023-01-02"]);
    assert_eq!(one_day.dates.len(), 2);
    one_day.dates.truncate(1);
    for (_, v) in &mut one_day.columns {
        v.truncate(1);
    }
    for (_, v) in &mut one_day.text_columns {
        v.truncate(1);
    }
    for c in draw_all(&one_day, None).expect("a one-day run draws") {
        assert_valid(&c);
    }
}

#[test]
fn a_scenario_without_segments_draws_a_users_chart_that_says_so() {
    let mut no_segments = year_2023().clone();
    let segments = no_segments.segments();
    no_segments
        .columns
        .retain(|(n, _)| !segments.iter().any(|s| n.ends_with(&format!("[{s}]"))));
    no_segments.summary.pause_episodes.clear();
    no_segments.summary.users_end.clear();
    assert!(no_segments.segments().is_empty());
    let charts = draw_all(&no_segments, None).expect("no segments draws");
    assert_holds(chart(&charts, "users"), &["no user segments"]);
    for c in &charts {
        assert_valid(c);
    }
}

#[test]
fn no_rows_non_finite_values_and_zeros_draw_without_panicking() {
    let mut empty = year_2023().clone();
    empty.dates.clear();
    for (_, v) in &mut empty.columns {
        v.clear();
    }
    for (_, v) in &mut empty.text_columns {
        v.clear();
    }
    // Non-finite values in every other column, the others all zero.
    let mut broken = year_2023().clone();
    for (k, (_, v)) in broken.columns.iter_mut().enumerate() {
        if k % 2 == 0 {
            v[10] = f64::NAN;
            v[20] = f64::INFINITY;
            v[30] = f64::NEG_INFINITY;
        } else {
            v.iter_mut().for_each(|x| *x = 0.0);
        }
    }
    for (what, data) in [("no rows", empty), ("NaN and zeros", broken)] {
        let charts = draw_all(&data, None).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(charts.len(), 6, "{what}");
        for c in &charts {
            assert_valid(c);
            assert!(!svg_text(c).contains("NaN"), "{what}: {} has NaN", c.name);
        }
    }
}

#[test]
fn compare_draws_one_run_and_none() {
    for c in draw_compare(std::slice::from_ref(year_2023())).expect("one run") {
        assert_valid(&c);
    }
    for c in draw_compare(&[]).expect("no runs") {
        assert_valid(&c);
    }
}

/// Every file of a run with charts (charts and data files are drawn and written in
/// parallel) is the same bytes on one thread and on four.
#[test]
fn run_outputs_do_not_depend_on_threads() {
    let tmp = tempfile::tempdir().expect("temporary folder");
    let mut outputs = Vec::new();
    for threads in ["1", "4"] {
        let dir = tmp.path().join(format!("t{threads}"));
        let out = crate::common::capsim()
            .env("RAYON_NUM_THREADS", threads)
            .args(["run", "--quiet", "--out"])
            .arg(&dir)
            .output()
            .expect("capsim runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut files = Vec::new();
        for sub in ["", "charts"] {
            for e in std::fs::read_dir(dir.join(sub)).expect("output folder") {
                let path = e.expect("entry").path();
                if path.is_file() {
                    let name = path.strip_prefix(&dir).expect("inside").to_path_buf();
                    files.push((name, std::fs::read(&path).expect("readable")));
                }
            }
        }
        files.sort();
        assert!(files.len() > 12, "data files, report.md and 12 chart files");
        outputs.push(files);
    }
    assert!(
        outputs[0] == outputs[1],
        "outputs differ between 1 and 4 threads"
    );
}
