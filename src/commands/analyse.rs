//! The analysis behind `metrics`, `alerts`, `report`, `run` and `query`: the data loaded, the
//! conversations in customer partitions when there are many, the facts and metrics.

use anyhow::Result;

use super::{load_data, parse_as_of};
use crate::cli::DataArgs;
use crate::dataset::Dataset;
use crate::progress::Progress;

/// What an analysis is for: it decides whether the facts may be computed in partitions and
/// which rows besides the metrics are computed with them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose<'a> {
    /// `metrics` and `alerts`: the metric rows (and alerts).
    Metrics,
    /// `report` and `run`: the metric rows, the bot outcome rows by segment, channel and
    /// intent, and (in partitions) the pieces of the period that `--week` or
    /// `--period-start` asks for, if any.
    Report(crate::analysis::Requested<'a>),
    /// `query`: the public facts table of all conversations at once.
    Query,
}

pub(crate) fn analyse(
    data: &DataArgs,
    analysis: &crate::cli::AnalysisArgs,
    select: crate::metrics::Selection,
    purpose: Purpose<'_>,
    progress: &Progress,
) -> Result<crate::analysis::Analysis> {
    let options = crate::metrics::MetricsOptions {
        period: analysis.period,
        zone: analysis.tz,
        by: analysis.by,
        select,
    };
    let as_of = parse_as_of(analysis.as_of.as_deref())?;
    let (config, dataset, unknown_lanes) = load_data(data, progress)?;
    let plan = match purpose {
        Purpose::Query => match analysis.customer_partitions {
            Some(n) if n > 1 => anyhow::bail!(
                "--customer-partitions {n}: `l2lens query` reads the facts of all conversations \
                 at once; leave the option out"
            ),
            _ => None,
        },
        _ => partition_plan(&dataset, analysis.customer_partitions)?,
    };
    let analysis = match plan {
        None => {
            let step = progress.step("computing facts and metrics");
            let analysis = crate::analysis::Analysis::new(
                dataset,
                config,
                unknown_lanes,
                as_of,
                options,
                purpose == Purpose::Query,
            )?;
            step.finish_and_clear();
            analysis
        }
        Some(plan) => crate::analysis::Analysis::partitioned(
            dataset,
            config,
            unknown_lanes,
            as_of,
            options,
            (
                plan,
                match purpose {
                    Purpose::Report(requested) => Some(requested),
                    _ => None,
                },
            ),
            progress,
        )?,
    };
    if let Some(line) = analysis.quiet.line(options.period) {
        progress.say(format!("warning: {line}"));
    }
    Ok(analysis)
}

/// The partitions of the conversations of `data` by customer: `--customer-partitions`, else
/// as many as the conversation count needs; `None` when that is one.
pub(crate) fn partition_plan(
    data: &Dataset,
    given: Option<usize>,
) -> Result<Option<crate::partition::Plan>> {
    use crate::partition;
    // Unless given, the count of the split the warehouse stores, else one from the data size.
    let count = match given {
        Some(n) => partition::check_count(n)?,
        None => match partition::Split::stored_count(data)? {
            Some(n) => n,
            None => partition::count_for(crate::warehouse::row_count(
                data.table(crate::ingest::schema::Table::Conversations)?,
            )?),
        },
    };
    Ok(match count {
        1 => None,
        count => Some(partition::Plan::of(data, count)?),
    })
}
