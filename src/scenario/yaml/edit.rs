//! Changing trees: `extends:` deep-merge and `--set path=value` overrides.

use super::diag::{Diagnostic, unknown_name_hint};
use super::node::{Key, Loc, Node, Value, child_path, item_path, plural};
use super::path::{Step, parse_path, step};
use super::syntax::{MAX_DEPTH, parse};

/// Deep-merges `over` onto `base` (for `extends:`).
///
/// - Two mappings merge key by key: keys in both are merged recursively (in `base`'s order,
///   with `over`'s key location); keys only in `over` are appended in `over`'s order.
/// - A non-empty sequence whose items are all mappings with a string `name` merges into a
///   `base` sequence by name: items with a matching name merge recursively, new names are
///   appended in order. So a what-if can change one product's field without repeating the list.
/// - A timeline map or a distribution (`{normal: {...}}`) in `over` is one value: it replaces
///   the `base` value whole.
/// - Anything else (scalars, other sequences, an empty sequence, a type change, null) replaces
///   the `base` value wholesale.
///
/// Merged collections keep `base`'s location; replaced values carry `over`'s, so errors point
/// at the file that set the value. Items cannot be removed from a named list by merging.
pub fn merge(base: Node, over: Node) -> Node {
    let Node {
        value: base_value,
        loc: base_loc,
    } = base;
    match (base_value, over.value) {
        (Value::Map(entries), Value::Map(over_entries))
            if !is_timeline(&over_entries) && !is_distribution(&over_entries) =>
        {
            Node::new(Value::Map(merge_maps(entries, over_entries)), base_loc)
        }
        (Value::Seq(items), Value::Seq(over_items)) if is_named_list(&over_items) => {
            Node::new(Value::Seq(merge_named(items, over_items)), base_loc)
        }
        (_, value) => Node::new(value, over.loc),
    }
}

/// A timeline map (`{2023-06: 8000}` or `{interpolation: .., points: ..}`) is one value: an
/// override replaces it whole rather than adding its dates to the base's.
fn is_timeline(entries: &[(Key, Node)]) -> bool {
    entries.iter().any(|(k, _)| {
        k.name.starts_with(|c: char| c.is_ascii_digit())
            || k.name == "points"
            || k.name == "interpolation"
    })
}

/// A distribution (`{normal: {mean: 1, sd: 0.1}}`) is one value too: an override replaces it
/// whole, so a child's `{uniform: ...}` does not merge with its base's `{normal: ...}`.
fn is_distribution(entries: &[(Key, Node)]) -> bool {
    matches!(entries, [(k, _)] if crate::scenario::dist::FAMILIES.contains(&k.name.as_str()))
}

fn is_named_list(items: &[Node]) -> bool {
    !items.is_empty() && items.iter().all(|item| item.item_name().is_some())
}

fn merge_maps(mut entries: Vec<(Key, Node)>, over: Vec<(Key, Node)>) -> Vec<(Key, Node)> {
    for (key, value) in over {
        match entries.iter().position(|(k, _)| k.name == key.name) {
            Some(at) => {
                let old = std::mem::replace(&mut entries[at].1, Node::null(Loc::UNKNOWN));
                entries[at] = (key, merge(old, value));
            }
            None => entries.push((key, value)),
        }
    }
    entries
}

fn merge_named(mut items: Vec<Node>, over: Vec<Node>) -> Vec<Node> {
    for item in over {
        let found = item
            .item_name()
            .and_then(|name| items.iter().position(|b| b.item_name() == Some(name)));
        match found {
            Some(at) => {
                let old = std::mem::replace(&mut items[at], Node::null(Loc::UNKNOWN));
                items[at] = merge(old, item);
            }
            None => items.push(item),
        }
    }
    items
}

