//! Field paths (`products[2].hbm_stacks`, `products.h100.hbm_stacks`) and looking them up.
//!
//! Grammar: segments separated by `.`; a segment is a bare word or a `"quoted"` key (with `\"`
//! and `\\` escapes); `[N]` or `[name]` may follow any segment or start the path. Applied to a
//! mapping, a segment is a key. Applied to a sequence, `[N]` is an index, and a bare segment is
//! the item whose `name` equals it or, failing that, an index when it is all digits.

use super::node::{Loc, Node, Value};

/// One step of a parsed path.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Segment {
    pub(super) text: String,
    /// Written as `[text]`.
    pub(super) bracket: bool,
}

/// The segments of a path as written (`products.H100.power_w` → `products`, `H100`,
/// `power_w`; `sites[0]` → `sites`, `0`), for tools that walk other trees with the same paths.
pub fn path_segments(path: &str) -> Result<Vec<String>, String> {
    Ok(parse_path(path)?.into_iter().map(|s| s.text).collect())
}

/// Splits a path into segments, or says what is wrong with it.
pub(super) fn parse_path(path: &str) -> Result<Vec<Segment>, String> {
    let mut out = Vec::new();
    let mut chars = path.chars().peekable();
    // True where a key segment must come next (start of path and after a dot).
    let mut need_key = true;
    while let Some(&c) = chars.peek() {
        if c == '[' {
            chars.next();
            let mut text = String::new();
            loop {
                match chars.next() {
                    Some(']') => break,
                    Some(c) => text.push(c),
                    None => return Err(format!("unclosed `[` in `{path}`")),
                }
            }
            if text.is_empty() {
                return Err(format!("empty `[]` in `{path}`"));
            }
            out.push(Segment {
                text,
                bracket: true,
            });
            need_key = false;
        } else if c == '.' {
            if need_key {
                return Err(format!("empty segment in `{path}`"));
            }
            chars.next();
            need_key = true;
        } else if !need_key {
            return Err(format!("expected `.` or `[` before `{c}` in `{path}`"));
        } else if c == '"' {
            chars.next();
            let mut text = String::new();
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some('\\') => match chars.next() {
                        Some(escaped) => text.push(escaped),
                        None => return Err(format!("unclosed `\"` in `{path}`")),
                    },
                    Some(c) => text.push(c),
                    None => return Err(format!("unclosed `\"` in `{path}`")),
                }
            }
            out.push(Segment {
                text,
                bracket: false,
            });
            need_key = false;
        } else {
            let mut text = String::new();
            while let Some(&c) = chars.peek() {
                if c == '.' || c == '[' {
                    break;
                }
                text.push(c);
                chars.next();
            }
            out.push(Segment {
                text,
                bracket: false,
            });
            need_key = false;
        }
    }
    if need_key && !out.is_empty() {
        return Err(format!("path `{path}` ends with `.`"));
    }
    if out.is_empty() && !path.is_empty() {
        return Err(format!("invalid path `{path}`"));
    }
    Ok(out)
}

/// Where `segment` leads from a node: a mapping entry or a sequence item.
pub(super) enum Step {
    Key(usize),
    Item(usize),
}

/// Finds the child `segment` selects in `node`, if any.
pub(super) fn step(node: &Node, segment: &Segment) -> Option<Step> {
    match &node.value {
        Value::Map(entries) => entries
            .iter()
            .position(|(k, _)| k.name == segment.text)
            .map(Step::Key),
        Value::Seq(items) => {
            let by_name = || {
                items
                    .iter()
                    .position(|item| item.item_name() == Some(segment.text.as_str()))
            };
            let by_index = || {
                segment.text.parse::<usize>().ok().filter(|&i| {
                    i < items.len() && segment.text.bytes().all(|b| b.is_ascii_digit())
                })
            };
            let found = if segment.bracket {
                by_index().or_else(by_name)
            } else {
                by_name().or_else(by_index)
            };
            found.map(Step::Item)
        }
        _ => None,
    }
}

