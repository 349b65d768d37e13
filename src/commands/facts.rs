//! `l2lens facts`: write the per-conversation facts table.

use anyhow::Result;
use polars::prelude::IntoLazy;

use super::{load_data, parse_as_of};
use crate::Status;
use crate::cli::FactsArgs;
use crate::facts;
use crate::output::{parse_tz, write_frame};
use crate::progress::Progress;

pub(crate) fn run(args: &FactsArgs, progress: &Progress) -> Result<Status> {
    let as_of = parse_as_of(args.as_of.as_deref())?;
    let (config, data) = load_data(&args.data, progress)?;
    let step = progress.step("computing facts");
    let facts = facts::compute(&data, &config, as_of)?;
    let mut public = if args.partition {
        crate::query::facts_with_period(&facts.frame, args.period, parse_tz(&args.tz)?)?
    } else {
        facts::public(facts.frame.lazy()).collect()?
    };
    step.finish_and_clear();
    if args.partition {
        let parts = crate::query::write_partitioned(&public, "period_start", &args.out)?;
        progress.say(format!(
            "facts: {parts} partition(s) under {}",
            args.out.display()
        ));
    } else {
        write_frame(&mut public, &args.out, None)?;
    }
    progress.say(format!(
        "facts: {} conversations as of {} in {}",
        public.height(),
        crate::time::format_rfc3339(facts.as_of),
        args.out.display()
    ));
    Ok(Status::Ok)
}
