//! Reporting periods: ISO weeks (Monday 00:00) by default, days or calendar months on request,
//! with boundaries in the report time zone. A period is `[start, next start)` and is labelled by
//! the local date of its first day.

use chrono::{Datelike, Days, Months, NaiveDate, TimeZone as _};
use chrono_tz::Tz;
use polars::prelude::*;

use crate::time::{MS_PER_DAY, MS_PER_HOUR};

/// The time zone of period boundaries. It is checked once where it enters (the command line
/// or a configuration file) and trusted from then on: the core never falls back to UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone(Tz);

impl Zone {
    pub const UTC: Zone = Zone(Tz::UTC);

    /// An IANA zone name that both chrono-tz and polars know.
    pub fn parse(name: &str) -> Result<Zone, String> {
        let tz: Tz = name.trim().parse().map_err(|_| {
            format!("`{name}` is not an IANA time zone (e.g. UTC, Europe/Berlin, Asia/Kolkata)")
        })?;
        match TimeZone::opt_try_new(Some(tz.name())) {
            Ok(Some(_)) => Ok(Zone(tz)),
            _ => Err(format!(
                "time zone `{name}` is not supported for period boundaries"
            )),
        }
    }

    pub fn tz(self) -> Tz {
        self.0
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The zone as polars names it.
    fn polars(self) -> TimeZone {
        TimeZone::opt_try_new(Some(self.0.name()))
            .ok()
            .flatten()
            .expect("a Zone is only made from a name polars accepts")
    }
}

impl Default for Zone {
    fn default() -> Zone {
        Zone::UTC
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl serde::Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Period {
    Day,
    #[default]
    Week,
    Month,
}

impl Period {
    /// The period's name on the command line and in `alerts.json`.
    pub fn name(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
        }
    }

    /// The first day of the period holding `date`.
    pub fn floor(self, date: NaiveDate) -> NaiveDate {
        match self {
            Period::Day => date,
            Period::Week => date - Days::new(u64::from(date.weekday().num_days_from_monday())),
            Period::Month => date.with_day(1).unwrap_or(date),
        }
    }

    /// The number of periods from the one starting at `from` to the one before `to` (both
    /// period starts).
    pub fn count_between(self, from: NaiveDate, to: NaiveDate) -> u64 {
        let months = |d: NaiveDate| i64::from(d.year()) * 12 + i64::from(d.month0());
        let n = match self {
            Period::Day => (to - from).num_days(),
            Period::Week => (to - from).num_days() / 7,
            Period::Month => months(to) - months(from),
        };
        u64::try_from(n).unwrap_or(0)
    }

    /// The first day of the next period, given the first day of one.
    pub fn next(self, start: NaiveDate) -> NaiveDate {
        match self {
            Period::Day => start + Days::new(1),
            Period::Week => start + Days::new(7),
            Period::Month => start + Months::new(1),
        }
    }

    /// The period starting on `start` as instants `[from, to)` (UTC ms) in `zone`.
    pub fn window_ms(self, start: NaiveDate, zone: Zone) -> (i64, i64) {
        (
            local_midnight_ms(start, zone),
            local_midnight_ms(self.next(start), zone),
        )
    }

    /// The first day of the period before the one starting on `start`.
    pub fn previous(self, start: NaiveDate) -> NaiveDate {
        self.checked_previous(start)
            .expect("a period start far from the ends of the calendar")
    }

    /// The first day of the period before, `None` past the start of the calendar.
    pub fn checked_previous(self, start: NaiveDate) -> Option<NaiveDate> {
        match self {
            Period::Day => start.checked_sub_days(Days::new(1)),
            Period::Week => start.checked_sub_days(Days::new(7)),
            Period::Month => start.checked_sub_months(Months::new(1)),
        }
    }

    /// The period-start date of an Int64-millisecond instant column, as a polars `Date`.
    pub fn start_expr(self, instant_ms: Expr, zone: Zone) -> Expr {
        let local_date = if zone == Zone::UTC {
            // No zone rules to apply: the day is the instant divided by a day, rounded down.
            instant_ms
                .floor_div(lit(MS_PER_DAY))
                .cast(DataType::Int32)
                .cast(DataType::Date)
        } else {
            Self::local_date_expr(instant_ms, zone)
        };
        self.of_local_date(local_date)
    }

    /// The local date of an Int64-millisecond instant column in `zone`, by the zone's rules.
    fn local_date_expr(instant_ms: Expr, zone: Zone) -> Expr {
        instant_ms
            .cast(DataType::Datetime(
                TimeUnit::Milliseconds,
                Some(TimeZone::UTC),
            ))
            .dt()
            .convert_time_zone(zone.polars())
            .dt()
            .date()
    }

    /// The period-start date of a local-date column.
    fn of_local_date(self, local_date: Expr) -> Expr {
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

/// Local midnight of `date` in `zone` as UTC milliseconds. Where a time-zone change skips
/// midnight, the period starts at the first instant that exists that day.
pub fn local_midnight_ms(date: NaiveDate, zone: Zone) -> i64 {
    let tz = zone.tz();
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
pub fn local_date(instant_ms: i64, zone: Zone) -> NaiveDate {
    zone.tz()
        .timestamp_millis_opt(instant_ms)
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

/// The window-risk snapshots of a run, and the quiet periods left without one.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Snapshots {
    pub snapshots: Vec<Snapshot>,
    pub quiet: QuietPeriods,
    /// The spans merged (sorted, apart, ended at `as_of`): those of several runs over parts
    /// of the threads, merged again, give the quiet periods of all of them.
    pub spans: Spans,
}

/// Spans of time `[from, to)` in UTC ms.
pub type Spans = Vec<(i64, i64)>;

/// Periods inside the open threads' spans in which no conversation opened or closed (and that
/// do not hold `as_of`): no window-risk snapshot is taken in them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct QuietPeriods {
    pub count: u64,
    /// The first and the last of them.
    pub first: Option<NaiveDate>,
    pub last: Option<NaiveDate>,
}

impl QuietPeriods {
    /// The data-quality line, or `None` when no period was quiet.
    pub fn line(&self, period: Period) -> Option<String> {
        let (first, last) = (self.first?, self.last?);
        Some(format!(
            "window risk has no snapshot in {} {}(s) from {first} to {last} in which no \
             conversation opened or closed (threads open across them count in the periods \
             around them); dates this far apart are usually placeholders: check opened_at and \
             closed_at",
            self.count,
            period.name()
        ))
    }
}

/// The snapshots, one per period, that fall inside at least one of `spans` (`[from, to)` in
/// UTC ms) and in a period that holds `as_of` or an instant of `active` (sorted: the instants
/// at which a conversation opened or closed).
///
/// The spec takes one snapshot per period from the first conversation to `as_of`. A snapshot
/// outside every span has an empty cohort and so no row; a period in which nothing opened or
/// closed is one no other metric has a row for. Enumerating only the others bounds the work by
/// the output: one thread dated year 0 or 9999, or an `--as-of` in 9999, adds a period or two,
/// not a hundred thousand. Real exports open conversations every period, so no period of
/// theirs is quiet; the quiet ones are counted for the data-quality line.
pub fn snapshots_within(
    spans: &mut [(i64, i64)],
    active: &[i64],
    as_of: i64,
    period: Period,
    zone: Zone,
) -> Snapshots {
    rayon::slice::ParallelSliceMut::par_sort_unstable(spans);
    let mut out = Snapshots::default();
    let mut merged: Vec<(i64, i64)> = Vec::new();
    for &(from, to) in spans.iter() {
        let to = to.min(as_of.saturating_add(1));
        if from >= to {
            continue;
        }
        match merged.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(to),
            _ => merged.push((from, to)),
        }
    }
    let as_of_period = period.floor(local_date(as_of, zone));
    let snapshots = &mut out.snapshots;
    for &(from, to) in &merged {
        // The period whose end is the first snapshot at or after `from`.
        let mut start = period.floor(local_date(from.saturating_sub(1), zone));
        // The periods from here on with a snapshot before `to`.
        let last = period.floor(local_date(to - 1, zone));
        loop {
            let next = period.next(start);
            let next_ms = local_midnight_ms(next, zone);
            let at = next_ms.min(as_of);
            if at >= to {
                break;
            }
            let start_ms = local_midnight_ms(start, zone);
            let from_active = active.partition_point(|&t| t < start_ms);
            let holds =
                start == as_of_period || active.get(from_active).is_some_and(|&t| t < next_ms);
            if holds && at >= from && snapshots.last().is_none_or(|l| l.at < at) {
                snapshots.push(Snapshot {
                    period_start: start,
                    at,
                });
            }
            if at == as_of {
                break;
            }
            // On to the next period that holds an active instant or `as_of`.
            let target = match active.get(active.partition_point(|&t| t < next_ms)) {
                Some(&t) => period.floor(local_date(t, zone)).min(as_of_period),
                None => as_of_period,
            }
            .max(next);
            let quiet_end = target.min(last);
            if quiet_end > next {
                let quiet = &mut out.quiet;
                quiet.count += period.count_between(next, quiet_end);
                quiet.first = quiet.first.min(Some(next)).or(Some(next));
                quiet.last = quiet.last.max(Some(period.previous(quiet_end)));
            }
            start = target;
        }
    }
    out.spans = merged;
    out
}

/// Hours to milliseconds, as a float threshold (the risk line may be fractional).
pub fn hours_ms(hours: f64) -> f64 {
    hours * MS_PER_HOUR as f64
}

#[cfg(test)]
#[path = "period_tests.rs"]
mod tests;
