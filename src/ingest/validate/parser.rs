//! The row-local half of validation: each cell through its column's rule, the foreign key,
//! and the checks within one row. It keeps no state across rows, so chunks of a file can be
//! parsed on several threads; [`super::TableBuilder`] then merges them in file order, where
//! the duplicate-id rule (which depends on earlier rows) is applied.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::cells::{display, parse};
use super::{Cell, ColumnReader, MAX_COLUMNS, Reason, Rules, Value};
use crate::ingest::ids::IdMap;
use crate::ingest::schema::{
    CONVERSATION_KEY, ColumnSpec, Kind, SOURCE_ROW, Table, timestamp_dtype,
};
use crate::time::format_rfc3339;

/// How the rows of one table are parsed; shared by the threads that parse its chunks.
#[derive(Clone)]
pub struct Parser<'r> {
    pub(super) table: Table,
    pub(super) rules: Rules<'r>,
    pub(super) specs: &'static [ColumnSpec],
    readers: Vec<ColumnReader>,
    pub(super) key_index: Option<usize>,
    conversation_index: Option<usize>,
    lane_index: Option<usize>,
}

/// One problem of one row, before the merge gives it a table and file.
pub(super) struct RowError {
    pub row: u64,
    pub column: String,
    pub value: String,
    pub reason: Reason,
    /// Whether the problem is reported after a duplicate id of the same row.
    pub after_key: bool,
}

/// A row whose unique id was read: the merge checks it against the ids accepted before.
pub(super) struct Keyed {
    pub fingerprint: u128,
    pub row: u64,
    /// The row's position among the chunk's candidates, or [`Keyed::FAILED`]; the id of a row
    /// that failed is kept in [`Chunk::failed_ids`] (a candidate's is in its column).
    pub candidate: u32,
}

impl Keyed {
    pub const FAILED: u32 = u32::MAX;
}

/// Rows parsed by one [`Parser`]: the typed columns of the rows that passed every row-local
/// check (the candidates), and what the merge needs to finish the rest.
pub struct Chunk {
    builders: Vec<Builder>,
    source_rows: Vec<u32>,
    /// Keys of the candidates' conversations (tables that reference one).
    conversation_keys: Option<Vec<u32>>,
    extra_names: Vec<String>,
    extras: Vec<StringChunkedBuilder>,
    pub(super) outcome: Outcome,
    row_errors: Vec<(ErrColumn, String, Reason, bool)>,
    /// The conversation id looked up last, and its key.
    last_conversation: (String, Option<u32>),
}

enum Builder {
    Str(StringChunkedBuilder),
    Ts(Vec<Option<i64>>),
    Bool(Vec<Option<bool>>),
    F64(Vec<Option<f64>>),
}

#[derive(Clone, Copy)]
enum ErrColumn {
    Canonical(usize),
    Extra(usize),
}

impl<'r> Parser<'r> {
    pub fn new(table: Table, rules: Rules<'r>) -> Self {
        let specs = table.columns();
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
        let lane_index = (table == Table::Assignments)
            .then(|| index_of("lane"))
            .flatten();
        let key_index = table.unique_key().and_then(index_of);
        // Unknown lanes are counted when parsed: no row of a table with lanes can then be
        // dropped by the merge.
        debug_assert!(lane_index.is_none() || key_index.is_none());
        Parser {
            table,
            rules,
            specs,
            readers,
            key_index,
            conversation_index: table
                .references_conversation()
                .then(|| index_of("conversation_id"))
                .flatten(),
            lane_index,
        }
    }

