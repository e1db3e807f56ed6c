//! Monte Carlo replications: what they write agrees with the replications run one by one,
//! whatever the number of threads.

use std::borrow::Cow;
use std::path::Path;
use std::process::Command;

use capsim::model;
use capsim::montecarlo::{self, Outcome, Plan, Stop, UntilCi, percentile};
use capsim::scenario::{self, Loaded, Source};

fn capsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_capsim"))
}

/// One year of the default scenario with failure rates high enough that replications
/// differ visibly (the default's failures alone move few units).
const SETS: [&str; 4] = [
    "end=2023-12",
    "products.H100.annual_failure_rate=0.9",
    "products.A100.annual_failure_rate=0.9",
    "segments.paid.pause.pause_above=1.02",
];

fn sets() -> Vec<String> {
    SETS.iter().map(|s| s.to_string()).collect()
}

fn load() -> Loaded {
    scenario::load(Source::BuiltIn, &sets()).expect("the test scenario loads")
}

fn replicate(loaded: &Loaded, reps: u64, until_ci: Option<UntilCi>) -> Outcome {
    let plan = Plan {
        seed: 3,
        reps,
        until_ci,
        confidence: montecarlo::Confidence::default(),
    };
    let of = |_r: u64| -> Result<Cow<'_, scenario::Scenario>, String> {
        Ok(Cow::Borrowed(&loaded.scenario))
    };
    montecarlo::run(&plan, &of, &|| {}).expect("replications run")
}

#[test]
fn metrics_and_bands_agree_with_replications_run_one_by_one() {
    let loaded = load();
    let n = 80;
    let o = replicate(&loaded, n, None);
    assert_eq!(o.reps, n);
    assert_eq!(o.stop, Stop::Count);
    let runs: Vec<model::RunOutput> = (0..n)
        .map(|r| model::simulate_replication(&loaded.scenario, 3, r))
        .collect();
    // Every metric of every replication is the one its own run gives.
    for (i, name) in o.layout.metrics.iter().enumerate() {
        for (r, run) in runs.iter().enumerate() {
            let want = montecarlo::metric_value(&run.summary, name);
            assert_eq!(o.metrics[i][r], want, "{name} of replication {r}");
        }
    }
    // The replications differ (else this test would prove little).
    let pd = o.layout.metric("fleet_end_h100e").unwrap();
    let spread = montecarlo::stats(&o.metrics[pd], o.confidence);
    assert!(spread.max > spread.min, "replications do not differ");

    // Daily bands: the t-digest percentiles are close to the exact ones, the mean is exact,
    // and the pause probability is the share of replications paused that day.
    let (header, rows) = o.band_rows();
    let col = |h: &str| header.iter().position(|x| x == h).expect(h);
    let days = o.layout.days.len();
    let mut checked = 0;
    for day in (0..days).step_by(29) {
        let mut cap: Vec<f64> = runs
            .iter()
            .map(|r| r.series("capacity_h100e").unwrap()[day])
            .collect();
        cap.sort_by(f64::total_cmp);
        let range = cap[cap.len() - 1] - cap[0];
        for (q, p) in montecarlo::PERCENTILES {
            let exact = percentile(&cap, q);
            let est = rows[day][col(&format!("capacity_h100e.{p}"))];
            // The t-digest interpolates between centroids in its own way: its estimate must
            // lie within one order statistic of the exact percentile's neighbours.
            let h = q * (cap.len() - 1) as f64;
            let lo = cap[(h.floor() as usize).saturating_sub(1)];
            let hi = cap[(h.ceil() as usize + 1).min(cap.len() - 1)];
            assert!(
                est >= lo - 1e-9 && est <= hi + 1e-9,
                "day {day} {p}: digest {est}, exact {exact}, neighbours {lo}..{hi}"
            );
        }
        let mean = cap.iter().sum::<f64>() / cap.len() as f64;
        let got = rows[day][col("capacity_h100e.mean")];
        assert!(
            (got - mean).abs() <= 1e-9 * mean.abs().max(1.0),
            "mean on day {day}"
        );
        let paused = runs
            .iter()
            .filter(|r| r.series("paused[paid]").unwrap()[day] > 0.5)
            .count() as f64
            / n as f64;
        assert_eq!(
            rows[day][col("pause_probability[paid]")],
            paused,
            "day {day}"
        );
        if range > 0.0 {
            checked += 1;
        }
    }
    assert!(checked > 3, "too few days with spread to check the bands");
}

