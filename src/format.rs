//! How numbers are written, in one place: for files (shortest round-trip form), for people
//! (`1.2k`, `$4.5B`, `1,027`), for chart axes ([`NumFormat`]) and for durations.
//!
//! A leaf: it depends on nothing else in the crate, so the model's reports, the what-if logic,
//! the charts and the CLI can all use it without depending on one another. Where two places
//! write the same kind of number differently (a table's `1,027` against a chart's `1.0k`),
//! both forms are here, named for what they are for.

/// The shortest decimal form that reads back as the same float, written as `ryu` writes
/// it (`0.1`, `1.0`, `1e16`, `1.5e-7`, `NaN`, `inf`), by `zmij` (Schubfach with a faster
/// digit generation; about twice `ryu`'s speed on this project's numbers), whose only
/// difference is a `+` in positive exponents (`1e+16`), taken out here. The tests check the
/// two crates' bytes against each other over millions of values.
#[derive(Default)]
pub struct Shortest {
    buf: zmij::Buffer,
    /// The form without the exponent's `+`, when it had one.
    plain: [u8; 32],
}

impl Shortest {
    /// A buffer to format numbers with.
    pub fn new() -> Self {
        Self::default()
    }

    /// `v` in its shortest round-trip form.
    pub fn format(&mut self, v: f64) -> &str {
        let (head, tail) = without_plus(self.buf.format(v).as_bytes());
        let len = head.len() + tail.len();
        self.plain[..head.len()].copy_from_slice(head);
        self.plain[head.len()..len].copy_from_slice(tail);
        // ASCII digits, `-`, `.`, `e` and the letters of `NaN` and `inf`: valid UTF-8.
        std::str::from_utf8(&self.plain[..len]).unwrap_or_default()
    }

    /// Appends `v`'s shortest round-trip form to `out` ([`Shortest::format`]'s bytes).
    pub fn push(&mut self, out: &mut Vec<u8>, v: f64) {
        let (head, tail) = without_plus(self.buf.format(v).as_bytes());
        out.extend_from_slice(head);
        out.extend_from_slice(tail);
    }
}

/// `zmij`'s form as the two pieces around the `+` of a positive exponent (which can be its
/// only `+`): joined, `ryu`'s form.
fn without_plus(b: &[u8]) -> (&[u8], &[u8]) {
    match b.iter().position(|&c| c == b'+') {
        Some(plus) => (&b[..plus], &b[plus + 1..]),
        None => (b, &[]),
    }
}

/// Whether `v` is a whole number below 10¹⁵ in magnitude, and which: the integers the
/// files write without a fraction. Exact: below 2⁵³ the conversion to `i64` and back keeps
/// every whole number and changes every other (no `trunc` call, which is a library call
/// on baseline x86-64).
pub fn whole_below_1e15(v: f64) -> Option<i64> {
    if v.abs() < 1e15 {
        // |v| < 10^15 < 2^63: the cast truncates toward zero without saturating.
        #[allow(clippy::cast_possible_truncation)]
        let i = v as i64;
        #[allow(clippy::cast_precision_loss)]
        (i as f64 == v).then_some(i)
    } else {
        None
    }
}

/// A number for CSV and JSON-like text: `0` for both zeros, whole numbers below 10¹⁵ as
/// integers, others in their shortest round-trip form ([`Shortest`]; `report::csvout`
/// writes the same bytes in place).
pub fn fmt_num(buf: &mut Shortest, v: f64) -> &str {
    if v == 0.0 {
        return "0";
    }
    if whole_below_1e15(v).is_some() {
        // Whole numbers print as integers, without the shortest form's ".0".
        let s = buf.format(v);
        return s.strip_suffix(".0").unwrap_or(s);
    }
    buf.format(v)
}

/// [`fmt_num`] as an owned string.
pub fn num(v: f64) -> String {
    fmt_num(&mut Shortest::new(), v).to_string()
}

/// [`num`], or empty for no value (NaN): a cell of the what-if CSVs.
pub fn num_or_empty(v: f64) -> String {
    if v.is_nan() { String::new() } else { num(v) }
}

/// A number written into a `--set` override: rounded where the field holds an integer,
/// otherwise the shortest round-trip form ([`Shortest`], which keeps `.0` on whole numbers).
pub fn set_value(v: f64, integer: bool) -> String {
    if integer {
        format!("{}", v.round() as i64)
    } else {
        Shortest::new().format(v).to_string()
    }
}