    pub fn specs(&self) -> &'static [ColumnSpec] {
        self.specs
    }

    /// The fingerprint [`Self::parse`] gives the unique id in `cell` (the cell of the key
    /// column), or `None` when that cell is not an id.
    pub fn key_fingerprint(&self, cell: &Cell<'_>) -> Option<u128> {
        let i = self.key_index?;
        let cell = match cell {
            Cell::Text(t)
                if !self.rules.input.null_values.is_empty() && self.rules.input.is_null(t) =>
            {
                &Cell::Null
            }
            other => other,
        };
        match parse(&self.specs[i], cell, &self.readers[i]) {
            Ok(Value::Str(id)) => Some(IdMap::fingerprint(&id)),
            _ => None,
        }
    }

    /// An empty chunk with room for `capacity` rows and the extra columns `extra_names`.
    pub fn chunk(&self, capacity: usize, extra_names: &[String]) -> Chunk {
        Chunk {
            builders: self
                .specs
                .iter()
                .map(|spec| match spec.kind {
                    Kind::Timestamp => Builder::Ts(Vec::with_capacity(capacity)),
                    Kind::Bool | Kind::LenientBool => Builder::Bool(Vec::with_capacity(capacity)),
                    Kind::Seconds => Builder::F64(Vec::with_capacity(capacity)),
                    _ => Builder::Str(StringChunkedBuilder::new(spec.name.into(), capacity)),
                })
                .collect(),
            source_rows: Vec::with_capacity(capacity),
            conversation_keys: self
                .table
                .references_conversation()
                .then(|| Vec::with_capacity(capacity)),
            extra_names: extra_names.to_vec(),
            extras: extra_names
                .iter()
                .map(|n| StringChunkedBuilder::new(n.as_str().into(), capacity))
                .collect(),
            outcome: Outcome::default(),
            row_errors: Vec::new(),
            last_conversation: (String::new(), None),
        }
    }

    /// A row the reader could not split into cells (wrong field count, a JSON line that is
    /// not an object, …).
    pub fn reject(&self, chunk: &mut Chunk, row: u64, column: &str, value: &str, reason: Reason) {
        chunk.outcome.rows_read += 1;
        chunk.outcome.rows_failed += 1;
        chunk.outcome.errors.push(RowError {
            row,
            column: column.to_owned(),
            value: value.to_owned(),
            reason,
            after_key: false,
        });
    }

    /// Parses one row into `chunk`. `cells` follows the canonical column order (absent
    /// columns are [`Cell::Null`]); `extras` follows the chunk's extra columns and may be
    /// shorter.
    pub fn parse(&self, chunk: &mut Chunk, row: u64, cells: &[Cell<'_>], extras: &[Cell<'_>]) {
        debug_assert_eq!(cells.len(), self.specs.len());
        chunk.outcome.rows_read += 1;
        chunk.row_errors.clear();
        // Columns whose value a lenient rule read as null, counted once the row is accepted.
        let mut unreadable: u32 = 0;
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
            match parse(spec, cell, &self.readers[i]) {
                Ok(Value::Unreadable) => unreadable |= 1 << i,
                Ok(v) => values[i] = v,
                Err((value, reason)) => {
                    chunk
                        .row_errors
                        .push((ErrColumn::Canonical(i), value, reason, false))
                }
            }
        }
        for (i, extra) in extras.iter().enumerate() {
            if let Cell::Bad { value, reason } = extra {
                chunk
                    .row_errors
                    .push((ErrColumn::Extra(i), value.clone(), *reason, false));
            }
        }
        let values = &values[..self.specs.len()];
        let conversation_key = self.check_row(chunk, values);
        let key = self.key_index.and_then(|i| match &values[i] {
            Value::Str(id) => Some(id),
            _ => None,
        });
        if !chunk.row_errors.is_empty() {
            chunk.outcome.rows_failed += 1;
            if let Some(id) = key {
                chunk.outcome.keyed.push(Keyed {
                    row,
                    fingerprint: IdMap::fingerprint(id),
                    candidate: Keyed::FAILED,
                });
                chunk.outcome.failed_ids.push(id.to_string());
            }
            for (column, value, reason, after_key) in std::mem::take(&mut chunk.row_errors) {
                let column = match column {
                    ErrColumn::Canonical(i) => self.specs[i].name.to_owned(),
                    ErrColumn::Extra(i) => chunk.extra_names[i].clone(),
                };
                chunk.outcome.errors.push(RowError {
                    row,
                    column,
                    value,
                    reason,
                    after_key,
                });
            }
            return;
        }
        if let Some(id) = key {
            chunk.outcome.keyed.push(Keyed {
                row,
                fingerprint: IdMap::fingerprint(id),
                candidate: chunk.source_rows.len() as u32,
            });
        }
        chunk.append(row, values, extras, conversation_key);
        while unreadable != 0 {
            let i = unreadable.trailing_zeros() as usize;
            unreadable &= unreadable - 1;
            *chunk
                .outcome
                .unreadable
                .entry(self.specs[i].name)
                .or_default() += 1;
        }
        if let Some(Value::Str(lane)) = self.lane_index.map(|i| &values[i])
            && !self.rules.known_lanes.contains(lane.as_ref())
        {
            *chunk
                .outcome
                .unknown_lanes
                .entry(lane.to_string())
                .or_default() += 1;
        }
    }

    /// The checks that read more than one cell, and the foreign key; returns the key of the
    /// conversation the row belongs to, when it references one.
    fn check_row(&self, chunk: &mut Chunk, values: &[Value<'_>]) -> Option<u32> {
        let mut conversation_key = None;
        if let (Some(known), Some(i)) = (self.rules.conversations, self.conversation_index)
            && let Value::Str(id) = &values[i]
        {
            // Rows of one conversation usually come together: look each id up once.
            let (last_id, last_key) = &mut chunk.last_conversation;
            if last_id != id {
                last_id.clear();
                last_id.push_str(id);
                *last_key = known.get_after(id, *last_key);
            }
            conversation_key = *last_key;
            if conversation_key.is_none() {
                chunk.row_errors.push((
                    ErrColumn::Canonical(i),
                    id.to_string(),
                    Reason::UnknownConversation,
                    true,
                ));
            }
        }
        if self.table == Table::Conversations
            && let (Value::Ts(opened), Value::Ts(closed)) = (&values[5], &values[6])
            && closed < opened
        {
            chunk.row_errors.push((
                ErrColumn::Canonical(6),
                format_rfc3339(*closed),
                Reason::ClosedBeforeOpened,
                true,
            ));
        }
        // The checks across columns read values that passed their column rules.
        let passed = chunk
            .row_errors
            .iter()
            .all(|e| e.2 == Reason::UnknownConversation);
        if self.table == Table::Calls
            && passed
            && let Some(problem) = call_problem(values)
        {
            chunk.row_errors.push(problem);
        }
        if self.table == Table::CustomerAliases
            && passed
            && let (Value::Str(alias), Value::Str(customer)) = (&values[0], &values[1])
            && alias == customer
        {
            chunk.row_errors.push((
                ErrColumn::Canonical(1),
                customer.to_string(),
                Reason::SelfAlias,
                true,
            ));
        }
        conversation_key
    }
}

