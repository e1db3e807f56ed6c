//! Tests across the layer: `from_node` errors, rendering, and a no-panic fuzz run.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use super::*;

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Raw {
    supply: RawSupply,
    #[serde(default)]
    products: Vec<RawProduct>,
    #[serde(default)]
    allocation: Option<Allocation>,
    #[serde(default)]
    demand: BTreeMap<String, f64>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct RawSupply {
    /// CoWoS capacity [wafers/month]
    cowos_capacity: f64,
    #[serde(default)]
    packaging_lines: Vec<RawLine>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct RawLine {
    name: String,
    capacity: u32,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct RawProduct {
    name: String,
    hbm_stacks: u32,
    #[serde(default)]
    tdp_w: Option<f64>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Allocation {
    ProRata,
    Priority,
    Bass { p: f64, q: f64 },
    Fixed(f64),
}

const GOOD: &str = "\
supply:
  cowos_capacity: 8000
  packaging_lines:
    - name: line_a
      capacity: 120.0
products:
  - name: h100
    hbm_stacks: 5
  - name: 2024
    hbm_stacks: 8
    tdp_w: 1000
allocation: pro_rata
demand:
  2024-01: 5
  2024-02: 6.5
";

fn load(text: &str) -> Node {
    match parse(text, 0) {
        Ok(node) => node,
        Err(e) => panic!("test yaml does not parse: {e}"),
    }
}

fn err_of<T: serde::de::DeserializeOwned + fmt::Debug>(text: &str) -> Diagnostic {
    match from_node::<T>(&load(text)) {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e,
    }
}

fn line_col(d: &Diagnostic) -> Option<(u32, u32)> {
    d.loc.map(|l| (l.line, l.column))
}

#[test]
fn good_scenario_deserializes_with_number_coercions() {
    let raw: Raw = from_node(&load(GOOD)).expect("valid scenario");
    // Int 8000 into f64; Float 120.0 into u32; Int 2024 into a String name.
    assert_eq!(raw.supply.cowos_capacity, 8000.0);
    assert_eq!(raw.supply.packaging_lines[0].capacity, 120);
    assert_eq!(raw.products[1].name, "2024");
    assert_eq!(raw.products[1].tdp_w, Some(1000.0));
    assert_eq!(raw.products[0].tdp_w, None);
    assert_eq!(raw.allocation, Some(Allocation::ProRata));
    assert_eq!(raw.demand.get("2024-02"), Some(&6.5));
}

#[test]
fn unknown_field_points_at_the_key_with_a_suggestion() {
    let err = err_of::<Raw>(
        "supply:\n  cowos_capacity: 1\n  packaging_lines:\n    - name: a\n      capcity: 3\n",
    );
    assert_eq!(
        err.message,
        "unknown field `capcity`, did you mean `capacity`?"
    );
    assert_eq!(err.path, "supply.packaging_lines[0].capcity");
    assert_eq!(line_col(&err), Some((5, 7)));
    assert_eq!(err.loc.map(|l| l.len), Some(7));

    let err = err_of::<Raw>("supply:\n  cowos_capacity: 1\n  colour: red\n");
    assert_eq!(
        err.message,
        "unknown field `colour`; expected one of `cowos_capacity`, `packaging_lines`"
    );
}

#[test]
fn type_errors_point_at_the_value() {
    let err = err_of::<Raw>("supply:\n  cowos_capacity: abc\n");
    assert_eq!(err.message, "expected a number, found a string \"abc\"");
    assert_eq!(err.path, "supply.cowos_capacity");
    assert_eq!(line_col(&err), Some((2, 19)));

    let err = err_of::<Raw>("supply: {cowos_capacity: \"8000\"}\n");
    assert_eq!(
        err.message,
        "expected a number, found a string \"8000\"; remove the quotes to make it a number"
    );

    let err = err_of::<Raw>(
        "supply:\n  cowos_capacity: 1\nproducts:\n  - name: a\n    hbm_stacks: 2.5\n",
    );
    assert_eq!(err.message, "expected a whole number, found the number 2.5");
    assert_eq!(err.path, "products[0].hbm_stacks");
    assert_eq!(line_col(&err), Some((5, 17)));

    let err =
        err_of::<Raw>("supply:\n  cowos_capacity: 1\nproducts:\n  - name: a\n    hbm_stacks: -1\n");
    assert_eq!(
        err.message,
        "expected a whole number, 0 or more, found the number -1"
    );

    // `.nan` never survives `parse`; a hand-built tree holding one is still refused.
    let err = parse("supply:\n  cowos_capacity: .nan\n", 0).expect_err("nan");
    assert_eq!(err.path, "supply.cowos_capacity");
    let mut tree = load("supply:\n  cowos_capacity: 1\n");
    if let Some(cap) = tree
        .get_mut("supply")
        .and_then(|s| s.get_mut("cowos_capacity"))
    {
        cap.value = Value::Float(f64::NAN);
    }
    let err = from_node::<Raw>(&tree).expect_err("nan");
    assert_eq!(err.message, "expected a number, found .nan");
    assert!(from_node::<serde_json::Value>(&tree).is_err());

    let err = err_of::<Raw>("supply:\n");
    assert_eq!(
        err.message,
        "expected a mapping, found an empty value (null); nothing is written under this key \
         (check the indentation)"
    );
    assert_eq!(err.path, "supply");
}

#[test]
fn missing_field_points_at_the_mapping() {
    let err = err_of::<Raw>(
        "supply:\n  cowos_capacity: 1\nproducts:\n  - name: a\n  - name: b\n    hbm_stacks: 1\n",
    );
    assert_eq!(err.message, "missing field `hbm_stacks`");
    assert_eq!(err.path, "products[0]");
    assert_eq!(line_col(&err), Some((4, 5)));

    let err = err_of::<Raw>("products: []\n");
    assert_eq!(err.message, "missing field `supply`");
    assert_eq!(err.path, "");
    assert_eq!(line_col(&err), Some((1, 1)));
}

#[test]
fn enums_accept_unit_names_and_tagged_maps() {
    let base = "supply: {cowos_capacity: 1}\nallocation: ";
    let alloc =
        |text: &str| from_node::<Raw>(&load(&format!("{base}{text}\n"))).map(|r| r.allocation);
    assert_eq!(alloc("priority"), Ok(Some(Allocation::Priority)));
    assert_eq!(
        alloc("{bass: {p: 0.03, q: 0.38}}"),
        Ok(Some(Allocation::Bass { p: 0.03, q: 0.38 }))
    );
    assert_eq!(alloc("{fixed: 3}"), Ok(Some(Allocation::Fixed(3.0))));
    assert_eq!(alloc("{pro_rata: ~}"), Ok(Some(Allocation::ProRata)));
    assert_eq!(alloc("~"), Ok(None));

    let err = alloc("pro_ratta").expect_err("typo");
    assert_eq!(
        err.message,
        "unknown value `pro_ratta`, did you mean `pro_rata`?"
    );
    assert_eq!(
        (err.path.as_str(), line_col(&err)),
        ("allocation", Some((2, 13)))
    );

    let err = alloc("{bass: {p: 0.03, qq: 1}}").expect_err("bad field");
    // Two-letter names are too short to guess at, so the choices are listed.
    assert_eq!(err.message, "unknown field `qq`; expected one of `p`, `q`");
    assert_eq!(err.path, "allocation.bass.qq");

    let err = alloc("bass").expect_err("needs fields");
    assert_eq!(err.message, "missing field `p`");
    let err = alloc("fixed").expect_err("needs a value");
    assert_eq!(
        err.message,
        "`fixed` needs a value; write it as `fixed: ...`"
    );
    let err = alloc("{priority: 3}").expect_err("unit with value");
    assert!(
        err.message.starts_with("`priority` takes no settings"),
        "{}",
        err.message
    );
    let err = alloc("[1]").expect_err("not a choice");
    assert!(
        err.message.starts_with("expected one of `pro_rata`"),
        "{}",
        err.message
    );
}

/// A hand-written type that accepts either a number or `{value: n, unit: s}`.
#[derive(Debug, PartialEq)]
struct Quantity(f64);

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Quantity;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a mapping with `value`")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Quantity, E> {
                Ok(Quantity(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Quantity, E> {
                Ok(Quantity(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Quantity, A::Error> {
                let mut value = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "value" => value = Some(map.next_value::<f64>()?),
                        _ => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                value
                    .map(Quantity)
                    .ok_or_else(|| de::Error::missing_field("value"))
            }
        }
        deserializer.deserialize_any(V)
    }
}

#[test]
fn deserialize_any_serves_hand_written_visitors() {
    #[derive(Debug, Deserialize)]
    struct Q {
        a: Quantity,
        b: Quantity,
        #[serde(default)]
        rest: Option<(u8, String)>,
    }
    let q: Q = from_node(&load(
        "a: 5\nb: {value: 2.5, unit: W}\nrest: [1, x]\nextra: [ignored]\n",
    ))
    .expect("valid");
    assert_eq!(
        (q.a, q.b, q.rest),
        (Quantity(5.0), Quantity(2.5), Some((1, "x".into())))
    );

    let err = from_node::<Q>(&load("a: true\nb: 1\n")).expect_err("bool");
    assert_eq!(
        err.message,
        "expected a number or a mapping with `value`, found the boolean true"
    );
    assert_eq!((err.path.as_str(), line_col(&err)), ("a", Some((1, 4))));

    let err = from_node::<Q>(&load("a: 1\nb: {value: x}\n")).expect_err("string");
    assert_eq!(err.path, "b.value");

    let err = from_node::<Q>(&load("a: 1\nb: 1\nrest: [1]\n")).expect_err("short tuple");
    assert_eq!(err.message, "expected a list of 2 items, found 1 item");
}

#[test]
fn maps_keyed_by_numbers_and_newtypes() {
    #[derive(Debug, Deserialize, PartialEq)]
    struct Year(u16);
    let by_year: BTreeMap<u16, Year> = from_node(&load("2024: 1\n2025: 2\n")).expect("valid");
    assert_eq!(by_year.get(&2025), Some(&Year(2)));
    let err = from_node::<BTreeMap<u16, u8>>(&load("2024: 1\nnext: 2\n")).expect_err("bad key");
    assert_eq!(
        err.message,
        "expected a whole number as key, found \"next\""
    );
    assert_eq!((err.path.as_str(), line_col(&err)), ("next", Some((2, 1))));
}

#[test]
fn render_snapshot() {
    let text = "\
supply:
  packaging_lines:
    - name: a
      capacity: 3
  cowos_capcity: 8000
";
    let mut sources = Sources::new();
    sources.add("other.yaml", "");
    let id = sources.add("scenarios/base.yaml", text);
    let root = match parse(text, id) {
        Ok(root) => root,
        Err(e) => panic!("{e}"),
    };
    let err = from_node::<Raw>(&root).expect_err("typo");
    assert_eq!(
        err.render(&sources),
        "\
error: unknown field `cowos_capcity`, did you mean `cowos_capacity`?
 --> scenarios/base.yaml:5:3
  |
5 |   cowos_capcity: 8000
  |   ^^^^^^^^^^^^^ at supply.cowos_capcity"
    );
    assert_eq!(
        err.one_line(&sources),
        "scenarios/base.yaml:5:3: supply.cowos_capcity: unknown field `cowos_capcity`, \
         did you mean `cowos_capacity`?"
    );
}

#[test]
fn render_snapshot_with_wide_line_numbers_and_values() {
    let mut text = "x: 1\n"
        .repeat(11)
        .replace("x", "k")
        .lines()
        .enumerate()
        .fold(String::new(), |mut acc, (i, line)| {
            acc.push_str(&line.replace('k', &format!("k{i}")));
            acc.push('\n');
            acc
        });
    text.push_str("supply: {cowos_capacity: twelve}\n");
    let mut sources = Sources::new();
    let id = sources.add("s.yaml", text.as_str());
    let root = parse(&text, id).unwrap_or_else(|e| panic!("{e}"));
    let supply = root
        .get("supply")
        .cloned()
        .unwrap_or_else(|| Node::null(Loc::UNKNOWN));
    let err = from_node::<RawSupply>(&supply).expect_err("type");
    assert_eq!(
        err.render(&sources),
        "\
error: expected a number, found a string \"twelve\"
  --> s.yaml:12:26
   |
12 | supply: {cowos_capacity: twelve}
   |                          ^^^^^^ at cowos_capacity"
    );
}

/// A tiny linear congruential generator (Knuth's MMIX constants), so the fuzz run is the same
/// on every machine.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next()).unwrap_or(0) % n.max(1)
    }
}

#[test]
fn fuzz_mutated_yaml_never_panics() {
    const PIECES: &[&str] = &[
        ":",
        " ",
        "\n",
        "-",
        "- ",
        "[",
        "]",
        "{",
        "}",
        ",",
        "\"",
        "'",
        "#",
        "&a ",
        "*a",
        "!",
        "|",
        ">",
        "?",
        "\t",
        "~",
        "0",
        "1e9",
        "-3",
        ".5",
        "_",
        "é",
        "😀",
        "\r\n",
        "<<: *a",
        "name: ",
        "  ",
        "    ",
        "null",
        "true",
        ".nan",
        "---",
        "...",
        "%YAML 1.2",
        "\\",
    ];
    let seeds = [GOOD, "a: &a {x: 1}\nb: *a\n", "- [1, 2]\n- {k: v}\n", ""];
    let schema_base = load(GOOD);
    let mut rng = Lcg(0x5eed);
    let mut parsed = 0;
    for round in 0..2_000 {
        let mut text: Vec<char> = seeds[round % seeds.len()].chars().collect();
        for _ in 0..1 + rng.below(6) {
            let at = rng.below(text.len() + 1);
            match rng.below(4) {
                0 => text
                    .splice(at..at, PIECES[rng.below(PIECES.len())].chars())
                    .for_each(drop),
                1 => {
                    let end = (at + 1 + rng.below(8)).min(text.len());
                    text.drain(at.min(end)..end).for_each(drop);
                }
                2 => {
                    let end = (at + rng.below(12)).min(text.len());
                    let copy: Vec<char> = text[at.min(end)..end].to_vec();
                    let to = rng.below(text.len() + 1);
                    text.splice(to..to, copy).for_each(drop);
                }
                _ => {
                    if let Some(c) = text.get_mut(at) {
                        *c = PIECES[rng.below(PIECES.len())]
                            .chars()
                            .next()
                            .unwrap_or('x');
                    }
                }
            }
        }
        let text: String = text.into_iter().collect();
        let mut sources = Sources::new();
        let id = sources.add("fuzz.yaml", text.as_str());
        match parse(&text, id) {
            Err(d) => {
                let _ = d.render(&sources);
            }
            Ok(node) => {
                parsed += 1;
                if let Err(d) = from_node::<Raw>(&node) {
                    let _ = d.render(&sources);
                    let _ = locate_nearest(&node, &d.path);
                    let _ = locate_key(&node, &d.path);
                }
                let _ = from_node::<serde_json::Value>(&node);
                let _ = from_node::<BTreeMap<String, Option<Vec<f64>>>>(&node);
                let mut merged = merge(schema_base.clone(), node.clone());
                let path = [
                    "supply.cowos_capacity",
                    "products.h100.x",
                    "products[9]",
                    "a.b",
                ][rng.below(4)];
                let _ = set_path(&mut merged, path, &text, Loc::COMMAND_LINE);
                let _ = from_node::<Raw>(&merged);
                let _ = merge(node, schema_base.clone());
            }
        }
    }
    // The mutations should leave a fair share of documents valid, or the run tests little.
    assert!(
        parsed > 200,
        "only {parsed} of 2000 mutated documents parsed"
    );
}

#[test]
fn deep_nesting_is_rejected_not_overflowed() {
    let text = format!("{}1{}", "[".repeat(5_000), "]".repeat(5_000));
    assert!(parse(&text, 0).is_err());
    let text = (0..200).fold(String::new(), |acc, i| {
        format!("{acc}{}k{i}:\n", " ".repeat(i))
    });
    let _ = parse(&text, 0).map(|n| from_node::<serde_json::Value>(&n));
}
