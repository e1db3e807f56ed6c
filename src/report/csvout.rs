//! CSV written straight into a byte buffer: the bytes the `csv` crate's default writer gives
//! (`,` between fields, `\n` after a record, a field quoted only when it holds `,`, `"`, `\r`
//! or `\n`, quotes doubled inside), without its per-field state machine, and numbers formatted
//! in place (integers digit by digit, others in their shortest form by
//! [`crate::format::Shortest`]) instead of through a `&str` each.
//!
//! The tests below check the bytes against the `csv` crate's for awkward fields and numbers.

/// The most bytes [`num`] writes for a number: the shortest round-trip form of a negative
/// number with a three-digit exponent, `-2.2250738585072014e-308`. (Whole numbers below 10¹⁵
/// take at most 16.) Buffers are given room by it.
pub(crate) const NUM_MAX_LEN: usize = 24;

/// Appends `field` to `out`, quoted if the `csv` crate's `QuoteStyle::Necessary` would quote it.
pub(crate) fn field(out: &mut Vec<u8>, field: &str) {
    let b = field.as_bytes();
    if !b.iter().any(|&c| matches!(c, b',' | b'"' | b'\r' | b'\n')) {
        out.extend_from_slice(b);
        return;
    }
    out.push(b'"');
    for &c in b {
        if c == b'"' {
            out.push(b'"');
        }
        out.push(c);
    }
    out.push(b'"');
}

/// Appends a number as [`crate::format::fmt_num`] formats it: `0` for both zeros, whole
/// numbers below 10¹⁵ in magnitude as integers, everything else in its shortest
/// round-trip form.
pub(crate) fn num(out: &mut Vec<u8>, buf: &mut crate::format::Shortest, v: f64) {
    if v == 0.0 {
        out.push(b'0');
    } else if let Some(i) = crate::format::whole_below_1e15(v) {
        int(out, i);
    } else {
        buf.push(out, v);
    }
}

/// Appends an integer in decimal.
pub(crate) fn int(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    uint(out, v.unsigned_abs());
}

/// The two-digit numbers 00 to 99, side by side.
const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Appends an unsigned integer in decimal: two digits a division, and one fixed-size copy
/// into `out` (which the compiler writes inline; a copy of the digits' own length would be
/// a call to `memcpy`, dearer than the digits for numbers this short).
pub(crate) fn uint(out: &mut Vec<u8>, v: u64) {
    let mut digits = [0u8; 20];
    let n = v.checked_ilog10().map_or(1, |l| l as usize + 1);
    let (mut i, mut v) = (n, v);
    while v >= 100 {
        // v % 100 < 100: the cast keeps every bit.
        #[allow(clippy::cast_possible_truncation)]
        let r = 2 * (v % 100) as usize;
        v /= 100;
        i -= 2;
        digits[i..i + 2].copy_from_slice(&PAIRS[r..r + 2]);
    }
    // v < 100 here.
    #[allow(clippy::cast_possible_truncation)]
    let v = v as usize;
    if v >= 10 {
        digits[..2].copy_from_slice(&PAIRS[2 * v..2 * v + 2]);
    } else {
        digits[0] = b'0' + v as u8;
    }
    let len = out.len();
    out.extend_from_slice(&digits);
    out.truncate(len + n);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every length of number, its edges, and a spread of values in between, as `to_string`.
    #[test]
    fn uint_writes_what_to_string_writes() {
        let mut values = vec![
            0,
            1,
            9,
            10,
            11,
            99,
            100,
            101,
            999,
            1000,
            u64::MAX,
            u64::MAX - 1,
        ];
        for k in 1..20 {
            let p = 10u64.pow(k);
            values.extend([p - 1, p, p + 1, p / 2 + 7]);
        }
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            values.push(x >> (x % 64));
        }
        for v in values {
            let mut out = b"a,".to_vec();
            uint(&mut out, v);
            assert_eq!(out, format!("a,{v}").into_bytes(), "{v}");
        }
    }

    /// The same record through the `csv` crate and through this module.
    fn both(fields: &[&str], nums: &[f64]) -> (Vec<u8>, Vec<u8>) {
        let mut buf = crate::format::Shortest::new();
        let mut w = csv::Writer::from_writer(Vec::new());
        for f in fields {
            w.write_field(f).unwrap();
        }
        for &v in nums {
            w.write_field(crate::format::fmt_num(&mut buf, v)).unwrap();
        }
        w.write_record(None::<&[u8]>).unwrap();
        let theirs = w.into_inner().unwrap();
        let mut ours = Vec::new();
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                ours.push(b',');
            }
            field(&mut ours, f);
        }
        for (i, &v) in nums.iter().enumerate() {
            if i > 0 || !fields.is_empty() {
                ours.push(b',');
            }
            num(&mut ours, &mut buf, v);
        }
        ours.push(b'\n');
        (theirs, ours)
    }

    #[test]
    fn fields_quote_as_the_csv_crate() {
        for f in [
            "plain",
            "",
            "a,b",
            "say \"hi\"",
            "line\nbreak",
            "cr\rhere",
            " space ",
            "#hash",
            "é ü",
            "'single'",
            "\t",
        ] {
            let (theirs, ours) = both(&["x", f, "y"], &[]);
            assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&theirs),
                "{f:?}"
            );
        }
    }

    #[test]
    fn numbers_print_as_fmt_num() {
        let nums = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            42.0,
            0.1,
            -2.5,
            1e-7,
            123_456_789.0,
            999_999_999_999_999.0,
            1e15,
            -1e15,
            1e16,
            1.5e300,
            f64::MIN_POSITIVE,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1.0 / 3.0,
            i64::MAX as f64,
        ];
        let (theirs, ours) = both(&["d"], &nums);
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&theirs)
        );
    }

    #[test]
    fn integers() {
        for v in [0_i64, 7, -7, 10, 1_000_000, i64::MAX, i64::MIN] {
            let mut out = Vec::new();
            int(&mut out, v);
            assert_eq!(String::from_utf8(out).unwrap(), v.to_string());
        }
    }

    /// No number is written longer than [`NUM_MAX_LEN`], and the longest forms reach it.
    #[test]
    fn numbers_fit_their_room() {
        let mut buf = crate::format::Shortest::new();
        let mut longest = 0;
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let specials = [
            -2.2250738585072014e-308,
            f64::MIN,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            -5e-324,
            -999_999_999_999_999.0,
            -1e15 - 2.0,
            -0.1 - 0.2,
            -1.0 / 3.0,
        ];
        for i in 0..500_000 {
            let v = match specials.get(i) {
                Some(&v) => v,
                None => {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    f64::from_bits(x)
                }
            };
            if !v.is_finite() {
                continue;
            }
            let mut out = Vec::new();
            num(&mut out, &mut buf, v);
            assert!(
                out.len() <= NUM_MAX_LEN,
                "{v}: {}",
                String::from_utf8_lossy(&out)
            );
            longest = longest.max(out.len());
        }
        assert_eq!(longest, NUM_MAX_LEN);
    }
}
