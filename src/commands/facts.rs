//! `l2lens facts`: write the per-conversation facts table.

use anyhow::Result;
use polars::prelude::{DataFrame, IntoLazy};

use super::{load_data, parse_as_of};
use crate::Status;
use crate::cli::FactsArgs;
use crate::facts;
use crate::output::{TableFormat, Target, write_blocks};
use crate::partitioned::Blocks;
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
    // Every partition's rows keep their key, for the order of one run; the table is written a
    // block of rows at a time.
    let (blocks, as_of) = match super::partition_plan(&data, args.customer_partitions)? {
        None => {
            let step = progress.step("computing facts");
            let facts = facts::compute(&data, &config, as_of)?;
            let mut frame = public(&facts.frame)?;
            frame.with_column(facts.frame.column("key")?.clone())?;
            step.finish_and_clear();
            (Blocks::whole(frame)?, facts.as_of)
        }
        Some(plan) => {
            let run = crate::partitioned::Run::new(&data, plan, as_of, args.tz, progress)?;
            let ordered = run.facts(&data, &config, progress, |frame| {
                let mut out = public(frame)?;
                out.with_column(frame.column("key")?.clone())?;
                Ok(out)
            })?;
            (ordered.blocks(), run.globals.as_of)
        }
    };
    let step = progress.step("writing the facts");
    let target = Target::from_arg(Some(&args.out));
    let schema = blocks.schema.clone();
    let mut rows = 0;
    let counted = blocks.inspect(|block| {
        if let Ok(block) = block {
            rows += block.height();
        }
    });
    if args.partition {
        let parts = crate::query::write_partitioned(
            counted,
            "period_start",
            &args.out,
            "the partitioned facts",
            &[&args.data.data],
        )?;
        step.finish_and_clear();
        progress.say(format!(
            "facts: {parts} partition(s) under {}",
            args.out.display()
        ));
    } else {
        let format = target.format(args.format, TableFormat::Csv);
        write_blocks(&target, format, &schema, counted)?;
        step.finish_and_clear();
    }
    progress.say(format!(
        "facts: {rows} conversations as of {}{}",
        crate::time::format_rfc3339(as_of),
        target
            .path()
            .map(|p| format!(" in {}", p.display()))
            .unwrap_or_default()
    ));
    Ok(Status::Ok)
}
