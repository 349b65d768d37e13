//! `l2lens facts`: write the per-conversation facts table.

use anyhow::Result;
use polars::prelude::IntoLazy;

use super::{load_data, parse_as_of};
use crate::Status;
use crate::cli::FactsArgs;
use crate::facts;
use crate::output::{TableFormat, Target, write_frame};
use crate::progress::Progress;

pub(crate) fn run(args: &FactsArgs, progress: &Progress) -> Result<Status> {
    let as_of = parse_as_of(args.as_of.as_deref())?;
    let (config, data, _) = load_data(&args.data, progress)?;
    let step = progress.step("computing facts");
    let facts = facts::compute(&data, &config, as_of)?;
    let mut public = if args.partition {
        crate::query::facts_with_period(&facts.frame, args.period, args.tz)?
    } else {
        facts::public(facts.frame.lazy()).collect()?
    };
    step.finish_and_clear();
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
        crate::time::format_rfc3339(facts.as_of),
        target
            .path()
            .map(|p| format!(" in {}", p.display()))
            .unwrap_or_default()
    ));
    Ok(Status::Ok)
}
