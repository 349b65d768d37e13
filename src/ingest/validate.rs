//! Row validation shared by every reader.
//!
//! A reader turns each source row into [`Cell`]s in canonical column order and hands them to a
//! [`TableBuilder`], which applies the contract's rule for each column, checks uniqueness and the
//! conversation foreign key, and either appends the row to typed column builders or writes one
//! quarantine line per problem. Nothing is dropped: `rows_read == rows_accepted +
//! rows_quarantined` holds by construction, since every row ends in exactly one of the two.

use std::borrow::Cow;
use std::collections::BTreeMap;

use polars::prelude::*;

pub use super::ids::IdMap;
use super::ids::{Repeats, Seen};
use super::schema::{CONVERSATION_KEY, ColumnSpec, Kind, SOURCE_CUSTOMER_ID, Table};
use super::spill::Spill;
use crate::config::Input;
use crate::ingest::text::FindingRows;
use crate::time::EpochUnit;
use crate::timeformat::TimestampReader;

/// One value as a reader found it, before the column's rule is applied.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    Null,
    Text(&'a str),
    Bool(bool),
    Int(i64),
    Float(f64),
    /// An instant already typed by the source (Parquet), in UTC milliseconds.
    Timestamp(i64),
    /// A value the reader could not decode at all (invalid UTF-8, a nested JSON value).
    Bad {
        value: String,
        reason: Reason,
    },
}

/// Why a row was quarantined. The text form is the `reason` column of the quarantine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    MissingValue,
    BadTimestamp,
    UnknownValue,
    BadBool,
    DuplicateId,
    UnknownConversation,
    ClosedBeforeOpened,
    WrongFieldCount,
    InvalidUtf8,
    BadJson,
    NotAnObject,
    WrongType,
    BadCount,
    BadNumber,
    AnsweredBeforePlaced,
    EndedBeforeAnswered,
    StatusConflict,
    SelfAlias,
    AliasCycle,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::MissingValue => "missing_value",
            Reason::BadTimestamp => "bad_timestamp",
            Reason::UnknownValue => "unknown_value",
            Reason::BadBool => "bad_bool",
            Reason::DuplicateId => "duplicate_id",
            Reason::UnknownConversation => "unknown_conversation",
            Reason::ClosedBeforeOpened => "closed_before_opened",
            Reason::WrongFieldCount => "wrong_field_count",
            Reason::InvalidUtf8 => "invalid_utf8",
            Reason::BadJson => "bad_json",
            Reason::NotAnObject => "not_an_object",
            Reason::WrongType => "wrong_type",
            Reason::BadCount => "bad_count",
            Reason::BadNumber => "bad_number",
            Reason::AnsweredBeforePlaced => "answered_before_placed",
            Reason::EndedBeforeAnswered => "ended_before_answered",
            Reason::StatusConflict => "status_conflict",
            Reason::SelfAlias => "self_alias",
            Reason::AliasCycle => "alias_cycle",
        }
    }
}

/// One line of the quarantine: one problem of one row.
#[derive(Debug, Clone, PartialEq)]
pub struct QuarantineLine {
    pub table: Table,
    pub file: String,
    pub row: u64,
    pub column: String,
    pub value: String,
    pub reason: Reason,
}

/// Quarantined values are cut to this many characters so that one huge cell cannot bloat it.
const MAX_QUARANTINED_VALUE: usize = 200;

fn clip(value: &str) -> String {
    match value.char_indices().nth(MAX_QUARANTINED_VALUE) {
        Some((cut, _)) => format!("{}…", &value[..cut]),
        None => value.to_owned(),
    }
}

/// What a table's rules need from outside the table.
#[derive(Clone, Copy)]
pub struct Rules<'a> {
    pub epoch_unit: Option<EpochUnit>,
    /// Accepted conversation ids, for tables that reference a conversation.
    pub conversations: Option<&'a IdMap>,
    /// Lanes the configuration knows; any other lane is counted as unknown.
    pub known_lanes: &'a crate::config::KnownLanes,
    /// How the files write timestamps, nulls and channels.
    pub input: &'a Input,
    /// How text is scanned and stored.
    pub text: &'a crate::ingest::text::TextPass,
}

enum Value<'a> {
    Null,
    Str(Cow<'a, str>),
    Ts(i64),
    Bool(bool),
    Float(f64),
    /// A value a lenient column could not read: stored as null, and counted.
    Unreadable,
}

