//! The output rule: capsim replaces only folders it wrote (or empty ones), atomically, keeping
//! what it did not write and the modes. Every folder pointed at here is made by the test, in
//! a temporary folder.

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::process::Output;

use super::common::capsim;
use capsim::report::OUTPUT_FILES;

const MARKER: &str = ".capsim-output";

/// `capsim run --no-charts --out DIR` (the built-in scenario), with `extra` flags.
fn run_out(dir: &Path, extra: &[&str]) -> Output {
    capsim()
        .args(["run", "-q", "--no-charts", "--out"])
        .arg(dir)
        .args(extra)
        .output()
        .expect("capsim runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_ok(o: &Output) {
    assert!(o.status.success(), "{}", stderr(o));
}

/// Asserts a refusal: exit 2, the path named, and no claim that anything was written.
fn assert_refused(o: &Output, path: &Path, says: &str) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert!(err.contains(says), "{err}");
    assert!(!err.contains("are unchanged"), "{err}");
    err
}

/// Names in `dir`, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p)
        .expect("meta")
        .permissions()
        .mode()
        & 0o7777
}

fn chmod(p: &Path, m: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).expect("chmod");
}

/// Every data file of a run and the marker are in `dir`.
fn assert_complete(dir: &Path) {
    for f in OUTPUT_FILES.iter().chain(&[MARKER]) {
        assert!(dir.join(f).is_file(), "{f} missing in {}", dir.display());
    }
    let marker = std::fs::read_to_string(dir.join(MARKER)).expect("marker");
    assert!(marker.starts_with("capsim output folder\n"), "{marker}");
    for f in OUTPUT_FILES {
        assert!(marker.lines().any(|l| l == f), "{f} not listed: {marker}");
    }
}

/// No `.NAME.tmp-*` or `.NAME.old-*` left next to `dir`.
fn assert_no_siblings(dir: &Path) {
    let parent = dir.parent().expect("parent");
    let left: Vec<String> = entries(parent)
        .into_iter()
        .filter(|n| n.contains(".tmp-") || n.contains(".old-"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn a_folder_holding_a_users_file_is_refused_and_left_untouched() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let notes = tmp.path().join("notes");
    std::fs::create_dir(&notes).expect("mkdir");
    std::fs::write(notes.join("thesis.docx"), "four years").expect("write");
    let o = run_out(&notes, &[]);
    let err = assert_refused(&o, &notes, "thesis.docx");
    assert!(
        err.contains("not written by capsim") && err.contains("--out"),
        "{err}"
    );
    assert_eq!(entries(&notes), ["thesis.docx"]);
    assert_eq!(
        std::fs::read_to_string(notes.join("thesis.docx")).expect("kept"),
        "four years"
    );
    assert_eq!(entries(tmp.path()), ["notes"]);
}

#[test]
fn an_empty_folder_is_written() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("empty");
    std::fs::create_dir(&out).expect("mkdir");
    assert_ok(&run_out(&out, &[]));
    assert_complete(&out);
    assert_no_siblings(&out);
}

#[test]
fn a_marked_folder_is_replaced_keeping_what_capsim_did_not_write() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("o");
    // First with charts, then without: the old charts go, the user's things stay.
    let first = capsim()
        .args(["run", "-q", "--set", "end=2023-06-30", "--out"])
        .arg(&out)
        .output()
        .expect("runs");
    assert_ok(&first);
    assert!(out.join("charts/money.png").is_file());
    std::fs::write(out.join("note.txt"), "mine").expect("write");
    std::fs::create_dir(out.join("charts/custom")).expect("mkdir");
    std::fs::write(out.join("charts/custom/plot.png"), "png").expect("write");
    std::fs::create_dir(out.join("drafts")).expect("mkdir");
    std::fs::write(out.join("drafts/a.md"), "draft").expect("write");
    assert_ok(&run_out(&out, &[]));
    assert_complete(&out);
    assert_eq!(
        std::fs::read_to_string(out.join("note.txt")).expect("note"),
        "mine"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("drafts/a.md")).expect("draft"),
        "draft"
    );
    assert!(out.join("charts/custom/plot.png").is_file());
    // What capsim wrote before and not now is gone.
    assert!(!out.join("charts/money.png").exists() && !out.join("report.md").exists());
    assert_eq!(entries(&out.join("charts")), ["custom"]);
    // The user's files are not claimed by the new marker.
    let marker = std::fs::read_to_string(out.join(MARKER)).expect("marker");
    assert!(
        !marker.contains("note.txt") && !marker.contains("custom"),
        "{marker}"
    );
    assert_no_siblings(&out);
}

