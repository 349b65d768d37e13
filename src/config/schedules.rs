//! `[schedules.<name>]` and `[business_hours]` of the configuration (spec: business-hours.md):
//! weekly opening ranges in a time zone, with holidays and special days, and which schedule
//! each lane keeps. Validated here; the calendar module, which reads these schedules, does the
//! arithmetic.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use serde::Deserialize;

use crate::period::Zone;

/// The built-in schedule that is always open: business time equals calendar time.
pub const ALWAYS_OPEN: &str = "24x7";

/// An opening range of one day, in minutes after local midnight. `end < start` is an overnight
/// range that ends the next day; `end == 1440` is `24:00`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Range {
    pub start: u32,
    pub end: u32,
}

impl Range {
    pub fn overnight(self) -> bool {
        self.end < self.start
    }

    /// Parses `HH:MM-HH:MM` (`24:00` only as an end).
    pub fn parse(text: &str) -> Result<Range> {
        let bad =
            || anyhow::anyhow!("`{text}` is not a range: write HH:MM-HH:MM, e.g. 09:00-17:00");
        let (a, b) = text.trim().split_once('-').ok_or_else(bad)?;
        let minutes = |t: &str, end: bool| -> Result<u32> {
            let (h, m) = t.trim().split_once(':').ok_or_else(bad)?;
            if h.len() != 2 || m.len() != 2 {
                return Err(bad());
            }
            let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
            match (h, m) {
                (24, 0) if end => Ok(1440),
                (0..=23, 0..=59) => Ok(h * 60 + m),
                _ => Err(bad()),
            }
        };
        let range = Range {
            start: minutes(a, false)?,
            end: minutes(b, true)?,
        };
        if range.start == range.end {
            bail!("`{text}`: the start equals the end");
        }
        Ok(range)
    }

    /// The part of this range on its own day and the part on the next, in minutes.
    fn split(self) -> ((u32, u32), Option<(u32, u32)>) {
        if self.overnight() {
            ((self.start, 1440), (self.end > 0).then_some((0, self.end)))
        } else {
            ((self.start, self.end), None)
        }
    }
}

/// A validated schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub name: String,
    pub zone: Zone,
    /// Ranges per weekday, Monday first.
    pub week: [Vec<Range>; 7],
    pub holidays: BTreeSet<NaiveDate>,
    /// Special days: their ranges replace the weekday's.
    pub overrides: BTreeMap<NaiveDate, Vec<Range>>,
}

impl Schedule {
    /// The ranges that start on `date`.
    pub fn ranges_on(&self, date: NaiveDate) -> &[Range] {
        use chrono::Datelike;
        if let Some(ranges) = self.overrides.get(&date) {
            return ranges;
        }
        if self.holidays.contains(&date) {
            return &[];
        }
        &self.week[date.weekday().num_days_from_monday() as usize]
    }
}

/// Which schedule each lane keeps; `None` when the configuration has no `[business_hours]`.
#[derive(Debug, Clone, PartialEq)]
pub struct BusinessHours {
    /// Schedule names: the default (before the first assignment, and for unmapped lanes) and
    /// per lane. [`ALWAYS_OPEN`] is built in.
    pub default: String,
    pub lanes: BTreeMap<String, String>,
    pub schedules: BTreeMap<String, Schedule>,
}

impl BusinessHours {
    /// The schedule of a lane (`None`: always open).
    pub fn schedule_of(&self, lane: Option<&str>) -> Option<&Schedule> {
        let name = lane
            .and_then(|l| self.lanes.get(l))
            .unwrap_or(&self.default);
        self.schedules.get(name)
    }
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// `[schedules.<name>]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSchedule {
    timezone: String,
    mon: Option<Vec<String>>,
    tue: Option<Vec<String>>,
    wed: Option<Vec<String>>,
    thu: Option<Vec<String>>,
    fri: Option<Vec<String>>,
    sat: Option<Vec<String>>,
    sun: Option<Vec<String>>,
    everyday: Option<Vec<String>>,
    #[serde(default)]
    holidays: Vec<String>,
    #[serde(default)]
    overrides: BTreeMap<String, Vec<String>>,
}

/// `[business_hours]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBusinessHours {
    #[serde(default = "always_open")]
    default: String,
    #[serde(default)]
    lanes: BTreeMap<String, String>,
}

