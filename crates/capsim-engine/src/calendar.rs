//! Mapping between simulation ticks and calendar dates, for models where one tick is one day.

use chrono::{Datelike, NaiveDate};

use super::queue::Time;

/// Errors from parsing dates or converting ticks to dates.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// The text is not of the form `YYYY-MM-DD` or `YYYY-MM`.
    #[error("invalid date `{text}`: expected YYYY-MM-DD or YYYY-MM, e.g. 2026-03-15 or 2026-03")]
    BadFormat {
        /// The text that failed to parse.
        text: String,
    },
    /// The text has the right form but names no real day (e.g. `2023-02-29`, `2024-13`).
    #[error(
        "invalid date `{text}`: no such day in the calendar (expected YYYY-MM-DD or YYYY-MM \
         with month 01-12 and a day that exists in that month)"
    )]
    NoSuchDate {
        /// The text that failed to parse.
        text: String,
    },
    /// A tick lies outside the range of dates chrono can represent (about ±262,000 years).
    #[error("tick {tick} is outside the representable date range (calendar starts {start})")]
    OutOfRange {
        /// The offending tick [days since start].
        tick: Time,
        /// The calendar's start date.
        start: NaiveDate,
    },
}

/// Maps ticks to dates: tick 0 is `start`, tick `t` is `t` days later (negative ticks are
/// earlier).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Calendar {
    /// The date of tick 0.
    pub start: NaiveDate,
}

impl Calendar {
    /// A calendar whose tick 0 is `start`.
    pub fn new(start: NaiveDate) -> Self {
        Self { start }
    }

    /// The date of tick `t` [days since start].
    ///
    /// # Errors
    /// [`DateError::OutOfRange`] if the date is beyond chrono's range (about ±262,000 years).
    pub fn try_date(&self, t: Time) -> Result<NaiveDate, DateError> {
        let out_of_range = || DateError::OutOfRange {
            tick: t,
            start: self.start,
        };
        let days = i64::from(self.start.num_days_from_ce())
            .checked_add(t)
            .ok_or_else(out_of_range)?;
        let days = i32::try_from(days).map_err(|_| out_of_range())?;
        NaiveDate::from_num_days_from_ce_opt(days).ok_or_else(out_of_range)
    }

    /// The date of tick `t` [days since start], clamped to chrono's range
    /// ([`NaiveDate::MIN`]..=[`NaiveDate::MAX`]); use [`try_date`](Self::try_date) to detect
    /// clamping. Ticks within a few hundred thousand years of `start` are never clamped.
    pub fn date(&self, t: Time) -> NaiveDate {
        self.try_date(t).unwrap_or(if t < 0 {
            NaiveDate::MIN
        } else {
            NaiveDate::MAX
        })
    }

    /// The tick of `date` [days since start]; negative if `date` precedes `start`.
    pub fn tick(&self, date: NaiveDate) -> Time {
        i64::from(date.num_days_from_ce()) - i64::from(self.start.num_days_from_ce())
    }
}

/// Parses `YYYY-MM-DD`, or `YYYY-MM` meaning the first day of that month.
///
/// The year must have exactly four digits and month and day exactly two; surrounding whitespace
/// is ignored.
///
/// # Errors
/// [`DateError::BadFormat`] for any other shape, [`DateError::NoSuchDate`] for a well-formed
/// date that does not exist (month 13, 31 April, 29 February outside leap years).
pub fn parse_date(s: &str) -> Result<NaiveDate, DateError> {
    let text = s.trim();
    let bad_format = || DateError::BadFormat { text: s.to_owned() };
    let field = |part: &str, width: usize| -> Result<u32, DateError> {
        if part.len() != width || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad_format());
        }
        part.parse().map_err(|_| bad_format())
    };
    let parts: Vec<&str> = text.split('-').collect();
    let (year, month, day) = match parts.as_slice() {
        [y, m] => (field(y, 4)?, field(m, 2)?, 1),
        [y, m, d] => (field(y, 4)?, field(m, 2)?, field(d, 2)?),
        _ => return Err(bad_format()),
    };
    // A 4-digit year is at most 9999, so it fits in i32.
    let year = i32::try_from(year).map_err(|_| bad_format())?;
    NaiveDate::from_ymd_opt(year, month, day)
        .ok_or_else(|| DateError::NoSuchDate { text: s.to_owned() })
}