/// A folder the user made that the next outputs also have (`charts/` made by hand in a
/// folder written without charts) is merged into the new one: nothing is left beside the
/// output folder, and nothing is said of files left behind.
#[test]
fn a_users_folder_of_the_name_of_a_new_output_folder_is_merged_leaving_nothing_behind() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("o");
    assert_ok(&run_out(&out, &["--set", "end=2023-06-30"]));
    std::fs::create_dir(out.join("charts")).expect("mkdir");
    std::fs::write(out.join("charts/mine.png"), "png").expect("write");
    for args in [
        &["chart"][..],
        &["run", "-q", "--set", "end=2023-06-30", "--out"][..],
    ] {
        let o = capsim().args(args).arg(&out).output().expect("runs");
        assert_ok(&o);
        assert!(
            !stderr(&o).contains("capsim did not write"),
            "{}",
            stderr(&o)
        );
        assert!(out.join("charts/money.png").is_file());
        assert_eq!(
            std::fs::read_to_string(out.join("charts/mine.png")).expect("kept"),
            "png"
        );
        assert_eq!(entries(tmp.path()), ["o"]);
        // The next round starts again from a folder without charts and the user's own.
        assert_ok(&run_out(&out, &["--set", "end=2023-06-30"]));
        assert_eq!(entries(&out.join("charts")), ["mine.png"]);
        assert_eq!(entries(tmp.path()), ["o"]);
    }
}

#[test]
fn listed_files_are_never_deleted_through_a_link() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("o");
    let first = capsim()
        .args(["run", "-q", "--set", "end=2023-06-30", "--out"])
        .arg(&out)
        .output()
        .expect("runs");
    assert_ok(&first);
    // The user swaps charts/ for a link to a folder of theirs holding a file of that name.
    let theirs = tmp.path().join("theirs");
    std::fs::create_dir(&theirs).expect("mkdir");
    std::fs::write(theirs.join("money.png"), "their png").expect("write");
    for e in std::fs::read_dir(out.join("charts")).expect("charts") {
        std::fs::remove_file(e.expect("entry").path()).expect("rm");
    }
    std::fs::remove_dir(out.join("charts")).expect("rmdir");
    std::os::unix::fs::symlink(&theirs, out.join("charts")).expect("symlink");
    // The new outputs have charts/ too, so the link clashes and stays with the old files.
    let again = capsim()
        .args(["run", "-q", "--set", "end=2023-06-30", "--out"])
        .arg(&out)
        .output()
        .expect("runs");
    assert_ok(&again);
    assert_eq!(
        std::fs::read_to_string(theirs.join("money.png")).expect("kept"),
        "their png"
    );
    assert!(out.join("charts/money.png").is_file());
    // The link is reported where it was left.
    assert!(stderr(&again).contains("charts"), "{}", stderr(&again));
}

