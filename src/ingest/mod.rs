//! Canonical ingest: find the tables of a data directory, read each with the reader its
//! extension names, validate every row against the contract, and account for every row.
//!
//! Guarantees: a fatal problem (missing or unreadable file, missing required column, wrong
//! Parquet type) is an error naming the file and what to do; every other problem quarantines
//! its row with file, row, column and reason; per table, rows read = rows accepted + rows
//! quarantined.

pub(crate) mod aliases;
pub mod columns;
mod csv;
pub mod customer;
mod ids;
mod jsonl;
mod parquet;
pub mod parts;
pub mod schema;
pub(crate) mod seed;
pub(crate) mod spill;
pub mod summary;
pub mod text;
pub mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use polars::prelude::{DataFrame, IntoLazy, LazyFrame, PlRefPath, ScanArgsParquet};

use crate::progress::Progress;
use crate::time::EpochUnit;
use schema::{EXTENSIONS, Format, Table};
pub use summary::{IngestSummary, TableSummary};
use validate::{IdMap, QuarantineLine, Rules, TableBuilder, ValidatedTable};

/// What ingest needs to know besides the directory.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    pub epoch_unit: Option<EpochUnit>,
    /// Lanes of the configuration: any other lane is reported as unknown.
    pub known_lanes: crate::config::KnownLanes,
    /// `[input]`: timestamp formats, zone, null tokens, default channel.
    pub input: crate::config::Input,
    /// `[text]` and the key: how text is scanned and what is kept of it.
    pub text: std::sync::Arc<crate::ingest::text::TextPass>,
}

/// Rows per row group when ingest writes a table it reads in slices (Parquet input) or
/// validates row by row; CSV tables are written a chunk of records at a time.
pub const SPILL_BATCH_ROWS: usize = 1 << 20;

/// The accepted rows of every table, the quarantine and the summary.
pub struct Ingested {
    /// The accepted rows of each table; empty for a table in `spilled`.
    pub tables: BTreeMap<Table, DataFrame>,
    /// Tables already written to Parquet while they were validated.
    pub spilled: std::collections::BTreeSet<Table>,
    pub quarantine: Vec<QuarantineLine>,
    pub summary: IngestSummary,
    /// The `text_findings` table (text.md section 4): every finding of the accepted messages
    /// and handoffs.
    pub text_findings: DataFrame,
    /// The tables split by customer as they were written ([`SplitOnWrite`]).
    pub split: Option<WrittenSplit>,
}

/// How an ingest that writes its tables as it validates them also splits them by customer,
/// into one file per table and partition ([`parts::Router`]): the tables that reference a
/// conversation, once the conversations (read first) give every conversation's partition.
pub struct SplitOnWrite<'a> {
    /// The folder of the partitions' files.
    pub dir: PathBuf,
    /// The partition count for this many accepted conversations; 1 splits nothing.
    pub count: &'a (dyn Fn(u64) -> usize + Sync),
}

/// The tables an ingest split as it wrote them ([`SplitOnWrite`]).
pub struct WrittenSplit {
    pub count: usize,
    /// The partition of every conversation key ([`parts::key_partitions`]).
    pub of_key: std::sync::Arc<Vec<u32>>,
    /// Each table split, and which partitions have a file of it. The conversations are not
    /// among them: their partitions are known only once they are all read.
    pub tables: Vec<(Table, Vec<bool>)>,
}

