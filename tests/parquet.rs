//! `capsim run --parquet`. Built with the cargo feature `parquet`
//! (`cargo test --features parquet --test parquet`, as CI runs it), the Parquet files are read
//! back with the parquet crate (and with pyarrow where it is installed) and compared value by
//! value with `timeseries.csv` and `timeseries_long.csv`. Built without it, `--parquet` must
//! be refused with a clear message and exit code 2.

use std::path::Path;
use std::process::{Command, Output};

fn capsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_capsim"))
}

fn run(args: &[&str], out: &Path) -> Output {
    capsim()
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .expect("capsim runs")
}

#[cfg(not(feature = "parquet"))]
#[test]
fn without_the_feature_parquet_is_refused_naming_the_rebuild() {
    let tmp = tempfile::tempdir().expect("temp dir");
    for args in [
        &["run", "--parquet", "--set", "end=2023-02"][..],
        &["run", "--parquet", "--reps", "2", "--set", "end=2023-02"][..],
    ] {
        let out = run(args, &tmp.path().join("out"));
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("built without Parquet support")
                && err.contains("cargo install --features parquet --path ."),
            "{err}"
        );
        assert!(!tmp.path().join("out").exists(), "outputs were written");
    }
    // The flag is not hidden.
    let help = capsim().args(["run", "--help"]).output().expect("help");
    assert!(String::from_utf8_lossy(&help.stdout).contains("--parquet"));
}

#[cfg(feature = "parquet")]
mod with_the_feature {
    use super::*;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;

    /// Every row of a Parquet file as (column, value) pairs, and its schema's leaves as
    /// (name, physical type, logical type).
    #[allow(clippy::type_complexity)]
    fn read(path: &Path) -> (Vec<(String, String)>, Vec<Vec<(String, Field)>>) {
        let f = std::fs::File::open(path).expect("the Parquet file");
        let r = SerializedFileReader::new(f).expect("a Parquet file");
        let schema = r.metadata().file_metadata().schema_descr_ptr();
        let types = schema
            .columns()
            .iter()
            .map(|c| {
                (
                    c.name().to_string(),
                    format!("{:?} {:?}", c.physical_type(), c.logical_type_ref()),
                )
            })
            .collect();
        let rows = r
            .get_row_iter(None)
            .expect("rows")
            .map(|row| row.expect("a row").into_columns())
            .collect();
        (types, rows)
    }