/// How one column's cells are read, from the column's kind and `[input]`.
#[derive(Clone)]
struct ColumnReader {
    timestamp: Option<TimestampReader>,
    default: Option<String>,
}

/// Row counts of one table, as the run summary reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RowCounts {
    pub rows_read: u64,
    pub rows_accepted: u64,
    pub rows_quarantined: u64,
}

/// A validated table: its frame (canonical columns, then `source_row`, then extras in source
/// order), its quarantine and its counts.
pub struct ValidatedTable {
    pub frame: DataFrame,
    /// Whether the rows went to a Parquet file as they were validated ([`TableBuilder::spill_to`]);
    /// the frame is then empty.
    pub spilled: bool,
    /// With a router ([`TableBuilder::route_to`]), which partitions have a file of the rows.
    pub parts: Option<Vec<bool>>,
    pub quarantine: Vec<QuarantineLine>,
    pub counts: RowCounts,
    /// Accepted ids of the table's unique key (conversations: for the foreign-key check).
    pub ids: IdMap,
    pub unknown_lanes: BTreeMap<String, u64>,
    /// Values of lenient columns read as null, by column ([`Kind::lenient`]).
    pub unreadable: BTreeMap<&'static str, u64>,
    /// The findings of the table's text (messages and handoffs).
    pub findings: FindingRows,
    /// Extra columns left out by the storage rule (`[text] keep_columns`, `withhold_columns`).
    pub withheld: Vec<String>,
}

/// Validates a table's rows in file order. Rows are parsed into a [`Chunk`], either here one
/// at a time ([`Self::push`]) or by the reader on threads of its own ([`Self::add`]); each
/// chunk is then merged: the duplicate-id rule is applied in file order and every row is
/// accounted for.
#[cfg(test)]
impl ValidatedTable {
    /// Row, column and reason of each quarantine line.
    pub fn problems(&self) -> Vec<(u64, &str, Reason)> {
        self.quarantine
            .iter()
            .map(|q| (q.row, q.column.as_str(), q.reason))
            .collect()
    }
}

pub struct TableBuilder<'r> {
    parser: Parser<'r>,
    file: String,
    /// Rows pushed since the last batch ended.
    chunk: Chunk,
    capacity: usize,
    quarantine: Vec<QuarantineLine>,
    counts: RowCounts,
    seen: Seen,
    unknown_lanes: BTreeMap<String, u64>,
    unreadable: BTreeMap<&'static str, u64>,
    /// When set, accepted rows go to this Parquet file in row groups instead of staying in
    /// memory.
    spill: Option<Spill>,
    /// Batches ended so far, kept in memory when not spilling.
    kept: Vec<DataFrame>,
    /// Whether the reader ends the batches (the builder then never cuts one itself).
    reader_batches: bool,
    /// The findings of the text of the rows accepted so far.
    findings: FindingRows,
    /// Extra columns withheld, in the order first seen.
    withheld: Vec<String>,
    /// Tables from this many rows pass their ids through [`Repeats`] first.
    repeats_from_rows: usize,
}

/// Tables from this many rows pass their ids through [`Repeats`] first: below, keeping every
/// id (18 bytes each) costs less than a second read of the column.
pub const REPEATS_FROM_ROWS: usize = 16 << 20;

/// Ids whose slots the merge reads together before inserting them.
const WARM_RUN: usize = 16;

/// The widest canonical table (messages) has fourteen columns.
pub const MAX_COLUMNS: usize = 14;

impl<'r> TableBuilder<'r> {
    pub fn new(table: Table, file: &str, rules: Rules<'r>, capacity: usize) -> Self {
        let parser = Parser::new(table, rules);
        TableBuilder {
            chunk: parser.chunk(capacity, &[]),
            seen: Seen::new(table == Table::Conversations),
            parser,
            file: file.to_owned(),
            capacity,
            quarantine: Vec::new(),
            counts: RowCounts::default(),
            unknown_lanes: BTreeMap::new(),
            unreadable: BTreeMap::new(),
            spill: None,
            kept: Vec::new(),
            reader_batches: false,
            findings: FindingRows::default(),
            withheld: Vec::new(),
            repeats_from_rows: REPEATS_FROM_ROWS,
        }
    }

