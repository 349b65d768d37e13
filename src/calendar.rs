//! Business time (spec: business-hours.md). A [`Calendar`] holds a schedule's open intervals
//! over a date range, as UTC instants, with their cumulative length, so that the business time
//! between two instants is two binary searches: F(b) − F(a). It is built once per schedule and
//! never walks minute by minute.
//!
//! Local wall times become instants in the schedule's zone: an ambiguous time (the repeated
//! hour when clocks go back) is the earlier instant, a time that does not exist (the skipped
//! hour) is the instant of the transition. Intervals are real elapsed time, so a 22:00–06:00
//! shift lasts 9 h on the night clocks go back and 7 h on the night they go forward.

use chrono::{Duration, LocalResult, NaiveDate, TimeZone};

use crate::config::Schedule;
use crate::period::local_date;

/// A schedule's open intervals over a date range, merged and sorted, with cumulative sums.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    starts: Vec<i64>,
    ends: Vec<i64>,
    /// Open milliseconds before interval i.
    before: Vec<i64>,
}

impl Calendar {
    /// The open intervals of `schedule` for every local date that can touch `[from, to]` (UTC
    /// ms), one day of margin on each side for overnight ranges and zone offsets.
    pub fn build(schedule: &Schedule, from: i64, to: i64) -> Calendar {
        let zone = schedule.zone;
        let first = local_date(from, zone) - Duration::days(2);
        let last = local_date(to, zone) + Duration::days(2);
        let mut intervals: Vec<(i64, i64)> = Vec::new();
        let mut day = first;
        while day <= last {
            for r in schedule.ranges_on(day) {
                let start = local_instant(schedule, day, r.start);
                let end = if r.overnight() {
                    local_instant(schedule, day + Duration::days(1), r.end)
                } else {
                    local_instant(schedule, day, r.end)
                };
                if end > start {
                    intervals.push((start, end));
                }
            }
            day += Duration::days(1);
        }
        intervals.sort_unstable();
        let mut merged: Vec<(i64, i64)> = Vec::with_capacity(intervals.len());
        for (s, e) in intervals {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        let mut before = Vec::with_capacity(merged.len());
        let mut total = 0;
        for (s, e) in &merged {
            before.push(total);
            total += e - s;
        }
        Calendar {
            starts: merged.iter().map(|m| m.0).collect(),
            ends: merged.iter().map(|m| m.1).collect(),
            before,
        }
    }

    /// F(t): open milliseconds from the start of the calendar to `t`.
    pub fn open_until(&self, t: i64) -> i64 {
        let i = self.starts.partition_point(|&s| s <= t);
        match i.checked_sub(1) {
            None => 0,
            Some(j) => self.before[j] + t.min(self.ends[j]) - self.starts[j],
        }
    }

    /// The latest instant `d >= from` with at most `left` open milliseconds in `[from, d)`:
    /// where a clock started at `from` reaches `left` (when it does so as the schedule closes,
    /// the instant it opens again). `None` when the calendar has not that much open time left.
    pub fn latest_within(&self, from: i64, left: i64) -> Option<i64> {
        let v = self.open_until(from).saturating_add(left);
        // The first interval that ends with more than v open milliseconds before its end.
        let (mut j, mut hi) = (0, self.starts.len());
        while j < hi {
            let mid = (j + hi) / 2;
            if self.before[mid] + (self.ends[mid] - self.starts[mid]) <= v {
                j = mid + 1;
            } else {
                hi = mid;
            }
        }
        let start = *self.starts.get(j)?;
        Some((start + (v - self.before[j])).max(from))
    }

    /// Business milliseconds in `[a, b)`; 0 when `b <= a`.
    pub fn between(&self, a: i64, b: i64) -> i64 {
        if b <= a {
            0
        } else {
            self.open_until(b) - self.open_until(a)
        }
    }
}

/// One row of the calendar table of `l2lens calendar`, which the SQL export's business time
/// reads: a UTC day (days since 1970-01-01), an open interval clipped to it (or, once a day, an
/// empty anchor at midnight) and the open milliseconds before the interval's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CalendarRow {
    pub day: i64,
    pub start_ms: i64,
    pub end_ms: i64,
    pub open_before_ms: i64,
}

