//! Output writers.
//!
//! - [`data`]: a run's output files parsed back, what charts are drawn from;
//! - [`charts`]: the charts, as PNG and SVG bytes;
//! - [`markdown`]: `report.md` and `compare.md`;
//! - [`montecarlo`]: `bands.csv`, `replications.csv`;
//! - [`shard`]: shard folders read and checked for `capsim merge`;
//! - [`run_files`], [`mc_files`], [`compare_files`], [`redraw`]: the sets of files the
//!   commands write;
//! - [`whatif`]: the charts of `capsim sweep`, `sensitivity` and `solve`, from their CSV.
//! - [`whatif_files`]: the files of `capsim sweep`, `sensitivity` and `solve` (CSV, charts,
//!   `manifest.json`; `runs.csv` of a sensitivity shard), as bytes.
//!
//! - [`outdir`]: the one rule for writing an output folder (marker, refusal, atomic swap).
//!
//! Writers. Each serialises to bytes; [`write_outputs`] ([`outdir::write`]) is the one place
//! that writes to the file system, and it replaces the output folder whole or not at all.

pub mod charts;
mod csvout;
pub mod data;
mod files;
pub mod html;
mod ledger;
pub mod markdown;
pub mod montecarlo;
pub mod outdir;
#[cfg(feature = "parquet")]
pub mod parquet;
pub mod read;
pub mod shard;
pub mod tidy;
mod timeseries;
pub mod whatif;
pub mod whatif_files;

use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::model::RunOutput;
use crate::scenario::Loaded;
use crate::scenario::types::Scenario;
use data::{ChartData, McData};
use read::{find, get};

pub use files::{
    Comparison, Extras, Files, Redrawn, RunFiles, compare_files, mc_files, redraw, run_files,
};
pub use ledger::ledger_csv;
pub use timeseries::{Tabled, Tables, simulate_with_timeseries, timeseries_csv};

/// Errors of the output stage.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file of an output folder could not be read back (for `capsim chart`, `check`,
    /// `merge`).
    #[error("cannot read {path}: {source}")]
    Io {
        /// What was being read.
        path: PathBuf,
        /// Why not.
        source: io::Error,
    },
    /// An output file could not be read back (for `capsim chart`).
    #[error("cannot read {what}: {message}")]
    Parse {
        /// Which file.
        what: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A folder without a valid `.capsim-output` marker (for `capsim chart`).
    #[error(
        "{path} has no valid .capsim-output marker, so it was not written by this capsim and capsim will not rewrite it (a run's output folder holds timeseries.csv, summary.json, events.csv, manifest.json and that marker); re-run the scenario with `capsim run SCENARIO --out DIR` into a new or empty folder, then `capsim chart DIR`"
    )]
    NotOutput {
        /// The folder.
        path: PathBuf,
    },
    /// A folder that is none of the output folders `capsim chart` redraws.
    #[error(
        "{source}\n{} does not look like the output folder of `capsim run`, `compare`, `sweep`, `sensitivity` or `solve`",
        path.display()
    )]
    Unrecognised {
        /// The folder.
        path: PathBuf,
        /// Why its files do not draw as a run's.
        source: Box<ReportError>,
    },
    /// Serialisation failed (a bug, not bad input).
    #[error("cannot serialise {what}: {message}")]
    Serialise {
        /// Which output.
        what: &'static str,
        /// The serialiser's message.
        message: String,
    },
}

impl From<read::ParseError> for ReportError {
    fn from(e: read::ParseError) -> Self {
        ReportError::Parse {
            what: e.what,
            message: e.message,
        }
    }
}

impl From<crate::backtest::CsvError> for ReportError {
    fn from(e: crate::backtest::CsvError) -> Self {
        use crate::backtest::{CSV_FILE, CsvError};
        match e {
            CsvError::Write(message) => ReportError::Serialise {
                what: CSV_FILE,
                message,
            },
            CsvError::Read(message) => ReportError::Parse {
                what: CSV_FILE,
                message,
            },
        }
    }
}

fn csv_err(what: &'static str) -> impl Fn(csv::Error) -> ReportError {
    move |e| ReportError::Serialise {
        what,
        message: e.to_string(),
    }
}

fn into_bytes(w: csv::Writer<Vec<u8>>, what: &'static str) -> Result<Vec<u8>, ReportError> {
    w.into_inner().map_err(|e| ReportError::Serialise {
        what,
        message: e.to_string(),
    })
}

/// `summary.json`, pretty-printed with a trailing newline.
pub fn summary_json(run: &RunOutput) -> Result<Vec<u8>, ReportError> {
    json(&run.summary, "summary.json")
}

