//! `l2lens ingest`: raw data directory → typed Parquet warehouse + quarantine + summary.

use anyhow::{Context, Result, bail};

use super::load_options;
use crate::Status;
use crate::cli::IngestArgs;
use crate::ingest::ingest_dir_into;
use crate::progress::Progress;
use crate::warehouse;

pub(crate) fn run(args: &IngestArgs, progress: &Progress) -> Result<Status> {
    if warehouse::is_warehouse(&args.data.data) {
        bail!(
            "{} is already an ingested warehouse; pass the raw data directory to --data",
            args.data.data.display()
        );
    }
    let (config, options) = load_options(&args.data)?;
    if options.text.fingerprint.is_some() {
        let key = crate::text::Key::from_env(&config.text)?;
        crate::text::check_fingerprint(&args.out, &config.text, key.as_ref())?;
    }
    // The warehouse keeps the configuration it was built with, so that later commands on it
    // see the same lanes and tiers.
    let config_text = config
        .source
        .as_ref()
        .map(|path| {
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the config file {}", path.display()))
        })
        .transpose()?
        .map(|text| crate::text::without_key(&text, &config.text));
    // CSV tables are written into the new warehouse as they are validated; the rest after.
    let mut result = None;
    crate::atomic::replace_dir(&args.out, "the warehouse", &[&args.data.data], |dir| {
        let mut ingested = ingest_dir_into(&args.data.data, &options, progress, Some(dir))?;
        let step = progress.step("writing the warehouse");
        warehouse::write_into(dir, &mut ingested, config_text.as_deref())?;
        step.finish_and_clear();
        result = Some(ingested);
        Ok(())
    })?;
    let ingested = result.expect("the warehouse was written");
    progress.say(&ingested.summary);
    for line in super::text_warnings(&ingested.summary.text, &config.text) {
        progress.say(line);
    }
    progress.say(format!(
        "  quarantine: {} line(s) for {} row(s) in {}",
        ingested.summary.quarantine_lines,
        ingested.summary.rows_quarantined(),
        args.out.join(warehouse::QUARANTINE_CSV).display()
    ));
    if let Some(source) = &config.source {
        progress.say(format!(
            "  configuration: {} kept as {}",
            source.display(),
            args.out.join(crate::config::CONFIG_FILE).display()
        ));
    }
    Ok(Status::Ok)
}