/// Without a stopping rule the replications run without batch boundaries (each thread
/// takes a few at a time and folds them as it finishes them); with one, in batches of 64.
/// Both give the same metrics, bands and bands' state, on one thread or several.
#[test]
fn replications_without_batches_give_what_batches_give() {
    let loaded = load();
    let never = UntilCi {
        metric: "fleet_end_h100e".into(),
        half_width: 0.0,
    };
    let batched = replicate(&loaded, 150, Some(never));
    assert_eq!((batched.reps, batched.stop), (150, Stop::CiNotMet));
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let free = pool.install(|| replicate(&loaded, 150, None));
        assert_eq!(free.metrics, batched.metrics, "{threads} threads");
        assert_eq!(free.dates, batched.dates, "{threads} threads");
        assert_eq!(free.band_rows(), batched.band_rows(), "{threads} threads");
        assert_eq!(
            free.bands_state(),
            batched.bands_state(),
            "{threads} threads"
        );
        assert_eq!(free.representative, batched.representative);
    }
}

/// A replication whose scenario cannot be made stops the run with the error of the lowest
/// such replication, however the threads took them.
#[test]
fn a_failed_replication_stops_the_run_with_the_lowest_failure() {
    let loaded = load();
    let plan = Plan {
        seed: 3,
        reps: 200,
        until_ci: None,
        confidence: montecarlo::Confidence::default(),
    };
    let of = |r: u64| -> Result<Cow<'_, scenario::Scenario>, String> {
        if r == 37 || r == 41 {
            Err(format!("no scenario for {r}"))
        } else {
            Ok(Cow::Borrowed(&loaded.scenario))
        }
    };
    let Err(err) = montecarlo::run(&plan, &of, &|| {}) else {
        panic!("replication 37 fails");
    };
    assert_eq!(
        (err.replication, err.message.as_str()),
        (37, "no scenario for 37")
    );
}

/// A lean replication (what Monte Carlo runs for all but the first) has the summary and,
/// column for column, the kept daily series of the same replication run in full; it
/// records no other column, no text column and no ledger.
#[test]
fn a_lean_replication_keeps_the_summary_and_the_named_columns_of_the_full_run() {
    let loaded = load();
    let s = &loaded.scenario;
    for r in [0, 5] {
        let full = model::simulate_replication(s, 3, r);
        let mut keep = vec![
            "users[paid]".to_string(),
            "lead_time_days[H100]".to_string(),
            "paused[paid]".to_string(),
            "no such column".to_string(),
        ];
        keep.sort();
        let prepared = model::Prepared::new(s);
        for lean in [
            model::simulate_replication_keeping(s, None, 3, r, &keep),
            model::simulate_replication_keeping(s, Some(&prepared), 3, r, &keep),
        ] {
            assert_eq!(lean.summary, full.summary, "replication {r}");
            assert!(lean.ledger.is_empty() && !full.ledger.is_empty());
            assert!(lean.text_columns.is_empty() && lean.text_values.is_empty());
            // The named columns and those the summary reads (demand, unserved, lead times,
            // money), in the full run's order; nothing else.
            for name in [
                "users[paid]",
                "paused[paid]",
                "demand_h100e",
                "unserved_h100e",
            ] {
                assert!(lean.column(name).is_some(), "{name} kept");
            }
            assert!(lean.column("capacity_h100e").is_none());
            assert!(lean.columns.len() < full.columns.len() / 3);
            let order: Vec<usize> = lean
                .columns
                .iter()
                .map(|c| full.column(c).unwrap())
                .collect();
            assert!(order.is_sorted());
            for c in &lean.columns {
                let (a, b) = (lean.series(c).unwrap(), full.series(c).unwrap());
                assert_eq!(a.len(), full.dates.len());
                assert!(
                    a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()),
                    "{c} differs"
                );
            }
        }
    }
}

