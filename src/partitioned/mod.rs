//! The facts, the board, the metrics and the report's pieces computed one partition of the
//! conversations at a time ([`crate::partition`]): memory is bounded by a partition, not by
//! the history, and the output is the one of a run over all conversations at once, to the last
//! byte.
//!
//! The decisions that need all the data are taken first ([`facts::globals`]); each partition's
//! metrics are partial states (counts, exact sums, a quantile's values) merged at the end
//! ([`metrics::merge`]); drill-downs, board rows and template counts are merged in the order
//! one run gives them.

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use chrono::NaiveDate;
use polars::prelude::*;

use crate::alert::period_drills::{self, PeriodDrills};
use crate::alert::{self, Alert};
use crate::board::{self, BoardRow, TemplateLine};
use crate::config::Config;
use crate::dataset::Dataset;
use crate::facts::{self, Facts, Globals, Known};
use crate::metrics::{self, Dimension, Events, Frames, MetricsOptions};
use crate::partition::{Plan, Scratch, Split};
use crate::period::{QuietPeriods, snapshots_within};
use crate::progress::Progress;
use crate::tally::Tally;

pub mod key_order;

pub use key_order::{Blocks, KeyOrder};

/// The metric rows of every selected metric over all partitions, and the periods without a
/// window snapshot.
pub struct Metrics {
    pub frame: DataFrame,
    /// The rows of the same metrics by each dimension of `regrouped`
    /// ([`Run::metrics`]).
    pub regrouped: Vec<(Dimension, DataFrame)>,
    pub quiet: QuietPeriods,
    /// Conversations in the facts.
    pub conversations: usize,
    /// The pieces of the period asked for with [`Ahead`], when its drill-down lists stayed
    /// under [`period_drills::MAX_LISTS`].
    pub gathered: Option<Gathered>,
}

/// What one pass over the partitions gives for a report period ([`Run::period`]).
pub struct Period {
    /// The drill-down rows of each alert, merged.
    pub drills: Vec<DataFrame>,
    pub board: Vec<BoardRow>,
    pub templates: Option<Vec<TemplateLine>>,
    pub tally: Tally,
}

/// A report period whose pieces the metrics pass gathers besides the metrics, before the
/// alerts are known: the period a report shows unless its data says otherwise.
pub struct Ahead {
    pub period_start: NaiveDate,
    /// The watched metrics and sides ([`period_drills::candidates`]).
    pub candidates: Vec<period_drills::Candidate>,
}

/// The pieces of an [`Ahead`] period, merged over the partitions: the drill-down lists of
/// every alert it could raise, the board, the template lines and the tally.
pub struct Gathered {
    pub period_start: NaiveDate,
    pub drills: PeriodDrills,
    pub board: Vec<BoardRow>,
    pub templates: Option<Vec<TemplateLine>>,
    pub tally: Tally,
}

/// A run over the partitions of a plan: the tables split once into a temporary folder (or the
/// split the warehouse stores), then one partition at a time.
pub struct Run {
    pub plan: Plan,
    pub globals: Globals,
    split: Split,
    scratch: Scratch,
}

impl Run {
    pub fn new(
        data: &Dataset,
        plan: Plan,
        as_of: Option<i64>,
        zone: crate::period::Zone,
        progress: &Progress,
    ) -> Result<Run> {
        let globals = facts::globals(data, as_of, zone)?;
        let scratch = Scratch::new("partitions")?;
        // A warehouse split by its ingest in as many partitions is read as it is.
        let split = match Split::stored(data, plan.count())? {
            Some(split) => split,
            None => {
                let step = progress.step(&format!(
                    "splitting the data into {} partitions by customer",
                    plan.count()
                ));
                let split = plan.split(data, &scratch)?;
                step.finish_and_clear();
                split
            }
        };
        Ok(Run {
            plan,
            globals,
            split,
            scratch,
        })
    }