#[test]
fn a_file_a_symlink_and_a_fifo_are_refused_and_left_untouched() {
    let tmp = tempfile::tempdir().expect("temp dir");
    // A regular file.
    let file = tmp.path().join("results.txt");
    std::fs::write(&file, "precious").expect("write");
    assert_refused(&run_out(&file, &[]), &file, "is a file");
    assert_eq!(std::fs::read_to_string(&file).expect("kept"), "precious");

    // A symlink to a folder capsim wrote: still refused, never followed.
    let real = tmp.path().join("real");
    assert_ok(&run_out(&real, &[]));
    std::fs::write(real.join("note.txt"), "mine").expect("write");
    let before = entries(&real);
    let link = tmp.path().join("link");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    assert_refused(&run_out(&link, &[]), &link, "symbolic link");
    assert!(
        std::fs::symlink_metadata(&link)
            .expect("link")
            .file_type()
            .is_symlink()
    );
    assert_eq!(entries(&real), before);

    // A named pipe.
    let fifo = tmp.path().join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    assert_refused(&run_out(&fifo, &[]), &fifo, "named pipe");
    assert!(
        std::fs::symlink_metadata(&fifo)
            .expect("fifo")
            .file_type()
            .is_fifo()
    );
    let mut names = entries(tmp.path());
    names.retain(|n| n.starts_with('.'));
    assert!(names.is_empty(), "left behind: {names:?}");
}

#[test]
fn the_current_folder_and_its_ancestors_are_refused_even_if_marked() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let top = tmp.path().join("top");
    assert_ok(&run_out(&top, &[]));
    let o = capsim()
        .current_dir(&top)
        .args(["run", "-q", "--no-charts", "--out", "."])
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("current folder"), "{}", stderr(&o));
    // An ancestor of the current folder, named by its absolute path.
    let inner = top.join("inner");
    std::fs::create_dir(&inner).expect("mkdir");
    let o = capsim()
        .current_dir(&inner)
        .args(["run", "-q", "--no-charts", "--out"])
        .arg(&top)
        .output()
        .expect("runs");
    assert_refused(&o, &top, "holds the current folder");
    let o = capsim()
        .current_dir(&inner)
        .args(["run", "-q", "--no-charts", "--out", ".."])
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(inner.is_dir());
    assert_complete(&top);
}

#[test]
fn a_read_only_marked_folder_is_refused() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("o");
    assert_ok(&run_out(&out, &[]));
    let before = std::fs::read(out.join("summary.json")).expect("summary");
    chmod(&out, 0o555);
    let o = run_out(&out, &["--seed", "99"]);
    chmod(&out, 0o755);
    assert_refused(&o, &out, "read-only");
    assert_eq!(
        std::fs::read(out.join("summary.json")).expect("kept"),
        before
    );
    assert_no_siblings(&out);
}

#[test]
fn stale_temporary_folders_are_cleaned_keeping_unlisted_files() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("o");
    // Left by killed runs (PID 1 in a container, say).
    let stale = tmp.path().join(".o.tmp-1-0");
    std::fs::create_dir_all(stale.join("charts")).expect("mkdir");
    std::fs::write(
        stale.join(MARKER),
        "capsim output folder\n# killed\nsummary.json\ncharts/a.png\n",
    )
    .expect("write");
    std::fs::write(stale.join("summary.json"), "{}").expect("write");
    std::fs::write(stale.join("charts/a.png"), "png").expect("write");
    let kept = tmp.path().join(".o.old-1-0");
    std::fs::create_dir(&kept).expect("mkdir");
    std::fs::write(kept.join(MARKER), "capsim output folder\nsummary.json\n").expect("write");
    std::fs::write(kept.join("summary.json"), "{}").expect("write");
    std::fs::write(kept.join("user.txt"), "mine").expect("write");
    let o = run_out(&out, &[]);
    assert_ok(&o);
    assert_complete(&out);
    assert!(!stale.exists(), "stale temp folder not cleaned");
    // Only what the marker lists was deleted: the user's file is still there (with no output
    // folder of capsim's to move it to, where it was).
    assert_eq!(entries(&kept), ["user.txt"]);
    assert!(stderr(&o).contains(".o.old-1-0"), "{}", stderr(&o));
    // Once there is one, the next run moves it in: a run killed after its swap, before moving
    // the user's files, loses none of them.
    assert_ok(&run_out(&out, &[]));
    assert!(!kept.exists(), "{:?}", entries(tmp.path()));
    assert_eq!(
        std::fs::read_to_string(out.join("user.txt")).expect("moved in"),
        "mine"
    );
    assert_no_siblings(&out);
}