/// A number in a message about an input: Rust's plain form when ordinary (`0.85`, `120000`),
/// scientific when huge or tiny (`1e15`, `2.5e-7`), so a mistyped magnitude shows as such.
pub fn in_message(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e9).contains(&a) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// `v` scaled to thousands, millions, billions or trillions, with the suffix: `(1.2, "M")`.
pub fn scaled(v: f64) -> (f64, &'static str) {
    let a = v.abs();
    if a >= 1e12 {
        (v / 1e12, "T")
    } else if a >= 1e9 {
        (v / 1e9, "B")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    }
}

/// `n` and a noun, plural unless `n` is 1: `1 episode`, `2 episodes`, `0 episodes` (nouns
/// that take an `s`).
pub fn plural(n: i64, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// A number for people: 1.2k, 3.4M, 5.6B.
pub fn human(v: f64) -> String {
    match scaled(v) {
        (x, "") => format!("{x:.0}"),
        (x, suffix) => format!("{x:.1}{suffix}"),
    }
}

/// Money for people: $4.5B.
pub fn usd(v: f64) -> String {
    if v < 0.0 {
        format!("-${}", human(-v))
    } else {
        format!("${}", human(v))
    }
}

/// A difference for people, signed: `+1.2k`, `−$3.4M` (a minus sign, U+2212), `0` (as
/// [`human`] or, for money, [`usd`], of its size).
pub fn signed(v: f64, money: bool) -> String {
    let sign = if v > 0.0 {
        "+"
    } else if v < 0.0 {
        "−"
    } else {
        ""
    };
    let body = if money { usd(v.abs()) } else { human(v.abs()) };
    format!("{sign}{body}")
}

/// A number to fixed places, as `capsim check` words an assertion: whole numbers below 10¹⁵
/// as integers, from 1000 up to a tenth, others to four decimals (`442`, `1234.5`, `0.8500`).
pub fn fixed(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else if v.abs() >= 1e3 {
        format!("{v:.1}")
    } else {
        format!("{v:.4}")
    }
}

/// A number to four significant digits at most, scaled like [`human`], trailing zeros
/// dropped: 1.25M, 250k, 443.6, 0.005. Tick labels use it, and the Monte Carlo table, where
/// a mean and its confidence interval must read apart.
pub fn compact(v: f64) -> String {
    if !v.is_finite() {
        return "0".into();
    }
    let (x, suffix) = scaled(v);
    format!("{}{suffix}", plain(x))
}

/// Money as [`compact`]: $1.25B, -$300k.
pub fn usd_compact(v: f64) -> String {
    if v < 0.0 {
        format!("-${}", compact(-v))
    } else {
        format!("${}", compact(v))
    }
}

/// Four significant digits at most, trailing zeros dropped.
fn plain(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let mag = x.abs().log10().floor() as i32;
    let decimals = (3 - mag).clamp(0, 8) as usize;
    let s = format!("{x:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" { "0".into() } else { s }
}

/// A share as a percentage to a tenth: 0.547 is `54.7%`.
pub fn share_pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// A share as a whole percentage: 0.547 is `55%`.
pub fn whole_pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

/// To a tenth, a whole number without `.0`: `12.5`, `45`.
pub fn tenths(v: f64) -> String {
    let s = format!("{v:.1}");
    s.strip_suffix(".0").map_or(s.clone(), str::to_string)
}

/// Digits of an integer (an optional `-`, then digits) with thousands separators: `1,027`.
pub(crate) fn group(int: &str) -> String {
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

/// A number for a table a person reads: whole numbers in full with thousands separators
/// (1,027, not 1.0k), others to four significant digits.
pub fn precise(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return group(&format!("{v:.0}"));
    }
    let digits = (3 - v.abs().log10().floor() as i32).clamp(0, 12) as usize;
    let text = format!("{v:.digits$}");
    match text.split_once('.') {
        Some((i, f)) => {
            let f = f.trim_end_matches('0');
            if f.is_empty() {
                group(i)
            } else {
                format!("{}.{f}", group(i))
            }
        }
        None => group(&text),
    }
}

/// A value read off a chart (a solve's answer): thousands written out to the unit (`9,141`),
/// others as on the axes (`1.25M`, `0.7234`).
pub fn readout(v: f64) -> String {
    if !(1e3..1e6).contains(&v.abs()) {
        return compact(v);
    }
    let out = group(&format!("{}", v.abs().round() as u64));
    if v < 0.0 { format!("-{out}") } else { out }
}

/// A count of replications in words: "1 replication", "20 replications".
pub fn replications(n: u64) -> String {
    if n == 1 {
        "1 replication".to_string()
    } else {
        format!("{n} replications")
    }
}

/// Seconds in words: "40 s", "12 min", "3.5 h", "2.1 days".
pub fn duration_words(secs: f64) -> String {
    if secs < 120.0 {
        format!("{secs:.0} s")
    } else if secs < 7200.0 {
        format!("{:.0} min", secs / 60.0)
    } else if secs < 172_800.0 {
        format!("{:.1} h", secs / 3600.0)
    } else {
        format!("{:.1} days", secs / 86_400.0)
    }
}

/// How the values of a chart's axis are written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NumFormat {
    /// 1.25M, 250k, 0.5
    Count,
    /// $1.25B
    Usd,
    /// 25% (values already in percent)
    Percent,
}

impl NumFormat {
    /// A value written beside a mark: counts as [`readout`] (`1,211`, not `1.211k`), others as
    /// their ticks.
    pub fn value(self, v: f64) -> String {
        match self {
            NumFormat::Count => readout(v),
            _ => self.tick(v),
        }
    }

    /// A tick label.
    pub fn tick(self, v: f64) -> String {
        match self {
            NumFormat::Count => compact(v),
            NumFormat::Usd => usd_compact(v),
            NumFormat::Percent => format!("{}%", compact(v)),
        }
    }

    /// A tick of an axis whose ticks are `step` apart and reach `top` in magnitude: every
    /// tick scaled alike (by the suffix of `top`), with as many decimals as the step needs,
    /// so that close ticks (2.354B, 2.355B) read apart.
    pub fn tick_step(self, v: f64, step: f64, top: f64) -> String {
        let (t, suffix) = scaled(top);
        let unit = if t != 0.0 { top / t } else { 1.0 };
        let decimals = (-(step / unit).log10() - 1e-9).ceil().clamp(0.0, 8.0) as usize;
        let x = v / unit;
        let x = if x.abs() < step / unit / 2.0 { 0.0 } else { x };
        let body = format!("{:.decimals$}{suffix}", x.abs());
        match (self, x < 0.0) {
            (NumFormat::Usd, true) => format!("-${body}"),
            (NumFormat::Usd, false) => format!("${body}"),
            (NumFormat::Percent, neg) => format!("{}{body}%", if neg { "-" } else { "" }),
            (NumFormat::Count, neg) => format!("{}{body}", if neg { "-" } else { "" }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Shortest` writes ryu's bytes: special values, both exponent forms and their edges,
    /// then two million values from every range (random bit patterns, magnitudes from 1e-12
    /// to 1e20, cents, ratios).
    #[test]
    fn shortest_writes_what_ryu_writes() {
        use rand::{RngExt, SeedableRng};
        let mut ryu = ryu::Buffer::new();
        let mut ours = Shortest::new();
        let mut pushed = Vec::new();
        let mut check = |v: f64| {
            let theirs = ryu.format(v);
            assert_eq!(ours.format(v), theirs, "{v:e}");
            pushed.clear();
            ours.push(&mut pushed, v);
            assert_eq!(pushed, theirs.as_bytes(), "{v:e}");
        };
        for v in [
            0.0,
            -0.0,
            0.1,
            1.0,
            -1.0,
            100.0,
            2.5,
            1e15,
            1e16,
            1.5e16,
            9.999e15,
            1e21,
            1e22,
            1e100,
            -1e300,
            1e-4,
            1e-5,
            1.5e-6,
            1e-7,
            1e-300,
            5e-324,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            f64::EPSILON,
            0.300_000_000_000_000_04,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            check(v);
        }
        let mut rng = rand::rngs::StdRng::seed_from_u64(15);
        for i in 0..2_000_000u32 {
            let v = match i % 4 {
                0 => f64::from_bits(rng.random::<u64>()),
                1 => rng.random::<f64>() * 10f64.powi(rng.random_range(-12..21)),
                2 => (rng.random::<f64>() * 1e7).round() / 100.0,
                _ => rng.random_range(-1e9..1e9) / 7.0,
            };
            check(v);
        }
    }

    #[test]
    fn whole_numbers_below_1e15_are_found_exactly() {
        assert_eq!(whole_below_1e15(3.0), Some(3));
        assert_eq!(whole_below_1e15(-42.0), Some(-42));
        assert_eq!(whole_below_1e15(-0.0), Some(0));
        assert_eq!(
            whole_below_1e15(999_999_999_999_999.0),
            Some(999_999_999_999_999)
        );
        for v in [
            0.5,
            -2.5,
            1e15,
            -1e15,
            1e300,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            5e-324,
            999_999_999_999_999.5,
        ] {
            assert_eq!(whole_below_1e15(v), None, "{v:e}");
        }
    }

    #[test]
    fn compact_numbers_read_like_people_write_them() {
        assert_eq!(compact(0.0), "0");
        assert_eq!(compact(1_250_000.0), "1.25M");
        assert_eq!(compact(250_000.0), "250k");
        assert_eq!(compact(2_000_000_000.0), "2B");
        assert_eq!(compact(0.005), "0.005");
        assert_eq!(compact(0.30000000000000004), "0.3");
        assert_eq!(compact(150.0), "150");
        assert_eq!(NumFormat::Usd.tick(4.5e9), "$4.5B");
        assert_eq!(NumFormat::Percent.tick(40.0), "40%");
    }

    #[test]
    fn close_value_ticks_get_the_decimals_that_tell_them_apart() {
        // Ticks 1M apart near 2.36B: three decimals of billions.
        assert_eq!(NumFormat::Usd.tick_step(2.354e9, 1e6, 2.37e9), "$2.354B");
        // 500k apart: four decimals.
        assert_eq!(NumFormat::Usd.tick_step(2.3545e9, 5e5, 2.37e9), "$2.3545B");
        // Whole days.
        assert_eq!(NumFormat::Count.tick_step(442.0, 1.0, 445.0), "442");
        // A tick at zero reads 0, not -0.
        assert_eq!(NumFormat::Count.tick_step(-1e-12, 0.5, 3.0), "0.0");
    }

    #[test]
    fn table_numbers_are_in_full() {
        assert_eq!(precise(1027.0), "1,027");
        assert_eq!(precise(20000.0), "20,000");
        assert_eq!(precise(-1234567.0), "-1,234,567");
        assert_eq!(precise(1.5), "1.5");
        assert_eq!(precise(0.012345), "0.01235");
        assert_eq!(precise(12851.5625), "12,852");
    }

    #[test]
    fn differences_and_fixed_places() {
        assert_eq!(signed(1234.0, false), "+1.2k");
        assert_eq!(signed(-3.4e6, true), "−$3.4M");
        assert_eq!(signed(0.0, true), "$0");
        assert_eq!(fixed(442.0), "442");
        assert_eq!(fixed(1234.56), "1234.6");
        assert_eq!(fixed(0.85), "0.8500");
    }

    #[test]
    fn answers_are_written_out() {
        assert_eq!(readout(9140.625), "9,141");
        assert_eq!(readout(1_250_000.0), "1.25M");
        assert_eq!(readout(23.7004), "23.7");
        assert_eq!(readout(-4500.0), "-4,500");
    }

    #[test]
    fn file_numbers_are_shortest() {
        assert_eq!(num(-0.0), "0");
        assert_eq!(num(42.0), "42");
        assert_eq!(num(0.1), "0.1");
        assert_eq!(num(1e16), "1e16");
        assert_eq!(num_or_empty(f64::NAN), "");
        assert_eq!(set_value(840.0, false), "840.0");
        assert_eq!(set_value(839.6, true), "840");
    }

    #[test]
    fn words_and_shares() {
        assert_eq!(duration_words(40.0), "40 s");
        assert_eq!(duration_words(720.0), "12 min");
        assert_eq!(share_pct(0.547), "54.7%");
        assert_eq!(tenths(45.0), "45");
        assert_eq!(tenths(12.46), "12.5");
        assert_eq!(replications(1), "1 replication");
        assert_eq!(replications(20), "20 replications");
    }
}