fn json<T: Serialize>(v: &T, what: &'static str) -> Result<Vec<u8>, ReportError> {
    let mut out = serde_json::to_vec_pretty(v).map_err(|e| ReportError::Serialise {
        what,
        message: e.to_string(),
    })?;
    out.push(b'\n');
    Ok(out)
}

/// A day's date as `timeseries.csv` writes it (the run's own list of dates), or by chrono
/// for a day outside the run.
fn push_date(out: &mut Vec<u8>, s: &Scenario, run: &RunOutput, day: crate::engine::Time) {
    match usize::try_from(day).ok().and_then(|d| run.dates.get(d)) {
        Some(date) => csvout::field(out, date),
        None => csvout::field(out, &s.calendar.date(day).format("%Y-%m-%d").to_string()),
    }
}

/// `events.csv`: `date,kind,subject,cause`.
pub fn events_csv(s: &Scenario, run: &RunOutput) -> Result<Vec<u8>, ReportError> {
    let mut out = b"date,kind,subject,cause\n".to_vec();
    for e in &run.events {
        push_date(&mut out, s, run, e.day);
        for f in [&e.kind, &e.subject, &e.cause] {
            out.push(b',');
            csvout::field(&mut out, f);
        }
        out.push(b'\n');
    }
    Ok(out)
}

#[derive(Serialize)]
struct Manifest<'a> {
    capsim_version: &'static str,
    scenario: &'a str,
    scenario_files: &'a [String],
    scenario_sha256: &'a str,
    /// Every file the scenario was made from, each with its own SHA-256.
    input_files: &'a [crate::scenario::InputFile],
    seed: u64,
    overrides: &'a [String],
    files: &'a [&'a str],
    #[serde(skip_serializing_if = "Option::is_none")]
    replications: Option<&'a ManifestReps>,
    /// The scenario's distributions: `resolved_scenario` holds their central values.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    distributions: Vec<DistributionDoc<'a>>,
    resolved_scenario: &'a crate::scenario::raw::RawScenario,
}

/// One distribution of the scenario, as `manifest.json` lists it.
#[derive(Serialize)]
struct DistributionDoc<'a> {
    path: &'a str,
    stream: &'a str,
    distribution: &'a crate::scenario::types::Distribution,
}

/// What `manifest.json` records of a Monte Carlo run.
#[derive(Debug, Clone, Serialize)]
pub struct ManifestReps {
    /// Replications run.
    pub count: u64,
    /// Replications asked for (the most, with `until_ci`).
    pub asked: u64,
    /// `--until-ci` as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until_ci: Option<String>,
    /// The replication whose files are written.
    pub representative: u64,
    /// `--confidence`: the level of the confidence intervals, written only when it is not
    /// the default 0.95 (so a run at the default reads as before).
    #[serde(skip_serializing_if = "crate::montecarlo::Confidence::is_default")]
    pub confidence: crate::montecarlo::Confidence,
}

/// `manifest.json`: what produced these outputs. It holds no time stamp, so the same inputs
/// give the same bytes.
pub fn manifest_json(loaded: &Loaded, seed: u64, sets: &[String]) -> Result<Vec<u8>, ReportError> {
    manifest_json_with(loaded, seed, sets, None)
}

/// `manifest.json`, of a Monte Carlo run when `reps` is given (it then lists the Monte Carlo
/// files too).
pub fn manifest_json_with(
    loaded: &Loaded,
    seed: u64,
    sets: &[String],
    reps: Option<&ManifestReps>,
) -> Result<Vec<u8>, ReportError> {
    manifest_json_listing(loaded, seed, sets, reps, &[])
}

/// `manifest.json` listing `extra` files too (`--parquet`'s), after the run's and the Monte
/// Carlo run's own.
pub fn manifest_json_listing(
    loaded: &Loaded,
    seed: u64,
    sets: &[String],
    reps: Option<&ManifestReps>,
    extra: &[&str],
) -> Result<Vec<u8>, ReportError> {
    let mut files: Vec<&str> = OUTPUT_FILES.to_vec();
    if reps.is_some() {
        files.extend(montecarlo::MC_FILES);
    }
    files.extend(extra);
    let mut raw = loaded.raw.clone();
    raw.seed = Some(seed);
    json(
        &Manifest {
            capsim_version: env!("CARGO_PKG_VERSION"),
            scenario: &loaded.scenario.name,
            scenario_files: &loaded.files,
            scenario_sha256: &loaded.hash,
            input_files: &loaded.inputs,
            seed,
            overrides: sets,
            files: &files,
            replications: reps,
            distributions: loaded
                .uncertainty
                .iter()
                .flat_map(|u| &u.params)
                .map(|p| DistributionDoc {
                    path: &p.path,
                    stream: &p.stream,
                    distribution: &p.dist,
                })
                .collect(),
            resolved_scenario: &raw,
        },
        "manifest.json",
    )
}

