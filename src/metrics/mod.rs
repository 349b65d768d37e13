//! The ten L2 metrics, computed from the facts table per period and group.
//!
//! One file per metric family; [`REGISTRY`] is the one list of them, and drives `--list`, the
//! docs and the report. Every family turns the facts into long rows
//! `period_start, group, metric, value, n` for each group of the chosen dimension and for all
//! groups together (`ALL`). A group whose cohort is empty has no row.

mod bot_trap;
mod context;
mod escalation;
mod frt;
mod misroute;
pub mod period;
mod reopen;
mod resolution_time;
mod transfers;
mod tts;
mod window_risk;

use anyhow::{Context as _, Result};
use chrono_tz::Tz;
use polars::prelude::*;

use crate::config::Config;
use crate::dataset::Dataset;
use crate::facts::Facts;
pub use period::Period;

/// The group name that stands for every group together.
pub const ALL: &str = "ALL";
/// The group name of a null dimension value.
pub const UNKNOWN: &str = "unknown";

/// What a metric's value measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Seconds,
    Rate,
    Count,
    PerConversation,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Seconds => "seconds",
            Unit::Rate => "fraction 0-1",
            Unit::Count => "conversations",
            Unit::PerConversation => "per conversation",
        }
    }
}

/// One metric id with its one-line definition.
#[derive(Debug, Clone, Copy)]
pub struct MetricInfo {
    pub id: &'static str,
    pub definition: &'static str,
    pub cohort: &'static str,
    pub unit: Unit,
}

/// A family of metrics sharing a cohort (e.g. the FRT median and p90) and how to compute it.
pub struct Family {
    pub metrics: &'static [MetricInfo],
    pub rows: fn(&Context<'_>) -> Result<LazyFrame>,
}

/// The registry: every metric, in the spec's order.
pub const REGISTRY: &[Family] = &[
    frt::FAMILY,
    tts::FAMILY,
    window_risk::FAMILY,
    escalation::FAMILY,
    bot_trap::FAMILY,
    misroute::FAMILY,
    transfers::FAMILY,
    resolution_time::FAMILY,
    reopen::FAMILY,
    context::FAMILY,
];

pub fn all_metrics() -> impl Iterator<Item = &'static MetricInfo> {
    REGISTRY.iter().flat_map(|f| f.metrics.iter())
}

pub fn find(id: &str) -> Option<&'static MetricInfo> {
    all_metrics().find(|m| m.id == id)
}

/// The grouping dimension of the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Dimension {
    #[default]
    Lane,
    Segment,
    Channel,
    Intent,
    None,
}

impl Dimension {
    /// The name of the group column in the output.
    pub fn column(self) -> &'static str {
        match self {
            Dimension::Lane => "lane",
            Dimension::Segment => "segment",
            Dimension::Channel => "channel",
            Dimension::Intent => "intent",
            Dimension::None => "group",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct MetricsOptions {
    pub period: Period,
    pub tz: Tz,
    pub by: Dimension,
}

/// What a family computes from.
pub struct Context<'a> {
    /// The facts (instants as Int64 ms) with a `group` column for the dimension.
    pub facts: LazyFrame,
    pub as_of: i64,
    pub options: MetricsOptions,
    pub config: &'a Config,
    pub data: &'a Dataset,
}

impl Context<'_> {
    pub fn period_start(&self, instant_ms: Expr) -> Expr {
        self.options.period.start_expr(instant_ms, self.options.tz)
    }

    /// Long rows for a cohort: `cohort` selects the conversations, `time` places each in a
    /// period, and each `(metric id, aggregation)` gives one row per period and group.
    pub fn cohort_rows(&self, cohort: Expr, time: Expr, values: Vec<(&str, Expr)>) -> LazyFrame {
        let base = self
            .facts
            .clone()
            .filter(cohort)
            .with_column(self.period_start(time).alias("period_start"));
        aggregate(base, self.options.by, values)
    }
}

/// Groups `base` (which has `period_start` and `group`) per period and group, and per period
/// for `ALL`, into long rows.
pub fn aggregate(base: LazyFrame, by: Dimension, values: Vec<(&str, Expr)>) -> LazyFrame {
    let mut aggs: Vec<Expr> = values
        .iter()
        .map(|(id, e)| e.clone().cast(DataType::Float64).alias(*id))
        .collect();
    aggs.push(len().cast(DataType::UInt64).alias("n"));
    let mut order: Vec<Expr> = vec![col("period_start"), col("group")];
    order.extend(values.iter().map(|(id, _)| col(*id)));
    order.push(col("n"));
    let all = base
        .clone()
        .group_by([col("period_start")])
        .agg(aggs.clone())
        .with_column(lit(ALL).alias("group"))
        .select(order.clone());
    let wide = if by == Dimension::None {
        all
    } else {
        let groups = base
            .group_by([col("period_start"), col("group")])
            .agg(aggs)
            .select(order);
        concat([all, groups], UnionArgs::default()).unwrap_or_else(|e| {
            // Both sides come from one schema; a failure here is a bug worth surfacing.
            panic!("metric frames have one schema: {e}")
        })
    }
    .cache();
    let long: Vec<LazyFrame> = values
        .iter()
        .map(|(id, _)| {
            wide.clone().select([
                col("period_start"),
                col("group"),
                lit(*id).alias("metric"),
                col(*id).alias("value"),
                col("n"),
            ])
        })
        .collect();
    concat(long, UnionArgs::default()).expect("metric rows have one schema")
}

/// No rows, with the schema of metric rows (before the group column is renamed).
pub fn empty_rows() -> LazyFrame {
    let frame = df!(
        "period_start" => Vec::<i32>::new(),
        "group" => Vec::<String>::new(),
        "metric" => Vec::<String>::new(),
        "value" => Vec::<f64>::new(),
        "n" => Vec::<u64>::new(),
    )
    .expect("a fixed schema");
    frame
        .lazy()
        .with_column(col("period_start").cast(DataType::Date))
}

/// Share of rows where a boolean column is true.
pub fn share(column: &str) -> Expr {
    col(column).cast(DataType::Float64).mean()
}

/// A duration between two Int64-ms columns, in seconds.
pub fn seconds_between(from: &str, to: &str) -> Expr {
    (col(to) - col(from)).cast(DataType::Float64) / lit(1000.0)
}

pub fn median(e: Expr) -> Expr {
    e.quantile(lit(0.5), QuantileMethod::Linear)
}

pub fn p90(e: Expr) -> Expr {
    e.quantile(lit(0.9), QuantileMethod::Linear)
}

/// Computes every metric: long rows `period_start (Date), group, metric, value, n`, sorted by
/// period, group and metric.
pub fn compute(
    facts: &Facts,
    data: &Dataset,
    config: &Config,
    options: MetricsOptions,
) -> Result<DataFrame> {
    let group = match options.by {
        Dimension::None => lit(ALL),
        Dimension::Lane => col("lane"),
        Dimension::Segment => col("segment"),
        Dimension::Channel => col("channel"),
        Dimension::Intent => col("intent"),
    };
    let frame = facts
        .frame
        .clone()
        .lazy()
        .with_column(group.fill_null(lit(UNKNOWN)).alias("group"));
    let ctx = Context {
        facts: frame,
        as_of: facts.as_of,
        options,
        config,
        data,
    };
    let mut parts = Vec::with_capacity(REGISTRY.len());
    for family in REGISTRY {
        parts.push((family.rows)(&ctx)?);
    }
    let rows = concat(parts, UnionArgs::default())?
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
