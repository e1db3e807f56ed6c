//! `capsim backtest`, `observed:` and the backtest part of `capsim check`.

use std::path::Path;

use crate::common::capsim;

/// A tiny scenario: the default scenario to mid-2023 with a constant CoWoS-S capacity of
/// 7,300 wafers a month, i.e. 7300 × 12 / 365 = 240 wafers a day, and `observed: obs.csv`.
fn tiny(dir: &Path, observations: &str) {
    let default = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/default.yaml");
    std::fs::write(
        dir.join("tiny.yaml"),
        format!(
            "extends: {}\nname: tiny\nend: 2023-06-30\nsupply:\n  packaging_lines:\n    - name: \
             CoWoS-S\n      capacity_wafers_per_month: 7300\nobserved: obs.csv\nexpect: []\n",
            default.display()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("obs.csv"),
        format!("# by hand\nperiod,metric,value,low,high,required,source\n{observations}"),
    )
    .unwrap();
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn a_quarter_is_aggregated_as_worked_out_by_hand() {
    let tmp = tempfile::tempdir().unwrap();
    // 2023Q1 has 31 + 28 + 31 = 90 days of 240 wafers: sum 90 × 240 = 21,600, mean 240;
    // the share of capacity used is at most 1.
    tiny(
        tmp.path(),
        "2023Q1,sum(packaging_capacity_wafers_per_day[CoWoS-S]),21600,21599.99,21600.01,true,hand\n\
         2023Q1,mean(packaging_capacity_wafers_per_day[CoWoS-S]),240,239.99,240.01,true,hand\n\
         2023-02,max(packaging_capacity_wafers_per_day[CoWoS-S]) / 24,10,9.99,10.01,true,hand\n\
         2023H1,sum(packaging_used_wafers_per_day[CoWoS-S])/sum(packaging_capacity_wafers_per_day[CoWoS-S]),0.5,0,1,true,hand\n",
    );
    let out = tmp.path().join("out");
    let res = capsim()
        .arg("backtest")
        .arg(tmp.path().join("tiny.yaml"))
        .arg("--out")
        .arg(&out)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(res.status.code(), Some(0), "{}", text(&res.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&res.stdout).unwrap();
    let rows = doc["observations"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0]["model"], 21600.0);
    assert_eq!(rows[1]["model"], 240.0);
    assert_eq!(rows[2]["model"], 10.0);
    assert!(rows.iter().all(|r| r["inside"] == true), "{rows:?}");
    assert_eq!(doc["score"]["share_inside"], 1.0);
    assert_eq!(doc["passed"], true);
    let csv = std::fs::read_to_string(out.join("backtest.csv")).unwrap();
    assert!(csv.starts_with("file,line,period,first_day,last_day,metric,observed,low,high,model"));
    assert!(out.join("charts/backtest.png").is_file());
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("## Backtest"), "{report}");
}

#[test]
fn an_unknown_column_is_located_in_the_csv_with_a_suggestion() {
    let tmp = tempfile::tempdir().unwrap();
    tiny(
        tmp.path(),
        "2023Q1,sum(packaging_capacity_wafers_per_day[CoWoS-S]),21600,,,false,x\n\
         2023Q1,mean(lead_time_day[H100]),100,,,false,x\n",
    );
    let out = tmp.path().join("out");
    let res = capsim()
        .arg("backtest")
        .arg(tmp.path().join("tiny.yaml"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(res.status.code(), Some(2));
    let err = text(&res.stderr);
    assert!(err.contains("obs.csv:4:13"), "{err}");
    assert!(
        err.contains("did you mean `lead_time_days[H100]`?"),
        "{err}"
    );
    assert!(!out.exists(), "nothing is written on bad input");
    // `capsim run` warns and leaves backtest.csv out.
    let res = capsim()
        .arg("run")
        .arg(tmp.path().join("tiny.yaml"))
        .arg("--out")
        .arg(&out)
        .arg("--no-charts")
        .output()
        .unwrap();
    assert_eq!(res.status.code(), Some(0));
    assert!(text(&res.stderr).contains("warning: unknown column"));
    assert!(!out.join("backtest.csv").exists());
}

#[test]
fn a_missing_observations_file_is_an_error_at_the_field() {
    let tmp = tempfile::tempdir().unwrap();
    tiny(tmp.path(), "");
    std::fs::remove_file(tmp.path().join("obs.csv")).unwrap();
    let res = capsim()
        .arg("validate")
        .arg(tmp.path().join("tiny.yaml"))
        .output()
        .unwrap();
    assert_eq!(res.status.code(), Some(2));
    let err = text(&res.stderr);
    assert!(err.contains("tiny.yaml:8:11"), "{err}");
    assert!(
        err.contains("cannot read `obs.csv` named by `observed:`"),
        "{err}"
    );
    // A folder is not a regular file.
    std::fs::create_dir(tmp.path().join("obs.csv")).unwrap();
    let res = capsim()
        .arg("validate")
        .arg(tmp.path().join("tiny.yaml"))
        .output()
        .unwrap();
    assert!(text(&res.stderr).contains("not a regular file"));
}

#[test]
fn a_required_observation_outside_fails_backtest_and_check() {
    let tmp = tempfile::tempdir().unwrap();
    let inside = "2023Q1,mean(packaging_capacity_wafers_per_day[CoWoS-S]),240,230,250,true,x\n";
    tiny(tmp.path(), inside);
    let scenario = tmp.path().join("tiny.yaml");
    let golden = tmp.path().join("golden");
    let check = |bless: bool| {
        let mut c = capsim();
        c.arg("check").arg(&scenario).arg("--golden").arg(&golden);
        if bless {
            c.arg("--bless");
        }
        c.output().unwrap()
    };
    let res = check(true);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res.stdout));
    assert!(text(&res.stdout).contains("1 of 1 observations inside, 1 of 1 required"));
    // The same observation, now with a range the run misses.
    tiny(
        tmp.path(),
        "2023Q1,mean(packaging_capacity_wafers_per_day[CoWoS-S]),300,280,320,true,x\n\
         2023Q1,mean(packaging_capacity_wafers_per_day[CoWoS-S]),300,280,320,false,x\n",
    );
    let res = check(false);
    assert_eq!(res.status.code(), Some(1));
    let out = text(&res.stdout);
    assert!(out.starts_with("FAIL tiny"), "{out}");
    assert!(
        out.contains("required observation outside: 2023Q1 mean(packaging_capacity_wafers_per_day[CoWoS-S]) observed 300 (280 .. 320), model 240"),
        "{out}"
    );
    let res = capsim()
        .arg("backtest")
        .arg(&scenario)
        .arg("--out")
        .arg(tmp.path().join("out"))
        .arg("--no-charts")
        .output()
        .unwrap();
    assert_eq!(res.status.code(), Some(1));
    let out = text(&res.stdout);
    assert!(out.contains("✗ OUTSIDE  required"), "{out}");
    assert!(
        out.contains("FAIL: 1 required observation(s) outside"),
        "{out}"
    );
    // The outputs are written all the same.
    assert!(tmp.path().join("out/backtest.csv").is_file());
}

#[test]
fn a_scenario_without_observations_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let res = capsim()
        .args(["backtest", "--out"])
        .arg(tmp.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(res.status.code(), Some(2));
    assert!(text(&res.stderr).contains("names no observations"));
}

#[test]
fn the_baseline_backtest_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let baseline = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline.yaml");
    let res = capsim()
        .arg("backtest")
        .arg(&baseline)
        .arg("--out")
        .arg(&out)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(res.status.code(), Some(0), "{}", text(&res.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&res.stdout).unwrap();
    let rows = doc["observations"].as_array().unwrap();
    assert!(rows.len() >= 10, "{rows:?}");
    assert!(
        rows.iter()
            .all(|r| r["source"].as_str().is_some_and(|s| !s.is_empty()))
    );
    assert!(out.join("backtest.csv").is_file());
    assert!(out.join("charts/backtest.svg").is_file());
    // `capsim chart` redraws the backtest chart from backtest.csv, byte for byte.
    let png = std::fs::read(out.join("charts/backtest.png")).unwrap();
    let res = capsim().arg("chart").arg(&out).output().unwrap();
    assert_eq!(res.status.code(), Some(0));
    assert_eq!(std::fs::read(out.join("charts/backtest.png")).unwrap(), png);
}

#[test]
fn observations_of_daily_columns_are_drawn_on_the_run_charts() {
    let tmp = tempfile::tempdir().unwrap();
    // Units shipped (a sum: drawn as a daily rate on the supply chart), a lead time (a mean:
    // drawn on the market chart's panel of quoted lead times) and a ratio (backtest chart only).
    tiny(
        tmp.path(),
        "2023Q1,sum(shipped_units_per_day[H100]),90000,80000,100000,false,hand\n\
         2023Q2,mean(lead_time_days[H100]),300,250,350,false,hand\n\
         2023H1,sum(packaging_used_wafers_per_day[CoWoS-S])/sum(packaging_capacity_wafers_per_day[CoWoS-S]),0.5,0,1,false,hand\n",
    );
    let out = tmp.path().join("out");
    let res = capsim()
        .arg("run")
        .arg(tmp.path().join("tiny.yaml"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(res.status.code(), Some(0), "{}", text(&res.stderr));
    let supply = std::fs::read_to_string(out.join("charts/supply.svg")).unwrap();
    assert!(
        supply.contains("Units shipped of the observed products"),
        "no row of observed shipments in the supply chart"
    );
    assert!(supply.contains("H100 (model)"), "{supply}");
    assert!(supply.contains("observed (record)"));
    // No production observation: no such row.
    assert!(!supply.contains("Units started of the observed products"));
    let market = std::fs::read_to_string(out.join("charts/market.svg")).unwrap();
    assert!(
        market.contains("observed (record)"),
        "no record on the market chart"
    );
    assert!(market.contains("Orders placed and cancelled"));

    // Without observations, neither chart has them.
    let plain = tmp.path().join("plain");
    let res = capsim()
        .arg("run")
        .arg(tmp.path().join("tiny.yaml"))
        .args(["--set", "observed=[]", "--out"])
        .arg(&plain)
        .output()
        .unwrap();
    assert_eq!(res.status.code(), Some(0), "{}", text(&res.stderr));
    for chart in ["supply", "market"] {
        let svg = std::fs::read_to_string(plain.join(format!("charts/{chart}.svg"))).unwrap();
        assert!(
            !svg.contains("observed (record)"),
            "{chart}: a record drawn without one"
        );
    }
}

#[test]
fn the_baseline_keeps_its_required_observations_inside() {
    // The four rows of scenarios/observed/2023.csv marked required (H100+H200 units of
    // 2023Q2, A100 units of 2023, the H100 lead times of 2023Q3 and November 2023) are
    // inside their ranges: `capsim check` would fail the baseline otherwise.
    let tmp = tempfile::tempdir().unwrap();
    let baseline = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline.yaml");
    let res = capsim()
        .arg("backtest")
        .arg(&baseline)
        .arg("--out")
        .arg(tmp.path().join("out"))
        .args(["--json", "--no-charts"])
        .output()
        .unwrap();
    assert_eq!(res.status.code(), Some(0), "{}", text(&res.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&res.stdout).unwrap();
    let rows = doc["observations"].as_array().unwrap();
    let required: Vec<_> = rows.iter().filter(|r| r["required"] == true).collect();
    assert_eq!(required.len(), 4, "{rows:?}");
    assert!(required.iter().all(|r| r["inside"] == true), "{required:?}");
}
