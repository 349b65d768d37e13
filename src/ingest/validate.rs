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
use super::schema::{CONVERSATION_KEY, ColumnSpec, Kind, SOURCE_ROW, Table, timestamp_dtype};
use super::spill::Spill;
use crate::config::Input;
use crate::time::{EpochUnit, format_rfc3339};
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
}

enum Value<'a> {
    Null,
    Str(Cow<'a, str>),
    Ts(i64),
    Bool(bool),
}

enum Builder {
    Str(StringChunkedBuilder),
    Ts(Vec<Option<i64>>),
    Bool(Vec<Option<bool>>),
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
    pub quarantine: Vec<QuarantineLine>,
    pub counts: RowCounts,
    /// Accepted ids of the table's unique key (conversations: for the foreign-key check).
    pub ids: IdMap,
    pub unknown_lanes: BTreeMap<String, u64>,
}

pub struct TableBuilder<'r> {
    table: Table,
    file: String,
    rules: Rules<'r>,
    specs: &'static [ColumnSpec],
    builders: Vec<Builder>,
    source_rows: Vec<u32>,
    /// The integer key of each accepted row's conversation (tables about conversations only).
    conversation_keys: Option<Vec<u32>>,
    extra_names: Vec<String>,
    extras: Vec<StringChunkedBuilder>,
    quarantine: Vec<QuarantineLine>,
    counts: RowCounts,
    ids: IdMap,
    key_index: Option<usize>,
    conversation_index: Option<usize>,
    lane_index: Option<usize>,
    unknown_lanes: BTreeMap<String, u64>,
    errors: Vec<(ErrColumn, String, Reason)>,
    /// Per canonical column: how its cells are read.
    readers: Vec<ColumnReader>,
    /// When set, accepted rows go to this Parquet file in row groups instead of staying in
    /// memory.
    spill: Option<Spill>,
    /// Batches ended by the reader ([`Self::end_batch`]), kept in memory when not spilling.
    kept: Vec<DataFrame>,
    /// Whether the reader ends the batches (the builder then never cuts one itself).
    reader_batches: bool,
}

/// How one column's cells are read, from the column's kind and `[input]`.
struct ColumnReader {
    timestamp: Option<TimestampReader>,
    default: Option<String>,
}

/// The widest canonical table has eight columns.
pub const MAX_COLUMNS: usize = 8;

#[derive(Clone, Copy)]
enum ErrColumn {
    Canonical(usize),
    Extra(usize),
}

impl<'r> TableBuilder<'r> {
    pub fn new(table: Table, file: &str, rules: Rules<'r>, capacity: usize) -> Self {
        let specs = table.columns();
        let builders = specs
            .iter()
            .map(|spec| match spec.kind {
                Kind::Timestamp => Builder::Ts(Vec::with_capacity(capacity)),
                Kind::Bool => Builder::Bool(Vec::with_capacity(capacity)),
                _ => Builder::Str(StringChunkedBuilder::new(spec.name.into(), capacity)),
            })
            .collect();
        let index_of = |name: &str| specs.iter().position(|s| s.name == name);
        let readers = specs
            .iter()
            .map(|spec| ColumnReader {
                timestamp: (spec.kind == Kind::Timestamp).then(|| {
                    rules
                        .input
                        .reader(table.name(), spec.name, rules.epoch_unit)
                }),
                default: match spec.kind {
                    Kind::Lowercase { .. }
                        if (table, spec.name) == (Table::Conversations, "channel") =>
                    {
                        rules.input.default_channel.clone()
                    }
                    Kind::Lowercase { default } | Kind::Enum { default, .. } => {
                        default.map(str::to_owned)
                    }
                    _ => None,
                },
            })
            .collect();
        TableBuilder {
            spill: None,
            kept: Vec::new(),
            reader_batches: false,
            readers,
            table,
            file: file.to_owned(),
            rules,
            specs,
            builders,
            source_rows: Vec::with_capacity(capacity),
            conversation_keys: (table == Table::Conversations || table.references_conversation())
                .then(|| Vec::with_capacity(capacity)),
            extra_names: Vec::new(),
            extras: Vec::new(),
            quarantine: Vec::new(),
            counts: RowCounts::default(),
            ids: IdMap::default(),
            key_index: table.unique_key().and_then(index_of),
            conversation_index: table
                .references_conversation()
                .then(|| index_of("conversation_id"))
                .flatten(),
            lane_index: (table == Table::Assignments)
                .then(|| index_of("lane"))
                .flatten(),
            unknown_lanes: BTreeMap::new(),
            errors: Vec::new(),
        }
    }