    /// Calls `f` with the facts of each partition in turn.
    fn each<T>(
        &self,
        data: &Dataset,
        config: &Config,
        (scope, sla): (facts::governance::Scope, Option<facts::sla::Detail>),
        progress: &Progress,
        mut f: impl FnMut(usize, &Dataset, Facts) -> Result<T>,
    ) -> Result<Vec<T>> {
        let count = self.plan.count();
        let mut out = Vec::with_capacity(count);
        for index in 0..count {
            let step = progress.step(&format!("partition {} of {count}", index + 1));
            let part = self.split.part(data, index)?;
            let facts =
                facts::compute_scoped(&part, config, Known::Partition(&self.globals), scope, sla)
                    .with_context(|| match self.split.stored {
                    true => format!(
                        "partition {} of {count}, stored in {} by the warehouse's ingest; \
                             if a file there is damaged, delete that folder (the commands then \
                             split the warehouse themselves) or run `l2lens ingest` again",
                        index + 1,
                        self.split.dir.display()
                    ),
                    false => format!("partition {} of {count}", index + 1),
                })?;
            out.push(f(index, &part, facts)?);
            step.finish_and_clear();
        }
        Ok(out)
    }

    /// The metrics of `options`, as one run over all conversations computes them, and the same
    /// metrics of `regrouped` with the conversations grouped by each of its dimensions (the
    /// report's bot outcomes). The values behind each quantile (one per row of its cohort)
    /// wait on disk, one file per metric and partition, and are merged one metric at a time.
    /// With `ahead`, the same pass gathers that period's pieces ([`Gathered`]).
    pub fn metrics(
        &self,
        data: &Dataset,
        config: &Config,
        options: MetricsOptions,
        regrouped: &[(Dimension, metrics::Selection)],
        ahead: Option<&Ahead>,
        progress: &Progress,
    ) -> Result<Metrics> {
        let mut gathered = ahead.map(|ahead| Gathered {
            period_start: ahead.period_start,
            drills: PeriodDrills::default(),
            board: Vec::new(),
            templates: None,
            tally: Tally::default(),
        });
        let mut templates = Vec::new();
        let mut spans = Vec::new();
        let mut quantiles = BTreeSet::new();
        let mut conversations = 0;
        let views = std::iter::once(options)
            .chain(regrouped.iter().map(|&(by, select)| MetricsOptions {
                by,
                select,
                ..options
            }))
            .collect::<Vec<_>>();
        let needed = metrics::facts_needed(options, false);
        let counted = self.each(data, config, needed, progress, |index, part, mut facts| {
            let events = Events::build(part, &facts, config, options)?;
            if let (Some(ahead), Some(all)) = (ahead, gathered.as_mut()) {
                let frames = Frames::new(&facts, &events, config, options);
                let drills = PeriodDrills::gather(&frames, ahead.period_start, &ahead.candidates)?;
                let complete = match drills {
                    Some(drills) => all.drills.merge(drills)?,
                    None => false,
                };
                if complete {
                    let (from, to) = options.period.window_ms(ahead.period_start, options.zone);
                    all.board.extend(board::build(&facts, config)?);
                    let sends = events.sends.as_ref();
                    templates.push(board::templates(part, sends, facts.as_of, from, to)?);
                    all.tally
                        .merge(Tally::of(&facts, config, ahead.period_start, options)?);
                } else {
                    // Too many lists: the period's pieces wait for a pass once the alerts
                    // are known.
                    gathered = None;
                }
            }
            facts.customer_messages = facts::CustomerMessages::default();
            facts.assignments = DataFrame::default();
            spans.extend_from_slice(&events.spans);
            conversations += facts.frame.height();
            let mut counted = Vec::with_capacity(views.len());
            for (view, &view_options) in views.iter().enumerate() {
                let regrouped;
                let events = match view {
                    0 => &events,
                    _ => {
                        regrouped = events.regrouped(&facts, view_options.by)?;
                        &regrouped
                    }
                };
                let frames = Frames::new(&facts, events, config, view_options);
                let (rows, valued) = metrics::split_quantiles(metrics::compute_partial(&frames)?)?;
                for (metric, frame) in valued {
                    let path = self.values_path(view, &metric, index);
                    crate::partition::write_temporary(&path, &frame, crate::warehouse::ROW_GROUP)?;
                    quantiles.insert((view, metric));
                }
                counted.push(rows);
            }
            Ok(counted)
        })?;
        let step = progress.step("merging the partitions' metrics");
        let mut merged: Vec<Vec<DataFrame>> = Vec::with_capacity(views.len());
        for (view, view_options) in views.iter().enumerate() {
            let states = counted.iter().map(|c| c[view].clone()).collect();
            merged.push(vec![metrics::merge(&stack(states)?, view_options.by)?]);
        }
        for (view, metric) in &quantiles {
            let mut parts = Vec::new();
            for index in 0..self.plan.count() {
                let path = self.values_path(*view, metric, index);
                if path.is_file() {
                    parts.push(
                        LazyFrame::scan_parquet(
                            PlRefPath::try_from_path(&path)?,
                            ScanArgsParquet::default(),
                        )?
                        .collect()?,
                    );
                    std::fs::remove_file(&path)?;
                }
            }
            merged[*view].push(metrics::merge(&stack(parts)?, views[*view].by)?);
        }
        let mut frames = merged
            .into_iter()
            .zip(&views)
            .map(|(frames, view)| metrics::sorted(stack(frames)?, view.by));
        let frame = frames.next().expect("the main view")?;
        let regrouped = regrouped
            .iter()
            .map(|(by, _)| *by)
            .zip(frames)
            .map(|(by, frame)| Ok((by, frame?)))
            .collect::<Result<_>>()?;
        step.finish_and_clear();
        let g = &self.globals;
        let quiet =
            snapshots_within(&mut spans, &g.active, g.as_of, options.period, options.zone).quiet;
        if let Some(all) = &mut gathered {
            board::sort(&mut all.board);
            all.templates = board::merge_templates(templates);
        }
        Ok(Metrics {
            frame,
            regrouped,
            quiet,
            conversations,
            gathered,
        })
    }

