//! Reporting periods: ISO weeks (Monday 00:00) by default, days or calendar months on request,
//! with boundaries in the report time zone. A period is `[start, next start)` and is labelled by
//! the local date of its first day.

use chrono::{Datelike, Days, Months, NaiveDate, TimeZone as _};
use chrono_tz::Tz;
use polars::prelude::*;

use crate::time::MS_PER_HOUR;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Period {
    Day,
    #[default]
    Week,
    Month,
}

impl Period {
    /// The first day of the period holding `date`.
    pub fn floor(self, date: NaiveDate) -> NaiveDate {
        match self {
            Period::Day => date,
            Period::Week => date - Days::new(u64::from(date.weekday().num_days_from_monday())),
            Period::Month => date.with_day(1).unwrap_or(date),
        }
    }

    /// The first day of the next period, given the first day of one.
    pub fn next(self, start: NaiveDate) -> NaiveDate {
        match self {
            Period::Day => start + Days::new(1),
            Period::Week => start + Days::new(7),
            Period::Month => start + Months::new(1),
        }
    }

    /// The first day of the period before the one starting on `start`.
    pub fn previous(self, start: NaiveDate) -> NaiveDate {
        match self {
            Period::Day => start - Days::new(1),
            Period::Week => start - Days::new(7),
            Period::Month => start - Months::new(1),
        }
    }

    /// The period-start date of an Int64-millisecond instant column, as a polars `Date`.
    pub fn start_expr(self, instant_ms: Expr, tz: Tz) -> Expr {
        let local_date = instant_ms
            .cast(DataType::Datetime(
                TimeUnit::Milliseconds,
                Some(TimeZone::UTC),
            ))
            .dt()
            .convert_time_zone(
                TimeZone::opt_try_new(Some(tz.name()))
                    .ok()
                    .flatten()
                    .unwrap_or(TimeZone::UTC),
            )
            .dt()
            .date();
        match self {
            Period::Day => local_date,
            // Days since 1970-01-01 (a Thursday) minus the weekday offset gives the Monday.
            Period::Week => {
                let days = local_date.clone().cast(DataType::Int32);
                let monday_offset = (days.clone() + lit(3)) % lit(7);
                let monday_offset = (monday_offset + lit(7)) % lit(7);
                (days - monday_offset).cast(DataType::Date)
            }
            Period::Month => local_date.dt().truncate(lit("1mo")),
        }
    }
}

/// Local midnight of `date` in `tz` as UTC milliseconds. Where a time-zone change skips
/// midnight, the period starts at the first instant that exists that day.
pub fn local_midnight_ms(date: NaiveDate, tz: Tz) -> i64 {
    let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists");
    for hours in 0..=3 {
        let local = midnight + chrono::Duration::hours(hours);
        if let Some(instant) = tz.from_local_datetime(&local).earliest() {
            return instant.timestamp_millis();
        }
    }
    // No zone skips more than a few hours; fall back to UTC midnight.
    midnight.and_utc().timestamp_millis()
}

/// The local date of a UTC-millisecond instant.
pub fn local_date(instant_ms: i64, tz: Tz) -> NaiveDate {
    tz.timestamp_millis_opt(instant_ms)
        .single()
        .map(|t| t.date_naive())
        .unwrap_or_else(|| {
            chrono::DateTime::from_timestamp_millis(instant_ms)
                .map(|t| t.date_naive())
                .unwrap_or_default()
        })
}

/// One window-risk snapshot: the period it belongs to and its instant `min(period end, as_of)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    pub period_start: NaiveDate,
    pub at: i64,
}

/// Snapshots for every period from the one holding `first` to the one holding `as_of`.
pub fn snapshots(first: i64, as_of: i64, period: Period, tz: Tz) -> Vec<Snapshot> {
    let mut out = Vec::new();
    let last = period.floor(local_date(as_of, tz));
    let mut start = period.floor(local_date(first.min(as_of), tz));
    while start <= last {
        let next = period.next(start);
        out.push(Snapshot {
            period_start: start,
            at: local_midnight_ms(next, tz).min(as_of),
        });
        start = next;
    }
    out
}

/// Hours to milliseconds, as a float threshold (the risk line may be fractional).
pub fn hours_ms(hours: f64) -> f64 {
    hours * MS_PER_HOUR as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn floors_and_steps() {
        assert_eq!(Period::Week.floor(d(2026, 11, 22)), d(2026, 11, 16));
        assert_eq!(Period::Week.floor(d(2026, 11, 16)), d(2026, 11, 16));
        assert_eq!(Period::Month.floor(d(2026, 11, 22)), d(2026, 11, 1));
        assert_eq!(Period::Month.next(d(2026, 12, 1)), d(2027, 1, 1));
        assert_eq!(Period::Day.next(d(2026, 11, 30)), d(2026, 12, 1));
    }

    #[test]
    fn snapshots_cover_first_to_as_of_and_stop_at_as_of() {
        let utc: Tz = "UTC".parse().unwrap();
        let first = local_midnight_ms(d(2026, 11, 13), utc) + 36_000_000;
        let as_of = local_midnight_ms(d(2026, 11, 25), utc);
        let snaps = snapshots(first, as_of, Period::Week, utc);
        assert_eq!(
            snaps,
            vec![
                Snapshot {
                    period_start: d(2026, 11, 9),
                    at: local_midnight_ms(d(2026, 11, 16), utc)
                },
                Snapshot {
                    period_start: d(2026, 11, 16),
                    at: local_midnight_ms(d(2026, 11, 23), utc)
                },
                Snapshot {
                    period_start: d(2026, 11, 23),
                    at: as_of
                },
            ]
        );
    }

    #[test]
    fn local_midnight_follows_the_zone() {
        let kolkata: Tz = "Asia/Kolkata".parse().unwrap();
        let utc: Tz = "UTC".parse().unwrap();
        assert_eq!(
            local_midnight_ms(d(2026, 11, 16), kolkata),
            local_midnight_ms(d(2026, 11, 16), utc) - 19_800_000
        );
        // Santiago skips 00:00-01:00 on its spring-forward day.
        let santiago: Tz = "America/Santiago".parse().unwrap();
        let day = d(2026, 9, 6);
        let start = local_midnight_ms(day, santiago);
        assert_eq!(local_date(start, santiago), day);
    }
}