/// Applies one `--set path.to.field=value` override.
///
/// Path segments are separated by `.` (see [`locate`](super::locate) for the full grammar).
/// On a sequence a segment selects the item whose `name` equals it, or a numeric index;
/// missing mapping keys (and null parents) are created, leaving misspelled fields for the
/// schema check to reject. `value` is parsed as YAML (`0.8`, `2024-01`, `[1, 2]`, `{a: 1}`,
/// `true`; empty means null) and every node of it is located at `loc`.
///
/// # Errors
///
/// A malformed path or value, a name or index that is not in a sequence (listing the known
/// names with a suggestion), or a path that goes through a scalar.
pub fn set_path(root: &mut Node, path: &str, value: &str, loc: Loc) -> Result<(), Diagnostic> {
    let fail = |message: String, at: &str| Diagnostic::error(message).at(loc).with_path(at);
    let segments = parse_path(path).map_err(|e| fail(format!("invalid --set path: {e}"), path))?;
    let Some((last, parents)) = segments.split_last() else {
        return Err(fail("--set needs a field path before `=`".to_string(), ""));
    };
    if segments.len() > MAX_DEPTH {
        return Err(fail(
            format!("--set path has more than {MAX_DEPTH} levels"),
            path,
        ));
    }
    let mut new_value = parse(value, loc.source).map_err(|e| {
        fail(
            format!("invalid --set value `{value}` for `{path}`: {}", e.message),
            path,
        )
    })?;
    new_value.relocate(loc);

    let mut node = root;
    let mut trail = String::new();
    for segment in parents {
        let (next, next_trail) = descend(node, segment, &trail, loc, path)?;
        node = next;
        trail = next_trail;
    }
    let (target, _) = descend(node, last, &trail, loc, path)?;
    *target = new_value;
    Ok(())
}

/// Splits a `--set` argument `path=value` at its first `=` and applies it with [`set_path`].
///
/// # Errors
///
/// A missing `=`, or anything [`set_path`] rejects.
pub fn set_arg(root: &mut Node, arg: &str, loc: Loc) -> Result<(), Diagnostic> {
    match arg.split_once('=') {
        Some((path, value)) => set_path(root, path.trim(), value, loc),
        None => Err(Diagnostic::error(format!(
            "--set `{arg}` needs the form `path.to.field=value`"
        ))
        .at(loc)),
    }
}

/// Moves from `node` to the child `segment` names, creating a null entry if a mapping lacks it.
fn descend<'a>(
    node: &'a mut Node,
    segment: &super::path::Segment,
    trail: &str,
    loc: Loc,
    path: &str,
) -> Result<(&'a mut Node, String), Diagnostic> {
    let fail = |message: String| Diagnostic::error(message).at(loc).with_path(trail);
    let shown = if trail.is_empty() {
        "the top level".to_string()
    } else {
        format!("`{trail}`")
    };
    if node.is_null() {
        node.value = Value::Map(Vec::new());
        if node.loc.is_unknown() {
            node.loc = loc;
        }
    }
    let found = step(node, segment);
    match &mut node.value {
        Value::Map(entries) => {
            let at = match found {
                Some(Step::Key(at)) => at,
                _ => {
                    let key = Key {
                        name: segment.text.clone(),
                        loc,
                    };
                    entries.push((key, Node::null(loc)));
                    entries.len() - 1
                }
            };
            let child = child_path(trail, &segment.text);
            match entries.get_mut(at) {
                Some((_, child_node)) => Ok((child_node, child)),
                None => Err(fail(format!("cannot set `{path}`"))),
            }
        }
        Value::Seq(items) => {
            let Some(Step::Item(at)) = found else {
                return Err(fail(missing_item(items, &segment.text, &shown)));
            };
            let child = item_path(trail, at);
            match items.get_mut(at) {
                Some(item) => Ok((item, child)),
                None => Err(fail(format!("cannot set `{path}`"))),
            }
        }
        other => Err(fail(format!(
            "cannot set `{path}`: {shown} is {}, not a mapping or a list",
            other.kind()
        ))),
    }
}