fn always_open() -> String {
    ALWAYS_OPEN.to_owned()
}

fn date(key: &str, text: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .with_context(|| format!("{key}: `{text}` is not a date; write YYYY-MM-DD"))
}

fn ranges(key: &str, texts: &[String]) -> Result<Vec<Range>> {
    let mut out = Vec::with_capacity(texts.len());
    for t in texts {
        out.push(Range::parse(t).with_context(|| key.to_owned())?);
    }
    out.sort();
    Ok(out)
}

/// Fails when two ranges cover the same minute of one day: `today` are the ranges starting
/// that day, `spill` the overnight tails of the day before.
fn check_overlaps(key: &str, today: &[Range], spill: &[Range]) -> Result<()> {
    let mut spans: Vec<(u32, u32)> = Vec::new();
    for r in today {
        spans.push(r.split().0);
    }
    for r in spill {
        if let Some(tail) = r.split().1 {
            spans.push(tail);
        }
    }
    spans.sort();
    for pair in spans.windows(2) {
        if pair[1].0 < pair[0].1 {
            let hhmm = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
            bail!(
                "{key}: ranges overlap on one day ({}-{} and {}-{})",
                hhmm(pair[0].0),
                hhmm(pair[0].1),
                hhmm(pair[1].0),
                hhmm(pair[1].1)
            );
        }
    }
    Ok(())
}

impl RawSchedule {
    fn resolve(self, name: &str) -> Result<Schedule> {
        let key = |k: &str| format!("[schedules.{name}] {k}");
        let zone =
            Zone::parse(&self.timezone).map_err(|e| anyhow::anyhow!("{}: {e}", key("timezone")))?;
        let given = [
            self.mon, self.tue, self.wed, self.thu, self.fri, self.sat, self.sun,
        ];
        let everyday = self
            .everyday
            .as_deref()
            .map(|t| ranges(&key("everyday"), t))
            .transpose()?;
        let mut week: [Vec<Range>; 7] = Default::default();
        for (i, day) in given.iter().enumerate() {
            week[i] = match (day, &everyday) {
                (Some(t), _) => ranges(&key(DAYS[i]), t)?,
                (None, Some(all)) => all.clone(),
                (None, None) => Vec::new(),
            };
        }
        for i in 0..7 {
            let before = &week[(i + 6) % 7];
            check_overlaps(&key(DAYS[i]), &week[i], before)?;
        }
        let mut holidays = BTreeSet::new();
        for h in &self.holidays {
            holidays.insert(date(&key("holidays"), h)?);
        }
        let mut overrides = BTreeMap::new();
        for (day, texts) in &self.overrides {
            let k = key(&format!("overrides.{day}"));
            let d = date(&k, day)?;
            let list = ranges(&k, texts)?;
            check_overlaps(&k, &list, &[])?;
            overrides.insert(d, list);
        }
        Ok(Schedule {
            name: name.to_owned(),
            zone,
            week,
            holidays,
            overrides,
        })
    }
}

