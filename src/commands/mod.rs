//! One file per subcommand. A command orchestrates library stages and never calls another
//! command.

pub(crate) mod facts;
pub(crate) mod ingest;
pub(crate) mod metrics;
pub(crate) mod sample;

use anyhow::{Context, Result};

use crate::cli::DataArgs;
use crate::config::Config;
use crate::dataset::Dataset;
use crate::ingest::IngestOptions;
use crate::progress::Progress;
use crate::time::parse_timestamp;

/// The configuration and ingest options for a command that reads `--data`.
pub(crate) fn load_options(args: &DataArgs) -> Result<(Config, IngestOptions)> {
    let config = Config::resolve(args.config.as_deref(), Some(&args.data))?;
    let options = IngestOptions {
        epoch_unit: args.epoch_unit,
        known_lanes: config.known_lanes(),
    };
    Ok((config, options))
}

/// Loads the configuration and the data of `--data` (raw directory or warehouse).
pub(crate) fn load_data(args: &DataArgs, progress: &Progress) -> Result<(Config, Dataset)> {
    let (config, options) = load_options(args)?;
    let data = Dataset::load(&args.data, &options, progress)?;
    let quarantined = data.summary.rows_quarantined();
    if quarantined > 0 && !data.from_warehouse {
        progress.say(format!(
            "warning: {quarantined} row(s) of {} failed validation and are left out; \
             `l2lens ingest` writes them to a quarantine file",
            args.data.display()
        ));
    }
    Ok((config, data))
}

/// Parses `--as-of`.
pub(crate) fn parse_as_of(text: Option<&str>) -> Result<Option<i64>> {
    text.map(|t| {
        parse_timestamp(t, None).with_context(|| {
            format!("--as-of `{t}` is not a timestamp; use RFC 3339, e.g. 2026-11-25T00:00:00Z")
        })
    })
    .transpose()
}