/// Files `--parquet` adds: the wide and the long daily series.
pub const PARQUET_FILES: [&str; 2] = ["timeseries.parquet", "timeseries_long.parquet"];

/// Whether this capsim was built with Parquet output (cargo feature `parquet`).
pub const PARQUET_BUILT: bool = cfg!(feature = "parquet");

/// Why `--parquet` cannot be honoured by a capsim built without the feature.
pub const PARQUET_MISSING: &str = "this capsim was built without Parquet support; rebuild it \
     with `cargo install --features parquet --path .` in capsim's source folder (or `cargo \
     build --release --features parquet`) to write timeseries.parquet and \
     timeseries_long.parquet, or use --tidy for the same series as CSV";

/// Files every run writes.
pub const OUTPUT_FILES: [&str; 5] = [
    "timeseries.csv",
    "summary.json",
    "events.csv",
    "ledger.csv",
    "manifest.json",
];

/// Serialises every output of a run: `(file name, bytes)`. `tables` are the run's
/// `timeseries.csv` and `ledger.csv` if they were formatted already
/// ([`simulate_with_timeseries`]).
pub fn render_all(
    loaded: &Loaded,
    run: &RunOutput,
    tables: Option<Tables>,
    sets: &[String],
) -> Result<Vec<(String, Vec<u8>)>, ReportError> {
    let s = &loaded.scenario;
    let rest = || -> Result<_, ReportError> {
        Ok([
            summary_json(run)?,
            events_csv(s, run)?,
            manifest_json(loaded, run.summary.seed, sets)?,
        ])
    };
    let (timeseries, ledger, [summary, events, manifest]) = match tables {
        Some(t) => (t.timeseries, t.ledger, rest()?),
        // The time series (the largest) on one thread while the others are written.
        None => {
            let (t, (ledger, rest)) =
                rayon::join(|| timeseries_csv(run), || (ledger_csv(s, run), rest()));
            (t?, ledger?, rest?)
        }
    };
    Ok(vec![
        ("timeseries.csv".into(), timeseries),
        ("summary.json".into(), summary),
        ("events.csv".into(), events),
        ("ledger.csv".into(), ledger),
        ("manifest.json".into(), manifest),
    ])
}

/// Parses a run's core files (as rendered or as read from disk) into [`ChartData`].
pub fn chart_data(files: &[(String, Vec<u8>)]) -> Result<ChartData, ReportError> {
    let get = |name| get(files, name);
    ChartData::from_bytes(
        get("timeseries.csv")?,
        get("summary.json")?,
        get("events.csv")?,
    )
}

/// The scenario description recorded in `manifest.json`, if any.
pub fn description(files: &[(String, Vec<u8>)]) -> String {
    find(files, "manifest.json")
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
        .and_then(|m| {
            m["resolved_scenario"]["description"]
                .as_str()
                .map(str::to_string)
        })
        .unwrap_or_default()
}

/// Parses the files of a Monte Carlo run ([`McData`]), if `bands.csv` is among `files`.
pub fn mc_data(files: &[(String, Vec<u8>)]) -> Result<Option<McData>, ReportError> {
    let Some(bands) = find(files, "bands.csv") else {
        return Ok(None);
    };
    McData::from_bytes(
        bands,
        get(files, "replications.csv")?,
        get(files, "summary.json")?,
    )
    .map(Some)
}