/// The calendar table of `schedule` for the UTC days `from..=to`: per day an anchor row at
/// midnight, then the day's open intervals, so that F(t) is the largest
/// `open_before_ms + min(t, end_ms) − start_ms` over the rows of t's day that start at or before t.
pub fn table_rows(schedule: &Schedule, from: NaiveDate, to: NaiveDate) -> Vec<CalendarRow> {
    let epoch = crate::time::epoch_date();
    let (first, last) = ((from - epoch).num_days(), (to - epoch).num_days());
    let day_ms = crate::time::MS_PER_DAY;
    let calendar = Calendar::build(schedule, first * day_ms, (last + 1) * day_ms);
    let mut rows = Vec::new();
    let mut i = 0;
    for day in first..=last {
        let (start, end) = (day * day_ms, (day + 1) * day_ms);
        rows.push(CalendarRow {
            day,
            start_ms: start,
            end_ms: start,
            open_before_ms: calendar.open_until(start),
        });
        while i < calendar.ends.len() && calendar.ends[i] <= start {
            i += 1;
        }
        let mut j = i;
        while j < calendar.starts.len() && calendar.starts[j] < end {
            let from = calendar.starts[j].max(start);
            rows.push(CalendarRow {
                day,
                start_ms: from,
                end_ms: calendar.ends[j].min(end),
                open_before_ms: calendar.open_until(from),
            });
            j += 1;
        }
    }
    rows
}

/// The instant of local time `minutes` after midnight of `day` in the schedule's zone (1440 is
/// the next midnight).
fn local_instant(schedule: &Schedule, day: NaiveDate, minutes: u32) -> i64 {
    let tz = schedule.zone.tz();
    let wall = day.and_hms_opt(0, 0, 0).expect("midnight") + Duration::minutes(i64::from(minutes));
    match tz.from_local_datetime(&wall) {
        LocalResult::Single(t) => t.timestamp_millis(),
        LocalResult::Ambiguous(a, b) => a.timestamp_millis().min(b.timestamp_millis()),
        LocalResult::None => {
            // Skipped by a change of clocks: the first wall time after the gap is the
            // transition instant.
            let mut later = wall;
            loop {
                later += Duration::minutes(1);
                if let Some(t) = tz.from_local_datetime(&later).earliest() {
                    return t.timestamp_millis();
                }
            }
        }
    }
}

