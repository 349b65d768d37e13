//! `l2lens facts`: write the per-conversation facts table.

use anyhow::Result;
use polars::prelude::{DataFrame, IntoLazy};

use super::{load_data, parse_as_of};
use crate::Status;
use crate::cli::FactsArgs;
use crate::facts;
use crate::output::{TableFormat, Target, write_frame};
use crate::progress::Progress;

pub(crate) fn run(args: &FactsArgs, progress: &Progress) -> Result<Status> {
    let as_of = parse_as_of(args.as_of.as_deref())?;
    let (config, data, _) = load_data(&args.data, progress)?;
    let public = |frame: &DataFrame| -> Result<DataFrame> {
        Ok(if args.partition {
            crate::query::facts_with_period(frame, args.period, args.tz)?
        } else {
            facts::public(frame.clone().lazy()).collect()?
        })
    };
    let (mut public, as_of) = match super::partition_plan(&data, args.customer_partitions)? {
        None => {
            let step = progress.step("computing facts");
            let facts = facts::compute(&data, &config, as_of)?;
            let frame = public(&facts.frame)?;
            step.finish_and_clear();
            (frame, facts.as_of)
        }
        Some(plan) => {
            let run = crate::partitioned::Run::new(&data, plan, as_of, args.tz, progress)?;
            // Each partition's rows keep their key, for the order of one run.
            let frame = run.facts(&data, &config, progress, |frame| {
                let mut out = public(frame)?;
                out.with_column(frame.column("key")?.clone())?;
                Ok(out)
            })?;
            (frame, run.globals.as_of)
        }
    };
    let target = Target::from_arg(Some(&args.out));
    if args.partition {
        let parts = crate::query::write_partitioned(
            &public,
            "period_start",
            &args.out,
            "the partitioned facts",
            &[&args.data.data],
        )?;
        progress.say(format!(
            "facts: {parts} partition(s) under {}",
            args.out.display()
        ));
    } else {
        let format = target.format(args.format, TableFormat::Csv);
        write_frame(&mut public, &target, format)?;
    }
    progress.say(format!(
        "facts: {} conversations as of {}{}",
        public.height(),
        crate::time::format_rfc3339(as_of),
        target
            .path()
            .map(|p| format!(" in {}", p.display()))
            .unwrap_or_default()
    ));
    Ok(Status::Ok)
}