/// Finds the file of each table in `dir`. A required table with no file, or a table with two
/// candidate files, is an error.
pub fn locate(dir: &Path) -> Result<BTreeMap<Table, PathBuf>> {
    if !dir.is_dir() {
        bail!(
            "data directory {} does not exist or is not a directory; pass --data DIR with the \
             exported tables",
            dir.display()
        );
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    let mut found = BTreeMap::new();
    for table in Table::ALL {
        let candidates: Vec<&PathBuf> = entries
            .iter()
            .filter(|p| {
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().to_lowercase())
                    .unwrap_or_default();
                EXTENSIONS
                    .iter()
                    .any(|ext| name == format!("{}{ext}", table.name()))
            })
            .collect();
        match candidates.as_slice() {
            [] if table.required() => bail!(
                "{}: no {} table. Expected one file named {}.csv, .csv.gz, .jsonl, .ndjson or \
                 .parquet",
                dir.display(),
                table.name(),
                table.name()
            ),
            [] => {}
            [one] if !one.is_file() => bail!(
                "{} is not a file (a directory?), so the {} table cannot be read from it; \
                 move it out of the data directory or replace it with the exported {} file",
                one.display(),
                table.name(),
                table.name()
            ),
            [one] => {
                found.insert(table, (*one).clone());
            }
            many => bail!(
                "{}: the {} table has {} files ({}); keep exactly one",
                dir.display(),
                table.name(),
                many.len(),
                many.iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
    Ok(found)
}

/// Reads and validates every table of `dir`, keeping the accepted rows in memory.
pub fn ingest_dir(dir: &Path, options: &IngestOptions, progress: &Progress) -> Result<Ingested> {
    ingest_dir_into(dir, options, progress, None, None)
}

/// Reads and validates every table of `dir`. With `out`, each CSV and Parquet table is written
/// to `out/<table>.parquet` as it is validated, so memory stays bounded by the chunks in flight
/// and the id sets: a CSV table a row group per chunk of records, a Parquet table a row group
/// per slice of [`SPILL_BATCH_ROWS`] rows. JSON Lines tables stay in memory. With `split`
/// too, the tables so written are split by customer as well, when no customer aliases rewrite
/// the customer ids after all tables are read.
pub fn ingest_dir_into(
    dir: &Path,
    options: &IngestOptions,
    progress: &Progress,
    out: Option<&Path>,
    split: Option<&SplitOnWrite<'_>>,
) -> Result<Ingested> {
    ingest_seeded(dir, options, progress, out, None, split)
}

/// [`ingest_dir_into`]; with `seed` (an append), the conversations take the keys of the
/// warehouse's for the ids it holds and the next free ones for the others, and the other
/// tables may refer to any conversation of either.
pub(crate) fn ingest_seeded(
    dir: &Path,
    options: &IngestOptions,
    progress: &Progress,
    out: Option<&Path>,
    seed: Option<seed::Seed>,
    split: Option<&SplitOnWrite<'_>>,
) -> Result<Ingested> {
    check_format_keys(&options.input)?;
    let files = locate(dir)?;
    let base = |conversations| rules(options, conversations);
    // Conversations first: the other tables are checked against its accepted ids.
    // With aliases, the conversations stay in memory until their customer ids are resolved;
    // the aliases themselves are checked as a whole.
    let aliased = files.contains_key(&Table::CustomerAliases);
    let mut conversations = read_table(
        Table::Conversations,
        &files[&Table::Conversations],
        base(None),
        options.epoch_unit,
        progress,
        out.filter(|_| !aliased),
        None,
    )?;
    if let Some(seed) = seed {
        seed.rekey(&mut conversations)?;
    }
    // Aliases change customer ids after every table is read: no split on the way then.
    let routes = match (out, split) {
        (Some(out), Some(split)) if !aliased => Routes::of(&conversations, out, split)?,
        _ => None,
    };
    // The other tables look ids up in the map; the conversations' result no longer needs it.
    let ids = std::mem::take(&mut conversations.ids);
    let mut results: Vec<(Table, Result<ValidatedTable>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .iter()
            .filter(|(t, _)| **t != Table::Conversations)
            .map(|(table, path)| {
                let rules = base(Some(&ids));
                let progress = progress.clone();
                let out = out.filter(|_| *table != Table::CustomerAliases);
                let router = routes.as_ref().and_then(|r| r.router(*table));
                let handle = scope.spawn(move || {
                    read_table(
                        *table,
                        path,
                        rules,
                        options.epoch_unit,
                        &progress,
                        out,
                        router,
                    )
                });
                (*table, handle)
            })
            .collect();
        handles
            .into_iter()
            .map(|(table, handle)| {
                let result = handle
                    .join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("reading {} panicked", table.name())));
                (table, result)
            })
            .collect()
    });
    results.insert(0, (Table::Conversations, Ok(conversations)));

    let mut tables = BTreeMap::new();
    let mut spilled = std::collections::BTreeSet::new();
    let mut quarantine = Vec::new();
    let mut summary = IngestSummary::new(dir);
    let mut findings = crate::ingest::text::FindingRows::default();
    let mut split = routes.map(|r| WrittenSplit {
        count: r.count,
        of_key: r.of_key,
        tables: Vec::new(),
    });
    for (table, result) in results {
        let mut validated = result?;
        if let (Some(split), Some(parts)) = (split.as_mut(), validated.parts.take()) {
            split.tables.push((table, parts));
        }
        findings.append(std::mem::take(&mut validated.findings));
        summary.text.withheld_columns.extend(
            validated
                .withheld
                .iter()
                .map(|c| format!("{}.{c}", table.name())),
        );
        let file = file_name(&files[&table]);
        summary.add(table, &file, validated.counts, &validated.unknown_lanes);
        for (column, n) in &validated.unreadable {
            summary
                .unreadable_values
                .insert(format!("{}.{column}", table.name()), *n);
        }
        quarantine.extend(validated.quarantine);
        if validated.spilled {
            spilled.insert(table);
        }
        tables.insert(table, validated.frame);
    }
    if let Some(frame) = tables.get_mut(&Table::CustomerAliases) {
        let name = Table::CustomerAliases.name();
        let table = summary
            .tables
            .get_mut(name)
            .context("the aliases were read")?;
        let aliases = aliases::check(frame, &table.file, &mut quarantine, &mut table.counts)
            .context("checking the customer aliases")?;
        let conversations = tables
            .get_mut(&Table::Conversations)
            .context("the conversations were read")?;
        summary.aliases = Some(
            aliases
                .apply(conversations)
                .context("resolving customer ids through the aliases")?,
        );
    }
    summary.quarantine_lines = quarantine.len() as u64;
    summary.text.messages_with_text = findings.messages_with_text;
    summary.text.findings = findings.len() as u64;
    summary.text.store = options.text.store.as_str().to_owned();
    summary.text.key_fingerprint = options.text.fingerprint.clone();
    Ok(Ingested {
        tables,
        spilled,
        quarantine,
        summary,
        text_findings: findings.frame()?,
        split,
    })
}

