//! Timelines read from CSV files: `{csv: FILE, date: COLUMN, value: COLUMN}`.
//!
//! Any timeline of a scenario may name a CSV file instead of listing its points. Before the
//! tree is checked, each such map is replaced by the timeline it stands for, `{points: {DATE:
//! VALUE, ...}}` (with its `interpolation:` if it has one), whose dates and values are located
//! in the CSV file: a bad date or number is reported at the CSV's line and column, as a bad
//! value written inline is in the YAML. `source:` records where the data came from (for the
//! reader and the manifest); it does not reach the model.

use super::yaml::{Diagnostic, Key, Loc, Node, Value};

/// The keys a CSV timeline may have.
pub const KEYS: [&str; 5] = ["csv", "date", "value", "interpolation", "source"];

/// Largest CSV file a timeline reads \[bytes\]: 16 MiB, as for observations.
pub const MAX_CSV_BYTES: u64 = 16 * 1024 * 1024;

/// A CSV timeline found in the tree: where its map is, and what it names.
pub struct Request {
    /// The file as written (`csv:`), and where.
    pub file: String,
    pub file_loc: Loc,
    /// Column names, and where they are written.
    pub date: (String, Loc),
    pub value: (String, Loc),
    /// The recorded source, if any.
    pub source: Option<String>,
}

/// Reads the `{csv: ...}` map `node` into a [`Request`], or the problems with its keys.
pub fn request(node: &Node) -> Result<Request, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let Some(map) = node.as_map() else {
        return Err(problems);
    };
    for (k, _) in map {
        if !KEYS.contains(&k.name.as_str()) {
            problems.push(
                Diagnostic::error(format!(
                    "unknown key `{}` in a CSV timeline{}; it takes csv, date, value, and \
                     optionally interpolation and source",
                    k.name,
                    super::yaml::did_you_mean(&k.name, KEYS.iter().copied())
                        .map(|m| format!(" (did you mean `{m}`?)"))
                        .unwrap_or_default()
                ))
                .at(k.loc),
            );
        }
    }
    let text = |key: &str, problems: &mut Vec<Diagnostic>| -> Option<(String, Loc)> {
        match node.get(key) {
            Some(n) => match n.as_str() {
                Some(s) if !s.trim().is_empty() => Some((s.trim().to_string(), n.loc)),
                _ => {
                    problems.push(
                        Diagnostic::error(format!(
                            "`{key}` of a CSV timeline takes {}",
                            if key == "csv" {
                                "the path of a CSV file, relative to this scenario file"
                            } else {
                                "the name of a column of the CSV file's header"
                            }
                        ))
                        .at(n.loc),
                    );
                    None
                }
            },
            None => {
                problems.push(
                    Diagnostic::error(format!(
                        "a CSV timeline needs `{key}:` (csv: FILE, date: COLUMN, value: COLUMN)"
                    ))
                    .at(node.loc),
                );
                None
            }
        }
    };
    let file = text("csv", &mut problems);
    let date = text("date", &mut problems);
    let value = text("value", &mut problems);
    let source = node
        .get("source")
        .and_then(|n| n.as_str().map(str::to_string));
    match (file, date, value) {
        (Some(file), Some(date), Some(value)) if problems.is_empty() => Ok(Request {
            file: file.0,
            file_loc: file.1,
            date,
            value,
            source,
        }),
        _ => Err(problems),
    }
}

/// The timeline the CSV `text` (registered as source `id`) gives for `req`: a map of its
/// dates to its values, each located in the CSV. Lines starting with `#` are comments; the
/// first other line is the header. A value that is not a number stays text, for the checks
/// of the field to report at its place.
pub fn points(req: &Request, text: &str, id: u32) -> Result<Node, Vec<Diagnostic>> {
    let loc = |line: usize, column: u32, len: usize| Loc {
        source: id,
        line: line as u32,
        column,
        len: len as u32,
    };
    let mut problems = Vec::new();
    let mut cols: Option<(usize, usize, usize)> = None;
    let mut entries: Vec<(Key, Node)> = Vec::new();
    let mut first: Option<Loc> = None;
    for (line_no, line) in crate::backtest::data_lines(text) {
        let fields = match crate::backtest::split_fields(line) {
            Ok(f) => f,
            Err((col, message)) => {
                problems.push(Diagnostic::error(message).at(loc(line_no, col, 1)));
                continue;
            }
        };
        let Some((d, v, width)) = cols else {
            // The header.
            let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
            let find = |(want, at): &(String, Loc), problems: &mut Vec<Diagnostic>| {
                let found = names.iter().position(|n| n == want);
                if found.is_none() {
                    problems.push(
                        Diagnostic::error(format!(
                            "the CSV file's header (line {line_no}) has no column `{want}`{}; \
                             its columns: {}",
                            super::yaml::did_you_mean(want, names.iter().copied())
                                .map(|m| format!(", did you mean `{m}`?"))
                                .unwrap_or_default(),
                            names.join(", ")
                        ))
                        .at(*at),
                    );
                }
                found
            };
            let (dc, vc) = (
                find(&req.date, &mut problems),
                find(&req.value, &mut problems),
            );
            match (dc, vc) {
                (Some(dc), Some(vc)) => cols = Some((dc, vc, fields.len())),
                _ => return Err(problems),
            }
            continue;
        };
        if fields.len() != width {
            problems.push(
                Diagnostic::error(crate::backtest::wrong_width(fields.len(), width)).at(loc(
                    line_no,
                    1,
                    line.chars().count(),
                )),
            );
            continue;
        }
        let (date, dcol) = &fields[d];
        let (value, vcol) = &fields[v];
        let key_loc = loc(line_no, *dcol, date.chars().count());
        let val_loc = loc(line_no, *vcol, value.chars().count());
        first.get_or_insert(key_loc);
        if let Some((k, _)) = entries.iter().find(|(k, _)| k.name == *date) {
            problems.push(
                Diagnostic::error(format!(
                    "date `{date}` appears twice in the CSV file (first on line {})",
                    k.loc.line
                ))
                .at(key_loc),
            );
            continue;
        }
        let number = value.replace('_', "").parse::<f64>().ok();
        let node = Node::new(
            match number {
                Some(x) => Value::Float(x),
                None => Value::Str(value.clone()),
            },
            val_loc,
        );
        entries.push((
            Key {
                name: date.clone(),
                loc: key_loc,
            },
            node,
        ));
    }
    if cols.is_none() {
        problems.push(
            Diagnostic::error("the CSV file has no header line (and no data)").at(req.file_loc),
        );
    } else if entries.is_empty() && problems.is_empty() {
        problems.push(
            Diagnostic::error("the CSV file has a header but no rows: a timeline needs a point")
                .at(req.file_loc),
        );
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Node::new(
        Value::Map(entries),
        first.unwrap_or(req.file_loc),
    ))
}
