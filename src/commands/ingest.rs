//! `l2lens ingest`: raw data directory → typed Parquet warehouse + quarantine + summary.

use anyhow::{Result, bail};

use super::load_options;
use crate::Status;
use crate::cli::IngestArgs;
use crate::ingest::ingest_dir;
use crate::progress::Progress;
use crate::warehouse;

pub(crate) fn run(args: &IngestArgs, progress: &Progress) -> Result<Status> {
    if warehouse::is_warehouse(&args.data.data) {
        bail!(
            "{} is already an ingested warehouse; pass the raw data directory to --data",
            args.data.data.display()
        );
    }
    let (_config, options) = load_options(&args.data)?;
    let mut ingested = ingest_dir(&args.data.data, &options, progress)?;
    let step = progress.step("writing the warehouse");
    warehouse::write(&args.out, &mut ingested)?;
    step.finish_and_clear();
    progress.say(&ingested.summary);
    progress.say(format!(
        "  quarantine: {} line(s) for {} row(s) in {}",
        ingested.summary.quarantine_lines,
        ingested.summary.rows_quarantined(),
        args.out.join(warehouse::QUARANTINE_CSV).display()
    ));
    Ok(Status::Ok)
}
