//! The metric rows of a run: every selected family's rows over all conversations, or each
//! partition's partial states, merged into the same rows.

use anyhow::{Context as _, Result};
use polars::prelude::*;

use super::{Dimension, Frames, MetricSet, MetricsOptions, REGISTRY, aggregate, empty_rows};

/// Computes every metric: long rows `period_start (Date), group, metric, value, n`, sorted by
/// period, group and metric.
pub fn compute(ctx: &Frames<'_>) -> Result<DataFrame> {
    let options = ctx.options;
    let rows = concat(family_rows(ctx)?, UnionArgs::default())?
        .sort(
            ["period_start", "group", "metric"],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .rename(["group"], [options.by.column()], true)
        .collect()
        .map_err(anyhow::Error::from)
        .context("computing the metrics")?;
    Ok(rows)
}

/// The facts the metrics of `options` read: the governance facts of their scope, and the SLA
/// facts to the detail they need (all of them with `public_facts`, for a facts table or board
/// that is output).
pub fn facts_needed(
    options: MetricsOptions,
    public_facts: bool,
) -> (
    crate::facts::governance::Scope,
    Option<crate::facts::sla::Detail>,
) {
    let scope = if options.select.includes(MetricSet::Governance)
        || options.select.includes(MetricSet::Text)
    {
        crate::facts::governance::Scope::All
    } else {
        crate::facts::governance::Scope::Core
    };
    let sla = match (options.select.includes(MetricSet::Sla), public_facts) {
        (false, _) => None,
        (true, false) => Some(crate::facts::sla::Detail::Counted),
        (true, true) => Some(crate::facts::sla::Detail::Public),
    };
    (scope, sla)
}

/// The rows of every selected family (the metric rows, or the partial states of
/// [`Frames::partial`]).
fn family_rows(ctx: &Frames<'_>) -> Result<Vec<LazyFrame>> {
    computed(ctx.options, ctx.config)
        .map(|family| (family.rows)(ctx))
        .collect()
}

/// The families a run with `options` computes: selected, with what they need configured.
pub fn computed(
    options: MetricsOptions,
    config: &crate::config::Config,
) -> impl Iterator<Item = &'static super::Family> {
    REGISTRY
        .iter()
        .filter(move |f| options.select.includes(f.set) && f.set.available(config))
}

/// The partial states of every selected metric of one
/// partition of the conversations, for [`merge`].
pub fn compute_partial(ctx: &Frames<'_>) -> Result<DataFrame> {
    let ctx = ctx.clone().partial();
    let mut parts = Vec::new();
    for mut part in family_rows(&ctx)? {
        // A family with nothing to count says so with [`empty_rows`], in the rows' schema.
        if !part.collect_schema()?.contains("total") {
            let rows = part.collect()?;
            anyhow::ensure!(
                rows.height() == 0,
                "metric rows cannot be merged across partitions: {:?}",
                rows.column("metric")?.str()?.get(0)
            );
            continue;
        }
        parts.push(part);
    }
    if parts.is_empty() {
        return Ok(DataFrame::empty_with_schema(&aggregate::partial_schema()));
    }
    concat(parts, UnionArgs::default())?
        .collect()
        .map_err(anyhow::Error::from)
        .context("computing the metrics")
}

/// The metric rows of the partial states of every partition, as [`compute`] gives them for
/// all conversations at once, for the metrics the states are of (each with all its states:
/// merges of several metrics are put in order by [`sorted`]).
pub fn merge(partials: &DataFrame, by: Dimension) -> Result<DataFrame> {
    if partials.width() == 0 {
        return Ok(empty_rows()
            .rename(["group"], [by.column()], true)
            .collect()?);
    }
    aggregate::merge(partials, by).context("merging the metrics of the partitions")
}

/// Merged metric rows in [`compute`]'s order.
pub fn sorted(rows: DataFrame, by: Dimension) -> Result<DataFrame> {
    Ok(rows
        .lazy()
        .sort(
            ["period_start", by.column(), "metric"],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .collect()?)
}

/// Partial states split in two: those of the metrics summed up without their values, and one
/// frame per quantile metric (which holds a value per row of its cohort).
pub fn split_quantiles(partial: DataFrame) -> Result<(DataFrame, Vec<(String, DataFrame)>)> {
    let quantile = partial.column("kind")?.u32()?.equal(aggregate::QUANTILE);
    let counted = partial.filter(&!&quantile)?;
    let valued = partial.filter(&quantile)?;
    let names: std::collections::BTreeSet<String> = valued
        .column("metric")?
        .str()?
        .iter()
        .flatten()
        .map(str::to_owned)
        .collect();
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let mask = valued.column("metric")?.str()?.equal(name.as_str());
        out.push((name, valued.filter(&mask)?));
    }
    Ok((counted, out))
}
