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
use crate::period::QuietPeriods;
use crate::period::{Period, local_date};
use crate::tally;

/// Everything computed once for a run.
pub struct Analysis {
    pub data: Dataset,
    pub config: Config,
    /// The alert rules: the registry's defaults with the config's `[alerts]` applied.
    pub thresholds: crate::config::Thresholds,
    /// Lanes of the data the configuration does not name ([`Dataset::unknown_lanes`]).
    pub unknown_lanes: crate::dataset::LaneCounts,
    pub as_of: i64,
    /// The periods without a window snapshot ([`crate::period::snapshots_within`]).
    pub quiet: QuietPeriods,
    /// Conversations in the facts.
    pub conversations: usize,
    /// Metric rows in the long format (all periods).
    pub frame: DataFrame,
    pub rows: Vec<MetricRow>,
    pub options: MetricsOptions,
    conversations_of: Conversations,
}

/// Where the per-conversation pieces (drill-downs, the board, template sends, the report's
/// tallies) come from.
enum Conversations {
    /// The facts of all conversations, in memory.
    Whole {
        facts: Box<Facts>,
        events: Box<Events>,
    },
    /// Partitions of them, computed again for a report period; the bot outcome rows by the
    /// report's other dimensions were computed with the metrics.
    Parted {
        run: crate::partitioned::Run,
        outcomes: Vec<(Dimension, Vec<MetricRow>)>,
        /// The report period's pieces, gathered with the metrics; taken by the first view of
        /// that period.
        gathered: std::sync::Mutex<Option<Box<crate::partitioned::Gathered>>>,
    },
}

/// The period a report asks for on the command line: `--week` or `--period-start`, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Requested<'a> {
    pub week: Option<&'a str>,
    pub start: Option<NaiveDate>,
}

/// The dimensions of the report's bot outcome tables.
pub const OUTCOME_DIMENSIONS: [Dimension; 3] =
    [Dimension::Segment, Dimension::Channel, Dimension::Intent];