    fn values_path(&self, view: usize, metric: &str, index: usize) -> PathBuf {
        self.scratch
            .path
            .join(format!("values-{view}-{metric}-{index}.parquet"))
    }

    /// The pieces of the report period starting `period_start`: the drill-down rows of
    /// `alerts`, the board, the template lines and the tally.
    pub fn period(
        &self,
        data: &Dataset,
        config: &Config,
        options: MetricsOptions,
        alerts: &[Alert],
        period_start: NaiveDate,
        progress: &Progress,
    ) -> Result<Period> {
        let needed = metrics::facts_needed(options, false);
        let (from, to) = options.period.window_ms(period_start, options.zone);
        let parts = self.each(data, config, needed, progress, |_, part, facts| {
            let events = Events::build(part, &facts, config, options)?;
            let drills = alert::drills(&Frames::new(&facts, &events, config, options), alerts)?;
            let board = board::build(&facts, config)?;
            let templates = board::templates(part, events.sends.as_ref(), facts.as_of, from, to)?;
            let tally = Tally::of(&facts, config, period_start, options)?;
            Ok((drills, board, templates, tally))
        })?;
        let mut drills = Vec::with_capacity(parts.len());
        let mut rows = Vec::new();
        let mut templates = Vec::with_capacity(parts.len());
        let mut tally = Tally::default();
        for (d, b, t, e) in parts {
            drills.push(d);
            rows.extend(b);
            templates.push(t);
            tally.merge(e);
        }
        board::sort(&mut rows);
        Ok(Period {
            drills: alert::merge_drills(drills)?,
            board: rows,
            templates: board::merge_templates(templates),
            tally,
        })
    }

    /// The facts table through `public` (which keeps `key`), each partition's rows waiting on
    /// disk until they are read back in key order ([`KeyOrder::blocks`]).
    pub fn facts(
        &self,
        data: &Dataset,
        config: &Config,
        progress: &Progress,
        public: impl Fn(&DataFrame) -> Result<DataFrame>,
    ) -> Result<KeyOrder> {
        let mut ordered = KeyOrder::new()?;
        self.each(data, config, public_facts(), progress, |_, _, facts| {
            ordered.push(public(&facts.frame)?)
        })?;
        Ok(ordered)
    }

    /// The board rows, in the board's order.
    pub fn board(
        &self,
        data: &Dataset,
        config: &Config,
        progress: &Progress,
    ) -> Result<Vec<BoardRow>> {
        let parts = self.each(data, config, public_facts(), progress, |_, _, facts| {
            board::build(&facts, config)
        })?;
        let mut rows: Vec<BoardRow> = parts.into_iter().flatten().collect();
        board::sort(&mut rows);
        Ok(rows)
    }
}

/// Every fact, as the facts table and the board have them.
fn public_facts() -> (facts::governance::Scope, Option<facts::sla::Detail>) {
    (
        facts::governance::Scope::All,
        Some(facts::sla::Detail::Public),
    )
}

/// The frames one under the other (no rows: an empty frame).
fn stack(frames: Vec<DataFrame>) -> Result<DataFrame> {
    let mut frames = frames.into_iter();
    let mut out = frames.next().unwrap_or_default();
    for frame in frames {
        out.vstack_mut_owned(frame)?;
    }
    Ok(out)
}
