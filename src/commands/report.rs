//! `l2lens report`: the HTML report of one period.

use anyhow::Result;

use super::{alert_line, analyse};
use crate::Status;
use crate::cli::ReportArgs;
use crate::progress::Progress;
use crate::report;

pub(crate) fn run(args: &ReportArgs, progress: &Progress) -> Result<Status> {
    let analysis = analyse(&args.data, &args.period, progress)?;
    let period_start = analysis.report_period(args.period.week.as_deref())?;
    let step = progress.step("rendering the report");
    let alerts = analysis.alerts(period_start)?;
    let files = report::build(
        &analysis,
        &alerts,
        period_start,
        args.weeks_back,
        crate::time::format_rfc3339(chrono::Utc::now().timestamp_millis()),
    )?;
    let dir = report::write(&args.out, &files)?;
    step.finish_and_clear();
    progress.say(alert_line(&alerts));
    println!("{}", dir.join("index.html").display());
    Ok(Status::Ok)
}
