//! `l2lens ingest --append`: a new export added to an existing warehouse.
//!
//! The export is validated like any ingest, with one difference: its rows may refer to any
//! conversation of the warehouse (a late message of last week's thread is accepted), and its
//! new conversations take the next free keys. Then, table by table:
//!
//! - a row whose id (`conversation_id`, `message_id`, `call_id`) the warehouse holds with the
//!   **same content** is skipped and counted as identical;
//! - with **different content**, the **later export wins**: the new row replaces the stored
//!   one (a conversation exported open last week and closed this week is closed), keeping its
//!   conversation key; counted as replaced;
//! - a row of a table without ids (assignments, handoffs, templates, …) that equals a stored
//!   row in every column is skipped as identical; any other row is added;
//! - "content" is every column but the input position (`source_row`), the conversation key
//!   and, for conversations, the resolved `customer_id` (the export's own id,
//!   `source_customer_id`, is compared).
//!
//! The appended rows keep their input order after the stored ones (`source_row` continues from
//! the rows read so far), so that ties in time still break by input order. With customer
//! aliases in the warehouse or the export, every conversation's customer id is resolved again
//! through all of them. The quarantine and the text findings of the export are added to the
//! warehouse's, and `ingest_summary.json` records the batch. The new warehouse is written
//! whole beside the old one and swapped in: a killed append leaves the previous warehouse.
//!
//! No facts are stored in a warehouse: every command computes them from the tables, so an
//! append changes exactly what its rows change.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use anyhow::{Context, Result, bail};
use polars::prelude::*;

use crate::ingest::schema::{CONVERSATION_KEY, SOURCE_CUSTOMER_ID, SOURCE_ROW, Table};
use crate::ingest::seed::Seed;
use crate::ingest::spill::Spill;
use crate::ingest::summary::{AliasSummary, Batch, BatchTable};
use crate::ingest::validate::{QuarantineLine, RowCounts};
use crate::ingest::{IngestOptions, IngestSummary, Ingested, TableSummary};
use crate::progress::Progress;
use crate::warehouse::{self, table_path};

/// Rows of a stored table read at a time while it is copied into the new warehouse.
const SLICE_ROWS: usize = 1 << 20;

