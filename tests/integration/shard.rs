//! Shards and `capsim merge`: the merged folder is byte for byte the folder one process
//! writes, for 1, 2 and 7 shards (and explicit ranges) at boundaries that are multiples of
//! no batch size (64 replications, 128 exact band values, 256 sweep points); a merge of
//! shards that do not belong together is refused, naming the shard.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::common::capsim;

/// A short horizon so that debug builds run hundreds of replications quickly.
const SETS: [&str; 3] = [
    "--set=end=2023-06",
    "--set=products.H100.annual_failure_rate=0.9",
    "--set=segments.paid.pause.pause_above=1.02",
];

fn ok(args: &[&str], cwd: &Path) {
    let out = capsim().args(args).current_dir(cwd).output().expect("runs");
    assert!(
        out.status.success(),
        "capsim {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn refused(args: &[&str], cwd: &Path) -> String {
    let out = capsim().args(args).current_dir(cwd).output().expect("runs");
    assert_eq!(out.status.code(), Some(2), "capsim {}", args.join(" "));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every file under `dir` (charts too, and the marker), by relative path.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, at: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in std::fs::read_dir(at).expect("readable") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).expect("under root").to_path_buf();
                out.insert(rel, std::fs::read(&p).expect("readable"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn assert_same(a: &Path, b: &Path) {
    let (ta, tb) = (tree(a), tree(b));
    assert_eq!(
        ta.keys().collect::<Vec<_>>(),
        tb.keys().collect::<Vec<_>>(),
        "the same files"
    );
    for (name, bytes) in &ta {
        assert!(
            bytes == &tb[name],
            "{} differs between {} and {}",
            name.display(),
            a.display(),
            b.display()
        );
    }
}

/// Runs `base` (a command line without --shard/--out) as shards `specs` and merges them
/// into `out`; returns the shard folders.
fn shard_and_merge(cwd: &Path, base: &[&str], specs: &[&str], out: &str) -> Vec<String> {
    let mut dirs = Vec::new();
    for (k, spec) in specs.iter().enumerate() {
        let dir = format!("{out}.shard{k}");
        let mut args = base.to_vec();
        args.extend(["--shard", spec, "--out", &dir, "--quiet"]);
        ok(&args, cwd);
        dirs.push(dir);
    }
    // Given in reverse: merge orders the shards itself.
    let mut args = vec!["merge"];
    args.extend(dirs.iter().rev().map(String::as_str));
    args.extend(["--out", out, "--quiet"]);
    ok(&args, cwd);
    dirs
}

#[test]
fn merged_replications_are_byte_identical_to_one_process() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let cwd = tmp.path();
    let mut base = vec!["run", "--reps", "200", "--seed", "11"];
    base.extend(SETS);
    // With charts: fan charts, histograms and report.md are compared too.
    let mut single = base.clone();
    single.extend(["--out", "single", "--quiet"]);
    ok(&single, cwd);
    let sevenths: Vec<String> = (0..7).map(|k| format!("{k}/7")).collect();
    let sevenths: Vec<&str> = sevenths.iter().map(String::as_str).collect();
    for (name, specs) in [
        ("one", vec!["0/1"]),
        ("two", vec!["0/2", "1/2"]),
        ("seven", sevenths),
        // Explicit ranges, one of a single replication, one without replication 0.
        ("ranges", vec!["0..65", "65..66", "66..130", "130..200"]),
    ] {
        shard_and_merge(cwd, &base, &specs, name);
        assert_same(&cwd.join("single"), &cwd.join(name));
    }
    // At another confidence level, recorded by the shards and used by the merge.
    let mut base90 = vec!["run", "--reps", "40", "--seed", "11", "--confidence", "0.9"];
    base90.extend(SETS);
    base90.push("--no-charts");
    let mut single = base90.clone();
    single.extend(["--out", "single90", "--quiet"]);
    ok(&single, cwd);
    shard_and_merge(cwd, &base90, &["0/2", "1/2"], "two90");
    assert_same(&cwd.join("single90"), &cwd.join("two90"));
    let summary = std::fs::read_to_string(cwd.join("two90/summary.json")).expect("summary");
    assert!(summary.contains("\"ci90_low\"") && !summary.contains("ci95"));
    // 7 shards of 200 end at 28, 57, 85, 114, 142, 171: none a multiple of 64 or 128.
    let doc = std::fs::read_to_string(cwd.join("seven.shard2/shard.json")).expect("shard.json");
    assert!(
        doc.contains("\"first\": 57") && doc.contains("\"end\": 85"),
        "{doc}"
    );
}

#[test]
fn merged_sweeps_and_sensitivities_are_byte_identical_to_one_process() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let cwd = tmp.path();
    // 43 x 7 = 301 points: more than one chunk of 256; 7 shards end at 43, 86, 129, 172,
    // 215, 258.
    let mut base = vec![
        "sweep",
        "--vary",
        "products.H100.power_w=600..800:43",
        "--vary",
        "segments.paid.pause.pause_above=1.0..1.3:7",
        "--metric",
        "shortage_days",
        "--set",
        "end=2023-03",
    ];
    let mut single = base.clone();
    single.extend(["--out", "sweep", "--quiet"]);
    ok(&single, cwd);
    let sevenths: Vec<String> = (0..7).map(|k| format!("{k}/7")).collect();
    let sevenths: Vec<&str> = sevenths.iter().map(String::as_str).collect();
    for (name, specs) in [
        ("sweep1", vec!["0/1"]),
        ("sweep2", vec!["0/2", "1/2"]),
        ("sweep7", sevenths.clone()),
    ] {
        shard_and_merge(cwd, &base, &specs, name);
        assert_same(&cwd.join("sweep"), &cwd.join(name));
    }
    // Replications per point, without charts, intervals at 90% (`.ci90_low` columns).
    base.extend(["--reps", "3", "--no-charts", "--confidence", "0.9"]);
    let mut single = base.clone();
    single.extend(["--out", "sweep-reps", "--quiet"]);
    ok(&single, cwd);
    shard_and_merge(cwd, &base, &["0..100", "100..301"], "sweep-reps-merged");
    assert_same(&cwd.join("sweep-reps"), &cwd.join("sweep-reps-merged"));
    let csv = std::fs::read_to_string(cwd.join("sweep-reps/sweep.csv")).expect("sweep.csv");
    let header = csv.lines().next().unwrap_or_default();
    assert!(
        header.contains("shortage_days.ci90_low") && !header.contains("ci95"),
        "{header}"
    );

    let sens = [
        "sensitivity",
        "--metric",
        "fleet_end_h100e",
        "--set",
        "end=2023-03",
    ];
    let mut single = sens.to_vec();
    single.extend(["--out", "sens", "--quiet"]);
    ok(&single, cwd);
    for (name, specs) in [
        ("sens1", vec!["0/1"]),
        ("sens2", vec!["0/2", "1/2"]),
        ("sens7", sevenths),
    ] {
        shard_and_merge(cwd, &sens, &specs, name);
        assert_same(&cwd.join("sens"), &cwd.join(name));
    }
}

#[test]
fn merges_of_shards_that_do_not_belong_together_are_refused_naming_the_shard() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let cwd = tmp.path();
    let mut base = vec!["run", "--reps", "30"];
    base.extend(SETS);
    let dirs = shard_and_merge(cwd, &base, &["0/3", "1/3", "2/3"], "whole");
    let merge = |dirs: &[&str]| {
        let mut a = vec!["merge"];
        a.extend(dirs);
        a.extend(["--out", "bad"]);
        refused(&a, cwd)
    };
    let d: Vec<&str> = dirs.iter().map(String::as_str).collect();
    // Missing.
    let e = merge(&[d[0], d[2]]);
    assert!(
        e.contains("10..20") && e.contains("shard 1/3 is missing"),
        "{e}"
    );
    let e = merge(&[d[0], d[1]]);
    assert!(
        e.contains("20..30") && e.contains("shard 2/3 is missing"),
        "{e}"
    );
    // Duplicated.
    let e = merge(&[d[0], d[1], d[1], d[2]]);
    assert!(e.contains(d[1]) && e.contains("given twice"), "{e}");
    // Another seed; another scenario (other overrides).
    let mut other = base.clone();
    other.extend(["--seed", "99", "--shard", "1/3", "--out", "seed99", "-q"]);
    ok(&other, cwd);
    let e = merge(&[d[0], "seed99", d[2]]);
    assert!(e.contains("shard seed99") && e.contains("seed 99"), "{e}");
    let mut other = base.clone();
    other.extend([
        "--set",
        "end=2023-05",
        "--shard",
        "1/3",
        "--out",
        "short",
        "-q",
    ]);
    ok(&other, cwd);
    let e = merge(&[d[0], "short", d[2]]);
    assert!(e.contains("shard short") && e.contains("sha256"), "{e}");
    // A shard's state cut short (a disk filled up, a copy interrupted).
    let state = cwd.join(d[1]).join("bands.state");
    let bytes = std::fs::read(&state).expect("bands.state");
    std::fs::write(&state, &bytes[..bytes.len() / 2]).expect("writable");
    let e = merge(&[d[0], d[1], d[2]]);
    assert!(e.contains(d[1]) && e.contains("bands.state"), "{e}");
    // Another capsim version.
    let p = cwd.join(d[2]).join("shard.json");
    let text = std::fs::read_to_string(&p).expect("shard.json");
    let v = env!("CARGO_PKG_VERSION");
    std::fs::write(&p, text.replace(&format!("\"{v}\""), "\"0.0.1-other\"")).expect("writable");
    let e = merge(&[d[0], d[1], d[2]]);
    assert!(e.contains(d[2]) && e.contains("capsim 0.0.1-other"), "{e}");
    // A scenario file changed since the shards ran.
    let file = cwd.join("my.yaml");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/default.yaml"),
        &file,
    )
    .expect("copied");
    let mut a = vec!["run", "my.yaml", "--reps", "10"];
    a.extend(SETS);
    for k in 0..2 {
        let spec = format!("{k}/2");
        let out = format!("file{k}");
        let mut b = a.clone();
        b.extend(["--shard", &spec, "--out", &out, "-q"]);
        ok(&b, cwd);
    }
    ok(
        &["merge", "file0", "file1", "--out", "file-merged", "-q"],
        cwd,
    );
    let mut text = std::fs::read_to_string(&file).expect("readable");
    text.push_str("\n# edited after the shards ran\n");
    std::fs::write(&file, text).expect("writable");
    let e = merge(&["file0", "file1"]);
    assert!(
        e.contains("shard file0") && e.contains("reads differently"),
        "{e}"
    );
    // Not a shard folder.
    let e = merge(&["whole"]);
    assert!(e.contains("not a shard folder"), "{e}");
    // Nothing was written.
    assert!(!cwd.join("bad").exists());
    // --shard with --until-ci, or beyond the work, is refused.
    let mut a = base.clone();
    a.extend(["--shard", "3/3"]);
    assert!(refused(&a, cwd).contains("numbered 0 to 2"));
    let mut a = base.clone();
    a.extend(["--shard", "0..31"]);
    assert!(refused(&a, cwd).contains("only 30 replications"));
}