/// Business milliseconds of one conversation in `[a, b)`, split at its assignment instants:
/// each piece is charged to the calendar of the lane of the current assignment at the piece's
/// start (`lanes`: (instant, calendar) in assignment order; `None` is always open), and to
/// `default` before the first assignment.
pub fn business_between(
    a: i64,
    b: i64,
    lanes: &[(i64, Option<&Calendar>)],
    default: Option<&Calendar>,
) -> i64 {
    if b <= a {
        return 0;
    }
    let charge = |cal: Option<&Calendar>, from: i64, to: i64| match cal {
        None => to - from,
        Some(c) => c.between(from, to),
    };
    // The current assignment at a, then every change inside (a, b).
    let first = lanes.partition_point(|(at, _)| *at <= a);
    let mut current = first.checked_sub(1).map_or(default, |j| lanes[j].1);
    let mut from = a;
    let mut total = 0;
    for &(at, cal) in &lanes[first..] {
        if at >= b {
            break;
        }
        total += charge(current, from, at);
        from = at;
        current = cal;
    }
    total + charge(current, from, b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::time::parse_timestamp;

    const SPEC: &str = r#"
        [schedules.eu_office]
        timezone = "Europe/Berlin"
        mon = ["09:00-17:00"]
        tue = ["09:00-17:00"]
        wed = ["09:00-12:30", "13:30-17:00"]
        thu = ["09:00-17:00"]
        fri = ["09:00-17:00"]
        holidays = ["2026-12-25", "2026-12-26", "2027-01-01"]
        overrides = { "2026-12-24" = ["09:00-13:00"] }

        [schedules.night_desk]
        timezone = "America/New_York"
        everyday = ["22:00-06:00"]

        [schedules.utc_all_day]
        timezone = "UTC"
        everyday = ["00:00-24:00"]

        [business_hours]
        default = "24x7"
        [business_hours.lanes]
        technical_l2 = "eu_office"
        compliance = "night_desk"
    "#;

    fn at(text: &str) -> i64 {
        parse_timestamp(text, None).unwrap()
    }

    fn calendar(name: &str) -> Calendar {
        let config = Config::from_toml(SPEC).unwrap();
        let schedule = &config.business_hours.unwrap().schedules[name];
        Calendar::build(
            schedule,
            at("2026-01-01T00:00:00Z"),
            at("2027-02-01T00:00:00Z"),
        )
    }

    fn seconds(cal: &Calendar, a: &str, b: &str) -> i64 {
        cal.between(at(a), at(b)) / 1000
    }

    /// F(t) as the SQL export reads it from the calendar table.
    fn open_from_table(rows: &[CalendarRow], t: i64) -> Option<i64> {
        let day = t.div_euclid(crate::time::MS_PER_DAY);
        rows.iter()
            .filter(|r| r.day == day && r.start_ms <= t)
            .map(|r| r.open_before_ms + t.min(r.end_ms) - r.start_ms)
            .max()
    }

    #[test]
    fn the_calendar_table_gives_the_business_time_of_the_calendar() {
        let config = Config::from_toml(SPEC).unwrap();
        let hours = config.business_hours.unwrap();
        let day = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
        for name in ["eu_office", "night_desk", "utc_all_day"] {
            let schedule = &hours.schedules[name];
            let rows = table_rows(schedule, day("2026-03-01"), day("2027-01-10"));
            let cal = calendar(name);
            // Every spec example, and instants every 97 minutes across both clock changes.
            let mut pairs = vec![
                ("2026-12-31T15:30:00Z", "2027-01-04T08:15:00Z"),
                ("2026-12-24T11:30:00Z", "2026-12-28T08:15:00Z"),
                ("2026-03-27T15:00:00Z", "2026-03-30T08:00:00Z"),
                ("2026-11-01T03:00:00Z", "2026-11-01T12:30:00Z"),
            ]
            .into_iter()
            .map(|(a, b)| (at(a), at(b)))
            .collect::<Vec<_>>();
            let mut t = at("2026-03-02T00:00:00Z");
            while t < at("2027-01-09T00:00:00Z") {
                pairs.push((t, t + 37 * 3_600_000 + 11_000));
                t += 97 * 60_000;
            }
            for (a, b) in pairs {
                let table = open_from_table(&rows, b).unwrap() - open_from_table(&rows, a).unwrap();
                assert_eq!(table, cal.between(a, b), "{name}: {a}..{b}");
            }
            // One anchor per day, and rows of one day stay inside it.
            assert_eq!(
                rows.iter().filter(|r| r.start_ms == r.end_ms).count() as i64,
                (day("2027-01-10") - day("2026-03-01")).num_days() + 1
            );
            assert!(
                rows.iter()
                    .all(|r| r.start_ms.div_euclid(86_400_000) == r.day
                        && r.end_ms <= (r.day + 1) * 86_400_000)
            );
        }
        // Outside the table's days there is no answer, not a wrong one.
        let rows = table_rows(
            &hours.schedules["eu_office"],
            day("2026-12-01"),
            day("2026-12-31"),
        );
        assert_eq!(open_from_table(&rows, at("2027-01-02T10:00:00Z")), None);
    }

    #[test]
    fn example_1_holidays_weekends_and_a_special_day() {
        let eu = calendar("eu_office");
        assert_eq!(
            seconds(&eu, "2026-12-31T15:30:00Z", "2027-01-04T08:15:00Z"),
            2_700
        );
        assert_eq!(
            seconds(&eu, "2026-12-24T11:30:00Z", "2026-12-28T08:15:00Z"),
            2_700
        );
    }

    #[test]
    fn example_2_clocks_going_forward() {
        let eu = calendar("eu_office");
        assert_eq!(
            seconds(&eu, "2026-03-27T15:00:00Z", "2026-03-30T08:00:00Z"),
            7_200
        );
    }

    #[test]
    fn example_3_overnight_shifts_on_the_nights_clocks_change() {
        let night = calendar("night_desk");
        // Clocks go back: the shift is 9 real hours, 02:00Z-11:00Z.
        assert_eq!(
            seconds(&night, "2026-11-01T03:00:00Z", "2026-11-01T12:30:00Z"),
            28_800
        );
        assert_eq!(
            seconds(&night, "2026-11-01T00:00:00Z", "2026-11-01T14:00:00Z"),
            9 * 3_600
        );
        // Clocks go forward: 22:00 EST to 06:00 EDT is 03:00Z-10:00Z, 7 hours.
        assert_eq!(
            seconds(&night, "2026-03-08T01:00:00Z", "2026-03-08T14:00:00Z"),
            7 * 3_600
        );
        assert_eq!(
            seconds(&night, "2026-03-08T02:59:59Z", "2026-03-08T03:00:01Z"),
            1
        );
    }

    #[test]
    fn example_4_piecewise_by_lane() {
        let eu = calendar("eu_office");
        let lanes = [
            (at("2026-11-16T06:00:00Z"), None),
            (at("2026-11-16T07:00:00Z"), Some(&eu)),
        ];
        let ms = business_between(
            at("2026-11-16T06:00:00Z"),
            at("2026-11-16T09:00:00Z"),
            &lanes,
            None,
        );
        assert_eq!(ms / 1000, 7_200);
        // Zendesk's UI would charge it all to the last schedule: 3,600 s.
        assert_eq!(
            seconds(&eu, "2026-11-16T06:00:00Z", "2026-11-16T09:00:00Z"),
            3_600
        );
    }

    /// A small deterministic generator for the property tests (SplitMix64).
    struct Gen(u64);

    impl Gen {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        /// An instant in 2026, to the millisecond.
        fn instant(&mut self) -> i64 {
            at("2026-01-01T00:00:00Z") + (self.next() % (365 * 86_400_000)) as i64
        }
    }

    #[test]
    fn business_time_adds_up_and_is_bounded_by_calendar_time() {
        let calendars = [calendar("eu_office"), calendar("night_desk")];
        let mut g = Gen(7);
        for _ in 0..20_000 {
            let mut t = [g.instant(), g.instant(), g.instant()];
            t.sort_unstable();
            let [a, b, c] = t;
            for cal in &calendars {
                assert_eq!(cal.between(a, b) + cal.between(b, c), cal.between(a, c));
                let ab = cal.between(a, b);
                assert!((0..=b - a).contains(&ab), "{ab} outside 0..={}", b - a);
            }
        }
    }

    #[test]
    fn always_open_is_calendar_time() {
        let all_day = calendar("utc_all_day");
        let mut g = Gen(11);
        for _ in 0..10_000 {
            let (a, b) = (g.instant(), g.instant());
            let (a, b) = (a.min(b), a.max(b));
            assert_eq!(business_between(a, b, &[], None), b - a);
            assert_eq!(all_day.between(a, b), b - a);
        }
    }

    #[test]
    fn splitting_at_assignments_of_the_same_lane_changes_nothing() {
        let eu = calendar("eu_office");
        let night = calendar("night_desk");
        let mut g = Gen(13);
        for _ in 0..5_000 {
            let mut t: Vec<i64> = (0..6).map(|_| g.instant()).collect();
            t.sort_unstable();
            let (a, b) = (t[0], t[5]);
            // Lanes: night desk from t1, office from t2 (with a second office row at t3), night
            // again at t4.
            let with_repeat = [
                (t[1], Some(&night)),
                (t[2], Some(&eu)),
                (t[3], Some(&eu)),
                (t[4], Some(&night)),
            ];
            let without = [
                (t[1], Some(&night)),
                (t[2], Some(&eu)),
                (t[4], Some(&night)),
            ];
            assert_eq!(
                business_between(a, b, &with_repeat, None),
                business_between(a, b, &without, None)
            );
            // And the pieces add up to the whole.
            let whole = business_between(a, b, &without, None);
            let pieces = (b.min(t[1]) - a)
                + night.between(t[1], t[2])
                + eu.between(t[2], t[4])
                + night.between(t[4], b);
            assert_eq!(whole, pieces);
        }
    }
}