fn missing_item(items: &[Node], wanted: &str, shown: &str) -> String {
    let names: Vec<&str> = items.iter().filter_map(Node::item_name).collect();
    let count = items.len();
    let index_hint = if count == 0 {
        format!("{shown} is an empty list")
    } else {
        format!("{shown} has {count} item{}", plural(count))
    };
    if wanted.bytes().all(|b| b.is_ascii_digit()) {
        return format!("index {wanted} is out of range: {index_hint}");
    }
    if names.is_empty() {
        return format!(
            "no item named `{wanted}`: {index_hint} and none has a `name`; select by index"
        );
    }
    format!(
        "no item named `{wanted}` in {shown}{}",
        unknown_name_hint(wanted, &names)
    )
}

#[cfg(test)]
mod tests {
    use super::super::{locate, parse};
    use super::*;

    fn yaml(text: &str) -> Node {
        parse(text, 0).expect("valid yaml")
    }

    fn set(root: &mut Node, path: &str, value: &str) -> Result<(), Diagnostic> {
        set_path(root, path, value, Loc::COMMAND_LINE)
    }

    #[test]
    fn maps_merge_key_by_key_and_keep_override_locations() {
        let base = yaml("a: 1\nb:\n  x: 1\n  y: 2\nc: [1, 2]\n");
        let over = parse("b:\n  y: 20\n  z: 30\nc: [3]\nd: new\n", 1).expect("yaml");
        let merged = merge(base, over);
        let keys: Vec<&str> = merged
            .as_map()
            .unwrap_or_default()
            .iter()
            .map(|(k, _)| k.name.as_str())
            .collect();
        assert_eq!(keys, ["a", "b", "c", "d"]);
        let b = merged.get("b").expect("b");
        assert_eq!(b.get("x").and_then(Node::as_i64), Some(1));
        assert_eq!(b.get("y").and_then(Node::as_i64), Some(20));
        assert_eq!(b.get("z").and_then(Node::as_i64), Some(30));
        // y was set by the second file (source 1, line 2); x still points at the first.
        let y = b.get("y").map(|n| n.loc).unwrap_or(Loc::UNKNOWN);
        assert_eq!((y.source, y.line), (1, 2));
        assert_eq!(b.get("x").map(|n| n.loc.source), Some(0));
        // an unnamed sequence is replaced wholesale
        assert_eq!(
            merged.get("c").and_then(Node::as_seq).map(<[Node]>::len),
            Some(1)
        );
    }

    #[test]
    fn named_sequences_merge_by_name() {
        let base = yaml(concat!(
            "products:\n",
            "  - name: h100\n    hbm_stacks: 5\n    tdp_w: 700\n",
            "  - name: b200\n    hbm_stacks: 8\n",
        ));
        let over = yaml(
            "products:\n  - name: b200\n    hbm_stacks: 6\n  - name: r100\n    hbm_stacks: 12\n",
        );
        let merged = merge(base, over);
        let products = merged
            .get("products")
            .and_then(Node::as_seq)
            .unwrap_or_default();
        let names: Vec<&str> = products.iter().filter_map(Node::item_name).collect();
        assert_eq!(names, ["h100", "b200", "r100"]);
        assert_eq!(products[0].get("tdp_w").and_then(Node::as_i64), Some(700));
        assert_eq!(
            products[1].get("hbm_stacks").and_then(Node::as_i64),
            Some(6)
        );
    }

    #[test]
    fn other_values_replace_wholesale() {
        let merged = merge(yaml("a: {x: 1}\nb: [1]\n"), yaml("a: 5\nb: []\n"));
        assert_eq!(merged.get("a").and_then(Node::as_i64), Some(5));
        assert_eq!(
            merged.get("b").and_then(Node::as_seq).map(<[Node]>::len),
            Some(0)
        );
        let merged = merge(yaml("a: 1"), yaml("a: ~"));
        assert!(merged.get("a").is_some_and(Node::is_null));
    }