#[test]
fn auto_takes_the_shard_number_from_the_batch_system() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let cwd = tmp.path();
    let mut base = vec!["run", "--reps", "20"];
    base.extend(SETS);
    base.extend(["--shard", "auto/4", "--out", "k", "--quiet"]);
    let run = |var: &str, val: &str| {
        let mut c = capsim();
        for v in capsim::shard::INDEX_VARS {
            c.env_remove(v);
        }
        c.env(var, val)
            .args(&base)
            .current_dir(cwd)
            .output()
            .expect("runs")
    };
    for (var, k) in [
        ("SLURM_ARRAY_TASK_ID", 1),
        ("JOB_COMPLETION_INDEX", 2),
        ("AWS_BATCH_JOB_ARRAY_INDEX", 3),
    ] {
        let out = run(var, &k.to_string());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc = std::fs::read_to_string(cwd.join("k/shard.json")).expect("shard.json");
        assert!(doc.contains(&format!("\"index\": {k}")), "{var}: {doc}");
        assert!(
            doc.contains(&format!("\"first\": {}", k * 5)),
            "{var}: {doc}"
        );
    }
    let out = run("SLURM_ARRAY_TASK_ID", "4");
    assert_eq!(out.status.code(), Some(2));
    let mut c = capsim();
    for v in capsim::shard::INDEX_VARS {
        c.env_remove(v);
    }
    let out = c.args(&base).current_dir(cwd).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SLURM_ARRAY_TASK_ID"));
}