/// The first of a call's checks across columns that fails (whatsapp-2026.md A.1): answered
/// before placed, ended before placed or answered, unanswered with an answer time.
fn call_problem(values: &[Value<'_>]) -> Option<(ErrColumn, String, Reason, bool)> {
    let ts = |i: usize| match values[i] {
        Value::Ts(t) => Some(t),
        _ => None,
    };
    let (placed, answered, ended) = (ts(3), ts(5), ts(6));
    if let (Some(p), Some(a)) = (placed, answered)
        && a < p
    {
        return Some((
            ErrColumn::Canonical(5),
            format_rfc3339(a),
            Reason::AnsweredBeforePlaced,
            true,
        ));
    }
    if let Some(e) = ended
        && (placed.is_some_and(|p| e < p) || answered.is_some_and(|a| e < a))
    {
        return Some((
            ErrColumn::Canonical(6),
            format_rfc3339(e),
            Reason::EndedBeforeAnswered,
            true,
        ));
    }
    if let Value::Str(status) = &values[4]
        && matches!(status.as_ref(), "missed" | "rejected" | "failed")
        && answered.is_some()
    {
        return Some((
            ErrColumn::Canonical(4),
            status.to_string(),
            Reason::StatusConflict,
            true,
        ));
    }
    None
}

impl Chunk {
    /// The position of an extra column, registering it on first sight; candidates parsed
    /// before it appeared get nulls.
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

    pub fn extra_names(&self) -> &[String] {
        &self.extra_names
    }

    /// Candidates so far.
    pub fn candidates(&self) -> usize {
        self.source_rows.len()
    }

    fn append(
        &mut self,
        row: u64,
        values: &[Value<'_>],
        extras: &[Cell<'_>],
        conversation_key: Option<u32>,
    ) {
        for (builder, value) in self.builders.iter_mut().zip(values) {
            match (builder, value) {
                (Builder::Str(b), Value::Str(s)) => b.append_value(s.as_ref()),
                (Builder::Str(b), _) => b.append_null(),
                (Builder::Ts(b), Value::Ts(t)) => b.push(Some(*t)),
                (Builder::Ts(b), _) => b.push(None),
                (Builder::Bool(b), Value::Bool(v)) => b.push(Some(*v)),
                (Builder::Bool(b), _) => b.push(None),
                (Builder::F64(b), Value::Float(v)) => b.push(Some(*v)),
                (Builder::F64(b), _) => b.push(None),
            }
        }
        self.source_rows
            .push(u32::try_from(row).unwrap_or(u32::MAX));
        if let Some(keys) = &mut self.conversation_keys {
            keys.push(conversation_key.unwrap_or(u32::MAX));
        }
        for (i, builder) in self.extras.iter_mut().enumerate() {
            match extras.get(i) {
                None | Some(Cell::Null) => builder.append_null(),
                Some(Cell::Text(t)) if t.trim().is_empty() => builder.append_null(),
                Some(Cell::Text(t)) => builder.append_value(t),
                Some(other) => builder.append_value(display(other)),
            }
        }
    }

    /// The candidates as a frame: canonical columns, `source_row`, the conversation key
    /// (tables that reference a conversation), extras.
    pub fn into_parsed(self, specs: &[ColumnSpec]) -> PolarsResult<Parsed> {
        let mut columns: Vec<Column> = Vec::with_capacity(self.builders.len() + 2);
        for (spec, builder) in specs.iter().zip(self.builders) {
            columns.push(match builder {
                Builder::Str(b) => b.finish().into_column(),
                Builder::Ts(v) => Int64Chunked::from_iter_options(spec.name.into(), v.into_iter())
                    .into_column()
                    .cast(&timestamp_dtype())?,
                Builder::Bool(v) => {
                    BooleanChunked::from_iter_options(spec.name.into(), v.into_iter()).into_column()
                }
                Builder::F64(v) => {
                    Float64Chunked::from_iter_options(spec.name.into(), v.into_iter()).into_column()
                }
            });
        }
        columns.push(UInt32Chunked::from_vec(SOURCE_ROW.into(), self.source_rows).into_column());
        if let Some(keys) = self.conversation_keys {
            columns.push(UInt32Chunked::from_vec(CONVERSATION_KEY.into(), keys).into_column());
        }
        for builder in self.extras {
            columns.push(builder.finish().into_column());
        }
        Ok(Parsed {
            frame: DataFrame::new_infer_height(columns)?,
            outcome: self.outcome,
        })
    }
}

/// A finished [`Chunk`], ready for the merge.
pub struct Parsed {
    pub(super) frame: DataFrame,
    pub(super) outcome: Outcome,
}

/// What the merge needs of a chunk besides its candidates' columns.
#[derive(Default)]
pub(super) struct Outcome {
    /// The problems of the rows, in row order.
    pub errors: Vec<RowError>,
    pub keyed: Vec<Keyed>,
    /// The ids of the keyed rows that failed, in row order.
    pub failed_ids: Vec<String>,
    /// Unknown lanes of the candidates, with their counts.
    pub unknown_lanes: BTreeMap<String, u64>,
    /// Values of lenient columns read as null, by column, among the candidates.
    pub unreadable: BTreeMap<&'static str, u64>,
    pub rows_read: u64,
    /// Rows that failed a row-local check.
    pub rows_failed: u64,
}