    pub fn table(&self) -> Table {
        self.table
    }

    /// Writes the accepted rows to the Parquet file `path` as they come, `batch_rows` at a time,
    /// instead of keeping them: memory stays bounded by the batch and the id sets. The file has
    /// the columns and order [`Self::finish`] would give.
    pub fn spill_to(&mut self, path: std::path::PathBuf, batch_rows: usize) {
        self.spill = Some(Spill::new(path, batch_rows));
    }

    /// Writes the rows accepted so far as one row group and starts empty column builders.
    fn flush_spill(&mut self) -> PolarsResult<()> {
        let frame = self.take_frame()?;
        self.write_spill(frame)
    }

    fn write_spill(&mut self, frame: DataFrame) -> PolarsResult<()> {
        match self.spill.as_mut() {
            Some(spill) => spill.write(frame),
            None => Ok(()),
        }
    }

    /// From now on the reader ends every batch with [`Self::end_batch`], for instance at the
    /// end of each slice of a file it reads in slices.
    pub fn batches_by_reader(&mut self) {
        self.reader_batches = true;
    }

    /// Ends a batch: the rows accepted since the previous one, with the columns `extend` adds
    /// (columns the reader keeps with their own types), are written as one row group or kept.
    pub fn end_batch(
        &mut self,
        extend: impl FnOnce(&mut DataFrame) -> PolarsResult<()>,
    ) -> PolarsResult<()> {
        let mut frame = self.take_frame()?;
        extend(&mut frame)?;
        if self.spill.is_some() {
            self.write_spill(frame)
        } else {
            self.kept.push(frame);
            Ok(())
        }
    }