/// The scripts of `capsim slurm`, run by bash as Slurm would run them (each array task with
/// its SLURM_ARRAY_TASK_ID, then the merge), give the outputs of one process; the #SBATCH
/// lines say what was asked. `.ci/slurm-test.sh` runs them on a real Slurm.
#[test]
fn slurm_scripts_run_by_hand_give_the_single_process_outputs() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let cwd = tmp.path();
    let mut single = vec!["run", "--reps", "40", "--no-charts", "--tidy"];
    single.extend(SETS);
    single.extend(["--out", "single", "--quiet"]);
    ok(&single, cwd);
    let mut args = vec!["slurm", "run", "--reps", "40", "--no-charts", "--tidy"];
    args.extend(SETS);
    args.extend([
        "--shards",
        "3",
        "--partition",
        "short",
        "--time",
        "00:10:00",
        "--dir",
        "jobs",
        "--out",
        "merged",
    ]);
    let out = capsim()
        .args(&args)
        .current_dir(cwd)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("submit.sh"), "{said}");
    let read = |f: &str| std::fs::read_to_string(cwd.join("jobs").join(f)).expect(f);
    let shards = read("shards.sbatch");
    for line in [
        "#SBATCH --array=0-2",
        "#SBATCH --partition=short",
        "#SBATCH --time=00:10:00",
        "--shard \"$SLURM_ARRAY_TASK_ID/3\"",
        " --tidy ",
    ] {
        assert!(shards.contains(line), "{line} in\n{shards}");
    }
    assert!(read("submit.sh").contains("--dependency=afterok:\"$shards\""));
    assert!(read("merge.sbatch").contains("merge \"$dir\"/shards/* --out merged"));
    let bash = |script: &str, task: Option<u32>| {
        let mut c = std::process::Command::new("bash");
        c.arg(cwd.join("jobs").join(script)).current_dir("/");
        if let Some(k) = task {
            c.env("SLURM_ARRAY_TASK_ID", k.to_string());
        }
        let out = c.output().expect("bash runs");
        assert!(
            out.status.success(),
            "{script} {task:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    for k in 0..3 {
        bash("shards.sbatch", Some(k));
    }
    bash("merge.sbatch", None);
    // `--tidy` reached the shards, which recorded it for the merge.
    for k in 0..3 {
        let doc = std::fs::read_to_string(cwd.join(format!("jobs/shards/{k}/shard.json")))
            .expect("shard.json");
        assert!(doc.contains("\"tidy\": true"), "{doc}");
    }
    for f in ["timeseries_long.csv", "units.csv"] {
        assert!(cwd.join("merged").join(f).is_file(), "merged/{f}");
    }
    assert_same(&cwd.join("single"), &cwd.join("merged"));
    // More shards than replications is refused before anything is written.
    let mut args = vec!["slurm", "run", "--reps", "2", "--shards", "3"];
    args.extend(SETS);
    assert!(refused(&args, cwd).contains("at most 2"));
}
