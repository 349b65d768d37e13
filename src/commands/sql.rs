//! `l2lens sql --dialect duckdb|spark`: the metric definitions as SQL for another engine.

use std::io::Write;

use anyhow::{Context, Result};

use super::parse_as_of;
use crate::Status;
use crate::cli::SqlArgs;
use crate::config::Config;
use crate::progress::Progress;
use crate::sql::Export;

pub(crate) fn run(args: &SqlArgs, progress: &Progress) -> Result<Status> {
    let config = Config::resolve(args.config.as_deref(), args.data.as_deref())?;
    let export = Export {
        dialect: args.dialect,
        config: &config,
        as_of: parse_as_of(args.analysis.as_of.as_deref())?,
        period: args.analysis.period,
        zone: args.analysis.tz,
        by: args.analysis.by,
    };
    let script = export.script();
    match &args.out {
        Some(path) => {
            crate::atomic::write_atomic(path, |w| Ok(w.write_all(script.as_bytes())?))?;
            progress.say(format!("wrote {}", path.display()));
        }
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(script.as_bytes()).and_then(|()| out.flush()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                other => other.context("cannot write the SQL to stdout")?,
            }
        }
    }
    Ok(Status::Ok)
}
