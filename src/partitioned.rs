//! The facts, the board and the metrics computed one partition of the conversations at a
//! time ([`crate::partition`]): memory is bounded by a partition, not by the history, and the
//! output is the one of a run over all conversations at once, to the last byte.
//!
//! The decisions that need all the data are taken first ([`facts::globals`]); each partition's
//! metrics are partial states (counts, exact sums, a quantile's values) merged at the end
//! ([`metrics::merge`]).

use std::collections::BTreeSet;

use anyhow::{Context as _, Result};
use polars::prelude::*;

use crate::board::{self, BoardRow};
use crate::config::Config;
use crate::dataset::Dataset;
use crate::facts::{self, Facts, Globals, Known};
use crate::metrics::{self, Events, Frames, MetricsOptions};
use crate::partition::{Plan, Scratch, Split};
use crate::period::{QuietPeriods, snapshots_within};
use crate::progress::Progress;

/// The metric rows of every selected metric over all partitions, and the periods without a
/// window snapshot.
pub struct Metrics {
    pub frame: DataFrame,
    pub quiet: QuietPeriods,
}

/// A run over the partitions of `plan`: the tables split once into a temporary folder, then
/// one partition at a time.
pub struct Run<'a> {
    pub data: &'a Dataset,
    pub config: &'a Config,
    pub plan: &'a Plan,
    pub globals: Globals,
    split: Split,
    scratch: Scratch,
}

impl<'a> Run<'a> {
    pub fn new(
        data: &'a Dataset,
        config: &'a Config,
        plan: &'a Plan,
        as_of: Option<i64>,
        zone: crate::period::Zone,
        progress: &Progress,
    ) -> Result<Run<'a>> {
        let globals = facts::globals(data, as_of, zone)?;
        let scratch = Scratch::new("partitions")?;
        let step = progress.step(&format!(
            "splitting the data into {} partitions by customer",
            plan.count()
        ));
        let split = plan.split(data, &scratch)?;
        step.finish_and_clear();
        Ok(Run {
            data,
            config,
            plan,
            globals,
            split,
            scratch,
        })
    }

    /// Calls `f` with the facts of each partition in turn.
    fn each<T>(
        &self,
        scope: facts::governance::Scope,
        sla: Option<facts::sla::Detail>,
        progress: &Progress,
        mut f: impl FnMut(usize, &Dataset, Facts) -> Result<T>,
    ) -> Result<Vec<T>> {
        let count = self.plan.count();
        let mut out = Vec::with_capacity(count);
        for index in 0..count {
            let step = progress.step(&format!("partition {} of {count}", index + 1));
            let data = self.split.part(self.data, index)?;
            let facts = facts::compute_scoped(
                &data,
                self.config,
                Known::Partition(&self.globals),
                scope,
                sla,
            )
            .with_context(|| format!("partition {} of {count}", index + 1))?;
            out.push(f(index, &data, facts)?);
            step.finish_and_clear();
        }
        Ok(out)
    }

    /// The metrics of `options`, as [`crate::analysis::Analysis`] computes them. The values
    /// behind each quantile (one per conversation) wait on disk, one file per metric and
    /// partition, and are merged one metric at a time.
    pub fn metrics(&self, options: MetricsOptions, progress: &Progress) -> Result<Metrics> {
        let (scope, sla) = crate::analysis::facts_needed(options, false);
        let mut spans = Vec::new();
        let mut quantiles = BTreeSet::new();
        let counted = self.each(scope, sla, progress, |index, data, mut facts| {
            let events = Events::build(data, &facts, self.config, options)?;
            facts.customer_messages = facts::CustomerMessages::default();
            facts.assignments = DataFrame::default();
            spans.extend_from_slice(&events.spans);
            let partial =
                metrics::compute_partial(&Frames::new(&facts, &events, self.config, options))?;
            let (counted, mut valued) = metrics::split_quantiles(partial)?;
            for (metric, frame) in valued.iter_mut() {
                let path = self.values_path(metric, index);
                crate::warehouse::write_parquet(&path, frame)?;
                quantiles.insert(metric.clone());
            }
            Ok(counted)
        })?;
        let step = progress.step("merging the partitions' metrics");
        let mut frames = vec![metrics::merge(&stack(counted)?, options.by)?];
        for metric in &quantiles {
            let mut parts = Vec::new();
            for index in 0..self.plan.count() {
                let path = self.values_path(metric, index);
                if path.is_file() {
                    parts.push(
                        LazyFrame::scan_parquet(
                            PlRefPath::try_from_path(&path)?,
                            ScanArgsParquet::default(),
                        )?
                        .collect()?,
                    );
                }
            }
            frames.push(metrics::merge(&stack(parts)?, options.by)?);
        }
        let frame = metrics::sorted(stack(frames)?, options.by)?;
        step.finish_and_clear();
        let g = &self.globals;
        let quiet =
            snapshots_within(&mut spans, &g.active, g.as_of, options.period, options.zone).quiet;
        Ok(Metrics { frame, quiet })
    }

    fn values_path(&self, metric: &str, index: usize) -> std::path::PathBuf {
        self.scratch
            .path
            .join(format!("values-{metric}-{index}.parquet"))
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
            |_, _, facts| public(&facts.frame),
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
            |_, _, facts| board::build(&facts, self.config),
        )?;
        let mut rows: Vec<BoardRow> = parts.into_iter().flatten().collect();
        board::sort(&mut rows);
        Ok(rows)
    }
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
