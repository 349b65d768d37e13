//! l2lens: weekly L2 handoff metrics for WhatsApp-first support.
//!
//! Data flows one way: ingest (read, validate, quarantine) → facts (one row per
//! conversation) → metrics → alerts → report. `run` dispatches a parsed command line to the
//! command that orchestrates those stages.
//!
//! Layers, lowest first; a module imports only from its own layer or below (checked by a test):
//! 1. `time`, `units`, `period`, `atomic`, `progress`, `config`, `calendar`: shared types,
//!    settings and business-time arithmetic;
//! 2. `ingest`, `warehouse`, `dataset`, `partition`, `sample`: reading and writing the
//!    canonical tables, and splitting them by customer;
//! 3. `facts`: the rules of the spec as one table;
//! 4. `metrics`, `board`, `tally`; 5. `alert`; 6. `analysis`, `partitioned`; 7. `report`, `query`,
//!    `output`;
//! 8. `cli` and `commands`, the only modules that know the command line.

pub(crate) mod alert;
pub(crate) mod analysis;
pub(crate) mod atomic;
pub(crate) mod board;
pub(crate) mod calendar;
pub mod cli;
mod commands;
pub mod config;
pub mod dataset;
pub(crate) mod facts;
pub(crate) mod import;
pub mod ingest;
pub mod metrics;
pub mod output;
pub(crate) mod partition;
pub(crate) mod partitioned;
pub mod period;
pub mod progress;
pub(crate) mod query;
pub(crate) mod report;
pub(crate) mod sample;
pub(crate) mod sql;
pub(crate) mod tally;
#[cfg(test)]
mod testing;
pub mod text;
pub mod time;
pub(crate) mod timeformat;
pub(crate) mod units;
pub mod warehouse;

use anyhow::Result;

use cli::{Cli, Command};
use progress::Progress;

/// How a run ended, as the process exit code tells cron.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// 0: done, nothing at or above the fail level.
    Ok,
    /// 1: done, and at least one alert reached the fail level.
    Alert,
    /// 2: not done: bad input, bad arguments or an I/O failure.
    Error,
}

impl Status {
    pub fn code(self) -> u8 {
        match self {
            Status::Ok => 0,
            Status::Alert => 1,
            Status::Error => 2,
        }
    }
}

pub fn run(cli: Cli) -> Result<Status> {
    let progress = Progress::new(cli.quiet);
    match cli.command {
        Command::Ingest(args) => commands::ingest::run(&args, &progress),
        Command::Import(source) => commands::import::run(&source, &progress),
        Command::Sample(args) => commands::sample::run(&args, &progress),
        Command::Facts(args) => commands::facts::run(&args, &progress),
        Command::Metrics(args) => commands::metrics::run(&args, &progress),
        Command::Alerts(args) => commands::alerts::run(&args, &progress),
        Command::Report(args) => commands::report::run(&args, &progress),
        Command::Run(args) => commands::run::run(&args, &progress),
        Command::Query(args) => commands::query::run(&args, &progress),
        Command::Board(args) => commands::board::run(&args, &progress),
        Command::Sql(args) => commands::sql::run(&args, &progress),
        Command::Calendar(args) => commands::calendar::run(&args, &progress),
    }
}
