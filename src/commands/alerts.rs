//! `l2lens alerts`: threshold alerts of one period as JSON, with a cron-friendly exit code.

use std::io::Write;

use anyhow::Result;

use super::{alert_line, analyse, status_for};
use crate::Status;
use crate::cli::AlertsArgs;
use crate::progress::Progress;
use crate::warehouse::write_atomic;

pub(crate) fn run(args: &AlertsArgs, progress: &Progress) -> Result<Status> {
    let analysis = analyse(&args.data, &args.period.analysis, progress)?;
    let period_start = analysis.report_period(args.period.week.as_deref())?;
    let alerts = analysis.alerts(period_start)?;
    let mut json = serde_json::to_vec_pretty(&alerts)?;
    json.push(b'\n');
    match args.out.as_deref().filter(|p| p.as_os_str() != "-") {
        Some(path) => write_atomic(path, |w| Ok(w.write_all(&json)?))?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&json)?;
            out.flush()?;
        }
    }
    progress.say(alert_line(&alerts));
    if args.email.email {
        super::mail_alerts(
            &analysis.config,
            &args.email,
            &alerts,
            &args.reports,
            progress,
        )?;
    }
    Ok(status_for(&alerts, args.fail_on))
}
