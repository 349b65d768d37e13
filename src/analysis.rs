//! The analysis every reporting command shares: data → facts → metrics → alerts, for one
//! report period.

use anyhow::{Context as _, Result, bail};
use chrono::{Datelike, NaiveDate, Weekday};
use polars::prelude::*;

use crate::alert::{self, AlertReport};
use crate::config::Config;
use crate::dataset::Dataset;
use crate::facts::{self, Facts};
use crate::metrics::{self, Dimension, Events, Frames, MetricRow, MetricsOptions};
use crate::period::{Period, local_date};

/// Everything computed once for a run.
pub struct Analysis {
    pub data: Dataset,
    pub config: Config,
    /// The alert rules: the registry's defaults with the config's `[alerts]` applied.
    pub thresholds: crate::config::Thresholds,
    /// Lanes of the data the configuration does not name ([`Dataset::unknown_lanes`]).
    pub unknown_lanes: crate::dataset::LaneCounts,
    pub facts: Facts,
    /// The facts-layer event frames (window snapshots, template sends, send failures).
    pub events: Events,
    /// Metric rows in the long format (all periods).
    pub frame: DataFrame,
    pub rows: Vec<MetricRow>,
    pub options: MetricsOptions,
}

impl Analysis {
    pub fn new(
        data: Dataset,
        config: Config,
        unknown_lanes: crate::dataset::LaneCounts,
        as_of: Option<i64>,
        options: MetricsOptions,
        public_facts: bool,
    ) -> Result<Analysis> {
        let (scope, sla) = facts_needed(options, public_facts);
        let mut facts =
            facts::compute_scoped(&data, &config, facts::Known::AsOf(as_of), scope, sla)?;
        let events = Events::build(&data, &facts, &config, options)?;
        // The customer messages and assignments served the window snapshots; nothing later
        // reads them.
        facts.customer_messages = facts::CustomerMessages::default();
        facts.assignments = DataFrame::default();
        let frame = metrics::compute(&Frames::new(&facts, &events, &config, options))?;
        let rows = metrics::read_rows(&frame)?;
        Ok(Analysis {
            thresholds: metrics::thresholds(&config)?,
            data,
            config,
            unknown_lanes,
            facts,
            events,
            frame,
            rows,
            options,
        })
    }

    /// The bot outcome rows of one period by another dimension (the report's outcome tables by
    /// segment, channel and intent).
    pub fn outcome_rows(&self, by: Dimension, period_start: NaiveDate) -> Result<Vec<MetricRow>> {
        let options = MetricsOptions {
            by,
            select: metrics::Selection::Outcomes,
            ..self.options
        };
        let events = self.events.regrouped(&self.facts, by)?;
        let frame = metrics::compute(&Frames::new(&self.facts, &events, &self.config, options))?;
        Ok(metrics::read_rows(&frame)?
            .into_iter()
            .filter(|r| r.period_start == period_start)
            .collect())
    }

