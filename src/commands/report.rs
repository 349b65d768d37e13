//! `l2lens report`: the HTML report of one period.

use anyhow::Result;

use super::{alert_line, analyse, report_period};
use crate::Status;
use crate::cli::ReportArgs;
use crate::metrics::Selection;
use crate::progress::Progress;

pub(crate) fn run(args: &ReportArgs, progress: &Progress) -> Result<Status> {
    let analysis = analyse(
        &args.data,
        &args.period.analysis,
        Selection::All,
        super::Purpose::Report(crate::analysis::Requested {
            week: args.period.week.as_deref(),
            start: args.period.period_start,
        }),
        progress,
    )?;
    let (alerts, dir) = report_period(
        &analysis,
        &args.period,
        usize::from(args.weeks_back),
        &args.out,
        progress,
    )?;
    progress.say(alert_line(&alerts));
    crate::output::Target::Stdout
        .write(format!("{}\n", dir.join("index.html").display()).as_bytes())?;
    Ok(Status::Ok)
}