/// What a report period shows besides the metric rows ([`Analysis::period_view`]).
pub struct PeriodView {
    pub alerts: AlertReport,
    pub board: Vec<crate::board::BoardRow>,
    pub templates: Option<Vec<crate::board::TemplateLine>>,
    /// What the calls and cost lines read of the facts.
    pub tally: tally::Tally,
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
        let (scope, sla) = metrics::facts_needed(options, public_facts);
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
            as_of: facts.as_of,
            quiet: events.quiet,
            conversations: facts.frame.height(),
            frame,
            rows,
            options,
            conversations_of: Conversations::Whole {
                facts: Box::new(facts),
                events: Box::new(events),
            },
        })
    }

    /// [`Analysis::new`] over the partitions of `plan`, one at a time; with `report`, also the
    /// bot outcome rows by [`OUTCOME_DIMENSIONS`] (the report's tables) and, in the same pass,
    /// the pieces of the period the report asks for (`--week`, `--period-start`, else the
    /// last one ended at as_of).
    pub fn partitioned(
        data: Dataset,
        config: Config,
        unknown_lanes: crate::dataset::LaneCounts,
        as_of: Option<i64>,
        options: MetricsOptions,
        (plan, report): (crate::partition::Plan, Option<Requested<'_>>),
        progress: &crate::progress::Progress,
    ) -> Result<Analysis> {
        let run = crate::partitioned::Run::new(&data, plan, as_of, options.zone, progress)?;
        let thresholds = metrics::thresholds(&config)?;
        let (regrouped, ahead) = match report {
            Some(Requested { week, start }) => (
                OUTCOME_DIMENSIONS
                    .iter()
                    .map(|&by| (by, metrics::Selection::Outcomes))
                    .collect(),
                Some(crate::partitioned::Ahead {
                    period_start: requested_period(options, run.globals.as_of, week, start)?.0,
                    candidates: alert::period_drills::candidates(&thresholds, options, &config),
                }),
            ),
            None => (Vec::new(), None),
        };
        let merged = run.metrics(
            &data,
            &config,
            options,
            &regrouped,
            ahead.as_ref(),
            progress,
        )?;
        let rows = metrics::read_rows(&merged.frame)?;
        let outcomes = merged
            .regrouped
            .iter()
            .map(|(by, frame)| Ok((*by, metrics::read_rows(frame)?)))
            .collect::<Result<_>>()?;
        Ok(Analysis {
            thresholds,
            data,
            config,
            unknown_lanes,
            as_of: run.globals.as_of,
            quiet: merged.quiet,
            conversations: merged.conversations,
            frame: merged.frame,
            rows,
            options,
            conversations_of: Conversations::Parted {
                run,
                outcomes,
                gathered: std::sync::Mutex::new(merged.gathered.map(Box::new)),
            },
        })
    }

    /// The facts and event frames of all conversations; an error for a partitioned analysis.
    pub fn whole(&self) -> Result<(&Facts, &Events)> {
        match &self.conversations_of {
            Conversations::Whole { facts, events } => Ok((facts, events)),
            Conversations::Parted { .. } => bail!("the facts were computed in partitions"),
        }
    }

    /// The bot outcome rows of one period by another dimension (the report's outcome tables by
    /// segment, channel and intent).
    pub fn outcome_rows(&self, by: Dimension, period_start: NaiveDate) -> Result<Vec<MetricRow>> {
        let rows = match &self.conversations_of {
            Conversations::Whole { facts, events } => {
                let options = MetricsOptions {
                    by,
                    select: metrics::Selection::Outcomes,
                    ..self.options
                };
                let events = events.regrouped(facts, by)?;
                let frame = metrics::compute(&Frames::new(facts, &events, &self.config, options))?;
                metrics::read_rows(&frame)?
            }
            Conversations::Parted { outcomes, .. } => outcomes
                .iter()
                .find(|(d, _)| *d == by)
                .map(|(_, rows)| rows.clone())
                .with_context(|| format!("no bot outcome rows by {}", by.column()))?,
        };
        Ok(rows
            .into_iter()
            .filter(|r| r.period_start == period_start)
            .collect())
    }

    pub fn frames(&self) -> Result<Frames<'_>> {
        let (facts, events) = self.whole()?;
        Ok(Frames::new(facts, events, &self.config, self.options))
    }

    /// The alerts of one period, with the conversations behind each.
    pub fn alerts(
        &self,
        period_start: NaiveDate,
        progress: &crate::progress::Progress,
    ) -> Result<AlertReport> {
        match &self.conversations_of {
            Conversations::Whole { .. } => {
                let mut alerts =
                    alert::evaluate(&self.rows, period_start, self.options.by, &self.thresholds);
                alert::explain(&self.frames()?, &mut alerts)?;
                Ok(self.alert_report(period_start, alerts))
            }
            // The drill-downs need a pass over the partitions, which gives the rest too.
            Conversations::Parted { .. } => Ok(self.period_view(period_start, progress)?.alerts),
        }
    }

    fn alert_report(&self, period_start: NaiveDate, alerts: Vec<alert::Alert>) -> AlertReport {
        AlertReport {
            period_start,
            period: self.options.period,
            as_of: self.as_of,
            dimension: self.options.by,
            alerts,
        }
    }

    /// The alerts of one period with the conversations behind each, the board, the template
    /// lines of the period and the tally of its calls and cost.
    pub fn period_view(
        &self,
        period_start: NaiveDate,
        progress: &crate::progress::Progress,
    ) -> Result<PeriodView> {
        let mut alerts =
            alert::evaluate(&self.rows, period_start, self.options.by, &self.thresholds);
        let (board, templates, tally) = match &self.conversations_of {
            Conversations::Whole { facts, events } => {
                alert::explain(&self.frames()?, &mut alerts)?;
                let board = crate::board::build(facts, &self.config)?;
                let (from, to) = self
                    .options
                    .period
                    .window_ms(period_start, self.options.zone);
                let sends = events.sends.as_ref();
                let templates = crate::board::templates(&self.data, sends, self.as_of, from, to)?;
                let tally = tally::Tally::of(facts, &self.config, period_start, self.options)?;
                (board, templates, tally)
            }
            Conversations::Parted { run, gathered, .. } => {
                let taken = gathered.lock().ok().and_then(|mut g| g.take());
                match taken.filter(|g| g.period_start == period_start) {
                    Some(gathered) => {
                        let drills = gathered.drills.of(&alerts)?;
                        alert::fill(&mut alerts, drills)?;
                        (gathered.board, gathered.templates, gathered.tally)
                    }
                    None => {
                        let view = run.period(
                            &self.data,
                            &self.config,
                            self.options,
                            &alerts,
                            period_start,
                            progress,
                        )?;
                        alert::fill(&mut alerts, view.drills)?;
                        (view.board, view.templates, view.tally)
                    }
                }
            }
        };
        Ok(PeriodView {
            alerts: self.alert_report(period_start, alerts),
            board,
            templates,
            tally,
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
        let (default, explicit) = requested_period(self.options, self.as_of, week, start)?;
        if explicit {
            let start = default;
            let note = (!has_data(start))
                .then(|| format!("The {name} starting {start} has no conversations in the data."));
            return Ok(Chosen { start, note });
        }
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

/// The period a report shows, and why, when it is not the plain default.
#[derive(Debug, Clone, PartialEq)]
pub struct Chosen {
    pub start: NaiveDate,
    /// Said on stderr and on the page: the period has no data, or a fallback was chosen.
    pub note: Option<String>,
}

/// The period a report asks for: `--week` or `--period-start` (`true`: given), else the
/// latest period that ended at or before `as_of`. The period holding as_of has not ended (at
/// its very first instant, the one before has just ended): either way the default is the
/// period before it.
pub fn requested_period(
    options: MetricsOptions,
    as_of: i64,
    week: Option<&str>,
    start: Option<NaiveDate>,
) -> Result<(NaiveDate, bool)> {
    let period = options.period;
    match (week, start) {
        (Some(week), _) => {
            if period != Period::Week {
                bail!("--week needs --period week; use --period-start for days and months");
            }
            Ok((parse_iso_week(week)?, true))
        }
        (None, Some(date)) => Ok((period.floor(date), true)),
        (None, None) => {
            let current = period.floor(local_date(as_of, options.zone));
            Ok((period.previous(current), false))
        }
    }
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
