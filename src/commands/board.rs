//! `l2lens board`: the open conversations at as_of, most urgent first.

use anyhow::Result;

use super::{load_data, parse_as_of};
use crate::Status;
use crate::board::{self, Filter};
use crate::cli::BoardArgs;
use crate::facts;
use crate::output::{TableFormat, Target, write_frame};
use crate::progress::Progress;

pub(crate) fn run(args: &BoardArgs, progress: &Progress) -> Result<Status> {
    let as_of = parse_as_of(args.as_of.as_deref())?;
    let (config, data, _) = load_data(&args.data, progress)?;
    let (rows, as_of) = match super::partition_plan(&data, args.customer_partitions)? {
        None => {
            let step = progress.step("computing the board");
            let facts = facts::compute(&data, &config, as_of)?;
            let rows = board::build(&facts, &config)?;
            step.finish_and_clear();
            (rows, facts.as_of)
        }
        Some(plan) => {
            // The board's instants are in UTC: partitions need no zone but for the snapshots.
            let zone = crate::period::Zone::UTC;
            let run = crate::partitioned::Run::new(&data, plan, as_of, zone, progress)?;
            (run.board(&data, &config, progress)?, run.globals.as_of)
        }
    };
    let filter = Filter {
        lane: args.lane.as_ref().map(|l| l.trim().to_lowercase()),
        owner: args.owner.clone(),
        flag: args.flag.clone(),
    };
    let rows: Vec<_> = rows.into_iter().filter(|r| filter.keeps(r)).collect();
    let target = Target::from_arg(args.out.as_deref());
    let format = super::table_or_format(args.format, &target);
    match format {
        Some(TableFormat::Csv) => target.write(&board::to_csv(&rows)?)?,
        Some(format) => write_frame(&mut board::to_frame(&rows)?, &target, format)?,
        None => target.write(crate::query::to_table(&board::to_frame(&rows)?)?.as_bytes())?,
    }
    progress.say(format!(
        "board: {} open conversation(s) as of {}",
        rows.len(),
        crate::time::format_rfc3339(as_of)
    ));
    Ok(Status::Ok)
}
