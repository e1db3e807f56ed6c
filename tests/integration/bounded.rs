//! Bounded reads (issue 13, items 7 and 8): no input file makes capsim hang, allocate without
//! bound, write megabytes of diagnostics, or show the content of a file that is not a
//! scenario.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::capsim;

/// Runs `cmd`, killing it after `secs` seconds; panics if it had to be killed.
fn run_within(mut cmd: Command, secs: u64) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("capsim starts");
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("capsim did not finish within {secs} s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn validate(file: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut cmd = capsim();
    cmd.arg("validate").arg(file).args(extra);
    let out = run_within(cmd, 20);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success());
}

#[test]
fn a_fifo_as_the_scenario_or_as_an_extends_target_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.yaml");
    mkfifo(&fifo);
    let (code, _, err) = validate(&fifo, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("named pipe (FIFO), not a regular file"),
        "{err}"
    );

    let child = dir.path().join("child.yaml");
    std::fs::write(&child, "extends: pipe.yaml\nname: x\n").unwrap();
    let (code, _, err) = validate(&child, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("named pipe (FIFO)"), "{err}");
    assert!(err.contains("child.yaml:1:10"), "{err}");
}

#[test]
fn a_device_is_refused_without_reading_it() {
    let (code, _, err) = validate(Path::new("/dev/zero"), &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("a device, not a regular file"), "{err}");
}

#[test]
fn a_scenario_larger_than_the_limit_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.yaml");
    // Sparse: 1 GiB long, no disk used; capsim must refuse it from its size alone.
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(1 << 30).unwrap();
    drop(f);
    let (code, _, err) = validate(&big, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("more than the 4 MiB accepted"), "{err}");
    assert!(err.len() < 2_000, "{} bytes on stderr", err.len());
}

#[test]
fn a_very_long_line_is_shown_cut_around_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("long.yaml");
    // One line of 1 MB with an error (an unclosed flow mapping) at its end.
    let text = format!("name: x\ndescription: {{a: {}\n", "b".repeat(1 << 20));
    std::fs::write(&file, text).unwrap();
    let (code, out, err) = validate(&file, &[]);
    assert_eq!(code, 2, "{out}");
    assert!(err.len() < 4_000, "{} bytes on stderr", err.len());
    assert!(
        err.contains("the part around column") && err.contains("..."),
        "{err}"
    );
}

#[test]
fn invalid_utf8_is_located_by_byte_offset_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("latin1.yaml");
    std::fs::write(&file, b"name: x\ndescription: caf\xe9\n").unwrap();
    let (code, _, err) = validate(&file, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("byte 0xe9 at byte offset 24 (line 2, column 17)"),
        "{err}"
    );
}

#[test]
fn extends_never_echoes_a_file_that_is_not_a_scenario_even_in_json() {
    let dir = tempfile::tempdir().unwrap();
    // A symbolic link with a scenario's extension to a file that is not a scenario.
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "root:$6$SECRET-HASH:19000:0:99999:7:::\n  - [\n").unwrap();
    let link = dir.path().join("base.yaml");
    std::os::unix::fs::symlink(&secret, &link).unwrap();
    let child = dir.path().join("child.yaml");
    std::fs::write(&child, "extends: base.yaml\nname: x\n").unwrap();
    for extra in [&[][..], &["--json"][..]] {
        let (code, out, err) = validate(&child, extra);
        assert_eq!(code, 2, "{out}{err}");
        assert!(
            !out.contains("SECRET") && !err.contains("SECRET"),
            "{out}{err}"
        );
        assert!(err.contains("is not a capsim scenario"), "{err}");
    }
}

#[test]
fn chart_refuses_a_non_finite_value_instead_of_drawing_it_as_zero() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let res = capsim()
        .args([
            "run",
            "--no-charts",
            "-q",
            "--set",
            "end=2023-06-30",
            "--out",
        ])
        .arg(&out)
        .output()
        .expect("runs");
    assert_eq!(res.status.code(), Some(0), "{res:?}");
    let series = out.join("timeseries.csv");
    let csv = std::fs::read_to_string(&series).unwrap();
    let mut lines: Vec<String> = csv.lines().map(str::to_string).collect();
    let mut cells: Vec<String> = lines[10].split(',').map(str::to_string).collect();
    cells[1] = "NaN".into();
    lines[10] = cells.join(",");
    std::fs::write(&series, lines.join("\n") + "\n").unwrap();
    let err = crate::common::chart_refused(&out);
    assert!(err.contains("`NaN` is not a finite number"), "{err}");
}

#[test]
fn the_largest_seed_is_accepted_exactly() {
    use capsim::scenario::{Source, load};
    // Through `f64` it rounded to 2^64 and was refused as out of range.
    let loaded = load(Source::BuiltIn, &["seed=18446744073709551615".to_string()])
        .unwrap_or_else(|e| panic!("{}", e.render()));
    assert_eq!(loaded.raw.seed, Some(u64::MAX));
    let err = load(Source::BuiltIn, &["seed=18446744073709551616".to_string()]).unwrap_err();
    assert!(
        err.render().contains("18446744073709551615"),
        "{}",
        err.render()
    );
}

#[test]
fn a_list_of_more_than_a_thousand_items_is_refused_at_load() {
    use capsim::scenario::{Source, load};
    let base = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad/95-set-extends.yaml"),
    )
    .unwrap();
    let vendors: String = (0..1001).map(|i| format!("  - name: V{i}\n")).collect();
    let text = base.replace(
        "vendors:\n  - name: Nvidia\n",
        &format!("vendors:\n  - name: Nvidia\n{vendors}"),
    );
    assert_ne!(text, base);
    let err = load(
        Source::Text {
            name: "many.yaml",
            text: &text,
        },
        &[],
    )
    .unwrap_err();
    assert!(
        err.render()
            .contains("`vendors` has 1002 items, more than the 1000 accepted"),
        "{}",
        err.render()
    );
}