    /// Whether the storage rule withholds the extra column `name` (`may_hold_strings`: its
    /// values may be strings); a withheld column is recorded, and dropped if it was kept so
    /// far.
    pub fn withholds(&mut self, name: &str, may_hold_strings: bool) -> bool {
        if self.withheld.iter().any(|w| w == name) {
            return true;
        }
        let table = self.parser.table;
        if !self
            .parser
            .rules
            .text
            .withholds(table, name, may_hold_strings)
        {
            return false;
        }
        if !self.withheld.iter().any(|w| w == name) {
            self.withheld.push(name.to_owned());
        }
        true
    }

    pub fn table(&self) -> Table {
        self.parser.table
    }

    /// How this table's rows are parsed, for a reader that parses chunks on threads of its own.
    pub fn parser(&self) -> &Parser<'r> {
        &self.parser
    }

    /// Writes the accepted rows to the Parquet file `path` as they come, `batch_rows` at a time,
    /// instead of keeping them: memory stays bounded by the batch and the id sets. The file has
    /// the columns and order [`Self::finish`] would give.
    pub fn spill_to(&mut self, path: std::path::PathBuf, batch_rows: usize) {
        self.spill = Some(Spill::new(path, batch_rows));
    }

    /// Writes the accepted rows to their partitions' files too, as they are written to the
    /// spill file ([`Self::spill_to`], called first).
    pub fn route_to(&mut self, router: super::parts::Router) {
        if let Some(spill) = self.spill.as_mut() {
            spill.route(router);
        }
    }

    /// The key column's position among the canonical columns, when this table's ids are
    /// checked against [`Repeats`] first: a table of about `rows` rows with unique ids that
    /// no other table looks up, large enough for the first pass to pay.
    pub fn repeats_key(&self, rows: usize) -> Option<usize> {
        (rows >= self.repeats_from_rows && self.parser.table != Table::Conversations)
            .then_some(self.parser.key_index)
            .flatten()
    }

    /// Takes the first pass from tables of `rows` rows, not [`REPEATS_FROM_ROWS`].
    #[cfg(test)]
    pub fn repeats_from(&mut self, rows: usize) {
        self.repeats_from_rows = rows;
    }

    /// The ids of the first pass: from now on only those that may repeat are kept.
    pub(super) fn only_repeats(&mut self, repeats: Repeats) {
        self.seen.only_repeats(repeats);
    }

    /// Room for about `rows` more unique ids, when the reader can tell.
    pub fn expect_rows(&mut self, rows: usize) {
        if self.parser.key_index.is_some() {
            self.seen.reserve(rows);
        }
    }

    /// From now on the reader ends every batch, with [`Self::end_batch`] or [`Self::add`].
    pub fn batches_by_reader(&mut self) {
        self.reader_batches = true;
    }

    /// Ends a batch: the rows pushed since the previous one, with the columns `extend` adds
    /// (columns the reader keeps with their own types), are written as one row group or kept.
    pub fn end_batch(
        &mut self,
        extend: impl FnOnce(&mut DataFrame) -> PolarsResult<()>,
    ) -> PolarsResult<()> {
        let mut frame = self.take_frame()?;
        extend(&mut frame)?;
        self.store(frame)
    }

    /// Merges a chunk the reader parsed (with [`Self::parser`]) as the next batch; chunks must
    /// come in file order.
    pub fn add(&mut self, parsed: Parsed) -> PolarsResult<()> {
        let frame = self.merge(parsed)?;
        self.store(frame)
    }

    fn store(&mut self, frame: DataFrame) -> PolarsResult<()> {
        match self.spill.as_mut() {
            Some(spill) => spill.write(frame),
            None => {
                self.kept.push(frame);
                Ok(())
            }
        }
    }

    pub fn specs(&self) -> &'static [ColumnSpec] {
        self.parser.specs
    }

    /// The position of an extra (non-canonical) column, registering it on first sight; rows
    /// accepted before it appeared get nulls.
    pub fn extra_index(&mut self, name: &str) -> usize {
        self.chunk.extra_index(name)
    }

    pub fn rows_read(&self) -> u64 {
        self.counts.rows_read + self.chunk.outcome.rows_read
    }

    pub fn extra_count(&self) -> usize {
        self.chunk.extra_names().len()
    }

    /// Quarantines a row the reader could not split into cells (wrong field count, a JSON line
    /// that is not an object, …).
    pub fn reject_row(&mut self, row: u64, column: &str, value: &str, reason: Reason) {
        self.parser
            .reject(&mut self.chunk, row, column, value, reason);
    }

    /// Validates one row. `cells` follows the canonical column order (absent columns are
    /// [`Cell::Null`]); `extras` follows [`Self::extra_index`] and may be shorter.
    pub fn push(&mut self, row: u64, cells: &[Cell<'_>], extras: &[Cell<'_>]) {
        self.parser.parse(&mut self.chunk, row, cells, extras);
        let full = self.spill.as_ref().is_some_and(|s| {
            !self.reader_batches && s.error.is_none() && self.chunk.candidates() >= s.batch_rows
        });
        if full
            && let Err(e) = self.take_frame().and_then(|frame| self.store(frame))
            && let Some(spill) = self.spill.as_mut()
        {
            spill.error = Some(e);
        }
    }

    /// The accepted rows pushed since the last batch, leaving an empty chunk behind.
    fn take_frame(&mut self) -> PolarsResult<DataFrame> {
        let capacity = self
            .spill
            .as_ref()
            .map_or(0, |s| s.batch_rows.min(self.capacity));
        self.take_frame_leaving(capacity)
    }

    /// [`Self::take_frame`], leaving a chunk with room for `capacity` rows.
    fn take_frame_leaving(&mut self, capacity: usize) -> PolarsResult<DataFrame> {
        let fresh = self.parser.chunk(capacity, self.chunk.extra_names());
        let chunk = std::mem::replace(&mut self.chunk, fresh);
        self.merge(chunk.into_parsed(self.parser.specs)?)
    }

    /// Applies the duplicate-id rule to a parsed chunk in file order, writes its quarantine
    /// lines and counts its rows; returns its accepted rows with their conversation keys.
    fn merge(&mut self, parsed: Parsed) -> PolarsResult<DataFrame> {
        let Parsed {
            mut frame,
            outcome:
                Outcome {
                    errors,
                    keyed,
                    failed_ids,
                    unknown_lanes,
                    unreadable,
                    rows_read,
                    rows_failed,
                },
        } = parsed;
        let mut failed_ids = failed_ids.into_iter();
        let base = u32::try_from(self.counts.rows_accepted).unwrap_or(u32::MAX);
        let key_name = self
            .parser
            .key_index
            .map_or("", |i| self.parser.specs[i].name);
        let mut dropped: Vec<u32> = Vec::new();
        let mut errors = errors.into_iter().peekable();
        for (i, k) in keyed.iter().enumerate() {
            if i % WARM_RUN == 0 {
                let run = keyed[i..].iter().take(WARM_RUN);
                self.seen.warm(run.map(|k| k.fingerprint));
            }
            self.report(&mut errors, |e| {
                e.row < k.row || (e.row == k.row && !e.after_key)
            });
            // One probe of the id set: a candidate's id is inserted unless it was there.
            let (duplicate, failed_id) = match k.candidate {
                Keyed::FAILED => (self.seen.contains(k.fingerprint), failed_ids.next()),
                c => {
                    let number = base + c - dropped.len() as u32;
                    (!self.seen.insert(k.fingerprint, number), None)
                }
            };
            if duplicate {
                let value = match failed_id {
                    Some(id) => id,
                    None => frame
                        .column(key_name)?
                        .str()?
                        .get(k.candidate as usize)
                        .unwrap_or_default()
                        .to_owned(),
                };
                self.quarantine_line(k.row, key_name, &value, Reason::DuplicateId);
                if k.candidate != Keyed::FAILED {
                    dropped.push(k.candidate);
                }
            }
            self.report(&mut errors, |e| e.row == k.row);
        }
        self.report(&mut errors, |_| true);

        if !dropped.is_empty() {
            let mut keep = vec![true; frame.height()];
            for c in &dropped {
                keep[*c as usize] = false;
            }
            frame = frame.filter(&BooleanChunked::from_slice("keep".into(), &keep))?;
        }
        let accepted = frame.height() as u64;
        if self.parser.table == Table::Conversations {
            // A conversation is its own key: its position among the accepted ones.
            let keys: Vec<u32> = (base..).take(frame.height()).collect();
            let at = self.parser.specs.len() + 1;
            let keys = UInt32Chunked::from_vec(CONVERSATION_KEY.into(), keys);
            frame.insert_column(at, keys.into_column())?;
            // The id as the export gave it; the aliases may resolve `customer_id` later.
            if frame.column(SOURCE_CUSTOMER_ID).is_ok() {
                frame.drop_in_place(SOURCE_CUSTOMER_ID)?;
            }
            let source = frame
                .column("customer_id")?
                .clone()
                .with_name(SOURCE_CUSTOMER_ID.into());
            frame.insert_column(at + 1, source)?;
        }
        self.counts.rows_read += rows_read;
        self.counts.rows_accepted += accepted;
        self.counts.rows_quarantined += rows_failed + dropped.len() as u64;
        for (lane, n) in unknown_lanes {
            *self.unknown_lanes.entry(lane).or_default() += n;
        }
        for (column, n) in unreadable {
            *self.unreadable.entry(column).or_default() += n;
        }
        // Text is scanned and replaced by what may be kept before the rows go anywhere.
        let table = self.parser.table;
        if crate::ingest::schema::text_columns(table).is_empty() {
            return Ok(frame);
        }
        self.parser
            .rules
            .text
            .apply(table, &mut frame, &mut self.findings)?;
        Ok(frame)
    }

    /// Writes the quarantine lines of the next errors while `take` holds.
    fn report(
        &mut self,
        errors: &mut std::iter::Peekable<std::vec::IntoIter<RowError>>,
        take: impl Fn(&RowError) -> bool,
    ) {
        while let Some(e) = errors.next_if(|e| take(e)) {
            self.quarantine_line(e.row, &e.column, &e.value, e.reason);
        }
    }

    fn quarantine_line(&mut self, row: u64, column: &str, value: &str, reason: Reason) {
        // Never a text value or a line of a text table; card numbers and IBANs masked in the
        // rest (text.md, "Quarantine").
        let table = self.parser.table;
        let text_columns = crate::ingest::schema::text_columns(table);
        // An alias row is customer ids and nothing else: none of it is copied.
        let aliases = table == Table::CustomerAliases;
        let value = if aliases && matches!(column, "alias" | "customer_id") {
            crate::ingest::aliases::WITHHELD.to_owned()
        } else {
            crate::text::quarantine_value(
                text_columns.contains(&column),
                column.is_empty() && (aliases || !text_columns.is_empty()),
                value,
            )
        };
        self.quarantine.push(QuarantineLine {
            table,
            file: self.file.clone(),
            row,
            column: column.to_owned(),
            value: clip(&value),
            reason,
        });
    }

    /// The validated table. A spilled table's rows are in its Parquet file; its frame is empty.
    pub fn finish(mut self) -> PolarsResult<ValidatedTable> {
        let rest = self.take_frame_leaving(0)?;
        let spilled = self.spill.is_some();
        let mut parts = None;
        let frame = if let Some(mut spill) = self.spill.take() {
            let empty = rest.clear();
            let written = spill.write(rest);
            let finished = spill.finish();
            written?;
            parts = finished?;
            empty
        } else {
            let mut frames = std::mem::take(&mut self.kept).into_iter();
            match frames.next() {
                None => rest,
                Some(mut frame) => {
                    // A reader that ends the batches leaves no rows behind.
                    let rest = (rest.height() > 0).then_some(rest);
                    for batch in frames.chain(rest) {
                        frame.vstack_mut_owned(batch)?;
                    }
                    frame.rechunk_mut_par();
                    frame
                }
            }
        };
        // A column found to hold strings after rows kept it (JSON Lines) goes too.
        let mut frame = frame;
        for name in &self.withheld {
            if frame.column(name).is_ok() {
                frame.drop_in_place(name)?;
            }
        }
        Ok(ValidatedTable {
            frame,
            spilled,
            parts,
            quarantine: self.quarantine,
            counts: self.counts,
            ids: self.seen.into_map(),
            unknown_lanes: self.unknown_lanes,
            unreadable: self.unreadable,
            findings: self.findings,
            withheld: self.withheld,
        })
    }
}

mod cells;
mod parser;
pub use cells::parse_bool;
pub use parser::{Chunk, Parsed, Parser};
use parser::{Keyed, Outcome, RowError};

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
