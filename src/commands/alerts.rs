//! `l2lens alerts`: threshold alerts of one period as JSON, with a cron-friendly exit code.

use anyhow::Result;

use super::{alert_line, analyse, status_for};
use crate::Status;
use crate::cli::AlertsArgs;
use crate::metrics::Selection;
use crate::output::Target;
use crate::progress::Progress;

pub(crate) fn run(args: &AlertsArgs, progress: &Progress) -> Result<Status> {
    let analysis = analyse(
        &args.data,
        &args.period.analysis,
        Selection::All,
        super::Purpose::Metrics,
        progress,
    )?;
    let chosen = analysis.report_period(args.period.week.as_deref(), args.period.period_start)?;
    if let Some(note) = &chosen.note {
        progress.say(format!("note: {note}"));
    }
    let period_start = chosen.start;
    let alerts = analysis.alerts(period_start, progress)?;
    let mut json = serde_json::to_vec_pretty(&alerts)?;
    json.push(b'\n');
    Target::from_arg(args.out.as_deref()).write(&json)?;
    progress.say(alert_line(&alerts));
    if args.email.email {
        super::mail_alerts(
            &analysis.config,
            &args.email,
            &alerts,
            &crate::alert::groups::ranking(&alerts, &analysis.rows),
            &args.reports,
            progress,
        )?;
    }
    Ok(status_for(&alerts, args.fail_on))
}
