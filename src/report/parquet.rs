//! The daily series as Parquet files (`capsim run --parquet`, cargo feature `parquet`):
//! `timeseries.parquet`, the wide table of `timeseries.csv`, and `timeseries_long.parquet`,
//! the long table of `timeseries_long.csv`.
//!
//! Both are made from the bytes of `timeseries.csv`, as the tidy files are, so that a run, a
//! Monte Carlo run's representative, a merge and `capsim chart` give the same files; a value
//! written there in shortest round-trip form reads back as the same double. Written with the
//! parquet crate's low-level column writer, one row group, Snappy pages, no time stamp (the
//! footer names the writer, `parquet-rs version ...`), so the same run gives the same bytes.
//!
//! Types: `date` is `INT32` with the `DATE` logical type (days since 1970-01-01), numbers
//! `DOUBLE`, texts `BYTE_ARRAY` with the `STRING` (UTF8) logical type. Every column of the wide
//! table is required. In the long table `value` is an optional `DOUBLE`, null for the text
//! series (`binding`, `binding_constraint`), whose text is in `text` (null for the others).

use std::sync::Arc;

use chrono::NaiveDate;
use parquet::basic::{Compression, LogicalType, Repetition, Type as Physical};
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int32Type};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;

use super::ReportError;
use super::tidy::{split_column, unit_of};

/// A column's values, in row order; `None` is null (optional columns only).
enum Values {
    Dates(Vec<i32>),
    Numbers(Vec<Option<f64>>),
    Texts(Vec<Option<String>>),
}

/// A column: its name, whether it may be null, and its values.
struct Column {
    name: String,
    optional: bool,
    values: Values,
}

impl Column {
    fn new(name: &str, optional: bool, values: Values) -> Column {
        Column {
            name: name.to_string(),
            optional,
            values,
        }
    }

    fn schema(&self) -> Result<Type, ParquetError> {
        let (physical, logical) = match self.values {
            Values::Dates(_) => (Physical::INT32, Some(LogicalType::Date)),
            Values::Numbers(_) => (Physical::DOUBLE, None),
            Values::Texts(_) => (Physical::BYTE_ARRAY, Some(LogicalType::String)),
        };
        let repetition = if self.optional {
            Repetition::OPTIONAL
        } else {
            Repetition::REQUIRED
        };
        Type::primitive_type_builder(&self.name, physical)
            .with_repetition(repetition)
            .with_logical_type(logical)
            .build()
    }
}

/// Definition levels of an optional column (1 present, 0 null) and its present values.
fn split<T: Clone>(values: &[Option<T>]) -> (Vec<i16>, Vec<T>) {
    let levels = values.iter().map(|v| i16::from(v.is_some())).collect();
    (levels, values.iter().flatten().cloned().collect())
}

/// A Parquet file of `columns` (all of one length) as bytes.
fn write(columns: &[Column], what: &'static str) -> Result<Vec<u8>, ReportError> {
    let err = |e: ParquetError| ReportError::Serialise {
        what,
        message: e.to_string(),
    };
    let fields = columns
        .iter()
        .map(|c| c.schema().map(Arc::new))
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    let schema = Type::group_type_builder("schema")
        .with_fields(fields)
        .build()
        .map_err(err)?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut w =
        SerializedFileWriter::new(Vec::new(), Arc::new(schema), Arc::new(props)).map_err(err)?;
    let mut rg = w.next_row_group().map_err(err)?;
    for c in columns {
        let mut col = rg.next_column().map_err(err)?.ok_or_else(|| {
            err(ParquetError::General(
                "fewer columns than the schema".into(),
            ))
        })?;
        let levels;
        let written = match &c.values {
            Values::Dates(v) => col.typed::<Int32Type>().write_batch(v, None, None),
            Values::Numbers(v) if c.optional => {
                let (l, present) = split(v);
                levels = l;
                col.typed::<DoubleType>()
                    .write_batch(&present, Some(&levels), None)
            }
            Values::Numbers(v) => {
                let all: Vec<f64> = v.iter().map(|x| x.unwrap_or(f64::NAN)).collect();
                col.typed::<DoubleType>().write_batch(&all, None, None)
            }
            Values::Texts(v) => {
                let (l, present) = split(v);
                let bytes: Vec<ByteArray> = present
                    .into_iter()
                    .map(|s| ByteArray::from(s.into_bytes()))
                    .collect();
                levels = l;
                let def = c.optional.then_some(levels.as_slice());
                col.typed::<ByteArrayType>().write_batch(&bytes, def, None)
            }
        };
        written.map_err(err)?;
        col.close().map_err(err)?;
    }
    rg.close().map_err(err)?;
    w.into_inner().map_err(err)
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date of `timeseries.csv`.
fn epoch_days(date: &str) -> Result<i32, ReportError> {
    let bad = || ReportError::Parse {
        what: "timeseries.csv",
        message: format!("`{date}` is not a date (YYYY-MM-DD)"),
    };
    let d = NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| bad())?;
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).ok_or_else(bad)?;
    i32::try_from((d - epoch).num_days()).map_err(|_| bad())
}