/// Where the rows of each table that references a conversation go ([`SplitOnWrite`]).
struct Routes<'a> {
    split: &'a SplitOnWrite<'a>,
    count: usize,
    of_key: std::sync::Arc<Vec<u32>>,
}

impl<'a> Routes<'a> {
    /// The partitions of the validated `conversations`, from their file in `out` when they
    /// were written there; `None` for one partition.
    fn of(
        conversations: &ValidatedTable,
        out: &Path,
        split: &'a SplitOnWrite<'a>,
    ) -> Result<Option<Routes<'a>>> {
        let count = (split.count)(conversations.counts.rows_accepted);
        if count <= 1 {
            return Ok(None);
        }
        let table = if conversations.spilled {
            let path = out.join(format!("{}.parquet", Table::Conversations.name()));
            LazyFrame::scan_parquet(PlRefPath::try_from_path(&path)?, ScanArgsParquet::default())?
        } else {
            conversations.frame.clone().lazy()
        };
        let of_key = parts::key_partitions(&table, count)?;
        std::fs::create_dir_all(&split.dir)
            .with_context(|| format!("cannot create {}", split.dir.display()))?;
        Ok(Some(Routes {
            split,
            count,
            of_key: std::sync::Arc::new(of_key),
        }))
    }

    fn router(&self, table: Table) -> Option<parts::Router> {
        table
            .references_conversation()
            .then(|| parts::Router::new(&self.split.dir, table, self.count, self.of_key.clone()))
    }
}

/// Every `[input.timestamp_formats]` key must name a timestamp column of a table.
fn check_format_keys(input: &crate::config::Input) -> Result<()> {
    for key in input.format_keys() {
        let (table, column) = key.split_once('.').unwrap_or((key, ""));
        let known = Table::ALL.iter().any(|t| {
            t.name() == table
                && t.columns()
                    .iter()
                    .any(|c| c.name == column && c.kind == schema::Kind::Timestamp)
        });
        if !known {
            bail!(
                "[input.timestamp_formats] `{key}` is not a timestamp column; the timestamp \
                 columns are {}",
                Table::ALL
                    .iter()
                    .flat_map(|t| t
                        .columns()
                        .iter()
                        .filter(|c| c.kind == schema::Kind::Timestamp)
                        .map(move |c| format!("{}.{}", t.name(), c.name)))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    Ok(())
}

fn rules<'a>(options: &'a IngestOptions, conversations: Option<&'a IdMap>) -> Rules<'a> {
    Rules {
        epoch_unit: options.epoch_unit,
        conversations,
        known_lanes: &options.known_lanes,
        input: &options.input,
        text: &options.text,
    }
}

fn read_table(
    table: Table,
    path: &Path,
    rules: Rules<'_>,
    epoch_unit: Option<EpochUnit>,
    progress: &Progress,
    out: Option<&Path>,
    router: Option<parts::Router>,
) -> Result<ValidatedTable> {
    let format = Format::from_path(path);
    let spill = out.filter(|_| matches!(format, Some(Format::Csv { .. } | Format::Parquet)));
    let capacity = match spill {
        Some(_) => estimated_rows(path).min(SPILL_BATCH_ROWS),
        None => estimated_rows(path),
    };
    let mut builder = TableBuilder::new(table, &file_name(path), rules, capacity);
    if let Some(out) = spill {
        builder.spill_to(
            out.join(format!("{}.parquet", table.name())),
            SPILL_BATCH_ROWS,
        );
        if let Some(router) = router {
            builder.route_to(router);
        }
    }
    match format {
        Some(Format::Csv { gzip }) => csv::read(path, gzip, builder, progress),
        Some(Format::Jsonl) => jsonl::read(path, builder, progress),
        Some(Format::Parquet) => parquet::read(path, builder, epoch_unit, progress),
        None => bail!("{}: unknown file format", path.display()),
    }
}

/// A capacity hint from the file size (about 80 bytes a row), capped to keep small
/// machines safe from a huge up-front allocation.
fn estimated_rows(path: &Path) -> usize {
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    usize::try_from(len / 80).unwrap_or(0).min(16 << 20)
}

pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}
