//! `l2lens calendar`: the business-hour calendar table the SQL export reads.

use anyhow::{Result, bail};
use polars::prelude::*;

use crate::Status;
use crate::calendar::table_rows;
use crate::cli::CalendarArgs;
use crate::config::Config;
use crate::output::{TableFormat, Target, write_frame};
use crate::progress::Progress;

pub(crate) fn run(args: &CalendarArgs, progress: &Progress) -> Result<Status> {
    let config = Config::from_file(&args.config)?;
    let Some(hours) = &config.business_hours else {
        bail!(
            "{} has no [business_hours] section: there is no schedule to write a calendar of",
            args.config.display()
        );
    };
    if args.to < args.from {
        bail!("--to {} is before --from {}", args.to, args.from);
    }
    let (mut names, mut days, mut starts, mut ends, mut before) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (name, schedule) in &hours.schedules {
        for row in table_rows(schedule, args.from, args.to) {
            names.push(name.as_str());
            days.push(row.day);
            starts.push(row.start_ms);
            ends.push(row.end_ms);
            before.push(row.open_before_ms);
        }
    }
    let mut frame = df!(
        "schedule" => names,
        "day" => days,
        "start_ms" => starts,
        "end_ms" => ends,
        "open_before_ms" => before,
    )?;
    let target = Target::from_arg(args.out.as_deref());
    let format = target.format(args.format, TableFormat::Csv);
    write_frame(&mut frame, &target, format)?;
    progress.say(format!(
        "calendar: {} row(s) for {} schedule(s), {} to {}",
        frame.height(),
        hours.schedules.len(),
        args.from,
        args.to
    ));
    Ok(Status::Ok)
}