/// The charts (`charts/<name>.png` and `.svg`) and `report.md` of a run's files; for a Monte
/// Carlo run (`bands.csv` among them) the fan charts and histograms too.
pub fn render_charts(files: &[(String, Vec<u8>)]) -> Result<Vec<(String, Vec<u8>)>, ReportError> {
    let data = chart_data(files)?;
    let mc = mc_data(files)?;
    let backtest = find(files, crate::backtest::CSV_FILE)
        .map(crate::backtest::parse_backtest_csv)
        .transpose()?;
    let mut charts = charts::draw_all(&data, backtest.as_ref())?;
    if let Some(bt) = &backtest {
        charts.extend(charts::draw_backtest(bt, &data.summary.scenario)?);
    }
    let mc_charts = match &mc {
        Some(mc) => charts::draw_montecarlo(&data, mc)?,
        None => Vec::new(),
    };
    let refs: Vec<markdown::ChartRef> = charts.iter().map(chart_ref).collect();
    let uncertainty = mc.as_ref().map(|mc| markdown::Uncertainty {
        mc,
        charts: mc_charts.iter().map(chart_ref).collect(),
    });
    let mut out = Vec::new();
    for c in charts.into_iter().chain(mc_charts) {
        out.push((format!("charts/{}.png", c.name), c.png));
        out.push((format!("charts/{}.svg", c.name), c.svg));
    }
    let mut md = markdown::report_md(&data, &description(files), &refs, uncertainty.as_ref());
    if let Some(bt) = &backtest {
        let chart = refs
            .iter()
            .any(|c| c.name == "backtest")
            .then_some("backtest");
        md.push_str(&crate::backtest::markdown(bt, chart));
    }
    let svgs: Vec<(String, Vec<u8>)> = out
        .iter()
        .filter_map(|(n, b)| {
            let name = n.strip_prefix("charts/")?.strip_suffix(".svg")?;
            Some((name.to_string(), b.clone()))
        })
        .collect();
    let title = format!("capsim report — {}", data.summary.scenario);
    out.push(("report.html".into(), html::report_html(&title, &md, &svgs)));
    out.push(("report.md".into(), md.into_bytes()));
    Ok(out)
}

/// What the Markdown needs of a chart.
pub fn chart_ref(c: &charts::Chart) -> markdown::ChartRef {
    markdown::ChartRef {
        name: c.name.to_string(),
        title: c.title.clone(),
        caption: c.caption.clone(),
    }
}

/// Reads the data files of an output folder: those its `.capsim-output` marker lists at the
/// top level, `report.md` excepted (it and `charts/` are what gets redrawn). A folder without
/// a valid marker was not written by capsim and is not read.
pub fn read_output_dir(dir: &Path) -> Result<Vec<(String, Vec<u8>)>, ReportError> {
    let listed = outdir::read_marker(dir).ok_or_else(|| ReportError::NotOutput {
        path: dir.to_path_buf(),
    })?;
    let mut files = Vec::new();
    for name in listed {
        if name.contains('/') || name == "report.md" {
            continue;
        }
        // A report drawn again from the data that was deleted is simply drawn anew.
        if DRAWN_AGAIN.contains(&name.as_str())
            && std::fs::symlink_metadata(dir.join(&name))
                .is_err_and(|e| e.kind() == io::ErrorKind::NotFound)
        {
            continue;
        }
        let bytes = read_data_file(dir, &name)?;
        files.push((name, bytes));
    }
    files.sort();
    Ok(files)
}

/// Top-level files of an output folder that `capsim chart` draws again from its data (beside
/// `report.md`, which it never reads): when one was deleted the folder still redraws. A
/// Monte Carlo comparison's `compare.md` drawn anew lacks its paired differences, which need
/// every replication.
const DRAWN_AGAIN: [&str; 2] = ["report.html", "compare.md"];

/// Reads one file of an output folder: a regular file of at most [`MAX_DATA_BYTES`].
/// (Whether the folder's marker lists it is the caller's check: `read_output_dir`, or a
/// shard folder read by `capsim merge` one file at a time.)
pub fn read_data_file(dir: &Path, name: &str) -> Result<Vec<u8>, ReportError> {
    let path = dir.join(name);
    let io_err = |source| ReportError::Io {
        path: path.clone(),
        source,
    };
    let meta = std::fs::symlink_metadata(&path).map_err(io_err)?;
    if !meta.is_file() {
        return Err(io_err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a regular file",
        )));
    }
    crate::scenario::read_bounded_bytes(&path, MAX_DATA_BYTES)
        .map_err(|why| io_err(io::Error::new(io::ErrorKind::InvalidData, why)))
}

/// Largest data file of an output folder read back (`capsim chart`, golden outputs of
/// `capsim check`) \[bytes\]: 1 GiB, far above the largest run (50 years of daily rows).
pub const MAX_DATA_BYTES: u64 = 1 << 30;

/// Writes `files` as the folder `dir`, by the one rule of [`outdir`]: refused unless `dir`
/// is new, empty or marked as capsim's; swapped into place atomically once every file is
/// written; what capsim did not write kept.
pub fn write_outputs(
    dir: &Path,
    files: &[(String, Vec<u8>)],
) -> Result<outdir::Written, outdir::OutputError> {
    outdir::write(dir, files, "--out")
}