/// Appends the export `data` to the warehouse `dir`; returns the warehouse's new summary.
/// `finish` runs last on the new warehouse's folder before it replaces the old one.
pub fn append(
    dir: &Path,
    data: &Path,
    options: &IngestOptions,
    progress: &Progress,
    finish: impl FnOnce(&Path) -> Result<()>,
) -> Result<IngestSummary> {
    let mut summary = warehouse::read_summary(dir)?;
    let seed = Seed::read(scan(&table_path(dir, Table::Conversations))?)
        .context("reading the warehouse's conversations")?;
    let mut batch = crate::ingest::ingest_seeded(data, options, progress, None, Some(seed), None)?;
    let step = progress.step("appending to the warehouse");
    let mut record = Batch {
        source: data.display().to_string(),
        appended_at: crate::time::format_rfc3339(now_ms()),
        tables: Default::default(),
    };
    let source = data.display().to_string();
    for line in &mut batch.quarantine {
        line.file = format!("{source}/{}", line.file);
    }
    // The rows read before the batch, per table: its input positions continue from there.
    let offsets: std::collections::BTreeMap<String, u64> = summary
        .tables
        .iter()
        .map(|(name, t)| (name.clone(), t.counts.rows_read))
        .collect();
    let offset = |table: Table| offsets.get(table.name()).copied().unwrap_or(0);
    crate::atomic::replace_dir(dir, "the warehouse", &[data], |tmp| {
        let mut skipped = Skipped::default();
        for table in Table::ALL {
            let old = table_path(dir, table);
            let new = batch.tables.remove(&table);
            let counts = batch.summary.tables.get(table.name()).cloned();
            let target = table_path(tmp, table);
            match (old.is_file(), new) {
                (false, None) => {}
                (true, None) => link_or_copy(&old, &target)?,
                (had, Some(mut frame)) => {
                    shift_rows(&mut frame, offset(table))?;
                    let merged = merge(table, had.then_some(old.as_path()), frame, &target)
                        .with_context(|| format!("appending to the {} table", table.name()))?;
                    let read = counts.as_ref().map_or(RowCounts::default(), |c| c.counts);
                    record.tables.insert(
                        table.name().to_owned(),
                        BatchTable {
                            file: counts.map(|c| c.file).unwrap_or_default(),
                            rows_read: read.rows_read,
                            rows_added: merged.added,
                            rows_replaced: merged.replaced,
                            rows_identical: merged.identical,
                            rows_quarantined: read.rows_quarantined,
                        },
                    );
                    let total = summary
                        .tables
                        .entry(table.name().to_owned())
                        .or_insert_with(|| TableSummary {
                            file: record.tables[table.name()].file.clone(),
                            counts: RowCounts::default(),
                        });
                    total.counts.rows_read += read.rows_read;
                    total.counts.rows_quarantined += read.rows_quarantined;
                    total.counts.rows_accepted = merged.rows;
                    skipped.add(table, merged);
                }
            }
        }
        if table_path(tmp, Table::CustomerAliases).is_file() {
            summary.aliases = Some(resolve_again(tmp, &mut batch.quarantine)?);
        }
        // A brief's findings name its handoff by input position, which moved with it.
        shift_rows_named(
            &mut batch.text_findings,
            "handoff_row",
            offset(Table::Handoffs),
        )?;
        skipped.findings = write_findings(dir, tmp, &batch, &skipped)?;
        write_quarantine(dir, tmp, &batch.quarantine)?;
        for file in [crate::config::CONFIG_FILE, crate::text::FINGERPRINT_FILE] {
            if dir.join(file).is_file() {
                std::fs::copy(dir.join(file), tmp.join(file))?;
            }
        }
        if let (None, Some(fingerprint)) = (
            summary.text.key_fingerprint.as_ref(),
            &batch.summary.text.key_fingerprint,
        ) {
            std::fs::write(
                tmp.join(crate::text::FINGERPRINT_FILE),
                format!("{fingerprint}\n"),
            )?;
            summary.text.key_fingerprint = Some(fingerprint.clone());
        }
        let b = &batch.summary;
        for (lane, n) in &b.unknown_lanes {
            *summary.unknown_lanes.entry(lane.clone()).or_default() += n;
        }
        for (column, n) in &b.unreadable_values {
            *summary.unreadable_values.entry(column.clone()).or_default() += n;
        }
        summary.quarantine_lines += batch.quarantine.len() as u64;
        summary.text.messages_with_text += b.text.messages_with_text;
        summary.text.findings = skipped.findings;
        summary.l2lens_version = env!("CARGO_PKG_VERSION").to_owned();
        summary.batches.push(record.clone());
        let json = serde_json::to_string_pretty(&summary)?;
        std::fs::write(tmp.join(warehouse::SUMMARY_FILE), format!("{json}\n"))?;
        step.finish_and_clear();
        finish(tmp)
    })?;
    Ok(summary)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn scan(path: &Path) -> Result<LazyFrame> {
    LazyFrame::scan_parquet(PlRefPath::try_from_path(path)?, ScanArgsParquet::default())
        .map_err(anyhow::Error::from)
        .with_context(|| format!("cannot read {}", path.display()))
}

/// A stored table that the batch does not touch: linked into the new warehouse (the old one
/// is removed by the swap, the file stays), else copied.
fn link_or_copy(from: &Path, to: &Path) -> Result<()> {
    if std::fs::hard_link(from, to).is_err() {
        std::fs::copy(from, to)
            .with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
    }
    Ok(())
}

/// The batch's input positions after the `offset` rows read before it.
fn shift_rows(frame: &mut DataFrame, offset: u64) -> Result<()> {
    shift_rows_named(frame, SOURCE_ROW, offset)
}

/// Adds `offset` to the input positions in the column `name`, if the frame has it.
fn shift_rows_named(frame: &mut DataFrame, name: &str, offset: u64) -> Result<()> {
    let offset = u32::try_from(offset).context("more than 4 billion rows in one table")?;
    if let Ok(rows) = frame.column(name) {
        let shifted: UInt32Chunked = rows.u32()?.apply_values(|r| r + offset);
        frame.with_column(shifted.into_column())?;
    }
    Ok(())
}

/// What the merge of one table did.
#[derive(Debug, Clone, Default)]
struct Merged {
    /// Rows in the new table.
    rows: u64,
    added: u64,
    replaced: u64,
    identical: u64,
    /// Ids (messages) and input positions (handoffs) of the batch rows skipped as identical,
    /// and ids of the stored rows replaced: their text findings go with them.
    skipped_ids: HashSet<String>,
    skipped_rows: HashSet<u32>,
    replaced_ids: HashSet<String>,
}

/// The rows whose findings are not carried over.
#[derive(Default)]
struct Skipped {
    /// Batch messages skipped as identical (their findings are in the warehouse already).
    messages: HashSet<String>,
    /// Batch handoffs skipped as identical, by input position.
    handoffs: HashSet<u32>,
    /// Stored messages replaced (their findings are replaced by the batch's).
    replaced: HashSet<String>,
    /// Findings in the new warehouse.
    findings: u64,
}

impl Skipped {
    fn add(&mut self, table: Table, merged: Merged) {
        match table {
            Table::Messages => {
                self.messages = merged.skipped_ids;
                self.replaced = merged.replaced_ids;
            }
            Table::Handoffs => self.handoffs = merged.skipped_rows,
            _ => {}
        }
    }
}

/// The columns that make a row's content (see the module docs).
fn content_columns(table: Table, schema: &Schema) -> Vec<PlSmallStr> {
    schema
        .iter_names()
        .filter(|name| {
            let name = name.as_str();
            name != SOURCE_ROW
                && name != CONVERSATION_KEY
                && !(table == Table::Conversations && name == "customer_id")
        })
        .cloned()
        .collect()
}

/// Writes the stored table at `old` (if any) and the batch's `frame` into `target`, by the
/// rules of the module docs.
fn merge(table: Table, old: Option<&Path>, frame: DataFrame, target: &Path) -> Result<Merged> {
    let mut merged = Merged::default();
    let Some(old) = old else {
        merged.added = frame.height() as u64;
        merged.rows = merged.added;
        let mut frame = frame;
        warehouse::write_parquet(target, &mut frame)?;
        return Ok(merged);
    };
    let mut stored = scan(old)?;
    let stored_schema = stored.collect_schema()?;
    let stored_rows = warehouse::row_count(stored.clone())? as usize;
    // One schema for both: the union of their columns, in the stored order first; a column
    // one side lacks is null there, and the batch takes the stored types.
    let mut schema: Schema = (*stored_schema).clone();
    for field in frame.schema().iter_fields() {
        if !schema.contains(field.name()) {
            schema.with_column(field.name().clone(), field.dtype().clone());
        }
    }
    let batch = conform(frame, &schema)?;
    let content = content_columns(table, &schema);
    let key = table.unique_key();
    // The batch's ids, with their rows.
    let ids: HashMap<String, usize> = match key {
        Some(key) => batch
            .column(key)?
            .str()?
            .iter()
            .enumerate()
            .filter_map(|(i, id)| Some((id?.to_owned(), i)))
            .collect(),
        None => HashMap::new(),
    };
    // Per batch row: kept (added or replacing) unless found identical.
    let mut identical = vec![false; batch.height()];
    let mut replacing = vec![false; batch.height()];
    let mut writer = Spill::new(target.to_owned(), SLICE_ROWS);
    let mut offset = 0usize;
    while offset < stored_rows {
        let slice = conform(
            stored
                .clone()
                .slice(offset as i64, SLICE_ROWS as IdxSize)
                .collect()?,
            &schema,
        )?;
        offset += SLICE_ROWS;
        let keep = match key {
            Some(key) => {
                let (keep, found) = compare_by_id(&slice, &batch, key, &ids, &content)?;
                for (row, same) in found {
                    if same {
                        identical[row] = true;
                    } else {
                        replacing[row] = true;
                        merged.replaced_ids.insert(
                            batch
                                .column(key)?
                                .str()?
                                .get(row)
                                .unwrap_or_default()
                                .to_owned(),
                        );
                    }
                }
                keep
            }
            None => {
                for row in equal_rows(&batch, &slice, &content)? {
                    identical[row] = true;
                }
                vec![true; slice.height()]
            }
        };
        let kept = slice.filter(&BooleanChunked::from_slice("keep".into(), &keep))?;
        merged.rows += kept.height() as u64;
        writer.write(kept)?;
    }
    let new = batch.filter(&BooleanChunked::from_iter_values(
        "new".into(),
        identical.iter().map(|same| !same),
    ))?;
    merged.identical = identical.iter().filter(|&&s| s).count() as u64;
    merged.replaced = replacing
        .iter()
        .zip(&identical)
        .filter(|(r, same)| **r && !**same)
        .count() as u64;
    merged.added = new.height() as u64 - merged.replaced;
    merged.rows += new.height() as u64;
    if let Some(key) = key {
        let ids = batch.column(key)?.str()?;
        merged.skipped_ids = identical
            .iter()
            .enumerate()
            .filter(|(_, same)| **same)
            .filter_map(|(i, _)| ids.get(i).map(str::to_owned))
            .collect();
    } else if let Ok(rows) = batch.column(SOURCE_ROW) {
        let rows = rows.u32()?;
        merged.skipped_rows = identical
            .iter()
            .enumerate()
            .filter(|(_, same)| **same)
            .filter_map(|(i, _)| rows.get(i))
            .collect();
    }
    writer.write(new)?;
    writer
        .finish()
        .map_err(anyhow::Error::from)
        .with_context(|| format!("cannot write {}", target.display()))?;
    Ok(merged)
}

/// `frame` with exactly the columns of `schema`, in its order and types (missing ones null).
fn conform(frame: DataFrame, schema: &Schema) -> Result<DataFrame> {
    let columns: Vec<Expr> = schema
        .iter_fields()
        .map(|field| {
            let name = field.name().clone();
            if frame.schema().contains(&name) {
                col(name.clone()).cast(field.dtype().clone())
            } else {
                lit(NULL).cast(field.dtype().clone()).alias(name)
            }
        })
        .collect();
    Ok(frame.lazy().select(columns).collect()?)
}

/// Which stored rows of a slice to keep, and (batch row, same content) for each batch row
/// whose id the slice holds.
type Compared = (Vec<bool>, Vec<(usize, bool)>);

/// For a slice of stored rows: which to keep (not replaced by a batch row), and for each
/// batch row whose id the slice holds, whether its content is the same.
fn compare_by_id(
    slice: &DataFrame,
    batch: &DataFrame,
    key: &str,
    ids: &HashMap<String, usize>,
    content: &[PlSmallStr],
) -> Result<Compared> {
    let mut keep = vec![true; slice.height()];
    let (mut stored_rows, mut batch_rows) = (Vec::new(), Vec::new());
    for (i, id) in slice.column(key)?.str()?.iter().enumerate() {
        if let Some(&row) = id.and_then(|id| ids.get(id)) {
            stored_rows.push(i as IdxSize);
            batch_rows.push(row as IdxSize);
        }
    }
    if stored_rows.is_empty() {
        return Ok((keep, Vec::new()));
    }
    let old = slice
        .select(content.iter().cloned())?
        .take(&IdxCa::from_vec("i".into(), stored_rows.clone()))?;
    let new = batch
        .select(content.iter().cloned())?
        .take(&IdxCa::from_vec("i".into(), batch_rows.clone()))?;
    let mut same = vec![true; stored_rows.len()];
    for name in content {
        let equal = old
            .column(name)?
            .as_materialized_series()
            .equal_missing(new.column(name)?.as_materialized_series())?;
        for (s, e) in same.iter_mut().zip(equal.iter()) {
            *s &= e.unwrap_or(false);
        }
    }
    let mut found = Vec::with_capacity(same.len());
    for ((&i, &row), same) in stored_rows.iter().zip(&batch_rows).zip(same) {
        if !same {
            keep[i as usize] = false;
        }
        found.push((row as usize, same));
    }
    Ok((keep, found))
}

/// The batch rows equal, in every content column, to a row of `slice` (nulls equal).
fn equal_rows(batch: &DataFrame, slice: &DataFrame, content: &[PlSmallStr]) -> Result<Vec<usize>> {
    if batch.height() == 0 || slice.height() == 0 {
        return Ok(Vec::new());
    }
    let on: Vec<Expr> = content.iter().map(|c| col(c.clone())).collect();
    let mut args = JoinArgs::new(JoinType::Semi);
    args.nulls_equal = true;
    let found = batch
        .clone()
        .lazy()
        .select(on.clone())
        .with_row_index("batch_row", None)
        .join(
            slice.clone().lazy().select(on.clone()),
            on.clone(),
            on,
            args,
        )
        .select([col("batch_row")])
        .collect()?;
    Ok(found
        .column("batch_row")?
        .idx()?
        .into_no_null_iter()
        .map(|i| i as usize)
        .collect())
}

/// Resolves every conversation's customer id again, through the aliases of the new warehouse
/// (stored and appended), from the id the exports gave.
fn resolve_again(tmp: &Path, quarantine: &mut Vec<QuarantineLine>) -> Result<AliasSummary> {
    let path = table_path(tmp, Table::CustomerAliases);
    let mut aliases = scan(&path)?.collect()?;
    let mut counts = RowCounts::default();
    let checked =
        crate::ingest::aliases::check(&mut aliases, "customer_aliases", quarantine, &mut counts)
            .context("checking the customer aliases")?;
    let conversations = table_path(tmp, Table::Conversations);
    let mut frame = scan(&conversations)?.collect()?;
    if frame.column(SOURCE_CUSTOMER_ID).is_ok() {
        let source = frame
            .column(SOURCE_CUSTOMER_ID)?
            .clone()
            .with_name("customer_id".into());
        frame.with_column(source)?;
    }
    let summary = checked
        .apply(&mut frame)
        .context("resolving customer ids through the aliases")?;
    std::fs::remove_file(&conversations)?;
    warehouse::write_parquet(&conversations, &mut frame)?;
    Ok(summary)
}

/// The text findings of the new warehouse: the stored ones but those of replaced messages, and
/// the batch's but those of rows skipped as identical.
fn write_findings(dir: &Path, tmp: &Path, batch: &Ingested, skipped: &Skipped) -> Result<u64> {
    let keep = |frame: &DataFrame, keep: Vec<bool>| {
        frame.filter(&BooleanChunked::from_slice("keep".into(), &keep))
    };
    let new = &batch.text_findings;
    let ids = new.column("message_id")?.str()?;
    let rows = new.column("handoff_row")?.u32()?;
    let new = keep(
        new,
        ids.iter()
            .zip(rows.iter())
            .map(|(id, row)| {
                id.is_none_or(|id| !skipped.messages.contains(id))
                    && row.is_none_or(|row| !skipped.handoffs.contains(&row))
            })
            .collect(),
    )?;
    let mut all = match warehouse::scan_text_findings(dir)? {
        Some(stored) => {
            let stored = stored.collect()?;
            let ids = stored.column("message_id")?.str()?;
            let mut all = keep(
                &stored,
                ids.iter()
                    .map(|id| id.is_none_or(|id| !skipped.replaced.contains(id)))
                    .collect(),
            )?;
            all.vstack_mut_owned(new)?;
            all
        }
        None => new,
    };
    warehouse::write_parquet(&tmp.join(warehouse::TEXT_FINDINGS), &mut all)?;
    Ok(all.height() as u64)
}

/// The stored quarantine with the batch's lines after it (CSV and Parquet).
fn write_quarantine(dir: &Path, tmp: &Path, lines: &[QuarantineLine]) -> Result<()> {
    let csv_path = dir.join(warehouse::QUARANTINE_CSV);
    let mut csv = if csv_path.is_file() {
        std::fs::read(&csv_path)?
    } else {
        Vec::new()
    };
    let new = warehouse::quarantine_csv(lines)?;
    if csv.is_empty() {
        csv = new;
    } else {
        // Without the batch's header line.
        let body = new
            .iter()
            .position(|&b| b == b'\n')
            .map_or(&new[..0], |i| &new[i + 1..]);
        csv.extend_from_slice(body);
    }
    std::fs::write(tmp.join(warehouse::QUARANTINE_CSV), csv)?;
    let mut frame = warehouse::quarantine_frame(lines)?;
    let parquet = dir.join(warehouse::QUARANTINE_PARQUET);
    if parquet.is_file() {
        let mut stored = scan(&parquet)?.collect()?;
        stored.vstack_mut_owned(frame)?;
        frame = stored;
    }
    warehouse::write_parquet(&tmp.join(warehouse::QUARANTINE_PARQUET), &mut frame)
}

/// Refuses an append that cannot be one.
pub fn check(dir: &Path) -> Result<()> {
    if !warehouse::is_warehouse(dir) {
        bail!(
            "{} is not an l2lens warehouse, so there is nothing to append to; run `l2lens \
             ingest --data EXPORT --out {}` first (without --append)",
            dir.display(),
            dir.display()
        );
    }
    Ok(())
}
