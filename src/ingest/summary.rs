//! The ingest summary: rows read, accepted and quarantined per table, and unknown lanes.
//! Written as `ingest_summary.json` and printed to stderr as a small table.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::schema::Table;
use super::validate::RowCounts;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableSummary {
    pub file: String,
    #[serde(flatten)]
    pub counts: RowCounts,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestSummary {
    pub l2lens_version: String,
    /// The data directory that was read.
    pub source: String,
    /// Per table, in the contract's order (templates only when present).
    pub tables: BTreeMap<String, TableSummary>,
    /// Lanes of accepted assignments that the configuration does not know, with row counts.
    pub unknown_lanes: BTreeMap<String, u64>,
    pub quarantine_lines: u64,
    /// Values of lenient columns (`messages.billable`, `conversations.customer_id_kind`,
    /// `conversations.market`) that could not be read and were kept as null, by
    /// `table.column`: the rows stay, the values count as unknown.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unreadable_values: BTreeMap<String, u64>,
    /// The customer aliases (whatsapp-2026.md B): rows used, conversations whose id they
    /// changed, aliases with conflicting targets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aliases: Option<AliasSummary>,
    /// What was read of message text.
    #[serde(default)]
    pub text: TextSummary,
    /// Each export added with `ingest --append`, in order (the first ingest is the rest of
    /// this summary). Per table, rows read = rows accepted + rows quarantined + rows skipped
    /// as identical + stored rows replaced, over the ingest and all batches.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub batches: Vec<Batch>,
}

/// One export appended to the warehouse.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Batch {
    /// The data directory read.
    pub source: String,
    /// When it was appended (UTC, RFC 3339).
    pub appended_at: String,
    /// Per table the batch had.
    pub tables: BTreeMap<String, BatchTable>,
}

/// What an append did with one table of the batch.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BatchTable {
    pub file: String,
    pub rows_read: u64,
    /// Rows the warehouse did not hold: added.
    pub rows_added: u64,
    /// Rows whose id the warehouse held with other content: they replaced the stored row
    /// (the later export wins).
    pub rows_replaced: u64,
    /// Rows the warehouse already held, the same in every column: skipped.
    pub rows_identical: u64,
    pub rows_quarantined: u64,
}

/// What the customer aliases did at ingest.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AliasSummary {
    /// Alias rows left after the quarantine (the rows resolution reads).
    pub rows_used: u64,
    /// Conversations whose customer id resolution changed.
    pub conversations_resolved: u64,
    /// Aliases that had more than one row in effect with different targets at some step.
    pub conflicting_targets: u64,
}

/// What ingest did with text: messages scanned, findings, the storage mode, the key
/// fingerprint and the extra columns withheld.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TextSummary {
    /// Messages with text (`text_chars` not null).
    pub messages_with_text: u64,
    pub findings: u64,
    pub store: String,
    /// The fingerprint of the key the tokens were made with (none without a key).
    pub key_fingerprint: Option<String>,
    /// `table.column` of every extra column withheld.
    pub withheld_columns: Vec<String>,
}

impl IngestSummary {
    pub fn new(source: &Path) -> IngestSummary {
        IngestSummary {
            l2lens_version: env!("CARGO_PKG_VERSION").to_owned(),
            source: source.display().to_string(),
            tables: BTreeMap::new(),
            unknown_lanes: BTreeMap::new(),
            quarantine_lines: 0,
            unreadable_values: BTreeMap::new(),
            aliases: None,
            text: TextSummary::default(),
            batches: Vec::new(),
        }
    }

    pub fn add(
        &mut self,
        table: Table,
        file: &str,
        counts: RowCounts,
        unknown_lanes: &BTreeMap<String, u64>,
    ) {
        self.tables.insert(
            table.name().to_owned(),
            TableSummary {
                file: file.to_owned(),
                counts,
            },
        );
        for (lane, n) in unknown_lanes {
            *self.unknown_lanes.entry(lane.clone()).or_default() += n;
        }
    }

    pub fn rows_quarantined(&self) -> u64 {
        self.tables
            .values()
            .map(|t| t.counts.rows_quarantined)
            .sum()
    }
}

impl fmt::Display for IngestSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "ingest of {}", self.source)?;
        writeln!(
            f,
            "  {:<16} {:<26} {:>12} {:>12} {:>12}",
            "table", "file", "read", "accepted", "quarantined"
        )?;
        for table in Table::ALL {
            if let Some(t) = self.tables.get(table.name()) {
                writeln!(
                    f,
                    "  {:<16} {:<26} {:>12} {:>12} {:>12}",
                    table.name(),
                    t.file,
                    t.counts.rows_read,
                    t.counts.rows_accepted,
                    t.counts.rows_quarantined
                )?;
            }
        }
        if self.text.messages_with_text > 0 {
            writeln!(
                f,
                "  text: {} messages scanned, {} findings, store = {}{}",
                self.text.messages_with_text,
                self.text.findings,
                self.text.store,
                match &self.text.key_fingerprint {
                    Some(fp) => format!(", text key fingerprint {fp}"),
                    None => ", no key (identifiers not tokenised)".to_owned(),
                }
            )?;
        }
        if !self.text.withheld_columns.is_empty() {
            writeln!(
                f,
                "  withheld columns: {}; name them in [text] keep_columns to keep them",
                self.text.withheld_columns.join(", ")
            )?;
        }
        for (column, n) in &self.unreadable_values {
            writeln!(
                f,
                "  {column}: {n} unreadable values kept as null (unknown); the rows are kept"
            )?;
        }
        if let Some(a) = &self.aliases {
            writeln!(
                f,
                "  customer aliases: {} rows used, {} conversations resolved to another id, {} \
                 aliases with conflicting targets",
                a.rows_used, a.conversations_resolved, a.conflicting_targets
            )?;
        }
        if self.unknown_lanes.is_empty() {
            write!(f, "  unknown lanes: none")
        } else {
            let lanes: Vec<String> = self
                .unknown_lanes
                .iter()
                .map(|(lane, n)| format!("{lane} ({n} rows)"))
                .collect();
            write!(
                f,
                "  unknown lanes (counted as tier L1; add them to [lanes] in l2lens.toml): {}",
                lanes.join(", ")
            )
        }
    }
}
