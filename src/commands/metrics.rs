//! `l2lens metrics`: the ten L2 metrics per period and group.

use std::fmt::Write as _;

use anyhow::{Context, Result};

use super::analyse;
use crate::Status;
use crate::cli::{MetricsArgs, MetricsFormat};
use crate::metrics;
use crate::output::{TableFormat, Target, write_metrics};
use crate::progress::Progress;

pub(crate) fn run(args: &MetricsArgs, progress: &Progress) -> Result<Status> {
    if args.list {
        let text = if args.format == Some(MetricsFormat::Markdown) {
            list_markdown()
        } else {
            list_text()?
        };
        Target::from_arg(args.out.as_deref()).write(text.as_bytes())?;
        return Ok(Status::Ok);
    }
    let format = match args.format {
        None => None,
        Some(MetricsFormat::Csv) => Some(TableFormat::Csv),
        Some(MetricsFormat::Json) => Some(TableFormat::Json),
        Some(MetricsFormat::Parquet) => Some(TableFormat::Parquet),
        Some(MetricsFormat::Markdown) => {
            anyhow::bail!("--format markdown prints the metric list: use it with --list")
        }
    };
    let mut rows = analyse(
        &args.data,
        &args.analysis,
        args.select,
        super::Purpose::Metrics,
        progress,
    )?
    .frame;
    match (&args.out, args.partition) {
        (Some(dir), true) => {
            let parts = crate::query::write_partitioned(
                [Ok(rows)],
                "period_start",
                dir,
                "the partitioned metrics",
                &[&args.data.data],
            )?;
            progress.say(format!(
                "metrics: {parts} partition(s) under {}",
                dir.display()
            ));
        }
        _ => {
            let target = Target::from_arg(args.out.as_deref());
            let format = target.format(format, TableFormat::Csv);
            write_metrics(&mut rows, &target, format).context("writing the metrics")?
        }
    }
    Ok(Status::Ok)
}

/// The sets in `--list` order, with their titles.
const SETS: [(&str, metrics::MetricSet); 3] = [
    (
        "The ten L2 metrics (--select core)",
        metrics::MetricSet::Core,
    ),
    (
        "Business time, with [business_hours] in the configuration (--select core)",
        metrics::MetricSet::BusinessTime,
    ),
    (
        "Governance checks (--select governance)",
        metrics::MetricSet::Governance,
    ),
];

/// `--list`: every metric of the registry, for a terminal.
fn list_text() -> Result<String> {
    let mut text = String::new();
    for (title, set) in SETS {
        if !text.is_empty() {
            text.push('\n');
        }
        writeln!(text, "{title}")?;
        let families = metrics::REGISTRY.iter().filter(|f| f.set == set);
        for m in families.flat_map(|f| f.metrics.iter()) {
            writeln!(text, "{:<26} {} [{}]", m.id, m.name, m.unit.as_str())?;
            writeln!(text, "{:<26} {}", "", m.definition)?;
            writeln!(text, "{:<26} cohort: {}", "", m.cohort)?;
        }
    }
    Ok(text)
}

/// `--list --format markdown`: the registry's full tables, one per set.
fn list_markdown() -> String {
    SETS.iter()
        .map(|(title, set)| {
            format!(
                "### {title}\n\n{}",
                metrics::docs::table(*set, metrics::docs::Style::Full)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}