/// Validates `[schedules]` and `[business_hours]`: `None` without a `[business_hours]` section.
pub fn resolve(
    schedules: BTreeMap<String, RawSchedule>,
    business_hours: Option<RawBusinessHours>,
) -> Result<Option<BusinessHours>> {
    let mut resolved = BTreeMap::new();
    for (name, raw) in schedules {
        if name == ALWAYS_OPEN {
            bail!("[schedules.{name}]: `{ALWAYS_OPEN}` is built in; choose another name");
        }
        resolved.insert(name.clone(), raw.resolve(&name)?);
    }
    let Some(raw) = business_hours else {
        return Ok(None);
    };
    let known = |name: &str| name == ALWAYS_OPEN || resolved.contains_key(name);
    if !known(&raw.default) {
        bail!(
            "[business_hours] default = \"{}\" names no schedule; define [schedules.{}] or use \"{ALWAYS_OPEN}\"",
            raw.default,
            raw.default
        );
    }
    let mut lanes = BTreeMap::new();
    for (lane, schedule) in raw.lanes {
        if !known(&schedule) {
            bail!(
                "[business_hours.lanes] {lane} = \"{schedule}\" names no schedule; define \
                 [schedules.{schedule}] or use \"{ALWAYS_OPEN}\""
            );
        }
        lanes.insert(lane.trim().to_lowercase(), schedule);
    }
    Ok(Some(BusinessHours {
        default: raw.default,
        lanes,
        schedules: resolved,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Option<BusinessHours>> {
        #[derive(Deserialize)]
        struct Doc {
            #[serde(default)]
            schedules: BTreeMap<String, RawSchedule>,
            business_hours: Option<RawBusinessHours>,
        }
        let doc: Doc = toml::from_str(text)?;
        resolve(doc.schedules, doc.business_hours)
    }

    #[test]
    fn ranges_parse_with_overnight_and_24_00() {
        assert_eq!(
            Range::parse("09:00-17:00").unwrap(),
            Range {
                start: 540,
                end: 1020
            }
        );
        let night = Range::parse("22:00-06:00").unwrap();
        assert!(night.overnight());
        assert_eq!(Range::parse("18:00-24:00").unwrap().end, 1440);
        for bad in [
            "9-17",
            "09:00",
            "25:00-26:00",
            "09:00-09:00",
            "24:00-02:00",
            "09:60-10:00",
        ] {
            assert!(Range::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_spec_example_resolves() {
        let bh = parse(
            r#"
            [schedules.eu_office]
            timezone = "Europe/Berlin"
            mon = ["09:00-17:00"]
            wed = ["09:00-12:30", "13:30-17:00"]
            holidays = ["2026-12-25"]
            overrides = { "2026-12-24" = ["09:00-13:00"] }
            [schedules.night_desk]
            timezone = "America/New_York"
            everyday = ["22:00-06:00"]
            [business_hours]
            default = "24x7"
            [business_hours.lanes]
            Technical_L2 = "eu_office"
            compliance = "night_desk"
            "#,
        )
        .unwrap()
        .unwrap();
        let eu = bh.schedule_of(Some("technical_l2")).unwrap();
        assert_eq!(eu.week[2].len(), 2);
        assert!(eu.week[1].is_empty(), "an absent weekday is closed");
        assert!(bh.schedule_of(Some("general")).is_none(), "24x7");
        assert!(bh.schedule_of(None).is_none());
        assert_eq!(bh.schedule_of(Some("compliance")).unwrap().week[6].len(), 1);
    }

    #[test]
    fn every_error_names_its_key() {
        for (text, key) in [
            (
                "[schedules.a]\ntimezone = \"Mars/Base\"\n",
                "[schedules.a] timezone",
            ),
            (
                "[schedules.a]\ntimezone = \"UTC\"\nmon = [\"9-17\"]\n",
                "[schedules.a] mon",
            ),
            (
                "[schedules.a]\ntimezone = \"UTC\"\ntue = [\"10:00-10:00\"]\n",
                "[schedules.a] tue",
            ),
            (
                "[schedules.a]\ntimezone = \"UTC\"\nwed = [\"09:00-12:00\", \"11:00-13:00\"]\n",
                "[schedules.a] wed",
            ),
            (
                "[schedules.a]\ntimezone = \"UTC\"\nmon = [\"22:00-06:00\"]\ntue = [\"05:00-09:00\"]\n",
                "[schedules.a] tue",
            ),
            (
                "[schedules.a]\ntimezone = \"UTC\"\nholidays = [\"25/12/2026\"]\n",
                "[schedules.a] holidays",
            ),
            (
                "[schedules.a]\ntimezone = \"UTC\"\noverrides = { \"xmas\" = [\"09:00-10:00\"] }\n",
                "overrides.xmas",
            ),
            (
                "[business_hours.lanes]\ngeneral = \"nope\"\n",
                "[business_hours.lanes] general",
            ),
            (
                "[business_hours]\ndefault = \"nope\"\n",
                "[business_hours] default",
            ),
            (
                "[schedules.a]\ntimezone = \"UTC\"\nmonday = [\"09:00-10:00\"]\n",
                "monday",
            ),
        ] {
            let err = format!("{:#}", parse(text).unwrap_err());
            assert!(err.contains(key), "{text}: {err}");
        }
        assert!(
            parse("").unwrap().is_none(),
            "no [business_hours]: no business time"
        );
    }
}