    fn csv_rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
        let mut r = csv::Reader::from_path(path).expect("the CSV file");
        let header = r
            .headers()
            .expect("header")
            .iter()
            .map(String::from)
            .collect();
        let rows = r
            .records()
            .map(|rec| rec.expect("a record").iter().map(String::from).collect())
            .collect();
        (header, rows)
    }

    fn days(date: &str) -> i32 {
        let d = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").expect("a date");
        let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
        (d - epoch).num_days() as i32
    }

    /// A cell of a CSV file as the Parquet file should hold it.
    fn expected(cell: &str, text: bool) -> Field {
        if text {
            Field::Str(cell.to_string())
        } else {
            Field::Double(cell.parse().expect("a number"))
        }
    }

    #[test]
    fn parquet_files_hold_the_csv_values_exactly() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("run");
        let out = run(
            &[
                "run",
                "--set",
                "end=2023-09",
                "--no-charts",
                "--tidy",
                "--parquet",
            ],
            &dir,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("timeseries.parquet"));

        // The wide table: the CSV's columns, dates as DATE, numbers as DOUBLE, texts as UTF8.
        let (header, rows) = csv_rows(&dir.join("timeseries.csv"));
        let (types, got) = read(&dir.join("timeseries.parquet"));
        let names: Vec<&str> = types.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, header);
        assert_eq!(types[0].1, "INT32 Some(Date)");
        assert_eq!(got.len(), rows.len());
        let text: Vec<bool> = header.iter().map(|h| h.starts_with("binding")).collect();
        for (i, h) in header.iter().enumerate().skip(1) {
            let want = if text[i] {
                "BYTE_ARRAY Some(String)"
            } else {
                "DOUBLE None"
            };
            assert_eq!(types[i].1, want, "{h}");
        }
        for (r, (want, have)) in rows.iter().zip(&got).enumerate() {
            assert_eq!(have[0].1, Field::Date(days(&want[0])), "row {r}");
            for (i, cell) in want.iter().enumerate().skip(1) {
                assert_eq!(
                    have[i].1,
                    expected(cell, text[i]),
                    "{} on {}",
                    header[i],
                    want[0]
                );
            }
        }

        // The long table: the rows of timeseries_long.csv; `value` a number, or null and the
        // text in `text`.
        let (lheader, lrows) = csv_rows(&dir.join("timeseries_long.csv"));
        assert_eq!(lheader, ["date", "metric", "entity", "value", "unit"]);
        let (ltypes, lgot) = read(&dir.join("timeseries_long.parquet"));
        let lnames: Vec<&str> = ltypes.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            lnames,
            ["date", "metric", "entity", "value", "unit", "text"]
        );
        assert_eq!(ltypes[3].1, "DOUBLE None");
        assert_eq!(lgot.len(), lrows.len());
        for (want, have) in lrows.iter().zip(&lgot) {
            let is_text = want[1].starts_with("binding");
            let (value, text) = if is_text {
                (Field::Null, Field::Str(want[3].clone()))
            } else {
                (expected(&want[3], false), Field::Null)
            };
            let have: Vec<&Field> = have.iter().map(|(_, f)| f).collect();
            assert_eq!(
                have,
                [
                    &Field::Date(days(&want[0])),
                    &Field::Str(want[1].clone()),
                    &Field::Str(want[2].clone()),
                    &value,
                    &Field::Str(want[4].clone()),
                    &text,
                ],
                "{want:?}"
            );
        }

        // Listed in the manifest and owned by capsim (the folder's marker).
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
        let files = manifest["files"].as_array().expect("files");
        for f in ["timeseries.parquet", "timeseries_long.parquet"] {
            assert!(files.iter().any(|x| x == f), "{f} not in {files:?}");
        }
        let marker = std::fs::read_to_string(dir.join(".capsim-output")).expect("marker");
        assert!(
            marker.lines().any(|l| l == "timeseries_long.parquet"),
            "{marker}"
        );

        // The same run gives the same bytes.
        let again = tmp.path().join("again");
        let out = run(
            &["run", "--set", "end=2023-09", "--no-charts", "--parquet"],
            &again,
        );
        assert!(out.status.success());
        for f in ["timeseries.parquet", "timeseries_long.parquet"] {
            assert!(
                std::fs::read(dir.join(f)).unwrap() == std::fs::read(again.join(f)).unwrap(),
                "{f} differs between two runs"
            );
        }

        pyarrow_agrees(&dir);
    }

    #[test]
    fn capsim_replaces_its_own_parquet_files_and_keeps_yours() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("run");
        let args = ["run", "--set", "end=2023-02", "--no-charts", "--parquet"];
        assert!(run(&args, &dir).status.success());
        // Run again without --parquet: capsim removes the files it wrote.
        assert!(run(&args[..4], &dir).status.success());
        assert!(!dir.join("timeseries.parquet").exists());
        // A file of yours of that name is never overwritten nor deleted: capsim's output
        // takes the name, and yours is kept beside the folder, with a warning naming both.
        std::fs::write(dir.join("timeseries.parquet"), b"mine").unwrap();
        let out = run(&args, &dir);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("timeseries.parquet (not written by capsim)"),
            "{err}"
        );
        let kept = std::fs::read_dir(tmp.path())
            .unwrap()
            .filter_map(|e| std::fs::read(e.ok()?.path().join("timeseries.parquet")).ok())
            .filter(|b| b == b"mine")
            .count();
        assert_eq!(kept, 1, "your file is gone");
        assert!(
            std::fs::read(dir.join("timeseries.parquet"))
                .unwrap()
                .starts_with(b"PAR1")
        );
        assert!(dir.join("timeseries_long.parquet").exists());
    }

    #[test]
    fn monte_carlo_runs_write_their_representative_as_parquet() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("mc");
        let args = [
            "run",
            "--reps",
            "3",
            "--set",
            "end=2023-02",
            "--no-charts",
            "--parquet",
        ];
        let out = run(&args, &dir);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (header, rows) = csv_rows(&dir.join("timeseries.csv"));
        let (types, got) = read(&dir.join("timeseries.parquet"));
        assert_eq!(types.len(), header.len());
        assert_eq!(got.len(), rows.len());
        let c = header
            .iter()
            .position(|h| h == "capacity_h100e")
            .expect("column");
        let last = rows.len() - 1;
        assert_eq!(got[last][c].1, expected(&rows[last][c], false));
    }

    /// Where Python has pyarrow, it reads the files too: the schema's types and the values
    /// against the CSV files (skipped, and said so, elsewhere).
    fn pyarrow_agrees(dir: &Path) {
        const SCRIPT: &str = r#"
import csv, sys
import pyarrow as pa, pyarrow.parquet as pq
d = sys.argv[1]
t = pq.read_table(f"{d}/timeseries.parquet")
assert t.schema.field("date").type == pa.date32(), t.schema
assert t.schema.field("demand_h100e").type == pa.float64()
assert t.schema.field("binding_constraint").type == pa.string()
rows = list(csv.DictReader(open(f"{d}/timeseries.csv", newline="")))
assert t.num_rows == len(rows)
for name in ["demand_h100e", "users[paid]", "binding_constraint"]:
    col = t.column(name).to_pylist()
    for have, want in zip(col, rows):
        want = want[name]
        assert have == (want if name.startswith("binding") else float(want)), (name, have, want)
assert [str(x) for x in t.column("date").to_pylist()] == [r["date"] for r in rows]
l = pq.read_table(f"{d}/timeseries_long.parquet")
long = list(csv.DictReader(open(f"{d}/timeseries_long.csv", newline="")))
assert l.num_rows == len(long)
v, tx = l.column("value").to_pylist(), l.column("text").to_pylist()
for i in range(0, len(long), 97):
    r = long[i]
    assert (tx[i] if r["metric"].startswith("binding") else v[i]) == (
        r["value"] if r["metric"].startswith("binding") else float(r["value"])), (i, r)
print("pyarrow agrees")
"#;
        let has = Command::new("python3")
            .args(["-c", "import pyarrow"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !has {
            eprintln!(
                "skipped: pyarrow is not installed, so only the parquet crate read the files"
            );
            return;
        }
        let out = Command::new("python3")
            .args(["-c", SCRIPT])
            .arg(dir)
            .output()
            .expect("python3 runs");
        assert!(
            out.status.success(),
            "pyarrow disagrees: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
