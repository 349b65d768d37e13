//! `l2lens sql --dialect duckdb|spark`: the metric definitions as SQL for another engine.

use anyhow::Result;

use super::parse_as_of;
use crate::Status;
use crate::cli::SqlArgs;
use crate::config::Config;
use crate::output::Target;
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
        select: args.select,
        board: args.board,
    };
    // Nothing is left out silently.
    for (id, why) in export.not_exported().into_iter().filter(|_| !args.board) {
        progress.say(format!("note: {id} is not in the SQL: {why}"));
    }
    let target = Target::from_arg(args.out.as_deref());
    target.write(export.script().as_bytes())?;
    if let Some(path) = target.path() {
        progress.say(format!("wrote {}", path.display()));
    }
    Ok(Status::Ok)
}
