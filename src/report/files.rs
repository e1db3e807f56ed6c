//! The sets of output files the commands write, as bytes: a run's ([`run_files`]), a Monte
//! Carlo run's ([`mc_files`]), a comparison's ([`compare_files`]) and a folder's charts drawn
//! again ([`redraw`]). The CLI simulates, prints and writes them (docs/ARCHITECTURE.md).

use std::path::Path;

use super::montecarlo::PairedDoc;
use super::{ManifestReps, ReportError, Tables, chart_data, chart_ref, charts, markdown, read};
use crate::backtest::{self, Backtest};
use crate::model::{RunOutput, Summary};
use crate::montecarlo::Outcome;
use crate::scenario::Loaded;
use crate::scenario::yaml::Diagnostic;

/// Output files: `(name, bytes)`, in the order written.
pub type Files = Vec<(String, Vec<u8>)>;

/// What is made besides a run's data files.
#[derive(Debug, Clone, Copy, Default)]
pub struct Extras {
    /// The charts, `report.md` and `report.html`.
    pub charts: bool,
    /// `timeseries_long.csv` and `units.csv`.
    pub tidy: bool,
    /// `timeseries.parquet` and `timeseries_long.parquet` (a capsim built with the feature
    /// `parquet`; without it, asking is an error the command line reports before running).
    pub parquet: bool,
}

/// Adds the charts and reports, then the tidy files, as `extras` asks.
fn add_extras(files: &mut Files, extras: Extras) -> Result<(), ReportError> {
    if extras.charts {
        let drawn = super::render_charts(files)?;
        files.extend(drawn);
    }
    if extras.tidy {
        super::tidy::add(files)?;
    }
    if extras.parquet {
        add_parquet(files)?;
    }
    Ok(())
}

/// Adds `timeseries.parquet` and `timeseries_long.parquet`, made from `timeseries.csv` among
/// `files`.
#[cfg(feature = "parquet")]
fn add_parquet(files: &mut Files) -> Result<(), ReportError> {
    let Some((_, wide)) = files.iter().find(|(n, _)| n == "timeseries.csv") else {
        return Ok(());
    };
    let (w, l) = rayon::join(|| super::parquet::wide(wide), || super::parquet::long(wide));
    let [wide_name, long_name] = super::PARQUET_FILES;
    files.push((wide_name.into(), w?));
    files.push((long_name.into(), l?));
    Ok(())
}

/// Without the feature `parquet` there is nothing to add: the command line refuses
/// `--parquet` before running (`report::PARQUET_MISSING`).
#[cfg(not(feature = "parquet"))]
fn add_parquet(_files: &mut Files) -> Result<(), ReportError> {
    Err(ReportError::Serialise {
        what: "timeseries.parquet",
        message: super::PARQUET_MISSING.into(),
    })
}

/// The Parquet files `extras` adds, for the manifest's list.
fn parquet_listed(extras: Extras) -> &'static [&'static str] {
    if extras.parquet {
        &super::PARQUET_FILES
    } else {
        &[]
    }
}

/// The files of one run, and its observations set beside it.
#[derive(Debug)]
pub struct RunFiles {
    /// The files.
    pub files: Files,
    /// The observations evaluated (`backtest.csv` is then among the files).
    pub backtest: Option<Backtest>,
    /// Why the observations could not be evaluated (a column the run lacks, ...);
    /// `backtest.csv` is then left out.
    pub unevaluated: Vec<Diagnostic>,
}

/// The files of one simulated run: its data files, `backtest.csv` when the scenario has
/// observations that evaluate, and `extras`. `tables`: the run's `timeseries.csv` and
/// `ledger.csv`, as formatted beside the simulation (`report::simulate_with_timeseries`).
pub fn run_files(
    loaded: &Loaded,
    run: &RunOutput,
    tables: Tables,
    sets: &[String],
    extras: Extras,
) -> Result<RunFiles, ReportError> {
    let mut files = super::render_all(loaded, run, Some(tables), sets)?;
    if extras.parquet {
        for (name, bytes) in &mut files {
            if name == "manifest.json" {
                *bytes = super::manifest_json_listing(
                    loaded,
                    run.summary.seed,
                    sets,
                    None,
                    parquet_listed(extras),
                )?;
            }
        }
    }
    let mut bt = None;
    let mut unevaluated = Vec::new();
    if !loaded.observed.is_empty() {
        let (table, events) = read::series_and_events(&files)?;
        match backtest::evaluate(&loaded.observed, &table, &events) {
            Ok(b) => {
                files.push((backtest::CSV_FILE.into(), backtest::backtest_csv(&b)?));
                bt = Some(b);
            }
            Err(diags) => unevaluated = diags,
        }
    }
    add_extras(&mut files, extras)?;
    Ok(RunFiles {
        files,
        backtest: bt,
        unevaluated,
    })
}

