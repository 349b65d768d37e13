//! The arguments of the commands that hand the definitions to other engines: `l2lens sql` and
//! `l2lens calendar`.

use std::path::PathBuf;

use clap::Args;

use super::{AnalysisArgs, TableFormat, parse_date};

#[derive(Debug, Args)]
pub struct CalendarArgs {
    /// Configuration file with [schedules] and [business_hours].
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,

    /// First UTC day of the calendar (it must cover every instant of the data).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub from: chrono::NaiveDate,

    /// Last UTC day of the calendar.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub to: chrono::NaiveDate,

    /// Output format (default: from the --out extension, else csv).
    #[arg(long, value_enum)]
    pub format: Option<TableFormat>,

    /// Output file, or - for stdout (default).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// The engine the SQL is for.
    #[arg(long, value_enum)]
    pub dialect: crate::sql::Dialect,

    /// Which metrics: the ten L2 metrics and 11-12 (default), the governance checks, or all.
    #[arg(long, value_enum, default_value_t = crate::metrics::Selection::Core)]
    pub select: crate::metrics::Selection,

    /// The board at as_of (one row per open conversation, as `l2lens board`) instead of the
    /// metrics.
    #[arg(long, conflicts_with = "select")]
    pub board: bool,

    #[command(flatten)]
    pub analysis: AnalysisArgs,

    /// Configuration file (lanes and tiers, rule parameters). Default: l2lens.toml in --data
    /// when given, else the built-in defaults.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// A data directory or warehouse whose l2lens.toml to use.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,

    /// Output file (default: stdout).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}
