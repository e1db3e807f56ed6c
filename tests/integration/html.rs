//! `report.html`: one self-contained page, checked as a file and opened in a real headless
//! browser (Debian's Chromium; `.ci/install-browser.sh` installs it, and `.ci/run` sets
//! CAPSIM_REQUIRE_BROWSER=1 so that CI cannot skip it).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::capsim;

/// A run of the default scenario with charts, in a temporary folder.
fn run_default(tmp: &Path) -> PathBuf {
    let out = tmp.join("out");
    let res = capsim()
        .args(["run", "--quiet", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        res.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    out
}

#[test]
fn report_html_is_one_file_with_every_chart_inline_and_no_link_outside() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_default(tmp.path());
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    // Every chart report.md shows is inline, as SVG; no image is loaded from anywhere.
    let shown = md.matches("![").count();
    assert!(shown >= 6, "{shown}");
    assert_eq!(html.matches("<figure><svg").count(), shown);
    assert!(!html.contains("<img"), "an image to load");
    assert!(!html.contains("src="), "a resource to load");
    assert!(
        !html.contains("href=\"charts/"),
        "a link to a file beside the page"
    );
    assert!(!html.contains("<link"), "a stylesheet to load");
    // The only URL is the SVG namespace, which is a name, not a link.
    let urls = html.matches("http").count();
    assert_eq!(urls, html.matches("http://www.w3.org/2000/svg").count());
    // The tables of report.md are tables.
    assert!(
        html.contains("<table>") && html.contains("<th>"),
        "no tables"
    );
    assert!(html.starts_with("<!DOCTYPE html>"));
    // `capsim chart` redraws it, byte for byte.
    let before = std::fs::read(out.join("report.html")).unwrap();
    let res = capsim().arg("chart").arg(&out).output().unwrap();
    assert_eq!(
        res.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    assert_eq!(std::fs::read(out.join("report.html")).unwrap(), before);
}

/// The headless browser, if there is one.
fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

#[test]
fn report_html_renders_in_a_real_headless_browser() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("CAPSIM_REQUIRE_BROWSER").is_none(),
            "CAPSIM_REQUIRE_BROWSER is set but no chromium was found (.ci/install-browser.sh)"
        );
        eprintln!("skipped: no chromium (install it with .ci/install-browser.sh)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = run_default(tmp.path());
    let page = out.join("report.html");
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let profile = tmp.path().join("profile");
    let common = |cmd: &mut Command| {
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            // Offline: any request to the network fails, so a page that needed one would
            // show it.
            "--proxy-server=127.0.0.1:9",
        ])
        .arg(format!("--user-data-dir={}", profile.display()));
    };
    // The DOM the browser built: every chart is an SVG element with its text, the title is
    // the run's.
    let mut dump = Command::new(browser);
    common(&mut dump);
    let dom = dump.arg("--dump-dom").arg(&url).output().unwrap();
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains("<title>capsim report — default</title>"),
        "{dom:.400}"
    );
    assert!(
        dom.matches("<svg").count() >= 6,
        "charts missing from the DOM"
    );
    assert!(
        dom.contains("Capacity vs demand"),
        "a chart's title is not text in the page"
    );
    // A screenshot: a full page, not blank (many distinct colours: the charts' lines and
    // bands, not only text on white).
    let shot = tmp.path().join("shot.png");
    let mut snap = Command::new(browser);
    common(&mut snap);
    let res = snap
        .arg("--window-size=1280,4000")
        .arg("--hide-scrollbars")
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url)
        .output()
        .unwrap();
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (1280, 4000));
    let px = info.color_type.samples();
    let mut colours: Vec<[u8; 3]> = buf[..info.buffer_size()]
        .chunks(px)
        .step_by(7)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(
        colours.len() > 200,
        "{} colours: a blank or text-only page",
        colours.len()
    );
    // Kept for a person to look at, when asked.
    if let Some(dir) = std::env::var_os("CAPSIM_KEEP_SCREENSHOT") {
        std::fs::copy(&shot, Path::new(&dir).join("report-html.png")).unwrap();
    }
}
