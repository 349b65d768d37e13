//! `l2lens run`: ingest → facts → metrics → alerts → report in one go.

use anyhow::Result;

use super::{alert_line, analyse, status_for};
use crate::Status;
use crate::cli::RunArgs;
use crate::progress::Progress;
use crate::report;

pub(crate) fn run(args: &RunArgs, progress: &Progress) -> Result<Status> {
    let started = std::time::Instant::now();
    let analysis = analyse(&args.data, &args.period, progress)?;
    if !analysis.data.from_warehouse {
        progress.say(&analysis.data.summary);
    }
    let period_start = analysis.report_period(args.period.week.as_deref())?;
    let step = progress.step("evaluating alerts and rendering the report");
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
    progress.say(format!(
        "report: {} ({:.1} s)",
        dir.join("index.html").display(),
        started.elapsed().as_secs_f64()
    ));
    println!("{}", dir.join("index.html").display());
    // The report is on disk before any mail goes out: a mail failure never loses it.
    if args.email.email {
        super::mail_alerts(&analysis.config, &args.email, &alerts, &args.out, progress)?;
    }
    Ok(status_for(&alerts, args.fail_on))
}
