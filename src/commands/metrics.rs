//! `l2lens metrics`: the ten L2 metrics per period and group.

use std::fmt::Write as _;

use anyhow::{Context, Result};

use super::analyse;
use crate::Status;
use crate::cli::MetricsArgs;
use crate::metrics;
use crate::output::{TableFormat, Target, write_metrics};
use crate::progress::Progress;

pub(crate) fn run(args: &MetricsArgs, progress: &Progress) -> Result<Status> {
    if args.list {
        let mut text = String::new();
        for (title, set) in [
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
        ] {
            if !text.is_empty() {
                text.push('\n');
            }
            writeln!(text, "{title}")?;
            let families = metrics::REGISTRY.iter().filter(|f| f.set == set);
            for m in families.flat_map(|f| f.metrics.iter()) {
                writeln!(text, "{:<26} {} [{}]", m.id, m.definition, m.unit.as_str())?;
                writeln!(text, "{:<26} cohort: {}", "", m.cohort)?;
            }
        }
        Target::Stdout.write(text.as_bytes())?;
        return Ok(Status::Ok);
    }
    let mut rows = analyse(&args.data, &args.analysis, args.select, progress)?.frame;
    match (&args.out, args.partition) {
        (Some(dir), true) => {
            let parts = crate::query::write_partitioned(
                &rows,
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
            let format = target.format(args.format, TableFormat::Csv);
            write_metrics(&mut rows, &target, format).context("writing the metrics")?
        }
    }
    Ok(Status::Ok)
}