/// Whether a column of `timeseries.csv` holds text (`binding[...]`, `binding_constraint`):
/// its metric has no unit.
fn is_text(column: &str) -> bool {
    matches!(unit_of(split_column(column).0), Some(("", _)))
}

/// `timeseries.csv` read: its header and its rows.
fn read(timeseries: &[u8]) -> Result<(Vec<String>, Vec<csv::StringRecord>), ReportError> {
    let parse = |e: csv::Error| ReportError::Parse {
        what: "timeseries.csv",
        message: e.to_string(),
    };
    let mut r = csv::Reader::from_reader(timeseries);
    let header: Vec<String> = r
        .headers()
        .map_err(parse)?
        .iter()
        .map(String::from)
        .collect();
    let rows = r.records().collect::<Result<Vec<_>, _>>().map_err(parse)?;
    Ok((header, rows))
}

/// A number of `timeseries.csv`, or an error naming its column and date.
fn number(v: &str, column: &str, date: &str) -> Result<f64, ReportError> {
    v.parse().map_err(|_| ReportError::Parse {
        what: "timeseries.csv",
        message: format!("`{v}` in column {column} on {date} is not a number"),
    })
}

/// `timeseries.parquet` from the bytes of `timeseries.csv`: its columns, in its order, with
/// `date` as a date, numbers as doubles and the text columns as strings.
pub fn wide(timeseries: &[u8]) -> Result<Vec<u8>, ReportError> {
    let (header, rows) = read(timeseries)?;
    let dates: Vec<&str> = rows.iter().map(|r| r.get(0).unwrap_or_default()).collect();
    let mut columns = vec![Column::new(
        "date",
        false,
        Values::Dates(
            dates
                .iter()
                .map(|d| epoch_days(d))
                .collect::<Result<_, _>>()?,
        ),
    )];
    for (i, name) in header.iter().enumerate().skip(1) {
        let cells = rows.iter().map(|r| r.get(i).unwrap_or_default());
        let values = if is_text(name) {
            Values::Texts(cells.map(|v| Some(v.to_string())).collect())
        } else {
            Values::Numbers(
                cells
                    .zip(&dates)
                    .map(|(v, d)| number(v, name, d).map(Some))
                    .collect::<Result<_, _>>()?,
            )
        };
        columns.push(Column::new(name, false, values));
    }
    write(&columns, "timeseries.parquet")
}