/// Number of days in the month containing `date` \[days\], 28 to 31.
pub fn days_in_month(date: NaiveDate) -> u32 {
    let first = date.with_day(1).unwrap_or(date);
    // The first of the next month; at the very end of chrono's range fall back to 31 (December).
    let next = first.checked_add_months(chrono::Months::new(1));
    next.map_or(31, |next| {
        u32::try_from(next.signed_duration_since(first).num_days()).unwrap_or(31)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn ticks_are_days_since_start() {
        let cal = Calendar::new(ymd(2025, 1, 1));
        assert_eq!(cal.date(0), ymd(2025, 1, 1));
        assert_eq!(cal.date(31), ymd(2025, 2, 1));
        // 2025 is not a leap year: 365 days to the next new year.
        assert_eq!(cal.date(365), ymd(2026, 1, 1));
        assert_eq!(cal.date(-1), ymd(2024, 12, 31));
        assert_eq!(cal.tick(ymd(2026, 1, 1)), 365);
        assert_eq!(cal.tick(ymd(2024, 12, 31)), -1);
    }

    #[test]
    fn leap_years() {
        let cal = Calendar::new(ymd(2024, 2, 28));
        // 2024 is a leap year (divisible by 4), so 28 Feb + 1 day = 29 Feb.
        assert_eq!(cal.date(1), ymd(2024, 2, 29));
        assert_eq!(cal.date(2), ymd(2024, 3, 1));
        // 2000 is a leap year (divisible by 400), 1900 and 2100 are not (divisible by 100).
        assert_eq!(cal.tick(ymd(2000, 3, 1)) - cal.tick(ymd(2000, 2, 28)), 2);
        assert_eq!(cal.tick(ymd(1900, 3, 1)) - cal.tick(ymd(1900, 2, 28)), 1);
        assert_eq!(cal.tick(ymd(2100, 3, 1)) - cal.tick(ymd(2100, 2, 28)), 1);
        // 2024-01-01 .. 2028-01-01: 366 + 365 + 365 + 365 = 1461 days.
        let cal = Calendar::new(ymd(2024, 1, 1));
        assert_eq!(cal.tick(ymd(2028, 1, 1)), 1461);
    }

    #[test]
    fn round_trip_over_decades() {
        let cal = Calendar::new(ymd(1999, 12, 31));
        for t in (-20_000..20_000).step_by(7) {
            assert_eq!(cal.tick(cal.date(t)), t);
        }
    }

    #[test]
    fn out_of_range_ticks() {
        let cal = Calendar::new(ymd(2025, 1, 1));
        assert!(matches!(
            cal.try_date(Time::MAX),
            Err(DateError::OutOfRange {
                tick: Time::MAX,
                ..
            })
        ));
        assert!(cal.try_date(1_000_000_000).is_err());
        assert_eq!(cal.date(Time::MAX), NaiveDate::MAX);
        assert_eq!(cal.date(Time::MIN), NaiveDate::MIN);
    }

    #[test]
    fn parses_day_and_month_forms() {
        assert_eq!(parse_date("2026-03-15"), Ok(ymd(2026, 3, 15)));
        assert_eq!(parse_date("2026-03"), Ok(ymd(2026, 3, 1)));
        assert_eq!(parse_date(" 2024-02-29 "), Ok(ymd(2024, 2, 29)));
        assert_eq!(parse_date("0001-01"), Ok(ymd(1, 1, 1)));
    }

    #[test]
    fn rejects_bad_input() {
        for text in [
            "",
            "2026",
            "2026-3",
            "2026-03-5",
            "26-03-15",
            "2026/03/15",
            "2026-03-15-01",
            "2026-03-",
            "+2026-03",
            "2026-0x",
            "２０２６-03",
            "2026-03-15T00:00",
        ] {
            let err = parse_date(text).unwrap_err();
            assert_eq!(err, DateError::BadFormat { text: text.into() }, "{text:?}");
        }
        for text in [
            "2023-02-29",
            "2026-13",
            "2026-00",
            "2026-04-31",
            "2026-01-00",
        ] {
            let err = parse_date(text).unwrap_err();
            assert_eq!(err, DateError::NoSuchDate { text: text.into() }, "{text:?}");
        }
        let message = parse_date("2026-3").unwrap_err().to_string();
        assert_eq!(
            message,
            "invalid date `2026-3`: expected YYYY-MM-DD or YYYY-MM, e.g. 2026-03-15 or 2026-03"
        );
    }

    #[test]
    fn month_lengths() {
        assert_eq!(days_in_month(ymd(2024, 2, 10)), 29);
        assert_eq!(days_in_month(ymd(2025, 2, 28)), 28);
        assert_eq!(days_in_month(ymd(2025, 4, 30)), 30);
        assert_eq!(days_in_month(ymd(2025, 12, 31)), 31);
        assert_eq!(days_in_month(NaiveDate::MAX), 31);
    }
}
