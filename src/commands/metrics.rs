//! `l2lens metrics`: the ten L2 metrics per period and group.

use std::io::Write;

use anyhow::{Context, Result};

use super::{load_data, parse_as_of};
use crate::Status;
use crate::cli::MetricsArgs;
use crate::facts;
use crate::metrics::{self, MetricsOptions};
use crate::output::{parse_tz, write_metrics};
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
    let options = MetricsOptions {
        period: args.period,
        tz: parse_tz(&args.tz)?,
        by: args.by,
    };
    let as_of = parse_as_of(args.as_of.as_deref())?;
    let (config, data) = load_data(&args.data, progress)?;
    let step = progress.step("computing facts and metrics");
    let facts = facts::compute(&data, &config, as_of)?;
    let mut rows = metrics::compute(&facts, &data, &config, options)?;
    step.finish_and_clear();
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