/// Follows `segments` as far as they go; returns the chain of (key location, node) visited,
/// starting with the root, and whether the whole path was found.
fn walk<'a>(root: &'a Node, segments: &[Segment]) -> (Vec<(Option<Loc>, &'a Node)>, bool) {
    let mut chain = vec![(None, root)];
    let mut node = root;
    for segment in segments {
        let next = match (step(node, segment), &node.value) {
            (Some(Step::Key(i)), Value::Map(entries)) => {
                entries.get(i).map(|(k, child)| (Some(k.loc), child))
            }
            (Some(Step::Item(i)), Value::Seq(items)) => items.get(i).map(|child| (None, child)),
            _ => None,
        };
        match next {
            Some((key_loc, child)) => {
                chain.push((key_loc, child));
                node = child;
            }
            None => return (chain, false),
        }
    }
    (chain, true)
}

/// The location of the node at `path` (same display format as diagnostics, e.g.
/// `products[2].hbm_stacks` or `supply.packaging_lines[0].capacity`; named items also work:
/// `products.h100.hbm_stacks`). `None` if the path is malformed or leads nowhere.
pub fn locate(root: &Node, path: &str) -> Option<Loc> {
    let segments = parse_path(path).ok()?;
    match walk(root, &segments) {
        (chain, true) => chain.last().map(|(_, node)| node.loc),
        _ => None,
    }
}

/// Like [`locate`], but gives the location of the key when the path ends at a mapping entry
/// (the node's location for sequence items and the root).
pub fn locate_key(root: &Node, path: &str) -> Option<Loc> {
    let segments = parse_path(path).ok()?;
    match walk(root, &segments) {
        (chain, true) => chain
            .last()
            .map(|(key_loc, node)| key_loc.unwrap_or(node.loc)),
        _ => None,
    }
}

/// The location of the deepest node on `path` that exists: for a field that was left out (and
/// defaulted), the mapping that would hold it. Never fails; falls back to the root's location.
pub fn locate_nearest(root: &Node, path: &str) -> Loc {
    let segments = parse_path(path).unwrap_or_default();
    let (chain, _) = walk(root, &segments);
    chain.last().map_or(root.loc, |(_, node)| node.loc)
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    fn seg(text: &str, bracket: bool) -> Segment {
        Segment {
            text: text.to_string(),
            bracket,
        }
    }

    #[test]
    fn paths_parse_in_both_styles() {
        assert_eq!(
            parse_path("products[2].hbm_stacks"),
            Ok(vec![
                seg("products", false),
                seg("2", true),
                seg("hbm_stacks", false)
            ])
        );
        assert_eq!(
            parse_path("demand.\"1.5\".x"),
            Ok(vec![
                seg("demand", false),
                seg("1.5", false),
                seg("x", false)
            ])
        );
        assert_eq!(
            parse_path("[0][1]"),
            Ok(vec![seg("0", true), seg("1", true)])
        );
        assert_eq!(parse_path(""), Ok(vec![]));
        assert!(parse_path("a..b").is_err());
        assert!(parse_path("a.").is_err());
        assert!(parse_path("a[1").is_err());
        assert!(parse_path("a[1]b").is_err());
        assert!(parse_path("\"a").is_err());
        assert!(parse_path(".a").is_err());
    }

    #[test]
    fn locate_finds_values_keys_and_nearest_parents() {
        let root = parse(
            "supply:\n  packaging_lines:\n    - name: a\n      capacity: 5\n    - name: b\n",
            0,
        )
        .expect("yaml");
        let at = |l: Option<Loc>| l.map(|l| (l.line, l.column));
        assert_eq!(
            at(locate(&root, "supply.packaging_lines[0].capacity")),
            Some((4, 17))
        );
        assert_eq!(
            at(locate_key(&root, "supply.packaging_lines[0].capacity")),
            Some((4, 7))
        );
        assert_eq!(at(locate(&root, "supply.packaging_lines.b")), Some((5, 7)));
        assert_eq!(
            at(locate(&root, "supply.packaging_lines.1.name")),
            Some((5, 13))
        );
        assert_eq!(locate(&root, "supply.packaging_lines[1].capacity"), None);
        let nearest = locate_nearest(&root, "supply.packaging_lines[1].capacity");
        assert_eq!((nearest.line, nearest.column), (5, 7));
        assert_eq!(at(locate(&root, "")), Some((1, 1)));
        assert_eq!(locate(&root, "supply..x"), None);
    }
}