#[test]
fn concurrent_writers_leave_one_complete_folder() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("o");
    let children: Vec<_> = (0..8)
        .map(|i| {
            capsim()
                .args([
                    "run",
                    "-q",
                    "--no-charts",
                    "--seed",
                    &i.to_string(),
                    "--out",
                ])
                .arg(&out)
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawns")
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().expect("waits");
        assert_ok(&o);
    }
    assert_complete(&out);
    assert_no_siblings(&out);
    let mut names = entries(&out);
    names.retain(|n| n != MARKER);
    let mut want: Vec<String> = OUTPUT_FILES.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(names, want);
}

#[test]
fn at_every_moment_old_or_new_outputs_exist_even_when_killed() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("o");
    assert_ok(&run_out(&out, &[]));
    // A writer replaces the folder over and over while the folder is watched.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (out, done) = (out.clone(), done.clone());
        std::thread::spawn(move || {
            let mut looks = 0u64;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                assert!(
                    out.join("summary.json").is_file(),
                    "a moment without outputs"
                );
                looks += 1;
            }
            looks
        })
    };
    for seed in 0..4 {
        assert_ok(&run_out(&out, &["--seed", &seed.to_string()]));
    }
    // Runs killed (SIGKILL) at various moments: the folder stays complete, and the next run
    // cleans what they left.
    for delay_ms in [0u64, 5, 10, 20, 40, 80] {
        let mut child = capsim()
            .args(["run", "-q", "--out"])
            .arg(&out)
            .spawn()
            .expect("spawns");
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        assert_complete(&out);
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(watcher.join().expect("watcher") > 0);
    assert_ok(&run_out(&out, &[]));
    assert_complete(&out);
    assert_no_siblings(&out);
}

#[test]
fn an_error_before_the_swap_says_the_folder_is_unchanged_and_a_refusal_does_not() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let file = tmp.path().join("file");
    std::fs::write(&file, "x").expect("write");
    // The parent is a file: nothing can be written, exit 3.
    let out = file.join("o");
    let o = run_out(&out, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("left as it was"), "{}", stderr(&o));
}

/// A folder with two scenario files (the default, shortened): `a.yaml` named `a`, and
/// `b.yaml` named `b_name`.
fn scenario_folder(b_name: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("temp dir");
    let text = std::fs::read_to_string("scenarios/default.yaml").expect("default scenario");
    let text = text.replacen("end: 2025-12-31", "end: 2023-06-30", 1);
    let text = match text.find("\nexpect:") {
        Some(i) => text[..i].to_string() + "\n",
        None => text,
    };
    assert!(text.contains("\nname: default\n"));
    for (file, name) in [("a.yaml", "a"), ("b.yaml", b_name)] {
        let t = text.replacen("\nname: default\n", &format!("\nname: {name}\n"), 1);
        std::fs::write(tmp.path().join(file), t).expect("write");
    }
    tmp
}

#[test]
fn bless_refuses_a_golden_folder_capsim_did_not_write() {
    let dir = scenario_folder("b");
    let golden = dir.path().join("gold");
    std::fs::create_dir_all(golden.join("a")).expect("mkdir");
    std::fs::write(golden.join("a/keep.txt"), "mine").expect("write");
    let o = capsim()
        .arg("check")
        .arg(dir.path().join("a.yaml"))
        .arg("--golden")
        .arg(&golden)
        .arg("--bless")
        .output()
        .expect("runs");
    assert_refused(&o, &golden.join("a"), "keep.txt");
    assert!(stderr(&o).contains("--golden"), "{}", stderr(&o));
    assert_eq!(entries(&golden.join("a")), ["keep.txt"]);
    // An empty or capsim-written golden folder is fine.
    std::fs::remove_file(golden.join("a/keep.txt")).expect("rm");
    let o = capsim()
        .arg("check")
        .arg(dir.path().join("a.yaml"))
        .arg("--golden")
        .arg(&golden)
        .arg("--bless")
        .output()
        .expect("runs");
    assert_ne!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(golden.join("a/summary.json").is_file() && golden.join("a").join(MARKER).is_file());
}