/// `timeseries_long.parquet` from the bytes of `timeseries.csv`: the rows of
/// `timeseries_long.csv` (days in order, within a day the wide file's columns in order) as
/// `date, metric, entity, value, unit, text`.
pub fn long(timeseries: &[u8]) -> Result<Vec<u8>, ReportError> {
    let (header, rows) = read(timeseries)?;
    let cols: Vec<(&str, &str, &str, bool)> = header
        .iter()
        .skip(1)
        .map(|c| {
            let (m, e) = split_column(c);
            (m, e, unit_of(m).map_or("", |(u, _)| u), is_text(c))
        })
        .collect();
    let n = rows.len() * cols.len();
    let (mut date, mut metric, mut entity, mut value, mut unit, mut text) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for r in &rows {
        let d = r.get(0).unwrap_or_default();
        let day = epoch_days(d)?;
        for (i, (m, e, u, t)) in cols.iter().enumerate() {
            let v = r.get(i + 1).unwrap_or_default();
            date.push(day);
            metric.push(Some(m.to_string()));
            entity.push(Some(e.to_string()));
            unit.push(Some(u.to_string()));
            if *t {
                value.push(None);
                text.push(Some(v.to_string()));
            } else {
                value.push(Some(number(v, &header[i + 1], d)?));
                text.push(None);
            }
        }
    }
    let columns = [
        Column::new("date", false, Values::Dates(date)),
        Column::new("metric", false, Values::Texts(metric)),
        Column::new("entity", false, Values::Texts(entity)),
        Column::new("value", true, Values::Numbers(value)),
        Column::new("unit", false, Values::Texts(unit)),
        Column::new("text", true, Values::Texts(text)),
    ];
    write(&columns, "timeseries_long.parquet")
}

#[cfg(test)]
mod tests {
    use super::*;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;

    const WIDE: &str = "date,demand_h100e,users[paid],binding[H100],binding_constraint\n\
                        2023-01-01,1.5,10,packaging,packaging\n\
                        2023-01-02,0.1,11,,demand\n";

    fn rows(bytes: Vec<u8>) -> Vec<Vec<(String, Field)>> {
        use std::io::{Seek, Write};
        let mut f = tempfile::tempfile().expect("a temporary file");
        f.write_all(&bytes).expect("written");
        f.rewind().expect("rewound");
        let r = SerializedFileReader::new(f).expect("a Parquet file");
        r.get_row_iter(None)
            .expect("rows")
            .map(|row| row.expect("row").into_columns())
            .collect()
    }

    #[test]
    fn the_wide_table_keeps_names_types_and_values() {
        let got = rows(wide(WIDE.as_bytes()).expect("writes"));
        assert_eq!(got.len(), 2);
        let names: Vec<&str> = got[0].iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "date",
                "demand_h100e",
                "users[paid]",
                "binding[H100]",
                "binding_constraint"
            ]
        );
        // 2023-01-01 is day 19358 after 1970-01-01.
        assert_eq!(got[0][0].1, Field::Date(19358));
        assert_eq!(got[1][1].1, Field::Double(0.1));
        assert_eq!(got[1][2].1, Field::Double(11.0));
        assert_eq!(got[0][3].1, Field::Str("packaging".into()));
        assert_eq!(got[1][3].1, Field::Str(String::new()));
    }

    #[test]
    fn the_long_table_has_a_row_an_observation() {
        let got = rows(long(WIDE.as_bytes()).expect("writes"));
        assert_eq!(got.len(), 8);
        let row = |i: usize| -> Vec<Field> { got[i].iter().map(|(_, f)| f.clone()).collect() };
        assert_eq!(
            row(1),
            [
                Field::Date(19358),
                Field::Str("users".into()),
                Field::Str("paid".into()),
                Field::Double(10.0),
                Field::Str("users".into()),
                Field::Null,
            ]
        );
        assert_eq!(
            row(6),
            [
                Field::Date(19359),
                Field::Str("binding".into()),
                Field::Str("H100".into()),
                Field::Null,
                Field::Str(String::new()),
                Field::Str(String::new()),
            ]
        );
    }

    #[test]
    fn the_same_series_give_the_same_bytes() {
        assert_eq!(
            wide(WIDE.as_bytes()).unwrap(),
            wide(WIDE.as_bytes()).unwrap()
        );
        assert_eq!(
            long(WIDE.as_bytes()).unwrap(),
            long(WIDE.as_bytes()).unwrap()
        );
    }

    #[test]
    fn a_value_that_is_not_a_number_is_refused_naming_it() {
        let bad = "date,demand_h100e\n2023-01-01,x\n";
        let e = wide(bad.as_bytes()).expect_err("refused").to_string();
        assert!(
            e.contains("`x` in column demand_h100e on 2023-01-01"),
            "{e}"
        );
    }
}