/// The files of a Monte Carlo run: those of its representative replication (`run`, its
/// summary with the distribution of every metric), `bands.csv`, `replications.csv`, then
/// `extras`. `until_ci` is `--until-ci` as given; `asked`, the replications asked for;
/// `tables`, the representative's `timeseries.csv` and `ledger.csv`
/// (`report::simulate_with_timeseries`).
#[allow(clippy::too_many_arguments)]
pub fn mc_files(
    loaded: &Loaded,
    o: &Outcome,
    run: &RunOutput,
    tables: Tables,
    sets: &[String],
    until_ci: Option<&str>,
    asked: u64,
    extras: Extras,
) -> Result<Files, ReportError> {
    let mut files = super::render_all(loaded, run, Some(tables), sets)?;
    let reps = ManifestReps {
        count: o.reps,
        asked,
        until_ci: until_ci.map(str::to_string),
        representative: o.representative,
        confidence: o.confidence,
    };
    for (name, bytes) in &mut files {
        match name.as_str() {
            "summary.json" => *bytes = super::montecarlo::summary_json(run, o)?,
            "manifest.json" => {
                *bytes = super::manifest_json_listing(
                    loaded,
                    o.seed,
                    sets,
                    Some(&reps),
                    parquet_listed(extras),
                )?;
            }
            _ => {}
        }
    }
    files.push(("bands.csv".into(), super::montecarlo::bands_csv(o)?));
    files.push((
        "replications.csv".into(),
        super::montecarlo::replications_csv(o)?,
    ));
    add_extras(&mut files, extras)?;
    Ok(files)
}

/// The files of a comparison, with what the CLI prints of it.
#[derive(Debug)]
pub struct Comparison {
    /// Each run's files in its folder, `charts/` and `compare.md`.
    pub files: Files,
    /// The runs' folders, in order (a run's name; `-2`, `-3`, ... for a name met again).
    pub folders: Vec<String>,
    /// The runs' summaries, as read back from their `summary.json`.
    pub summaries: Vec<Summary>,
    /// With replications: paired differences of each run against the first.
    pub paired: Vec<PairedDoc>,
}

/// The files of `capsim compare`: `runs` are each scenario's name and files, the first the
/// baseline; `outcomes` their replications (empty for one run each), `reps` as asked.
pub fn compare_files(
    runs: Vec<(String, Files)>,
    outcomes: &[Outcome],
    reps: Option<u64>,
) -> Result<Comparison, ReportError> {
    let mut files = Vec::new();
    let mut folders: Vec<String> = Vec::new();
    let mut data = Vec::new();
    for (name, run) in runs {
        data.push(chart_data(&run)?);
        // Two scenarios of one name still get a folder each.
        let mut folder = name.clone();
        let mut k = 2;
        while folders.contains(&folder) {
            folder = format!("{name}-{k}");
            k += 1;
        }
        for (f, bytes) in run {
            files.push((format!("{folder}/{f}"), bytes));
        }
        folders.push(folder);
    }
    let drawn = charts::draw_compare(&data)?;
    let refs: Vec<_> = drawn.iter().map(chart_ref).collect();
    for c in drawn {
        files.push((format!("charts/{}.png", c.name), c.png));
        files.push((format!("charts/{}.svg", c.name), c.svg));
    }
    let mut md = markdown::compare_md(&data, &refs, reps);
    let paired: Vec<PairedDoc> = outcomes
        .iter()
        .zip(&folders)
        .skip(1)
        .map(|(o, f)| PairedDoc::new(&outcomes[0], o, &folders[0], f))
        .collect();
    if !paired.is_empty() {
        md.push_str(&markdown::paired_md(
            &paired,
            outcomes[0].reps,
            outcomes[0].seed,
        ));
    }
    files.push(("compare.md".into(), md.into_bytes()));
    Ok(Comparison {
        files,
        folders,
        summaries: data.into_iter().map(|d| d.summary).collect(),
        paired,
    })
}