    #[test]
    fn set_path_creates_keys_and_parses_values_as_yaml() {
        let mut root = yaml("supply:\n  cowos_capacity: 8000\nmeta:\n");
        assert_eq!(set(&mut root, "supply.cowos_capacity", "0.8"), Ok(()));
        assert_eq!(set(&mut root, "supply.new.deep", "[1, 2]"), Ok(()));
        assert_eq!(set(&mut root, "meta.start", "2024-01"), Ok(()));
        assert_eq!(set(&mut root, "meta.flags", "{a: 1, b: true}"), Ok(()));
        let supply = root.get("supply").expect("supply");
        assert_eq!(
            supply.get("cowos_capacity").and_then(Node::as_f64),
            Some(0.8)
        );
        assert_eq!(
            locate(&root, "supply.cowos_capacity"),
            Some(Loc::COMMAND_LINE)
        );
        let deep = locate(&root, "supply.new.deep[1]");
        assert_eq!(deep, Some(Loc::COMMAND_LINE));
        let meta = root.get("meta").expect("meta");
        assert_eq!(meta.get("start").and_then(Node::as_str), Some("2024-01"));
        assert_eq!(
            meta.get("flags")
                .and_then(|f| f.get("b"))
                .and_then(Node::as_bool),
            Some(true)
        );
    }

    #[test]
    fn set_path_selects_items_by_name_or_index() {
        let mut root = yaml("products:\n  - name: h100\n    hbm: 5\n  - name: b200\n    hbm: 8\n");
        assert_eq!(set(&mut root, "products.b200.hbm", "6"), Ok(()));
        assert_eq!(set(&mut root, "products[0].hbm", "4"), Ok(()));
        assert_eq!(set(&mut root, "products.0.tdp_w", "700"), Ok(()));
        let items = root
            .get("products")
            .and_then(Node::as_seq)
            .unwrap_or_default();
        assert_eq!(items[1].get("hbm").and_then(Node::as_i64), Some(6));
        assert_eq!(items[0].get("hbm").and_then(Node::as_i64), Some(4));
        assert_eq!(items[0].get("tdp_w").and_then(Node::as_i64), Some(700));
    }

    #[test]
    fn set_path_errors_name_the_choices() {
        let mut root = yaml("products:\n  - name: h100\n  - name: b200\nn: 5\n");
        let err = set(&mut root, "products.b20.hbm", "6").expect_err("bad name");
        assert_eq!(
            err.message,
            "no item named `b20` in `products`, did you mean `b200`?"
        );
        assert_eq!(err.path, "products");
        assert_eq!(err.loc, Some(Loc::COMMAND_LINE));
        let err = set(&mut root, "products.zzz.hbm", "6").expect_err("bad name");
        assert!(
            err.message.ends_with("expected one of `h100`, `b200`"),
            "{}",
            err.message
        );
        let err = set(&mut root, "products[7]", "6").expect_err("bad index");
        assert_eq!(
            err.message,
            "index 7 is out of range: `products` has 2 items"
        );
        let err = set(&mut root, "n.x", "6").expect_err("through a scalar");
        assert_eq!(
            err.message,
            "cannot set `n.x`: `n` is a number, not a mapping or a list"
        );
        assert!(set(&mut root, "a..b", "1").is_err());
        assert!(set(&mut root, "", "1").is_err());
        assert!(set(&mut root, &["a"; 1000].join("."), "1").is_err());
        let err = set(&mut root, "a", "[1,").expect_err("bad value");
        assert!(
            err.message.starts_with("invalid --set value `[1,` for `a`"),
            "{}",
            err.message
        );
        assert!(set_arg(&mut root, "no_equals", Loc::COMMAND_LINE).is_err());
        assert_eq!(set_arg(&mut root, "n=7", Loc::COMMAND_LINE), Ok(()));
        assert_eq!(root.get("n").and_then(Node::as_i64), Some(7));
    }
}
