//! `l2lens metrics`: the ten L2 metrics per period and group.

use std::io::Write;

use anyhow::{Context, Result};

use super::analyse;
use crate::Status;
use crate::cli::MetricsArgs;
use crate::metrics;
use crate::output::write_metrics;
use crate::progress::Progress;

pub(crate) fn run(args: &MetricsArgs, progress: &Progress) -> Result<Status> {
    if args.list {
        let mut out = std::io::stdout().lock();
        for m in metrics::all_metrics() {
            writeln!(out, "{:<26} {} [{}]", m.id, m.definition, m.unit.as_str())?;
            writeln!(out, "{:<26} cohort: {}", "", m.cohort)?;
        }
        return Ok(Status::Ok);
    }
    let mut rows = analyse(&args.data, &args.analysis, progress)?.frame;
    match (&args.out, args.partition) {
        (Some(dir), true) => {
            let parts = crate::query::write_partitioned(&rows, "period_start", dir)?;
            progress.say(format!(
                "metrics: {parts} partition(s) under {}",
                dir.display()
            ));
        }
        _ => write_metrics(&mut rows, args.out.as_deref(), args.format)
            .context("writing the metrics")?,
    }
    Ok(Status::Ok)
}
