//! No input makes capsim panic: mutated copies of the default scenario either load with a
//! clean error or run cleanly. Deterministic (a fixed LCG), bounded (short runs).

use std::panic::{AssertUnwindSafe, catch_unwind};

use capsim::model::simulate;
use capsim::scenario::{Source, load};

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() as usize) % xs.len()]
    }
}

/// Replaces one number, date or word of a random line, or drops or repeats a line.
fn mutate(text: &str, rng: &mut Lcg) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let i = (rng.next() as usize) % lines.len();
    match rng.next() % 4 {
        0 => {
            lines.remove(i);
        }
        1 => {
            let l = lines[i].clone();
            lines.insert(i, l);
        }
        _ => {
            let replacement = rng.pick(&[
                "0",
                "-1",
                "1e12",
                "1e-12",
                ".inf",
                "-.inf",
                "abc",
                "2023-13-45",
                "1900-01",
                "9999-12",
                "[]",
                "{}",
                "~",
                "true",
                "0.5",
                "4000000000",
            ]);
            let line = &lines[i];
            if let Some(colon) = line.find(": ") {
                let value_start = colon + 2;
                let rest = &line[value_start..];
                let end = rest.find(" #").map_or(line.len(), |c| value_start + c);
                lines[i] = format!("{}{}{}", &line[..value_start], replacement, &line[end..]);
            }
        }
    }
    lines.join("\n")
}

#[test]
fn mutated_scenarios_load_or_fail_cleanly_and_run_without_panics() {
    let base = capsim::scenario::DEFAULT_SCENARIO;
    let mut rng = Lcg(2026);
    let sets = vec!["end=2023-04-30".to_string()];
    let (mut ran, mut refused) = (0, 0);
    for case in 0..300 {
        let mut text = base.to_string();
        for _ in 0..(1 + rng.next() % 3) {
            text = mutate(&text, &mut rng);
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            match load(
                Source::Text {
                    name: "mutated.yaml",
                    text: &text,
                },
                &sets,
            ) {
                Ok(l) => {
                    let run = simulate(&l.scenario, 1);
                    assert_eq!(run.dates.len() as i64, run.summary.days);
                    true
                }
                Err(e) => {
                    // A clean error names at least one problem.
                    assert!(!e.diagnostics.is_empty());
                    assert!(!e.render().is_empty());
                    false
                }
            }
        }));
        match outcome {
            Ok(true) => ran += 1,
            Ok(false) => refused += 1,
            Err(_) => panic!("case {case} panicked on:\n{text}"),
        }
    }
    // Both paths are exercised.
    assert!(ran > 30 && refused > 30, "ran {ran}, refused {refused}");
}
