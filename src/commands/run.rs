//! `l2lens run`: ingest → facts → metrics → alerts → report in one go.

use anyhow::Result;

use super::{alert_line, analyse, mail_alerts, report_period, status_for};
use crate::Status;
use crate::cli::RunArgs;
use crate::metrics::Selection;
use crate::progress::Progress;

pub(crate) fn run(args: &RunArgs, progress: &Progress) -> Result<Status> {
    let started = std::time::Instant::now();
    let analysis = analyse(
        &args.report.data,
        &args.report.period.analysis,
        Selection::All,
        super::Purpose::Report(crate::analysis::Requested {
            week: args.report.period.week.as_deref(),
            start: args.report.period.period_start,
        }),
        progress,
    )?;
    if !analysis.data.from_warehouse {
        progress.say(&analysis.data.summary);
    }
    let (alerts, dir) = report_period(
        &analysis,
        &args.report.period,
        usize::from(args.report.weeks_back),
        &args.report.out,
        progress,
    )?;
    progress.say(alert_line(&alerts));
    progress.say(format!(
        "report: {} ({:.1} s)",
        dir.join("index.html").display(),
        started.elapsed().as_secs_f64()
    ));
    crate::output::Target::Stdout
        .write(format!("{}\n", dir.join("index.html").display()).as_bytes())?;
    // The report is on disk before any mail goes out: a mail failure never loses it.
    if args.email.email {
        mail_alerts(
            &analysis.config,
            &args.email,
            &alerts,
            &crate::alert::groups::ranking(&alerts, &analysis.rows),
            &args.report.out,
            progress,
        )?;
    }
    let weekly = analysis
        .config
        .email
        .as_ref()
        .is_some_and(|e| e.weekly_report);
    if args.email_report || weekly {
        super::mail_report(
            &analysis,
            &alerts,
            &dir,
            usize::from(args.report.weeks_back),
            progress,
        )?;
    }
    Ok(status_for(&alerts, args.fail_on))
}