#[test]
fn until_ci_stops_when_the_interval_is_narrow_enough_or_at_the_most() {
    let loaded = load();
    let o = replicate(
        &loaded,
        1000,
        Some(UntilCi {
            metric: "fleet_end_h100e".into(),
            half_width: 1e12,
        }),
    );
    // Checked at the end of each batch of 64, once at least 30 have run.
    assert_eq!(o.reps, montecarlo::BATCH);
    assert_eq!(o.stop, Stop::CiMet);
    let o = replicate(
        &loaded,
        100,
        Some(UntilCi {
            metric: "fleet_end_h100e".into(),
            half_width: 1e-12,
        }),
    );
    assert_eq!(o.reps, 100);
    assert_eq!(o.stop, Stop::CiNotMet);
    // An unknown metric is refused with the likely intended name.
    let plan = Plan {
        seed: 3,
        reps: 10,
        until_ci: Some(UntilCi {
            metric: "pause_day".into(),
            half_width: 1.0,
        }),
        confidence: montecarlo::Confidence::default(),
    };
    let of = |_r: u64| -> Result<Cow<'_, scenario::Scenario>, String> {
        Ok(Cow::Borrowed(&loaded.scenario))
    };
    let err = match montecarlo::run(&plan, &of, &|| {}) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("an unknown metric was accepted"),
    };
    assert!(err.contains("did you mean `pause_days`"), "{err}");
}

fn run_reps(dir: &Path, threads: &str, extra: &[&str]) -> std::process::Output {
    run_n_reps(dir, "70", threads, extra)
}

/// `capsim run --reps N` of the default scenario with `SETS`, seed 3, no charts.
fn run_n_reps(dir: &Path, reps: &str, threads: &str, extra: &[&str]) -> std::process::Output {
    let mut c = capsim();
    c.env("RAYON_NUM_THREADS", threads)
        .args(["run", "--reps", reps, "--seed", "3", "--no-charts", "--out"])
        .arg(dir);
    for s in SETS {
        c.args(["--set", s]);
    }
    let out = c.args(extra).output().expect("capsim runs");
    assert!(
        out.status.success(),
        "capsim run --reps failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn files_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("output folder")
        .map(|e| {
            let e = e.expect("entry");
            let name = e.file_name().to_string_lossy().into_owned();
            (name, std::fs::read(e.path()).unwrap_or_default())
        })
        .collect();
    v.sort();
    v
}

#[test]
fn outputs_are_byte_identical_whatever_the_thread_count() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (one, two) = (tmp.path().join("one"), tmp.path().join("four"));
    run_reps(&one, "1", &[]);
    run_reps(&two, "4", &[]);
    let (a, b) = (files_of(&one), files_of(&two));
    let names: Vec<&str> = a.iter().map(|(n, _)| n.as_str()).collect();
    for f in [
        "bands.csv",
        "replications.csv",
        "summary.json",
        "timeseries.csv",
    ] {
        assert!(names.contains(&f), "{f} missing: {names:?}");
    }
    assert_eq!(a.len(), b.len());
    for ((n, x), (_, y)) in a.iter().zip(&b) {
        assert!(x == y, "{n} differs between 1 and 4 threads");
    }
}