#[test]
fn two_scenarios_of_one_name_in_one_check_are_refused() {
    let dir = scenario_folder("a");
    let o = capsim()
        .arg("check")
        .arg(dir.path())
        .arg("--bless")
        .output()
        .expect("runs");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("a.yaml") && err.contains("b.yaml"), "{err}");
    assert!(!dir.path().join("golden").exists(), "something was blessed");
}

#[test]
fn chart_keeps_what_it_did_not_write_and_the_modes() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("o");
    let first = capsim()
        .args(["run", "-q", "--set", "end=2023-06-30", "--out"])
        .arg(&out)
        .output()
        .expect("runs");
    assert_ok(&first);
    let png = std::fs::read(out.join("charts/money.png")).expect("png");
    std::fs::create_dir(out.join("mine")).expect("mkdir");
    std::fs::write(out.join("mine/notes.md"), "notes").expect("write");
    std::fs::write(out.join("custom.txt"), "custom").expect("write");
    std::fs::write(out.join("charts/extra.svg"), "<svg/>").expect("write");
    // A user's file named like a Monte Carlo output: not listed, so neither read nor touched.
    std::fs::write(out.join("bands.csv"), "not,a\nbands,file\n").expect("write");
    chmod(&out.join("summary.json"), 0o600);
    chmod(&out.join("charts"), 0o700);
    chmod(&out.join("mine"), 0o700);
    chmod(&out, 0o700);
    let o = capsim()
        .args(["chart", "-q"])
        .arg(&out)
        .output()
        .expect("runs");
    assert_ok(&o);
    assert_complete(&out);
    assert_eq!(
        std::fs::read(out.join("charts/money.png")).expect("png"),
        png
    );
    assert_eq!(
        std::fs::read_to_string(out.join("mine/notes.md")).expect("kept"),
        "notes"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("custom.txt")).expect("kept"),
        "custom"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("charts/extra.svg")).expect("kept"),
        "<svg/>"
    );
    assert!(
        out.join("bands.csv").is_file() && !out.join("charts/fan_capacity_demand.png").exists()
    );
    assert_eq!(mode(&out.join("summary.json")), 0o600);
    assert_eq!(mode(&out.join("charts")), 0o700);
    assert_eq!(mode(&out.join("mine")), 0o700);
    assert_eq!(mode(&out), 0o700);
    assert_no_siblings(&out);
}

#[test]
fn chart_refuses_a_folder_without_the_marker() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("o");
    assert_ok(&run_out(&out, &[]));
    std::fs::remove_file(out.join(MARKER)).expect("rm");
    let before = entries(&out);
    let o = capsim().arg("chart").arg(&out).output().expect("runs");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(".capsim-output") && err.contains("capsim run"),
        "{err}"
    );
    assert_eq!(entries(&out), before);
}

#[test]
fn outputs_are_byte_identical_with_the_marker_as_the_only_extra_file() {
    // The marker is hidden and extra; a rewrite gives the same bytes as a fresh write.
    let tmp = tempfile::tempdir().expect("temp dir");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    assert_ok(&run_out(&a, &[]));
    assert_ok(&run_out(&b, &["--seed", "5"]));
    assert_ok(&run_out(&b, &[]));
    for f in OUTPUT_FILES.iter().chain(&[MARKER]) {
        assert_eq!(
            std::fs::read(a.join(f)).expect("a"),
            std::fs::read(b.join(f)).expect("b"),
            "{f}"
        );
    }
}