    pub fn specs(&self) -> &'static [ColumnSpec] {
        self.specs
    }

    /// The position of an extra (non-canonical) column, registering it on first sight; rows
    /// accepted before it appeared get nulls.
    pub fn extra_index(&mut self, name: &str) -> usize {
        if let Some(i) = self.extra_names.iter().position(|n| n == name) {
            return i;
        }
        let mut builder = StringChunkedBuilder::new(name.into(), self.source_rows.len());
        for _ in 0..self.source_rows.len() {
            builder.append_null();
        }
        self.extra_names.push(name.to_owned());
        self.extras.push(builder);
        self.extras.len() - 1
    }

    pub fn rows_read(&self) -> u64 {
        self.counts.rows_read
    }

    pub fn extra_count(&self) -> usize {
        self.extras.len()
    }

    /// Quarantines a row the reader could not split into cells (wrong field count, a JSON line
    /// that is not an object, …).
    pub fn reject_row(&mut self, row: u64, column: &str, value: &str, reason: Reason) {
        self.counts.rows_read += 1;
        self.counts.rows_quarantined += 1;
        self.quarantine.push(QuarantineLine {
            table: self.table,
            file: self.file.clone(),
            row,
            column: column.to_owned(),
            value: clip(value),
            reason,
        });
    }

    /// Validates one row. `cells` follows the canonical column order (absent columns are
    /// [`Cell::Null`]); `extras` follows [`Self::extra_index`] and may be shorter.
    pub fn push(&mut self, row: u64, cells: &[Cell<'_>], extras: &[Cell<'_>]) {
        debug_assert_eq!(cells.len(), self.specs.len());
        self.counts.rows_read += 1;
        self.errors.clear();
        // Taken out for the row so that values may borrow a column default while `self` is
        // updated; put back below.
        let readers = std::mem::take(&mut self.readers);
        let mut values: [Value<'_>; MAX_COLUMNS] = std::array::from_fn(|_| Value::Null);
        for (i, (spec, cell)) in self.specs.iter().zip(cells).enumerate() {
            let cell = match cell {
                Cell::Text(t)
                    if !self.rules.input.null_values.is_empty() && self.rules.input.is_null(t) =>
                {
                    &Cell::Null
                }
                other => other,
            };
            match parse(spec, cell, &readers[i]) {
                Ok(v) => values[i] = v,
                Err((value, reason)) => self.errors.push((ErrColumn::Canonical(i), value, reason)),
            }
        }
        for (i, extra) in extras.iter().enumerate() {
            if let Cell::Bad { value, reason } = extra {
                self.errors
                    .push((ErrColumn::Extra(i), value.clone(), *reason));
            }
        }
        let values = &values[..self.specs.len()];
        let conversation_key = self.check_row(values);
        if self.errors.is_empty() {
            self.commit(row, values, extras, conversation_key);
            self.readers = readers;
            if self.spill.as_ref().is_some_and(|s| {
                !self.reader_batches && s.error.is_none() && self.source_rows.len() >= s.batch_rows
            }) && let Err(e) = self.flush_spill()
                && let Some(spill) = self.spill.as_mut()
            {
                spill.error = Some(e);
            }
            return;
        }
        self.readers = readers;
        self.counts.rows_quarantined += 1;
        for (column, value, reason) in std::mem::take(&mut self.errors) {
            let column = match column {
                ErrColumn::Canonical(i) => self.specs[i].name.to_owned(),
                ErrColumn::Extra(i) => self.extra_names[i].clone(),
            };
            self.quarantine.push(QuarantineLine {
                table: self.table,
                file: self.file.clone(),
                row,
                column,
                value: clip(&value),
                reason,
            });
        }
    }

    /// Checks that need more than one cell or more than one row; returns the key of the
    /// conversation the row belongs to, when it references one.
    fn check_row(&mut self, values: &[Value<'_>]) -> Option<u32> {
        let text = |i: Option<usize>| match i.map(|i| &values[i]) {
            Some(Value::Str(s)) => Some(s.as_ref()),
            _ => None,
        };
        if let Some(id) = text(self.key_index)
            && self.ids.contains(id)
        {
            let column = ErrColumn::Canonical(self.key_index.unwrap_or(0));
            self.errors
                .push((column, id.to_owned(), Reason::DuplicateId));
        }
        let mut conversation_key = None;
        if let (Some(known), Some(id)) = (self.rules.conversations, text(self.conversation_index)) {
            conversation_key = known.get(id);
            if conversation_key.is_none() {
                let column = ErrColumn::Canonical(self.conversation_index.unwrap_or(0));
                self.errors
                    .push((column, id.to_owned(), Reason::UnknownConversation));
            }
        }
        if self.table == Table::Conversations
            && let (Value::Ts(opened), Value::Ts(closed)) = (&values[5], &values[6])
            && closed < opened
        {
            let column = ErrColumn::Canonical(6);
            self.errors
                .push((column, format_rfc3339(*closed), Reason::ClosedBeforeOpened));
        }
        conversation_key
    }

    fn commit(
        &mut self,
        row: u64,
        values: &[Value<'_>],
        extras: &[Cell<'_>],
        conversation_key: Option<u32>,
    ) {
        let position = u32::try_from(self.counts.rows_accepted).unwrap_or(u32::MAX);
        self.counts.rows_accepted += 1;
        if let Some(Value::Str(id)) = self.key_index.map(|i| &values[i]) {
            self.ids.insert(id, position);
        }
        if let Some(keys) = &mut self.conversation_keys {
            // A conversation is its own key; other rows carry the key of their conversation.
            let own = (self.table == Table::Conversations).then_some(position);
            keys.push(own.or(conversation_key).unwrap_or(u32::MAX));
        }
        if let Some(Value::Str(lane)) = self.lane_index.map(|i| &values[i])
            && !self.rules.known_lanes.contains(lane.as_ref())
        {
            *self.unknown_lanes.entry(lane.to_string()).or_default() += 1;
        }
        for (builder, value) in self.builders.iter_mut().zip(values) {
            match (builder, value) {
                (Builder::Str(b), Value::Str(s)) => b.append_value(s.as_ref()),
                (Builder::Str(b), _) => b.append_null(),
                (Builder::Ts(b), Value::Ts(t)) => b.push(Some(*t)),
                (Builder::Ts(b), _) => b.push(None),
                (Builder::Bool(b), Value::Bool(v)) => b.push(Some(*v)),
                (Builder::Bool(b), _) => b.push(None),
            }
        }
        self.source_rows
            .push(u32::try_from(row).unwrap_or(u32::MAX));
        for (i, builder) in self.extras.iter_mut().enumerate() {
            match extras.get(i) {
                None | Some(Cell::Null) => builder.append_null(),
                Some(Cell::Text(t)) if t.trim().is_empty() => builder.append_null(),
                Some(Cell::Text(t)) => builder.append_value(t),
                Some(other) => builder.append_value(display(other)),
            }
        }
    }

    /// The accepted rows so far as a frame (canonical columns, `source_row`, the conversation
    /// key, extras), leaving empty builders behind.
    fn take_frame(&mut self) -> PolarsResult<DataFrame> {
        let capacity = self.spill.as_ref().map_or(0, |s| s.batch_rows);
        let mut columns: Vec<Column> = Vec::with_capacity(self.builders.len() + 1);
        for (spec, builder) in self.specs.iter().zip(self.builders.iter_mut()) {
            let fresh = match builder {
                Builder::Str(_) => {
                    Builder::Str(StringChunkedBuilder::new(spec.name.into(), capacity))
                }
                Builder::Ts(_) => Builder::Ts(Vec::with_capacity(capacity)),
                Builder::Bool(_) => Builder::Bool(Vec::with_capacity(capacity)),
            };
            let column = match std::mem::replace(builder, fresh) {
                Builder::Str(b) => b.finish().into_column(),
                Builder::Ts(v) => Int64Chunked::from_iter_options(spec.name.into(), v.into_iter())
                    .into_column()
                    .cast(&timestamp_dtype())?,
                Builder::Bool(v) => {
                    BooleanChunked::from_iter_options(spec.name.into(), v.into_iter()).into_column()
                }
            };
            columns.push(column);
        }
        let rows = std::mem::replace(&mut self.source_rows, Vec::with_capacity(capacity));
        columns.push(UInt32Chunked::from_vec(SOURCE_ROW.into(), rows).into_column());
        if let Some(keys) = &mut self.conversation_keys {
            let keys = std::mem::replace(keys, Vec::with_capacity(capacity));
            columns.push(UInt32Chunked::from_vec(CONVERSATION_KEY.into(), keys).into_column());
        }
        for (name, builder) in self.extra_names.iter().zip(self.extras.iter_mut()) {
            let fresh = StringChunkedBuilder::new(name.as_str().into(), capacity);
            columns.push(std::mem::replace(builder, fresh).finish().into_column());
        }
        DataFrame::new_infer_height(columns)
    }

    /// The validated table. A spilled table's rows are in its Parquet file; its frame is empty.
    pub fn finish(mut self) -> PolarsResult<ValidatedTable> {
        let spilled = self.spill.is_some();
        let frame = if self.reader_batches {
            // Every batch was ended by the reader: nothing is left over.
            let rest = self.take_frame()?;
            debug_assert_eq!(rest.height(), 0);
            let mut kept = std::mem::take(&mut self.kept).into_iter();
            if let Some(spill) = self.spill.take() {
                spill.finish()?;
                rest.clear()
            } else {
                match kept.next() {
                    None => rest,
                    Some(mut frame) => {
                        for batch in kept {
                            frame.vstack_mut_owned(batch)?;
                        }
                        frame
                    }
                }
            }
        } else if spilled {
            let flushed = self.flush_spill();
            let spill = self.spill.take().expect("a spill");
            let finished = spill.finish();
            flushed?;
            finished?;
            self.take_frame()?.clear()
        } else {
            self.take_frame()?
        };
        Ok(ValidatedTable {
            frame,
            spilled,
            quarantine: self.quarantine,
            counts: self.counts,
            ids: self.ids,
            unknown_lanes: self.unknown_lanes,
        })
    }
}

mod cells;
pub use cells::parse_bool;
use cells::{display, parse};

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