#[test]
fn the_files_written_are_the_representative_replication() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("mc");
    run_reps(&dir, "2", &[]);
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
    let block = &summary["replications"];
    assert_eq!(block["count"], 70);
    assert_eq!(block["seed"], 3);
    let rep = block["representative"].as_u64().expect("representative");
    // Its files are its own run's.
    let loaded = load();
    let run = model::simulate_replication(&loaded.scenario, 3, rep);
    let ts = capsim::report::timeseries_csv(&run).unwrap();
    assert!(ts == std::fs::read(dir.join("timeseries.csv")).unwrap());
    assert_eq!(summary["pause_days"], run.summary.pause_days);
    // Percentiles in the summary are those of replications.csv's column.
    let csv = std::fs::read_to_string(dir.join("replications.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let c = header.iter().position(|h| *h == "capex_usd").unwrap();
    let mut v: Vec<f64> = lines
        .map(|l| l.split(',').nth(c).unwrap().parse().unwrap())
        .collect();
    assert_eq!(v.len(), 70);
    v.sort_by(f64::total_cmp);
    let p50 = block["metrics"]["capex_usd"]["p50"].as_f64().unwrap();
    assert_eq!(p50, percentile(&v, 0.5));
    // And the manifest says how it was made.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["replications"]["count"], 70);
    assert_eq!(manifest["replications"]["representative"], rep);
}

#[test]
fn compare_with_reps_reports_paired_differences() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let base = tmp.path().join("base.yaml");
    let alt = tmp.path().join("alt.yaml");
    let body = |extra: &str| {
        format!(
            "extends: {}\nname: {extra}\n",
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("scenarios/default.yaml")
                .display()
        )
    };
    std::fs::write(&base, body("base")).unwrap();
    std::fs::write(&alt, body("alt")).unwrap();
    let out_dir = tmp.path().join("cmp");
    let mut c = capsim();
    c.args(["compare"])
        .arg(&base)
        .arg(&alt)
        .args(["--reps", "6", "--json", "--out"])
        .arg(&out_dir)
        .args(["--set", "end=2023-06"]);
    let out = c.output().expect("capsim runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let d = &doc["paired"][0]["differences"]["fleet_end_h100e"];
    // The same scenario under two names: with common random numbers every replication
    // gives the same outcome, so every difference is exactly 0.
    assert_eq!(d["mean"], 0.0);
    assert_eq!(d["sd"], 0.0);
    assert_eq!(doc["paired"][0]["replications"], 6);
    let md = std::fs::read_to_string(out_dir.join("compare.md")).unwrap();
    assert!(md.contains("## Paired differences (6 replications"), "{md}");
}

#[test]
fn bad_replication_arguments_are_refused() {
    for (args, says) in [
        (vec!["run", "--reps", "0"], "0 is not in 1..=1000000"),
        (
            vec!["run", "--until-ci", "pause_days"],
            "needs the form METRIC=HALF_WIDTH",
        ),
        (
            vec!["run", "--reps", "3", "--until-ci", "pase_days=1"],
            "did you mean `pause_days`",
        ),
    ] {
        let out = capsim().args(&args).output().expect("capsim runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

/// `capsim run --reps 20` into `dir`, with `extra` arguments; its `summary.json`.
fn run_20(dir: &Path, extra: &[&str]) -> serde_json::Value {
    run_n_reps(dir, "20", "2", extra);
    serde_json::from_slice(&std::fs::read(dir.join("summary.json")).expect("summary.json"))
        .expect("JSON")
}

#[test]
fn a_confidence_level_names_its_interval_and_sets_its_width() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (d95, d90) = (tmp.path().join("95"), tmp.path().join("90"));
    let s95 = run_20(&d95, &[]);
    let s90 = run_20(&d90, &["--confidence", "0.9"]);
    let (m95, m90) = (
        &s95["replications"]["metrics"],
        &s90["replications"]["metrics"],
    );
    let metric = "fleet_end_h100e";
    let (a, b) = (&m95[metric], &m90[metric]);
    assert!(
        a.get("ci95_low").is_some() && a.get("ci90_low").is_none(),
        "{a}"
    );
    assert!(
        b.get("ci90_low").is_some() && b.get("ci95_low").is_none(),
        "{b}"
    );
    assert_eq!(a["mean"], b["mean"]);
    let width = |m: &serde_json::Value, k: &str| {
        m[format!("{k}_high")].as_f64().expect("high")
            - m[format!("{k}_low")].as_f64().expect("low")
    };
    let (w95, w90) = (width(a, "ci95"), width(b, "ci90"));
    assert!(w90 > 0.0 && w90 < w95, "90%: {w90}, 95%: {w95}");
    // Student's t with 19 degrees of freedom: t(0.95) = 1.729, t(0.975) = 2.093.
    assert!((w90 / w95 - 1.729 / 2.093).abs() < 1e-3, "{}", w90 / w95);
    // Every metric names the level; nothing else moves.
    for (name, m) in m90.as_object().expect("metrics") {
        assert!(m.get("ci90_high").is_some(), "{name}: {m}");
    }
    for f in ["bands.csv", "replications.csv", "timeseries.csv"] {
        assert!(
            std::fs::read(d95.join(f)).unwrap() == std::fs::read(d90.join(f)).unwrap(),
            "{f} differs with the confidence level"
        );
    }
    // The manifest records a level other than the default.
    let manifest = |d: &Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(d.join("manifest.json")).unwrap()).unwrap()
    };
    assert_eq!(manifest(&d90)["replications"]["confidence"], 0.9);
    assert!(manifest(&d95)["replications"].get("confidence").is_none());
    // A non-integer percentage: `ci99_5`.
    let s995 = run_20(
        &tmp.path().join("995"),
        &["--confidence", "0.995", "--quiet"],
    );
    let c = &s995["replications"]["metrics"][metric];
    assert!(c.get("ci99_5_low").is_some(), "{c}");
    assert!(width(c, "ci99_5") > w95);
}

#[test]
fn the_chosen_level_reaches_the_text_the_report_and_compare() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("mc");
    let mut c = capsim();
    c.args(["run", "--reps", "8", "--confidence", "0.9", "--out"])
        .arg(&dir)
        .args(["--set", "end=2023-03"]);
    let out = c.output().expect("capsim runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("(90% CI") && !text.contains("95% CI"),
        "{text}"
    );
    let md = std::fs::read_to_string(dir.join("report.md")).expect("report.md");
    assert!(md.contains("mean (90% CI)") && !md.contains("95%"), "{md}");
    // `capsim chart` redraws the same report from the files.
    let before = std::fs::read(dir.join("report.md")).unwrap();
    let out = capsim().arg("chart").arg(&dir).arg("-q").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(before == std::fs::read(dir.join("report.md")).unwrap());

    let cmp = tmp.path().join("cmp");
    let out = capsim()
        .args([
            "compare",
            "scenarios/default.yaml",
            "scenarios/default.yaml",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "--reps",
            "4",
            "--confidence",
            "0.99",
            "--json",
            "--set",
            "end=2023-03",
        ])
        .arg("--out")
        .arg(&cmp)
        .output()
        .expect("capsim runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let d = &doc["paired"][0]["differences"]["pause_days"];
    assert!(d.get("ci99_low").is_some(), "{d}");
    let md = std::fs::read_to_string(cmp.join("compare.md")).unwrap();
    assert!(
        md.contains("| 99% CI |") && md.contains("its 99% confidence"),
        "{md}"
    );
}

#[test]
fn bad_confidence_levels_are_refused_with_the_form_to_use() {
    for (args, says) in [
        (
            vec!["run", "--reps", "3", "--confidence", "95"],
            "`95` is not a confidence level between 0 and 1",
        ),
        (
            vec!["run", "--reps", "3", "--confidence", "1"],
            "between 0 and 1",
        ),
        (
            vec!["run", "--reps", "3", "--confidence", "0"],
            "between 0 and 1",
        ),
        (
            vec!["run", "--reps", "3", "--confidence", "high"],
            "`high` is not a number",
        ),
        (
            vec!["run", "--reps", "3", "--confidence", "0.99995"],
            "more than four decimals",
        ),
        (
            vec!["run", "--confidence", "0.9"],
            "give --reps N (or --until-ci) with it",
        ),
        (
            vec!["compare", "a.yaml", "b.yaml", "--confidence", "0.9"],
            "--reps",
        ),
        (
            vec![
                "sweep",
                "--vary",
                "segments.paid.pause.pause_above=0.9,1.0",
                "--reps",
                "1",
                "--confidence",
                "0.9",
            ],
            "--confidence needs --reps 2 or more",
        ),
        (
            vec![
                "slurm",
                "sweep",
                "--vary",
                "segments.paid.pause.pause_above=0.9,1.0",
                "--shards",
                "2",
                "--confidence",
                "0.9",
            ],
            "--reps",
        ),
    ] {
        let tmp = tempfile::tempdir().expect("temp dir");
        let out = capsim()
            .args(&args)
            .arg("--out")
            .arg(tmp.path().join("out"))
            .output()
            .expect("capsim runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!tmp.path().join("out").exists(), "{args:?} wrote outputs");
    }
}
