//! `l2lens ingest`: raw data directory → typed Parquet warehouse + quarantine + summary.

use anyhow::{Context, Result, bail};

use super::load_options;
use crate::Status;
use crate::cli::IngestArgs;
use crate::ingest::{SplitOnWrite, ingest_dir_into};
use crate::partition;
use crate::progress::Progress;
use crate::warehouse;

pub(crate) fn run(args: &IngestArgs, progress: &Progress) -> Result<Status> {
    if warehouse::is_warehouse(&args.data.data) {
        bail!(
            "{} is already an ingested warehouse; pass the raw data directory to --data",
            args.data.data.display()
        );
    }
    if args.append {
        return append(args, progress);
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
    let given = args
        .customer_partitions
        .map(partition::check_count)
        .transpose()?;
    let count = |conversations| given.unwrap_or_else(|| partition::count_for(conversations));
    crate::atomic::replace_dir(&args.out, "the warehouse", &[&args.data.data], |dir| {
        // The tables that reference a conversation are split as they are written.
        let split = SplitOnWrite {
            dir: dir.join(partition::STORED_DIR),
            count: &count,
        };
        let mut ingested =
            ingest_dir_into(&args.data.data, &options, progress, Some(dir), Some(&split))?;
        let step = progress.step("writing the warehouse");
        warehouse::write_into(dir, &mut ingested, config_text.as_deref())?;
        step.finish_and_clear();
        match ingested.split.take() {
            Some(written) => {
                let data = crate::dataset::Dataset::open_warehouse(dir)?;
                let plan = partition::Plan::known(written.count, written.of_key);
                let step = progress.step("splitting the conversations by customer");
                plan.store_with(&data, dir, written.tables)?;
                step.finish_and_clear();
            }
            None => store_partitions(dir, args.customer_partitions, progress)?,
        }
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

/// `ingest --append`: the export of `--data` added to the warehouse `--out`, validated with the
/// warehouse's configuration unless `--config` or the export's own `l2lens.toml` says otherwise.
fn append(args: &IngestArgs, progress: &Progress) -> Result<Status> {
    crate::warehouse::append::check(&args.out)?;
    let mut data = args.data.clone();
    let kept = args.out.join(crate::config::CONFIG_FILE);
    if data.config.is_none()
        && !data.data.join(crate::config::CONFIG_FILE).is_file()
        && kept.is_file()
    {
        data.config = Some(kept);
    }
    let (config, options) = load_options(&data)?;
    if options.text.fingerprint.is_some() {
        let key = crate::text::Key::from_env(&config.text)?;
        crate::text::check_fingerprint(&args.out, &config.text, key.as_ref())?;
    }
    let summary =
        crate::warehouse::append::append(&args.out, &args.data.data, &options, progress, |dir| {
            store_partitions(dir, args.customer_partitions, progress)
        })?;
    let batch = summary.batches.last().expect("the batch just appended");
    progress.say(format!(
        "appended {} to {}",
        batch.source,
        args.out.display()
    ));
    progress.say(format!(
        "  {:<16} {:>10} {:>10} {:>10} {:>10} {:>12}",
        "table", "read", "added", "replaced", "identical", "quarantined"
    ));
    for (table, t) in &batch.tables {
        progress.say(format!(
            "  {:<16} {:>10} {:>10} {:>10} {:>10} {:>12}",
            table, t.rows_read, t.rows_added, t.rows_replaced, t.rows_identical, t.rows_quarantined
        ));
    }
    Ok(Status::Ok)
}

/// Stores the warehouse just written into `dir` split by customer, in `given` partitions or as
/// many as its conversations need ([`crate::partition::Plan::store`]); nothing for one.
fn store_partitions(
    dir: &std::path::Path,
    given: Option<usize>,
    progress: &Progress,
) -> Result<()> {
    let data = crate::dataset::Dataset::open_warehouse(dir)?;
    let Some(plan) = super::analyse::partition_plan(&data, given)? else {
        return Ok(());
    };
    let step = progress.step(&format!(
        "splitting the warehouse into {} partitions by customer",
        plan.count()
    ));
    plan.store(&data, dir)?;
    step.finish_and_clear();
    Ok(())
}
