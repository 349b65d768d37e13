//! The facts, the board and the metrics computed one partition of the conversations at a
//! time ([`crate::partition`]): memory is bounded by a partition, not by the history, and the
//! output is the one of a run over all conversations at once, to the last byte.
//!
//! The decisions that need all the data are taken first ([`facts::globals`]); each partition's
//! metrics are partial states (counts, exact sums, a quantile's values) merged at the end
//! ([`metrics::merge`]).

use anyhow::{Context as _, Result};
use polars::prelude::*;

use crate::board::{self, BoardRow};
use crate::config::Config;
use crate::dataset::Dataset;
use crate::facts::{self, Facts, Globals, Known};
use crate::metrics::{self, Events, Frames, MetricsOptions};
use crate::partition::Plan;
use crate::period::{QuietPeriods, snapshots_within};
use crate::progress::Progress;

/// The metric rows of every selected metric over all partitions, and the periods without a
/// window snapshot.
pub struct Metrics {
    pub frame: DataFrame,
    pub quiet: QuietPeriods,
}

/// A run over the partitions of `plan`.
pub struct Run<'a> {
    pub data: &'a Dataset,
    pub config: &'a Config,
    pub plan: &'a Plan,
    pub globals: Globals,
}

impl<'a> Run<'a> {
    pub fn new(
        data: &'a Dataset,
        config: &'a Config,
        plan: &'a Plan,
        as_of: Option<i64>,
        zone: crate::period::Zone,
    ) -> Result<Run<'a>> {
        Ok(Run {
            data,
            config,
            plan,
            globals: facts::globals(data, as_of, zone)?,
        })
    }

    /// Calls `f` with the facts of each partition in turn.
    fn each<T>(
        &self,
        scope: facts::governance::Scope,
        sla: Option<facts::sla::Detail>,
        progress: &Progress,
        mut f: impl FnMut(&Dataset, Facts) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut out = Vec::with_capacity(self.plan.count());
        for index in 0..self.plan.count() {
            let step = progress.step(&format!(
                "partition {} of {}: computing facts",
                index + 1,
                self.plan.count()
            ));
            let data = self.plan.part(self.data, index);
            let facts = facts::compute_scoped(
                &data,
                self.config,
                Known::Partition(&self.globals),
                scope,
                sla,
            )
            .with_context(|| format!("partition {} of {}", index + 1, self.plan.count()))?;
            out.push(f(&data, facts)?);
            step.finish_and_clear();
        }
        Ok(out)
    }

    /// The metrics of `options`, as [`crate::analysis::Analysis`] computes them.
    pub fn metrics(&self, options: MetricsOptions, progress: &Progress) -> Result<Metrics> {
        let (scope, sla) = crate::analysis::facts_needed(options, false);
        let mut spans = Vec::new();
        let partials = self.each(scope, sla, progress, |data, mut facts| {
            let events = Events::build(data, &facts, self.config, options)?;
            facts.customer_messages = facts::CustomerMessages::default();
            facts.assignments = DataFrame::default();
            spans.extend_from_slice(&events.spans);
            metrics::compute_partial(&Frames::new(&facts, &events, self.config, options))
        })?;
        let mut all = partials.into_iter();
        let mut partials = all.next().unwrap_or_default();
        for part in all {
            partials.vstack_mut_owned(part)?;
        }
        let frame = metrics::merge(&partials, options.by)?;
        let g = &self.globals;
        let quiet =
            snapshots_within(&mut spans, &g.active, g.as_of, options.period, options.zone).quiet;
        Ok(Metrics { frame, quiet })
    }

    /// The facts table through `public` (which keeps `key`), in key order.
    pub fn facts(
        &self,
        progress: &Progress,
        public: impl Fn(&DataFrame) -> Result<DataFrame>,
    ) -> Result<DataFrame> {
        let parts = self.each(
            facts::governance::Scope::All,
            Some(facts::sla::Detail::Public),
            progress,
            |_, facts| public(&facts.frame),
        )?;
        let mut frame = concat(
            parts.into_iter().map(IntoLazy::lazy).collect::<Vec<_>>(),
            UnionArgs::default(),
        )?
        .collect()?;
        frame.sort_in_place(["key"], SortMultipleOptions::default())?;
        frame.drop_in_place("key")?;
        Ok(frame)
    }

    /// The board rows, in the board's order.
    pub fn board(&self, progress: &Progress) -> Result<Vec<BoardRow>> {
        let parts = self.each(
            facts::governance::Scope::All,
            Some(facts::sla::Detail::Public),
            progress,
            |_, facts| board::build(&facts, self.config),
        )?;
        let mut rows: Vec<BoardRow> = parts.into_iter().flatten().collect();
        board::sort(&mut rows);
        Ok(rows)
    }
}