/// An output folder's files with its charts and reports drawn again.
#[derive(Debug)]
pub struct Redrawn {
    /// Every file of the folder, as it is to be written.
    pub files: Files,
    /// What was drawn anew: charts and reports, not data carried over.
    pub drawn: Vec<String>,
}

/// The files of output folder `dir` with the charts and reports of a run, a comparison, a
/// sweep, a sensitivity analysis or a solve drawn again from its data files.
pub fn redraw(dir: &Path) -> Result<Redrawn, ReportError> {
    let mut files = super::read_output_dir(dir)?;
    let kind = |name: &str| files.iter().any(|(n, _)| n == name);
    // A comparison is known by its `compare.md`, or by its marker when that report was
    // deleted (it is drawn again like the charts).
    let compared = kind("compare.md")
        || super::outdir::read_marker(dir).is_some_and(|l| l.iter().any(|n| n == "compare.md"));
    let drawn = if compared {
        redraw_compare(dir, &files)?
    } else if ["sweep.csv", "sensitivity.csv", "solve.csv"]
        .iter()
        .any(|f| kind(f))
    {
        super::whatif::redraw(&files)?
    } else {
        super::render_charts(&files).map_err(|e| ReportError::Unrecognised {
            path: dir.to_path_buf(),
            source: Box::new(e),
        })?
    };
    let names: Vec<String> = drawn
        .iter()
        .map(|(n, _)| n.clone())
        .filter(|n| n.starts_with("charts/") || n.ends_with(".md") || n.ends_with(".html"))
        .collect();
    files.retain(|(n, _)| !drawn.iter().any(|(d, _)| d == n));
    files.extend(drawn);
    Ok(Redrawn {
        files,
        drawn: names,
    })
}

/// The charts and `compare.md` of a `capsim compare` folder, from the runs' data files in
/// its sub-folders (in the order its marker lists them). A Monte Carlo comparison keeps the
/// paired differences of its `compare.md`: they need every replication, which the folder
/// does not hold.
fn redraw_compare(dir: &Path, top: &[(String, Vec<u8>)]) -> Result<Files, ReportError> {
    let listed = super::outdir::read_marker(dir).unwrap_or_default();
    let mut folders: Vec<String> = Vec::new();
    for name in &listed {
        if let Some((folder, _)) = name.split_once('/')
            && folder != "charts"
            && !folders.iter().any(|f| f == folder)
        {
            folders.push(folder.to_string());
        }
    }
    let mut runs = Vec::new();
    let mut reps = None;
    for folder in &folders {
        let mut files = Vec::new();
        for name in listed
            .iter()
            .filter_map(|n| n.strip_prefix(&format!("{folder}/")))
        {
            if !name.contains('/') {
                files.push((
                    name.to_string(),
                    super::read_data_file(&dir.join(folder), name)?,
                ));
            }
        }
        if files.iter().any(|(n, _)| n == "bands.csv") {
            let manifest: serde_json::Value = files
                .iter()
                .find(|(n, _)| n == "manifest.json")
                .and_then(|(_, b)| serde_json::from_slice(b).ok())
                .unwrap_or_default();
            reps = manifest["replications"]["count"].as_u64().or(reps);
        }
        runs.push(chart_data(&files)?);
    }
    let drawn = charts::draw_compare(&runs)?;
    let refs: Vec<_> = drawn.iter().map(chart_ref).collect();
    let mut out = Vec::new();
    for c in drawn {
        out.push((format!("charts/{}.png", c.name), c.png));
        out.push((format!("charts/{}.svg", c.name), c.svg));
    }
    let mut md = markdown::compare_md(&runs, &refs, reps);
    let old = top
        .iter()
        .find(|(n, _)| n == "compare.md")
        .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    if let Some(i) = old.find("\n## Paired differences") {
        md.push_str(&old[i..]);
    }
    // The sub-folders' files are written back as they were.
    for folder in &folders {
        for name in listed
            .iter()
            .filter(|n| n.starts_with(&format!("{folder}/")))
        {
            let bytes = super::read_data_file(dir, name)?;
            out.push((name.clone(), bytes));
        }
    }
    out.push(("compare.md".into(), md.into_bytes()));
    Ok(out)
}