    pub fn frames(&self) -> Frames<'_> {
        Frames::new(&self.facts, &self.events, &self.config, self.options)
    }

    /// The alerts of one period, with the conversations behind each.
    pub fn alerts(&self, period_start: NaiveDate) -> Result<AlertReport> {
        let mut alerts =
            alert::evaluate(&self.rows, period_start, self.options.by, &self.thresholds);
        alert::explain(&self.frames(), &mut alerts)?;
        Ok(AlertReport {
            period_start,
            period: self.options.period,
            as_of: self.facts.as_of,
            dimension: self.options.by,
            alerts,
        })
    }

    /// The report period: `--week` or `--period-start` when given, else the latest period that
    /// ended at or before `as_of` (a Monday cron run reports the week just finished); when that
    /// one has no data (a historical export whose last events straggle), the latest period
    /// with data, said in the note.
    pub fn report_period(&self, week: Option<&str>, start: Option<NaiveDate>) -> Result<Chosen> {
        let period = self.options.period;
        let name = period.name();
        // Activity in the period: window snapshots alone do not count, since a thread left open
        // is in every later snapshot.
        let active =
            |r: &&MetricRow| !matches!(r.metric.id(), "window_risk_rate" | "window_expired");
        let has_data = |p: NaiveDate| self.rows.iter().filter(active).any(|r| r.period_start == p);
        let explicit = match (week, start) {
            (Some(week), _) => {
                if period != Period::Week {
                    bail!("--week needs --period week; use --period-start for days and months");
                }
                Some(parse_iso_week(week)?)
            }
            (None, Some(date)) => Some(period.floor(date)),
            (None, None) => None,
        };
        if let Some(start) = explicit {
            let note = (!has_data(start))
                .then(|| format!("The {name} starting {start} has no conversations in the data."));
            return Ok(Chosen { start, note });
        }
        // The period holding as_of has not ended (at its very first instant, the one before
        // has just ended): either way the answer is the period before it.
        let current = period.floor(local_date(self.facts.as_of, self.options.zone));
        let default = period.previous(current);
        if has_data(default) {
            return Ok(Chosen {
                start: default,
                note: None,
            });
        }
        let latest = self
            .rows
            .iter()
            .filter(active)
            .map(|r| r.period_start)
            .filter(|p| *p <= default)
            .max()
            .or_else(|| self.rows.iter().map(|r| r.period_start).max());
        Ok(match latest {
            Some(start) => Chosen {
                start,
                note: Some(format!(
                    "The last complete {name} before as_of ({default}) has no conversations; \
                     showing the latest {name} with data, starting {start}."
                )),
            },
            None => Chosen {
                start: default,
                note: Some(format!(
                    "The {name} starting {default} has no conversations in the data."
                )),
            },
        })
    }

    /// The `count` periods ending with `last`, oldest first (fewer when the calendar runs out).
    pub fn periods_back(&self, last: NaiveDate, count: usize) -> Vec<NaiveDate> {
        let period = self.options.period;
        let mut out = vec![last];
        while out.len() < count.max(1) {
            let Some(earlier) = period.checked_previous(*out.last().expect("not empty")) else {
                break;
            };
            out.push(earlier);
        }
        out.reverse();
        out
    }
}

/// The facts the metrics of `options` read: the governance facts of their scope, and the SLA
/// facts to the detail they need (all of them with `public_facts`, for a facts table or board
/// that is output).
pub fn facts_needed(
    options: MetricsOptions,
    public_facts: bool,
) -> (facts::governance::Scope, Option<facts::sla::Detail>) {
    let scope = if options.select.includes(metrics::MetricSet::Governance)
        || options.select.includes(metrics::MetricSet::Text)
    {
        facts::governance::Scope::All
    } else {
        facts::governance::Scope::Core
    };
    let sla = match (
        options.select.includes(metrics::MetricSet::Sla),
        public_facts,
    ) {
        (false, _) => None,
        (true, false) => Some(facts::sla::Detail::Counted),
        (true, true) => Some(facts::sla::Detail::Public),
    };
    (scope, sla)
}

/// The period a report shows, and why, when it is not the plain default.
#[derive(Debug, Clone, PartialEq)]
pub struct Chosen {
    pub start: NaiveDate,
    /// Said on stderr and on the page: the period has no data, or a fallback was chosen.
    pub note: Option<String>,
}

/// Parses an ISO week such as `2026-W47` into its Monday.
pub fn parse_iso_week(text: &str) -> Result<NaiveDate> {
    let t = text.trim();
    let (year, week) = t
        .split_once("-W")
        .or_else(|| t.split_once("-w"))
        .with_context(|| format!("--week `{t}` is not an ISO week; write it like 2026-W47"))?;
    let year: i32 = year
        .parse()
        .ok()
        .with_context(|| format!("--week `{t}`: `{year}` is not a year"))?;
    let week: u32 = week
        .parse()
        .ok()
        .with_context(|| format!("--week `{t}`: `{week}` is not a week number"))?;
    let monday = NaiveDate::from_isoywd_opt(year, week, Weekday::Mon)
        .with_context(|| format!("--week `{t}`: {year} has no week {week}"))?;
    debug_assert_eq!(monday.weekday(), Weekday::Mon);
    Ok(monday)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_weeks() {
        assert_eq!(
            parse_iso_week("2026-W47").unwrap(),
            NaiveDate::from_ymd_opt(2026, 11, 16).unwrap()
        );
        assert_eq!(
            parse_iso_week("2027-W01").unwrap(),
            NaiveDate::from_ymd_opt(2027, 1, 4).unwrap()
        );
        assert!(parse_iso_week("2026-W54").is_err());
        assert!(parse_iso_week("2026-11-16").is_err());
    }
}
