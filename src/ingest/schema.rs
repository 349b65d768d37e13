//! The canonical schema of the input data contract: tables, their columns, and the rule each
//! column obeys. Readers and the validator are driven by these tables alone, so adding a
//! column here is the whole change needed to accept it.

use polars::prelude::{DataType, TimeUnit, TimeZone};

/// The name of the column that keeps each accepted row's 1-based position in its source file.
/// The spec breaks timestamp ties by input order, and this column is that order.
pub const SOURCE_ROW: &str = "source_row";

/// The name of the integer key l2lens gives each accepted conversation (its 0-based position
/// in the accepted conversations), carried by every row that belongs to a conversation: a
/// cheap join key for l2lens and for analysts.
pub const CONVERSATION_KEY: &str = "conversation_key";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Conversations,
    Messages,
    Assignments,
    Handoffs,
    Templates,
    SendFailures,
}

impl Table {
    pub const ALL: [Table; 6] = [
        Table::Conversations,
        Table::Messages,
        Table::Assignments,
        Table::Handoffs,
        Table::Templates,
        Table::SendFailures,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Table::Conversations => "conversations",
            Table::Messages => "messages",
            Table::Assignments => "assignments",
            Table::Handoffs => "handoffs",
            Table::Templates => "templates",
            Table::SendFailures => "send_failures",
        }
    }

    /// The handoff briefs, the template status history and the send failures may be absent
    /// from a data directory: the metrics that need them then have no rows, and say why.
    pub fn required(self) -> bool {
        !matches!(
            self,
            Table::Handoffs | Table::Templates | Table::SendFailures
        )
    }

    /// No rows, with the columns and types `l2lens ingest` gives this table.
    pub fn empty_frame(self) -> polars::prelude::DataFrame {
        use polars::prelude::{Column, DataFrame};
        let mut columns: Vec<Column> = self
            .columns()
            .iter()
            .map(|c| Column::new_empty(c.name.into(), &c.kind.dtype()))
            .collect();
        columns.push(Column::new_empty(SOURCE_ROW.into(), &DataType::UInt32));
        if self == Table::Conversations || self.references_conversation() {
            columns.push(Column::new_empty(
                CONVERSATION_KEY.into(),
                &DataType::UInt32,
            ));
        }
        DataFrame::new(0, columns).expect("distinct column names")
    }

    pub fn columns(self) -> &'static [ColumnSpec] {
        match self {
            Table::Conversations => CONVERSATIONS,
            Table::Messages => MESSAGES,
            Table::Assignments => ASSIGNMENTS,
            Table::Handoffs => HANDOFFS,
            Table::Templates => TEMPLATES,
            Table::SendFailures => SEND_FAILURES,
        }
    }

    /// The column whose values must be unique within the table, if any.
    pub fn unique_key(self) -> Option<&'static str> {
        match self {
            Table::Conversations => Some("conversation_id"),
            Table::Messages => Some("message_id"),
            _ => None,
        }
    }

    /// Whether rows must point at an accepted conversation.
    pub fn references_conversation(self) -> bool {
        matches!(
            self,
            Table::Messages | Table::Assignments | Table::Handoffs | Table::SendFailures
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Free text, trimmed; blank is null.
    Text,
    /// Text stored lowercase (channel, lane); `default` replaces a null.
    Lowercase { default: Option<&'static str> },
    /// A closed set matched case-insensitively and stored lowercase.
    Enum {
        values: &'static [&'static str],
        default: Option<&'static str>,
    },
    /// An instant, stored as UTC milliseconds.
    Timestamp,
    /// true/false, 1/0, yes/no, t/f; null is false.
    Bool,
    /// A non-negative integer (`text_chars`); anything else quarantines the row.
    Count,
}

impl Kind {
    pub fn dtype(self) -> DataType {
        match self {
            Kind::Timestamp => timestamp_dtype(),
            Kind::Bool => DataType::Boolean,
            Kind::Count => DataType::Int64,
            _ => DataType::String,
        }
    }
}

pub fn timestamp_dtype() -> DataType {
    DataType::Datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnSpec {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
}

const fn col(name: &'static str, kind: Kind, required: bool) -> ColumnSpec {
    ColumnSpec {
        name,
        kind,
        required,
    }
}

pub const SENDERS: &[&str] = &["customer", "bot", "agent", "system"];
pub const MESSAGE_KINDS: &[&str] = &["text", "media", "template", "interactive", "internal_note"];
pub const REASONS: &[&str] = &[
    "initial",
    "escalation",
    "wrong_queue",
    "transfer",
    "claim",
    "reassign",
];
pub use crate::config::governance::TEMPLATE_STATUSES;

const CONVERSATIONS: &[ColumnSpec] = &[
    col("conversation_id", Kind::Text, true),
    col("customer_id", Kind::Text, true),
    col(
        "channel",
        Kind::Lowercase {
            default: Some("whatsapp"),
        },
        false,
    ),
    col("segment", Kind::Text, false),
    col("intent", Kind::Text, false),
    col("opened_at", Kind::Timestamp, true),
    col("closed_at", Kind::Timestamp, false),
];

const MESSAGES: &[ColumnSpec] = &[
    col("message_id", Kind::Text, true),
    col("conversation_id", Kind::Text, true),
    col("sent_at", Kind::Timestamp, true),
    col(
        "sender",
        Kind::Enum {
            values: SENDERS,
            default: None,
        },
        true,
    ),
    col(
        "kind",
        Kind::Enum {
            values: MESSAGE_KINDS,
            default: Some("text"),
        },
        false,
    ),
    col("is_fallback", Kind::Bool, false),
    col("intent", Kind::Text, false),
    col("template_name", Kind::Text, false),
    // What the sender wrote: scanned while read, then kept only as `[text] store` allows
    // (text.md); `text_chars` is its length, given by an importer or counted here.
    col("text", Kind::Text, false),
    col("text_chars", Kind::Count, false),
];

/// The columns of each table that hold free text: scanned for findings, never copied to the
/// quarantine, and stored only as `[text] store` allows.
pub fn text_columns(table: Table) -> &'static [&'static str] {
    match table {
        Table::Messages => &["text"],
        Table::Handoffs => HANDOFF_FIELDS,
        _ => &[],
    }
}

/// The five free-text fields of a handoff brief, in schema order.
pub const HANDOFF_FIELDS: &[&str] = &[
    "intent",
    "key_details",
    "attempted_steps",
    "current_status",
    "next_action",
];

const ASSIGNMENTS: &[ColumnSpec] = &[
    col("conversation_id", Kind::Text, true),
    col("assigned_at", Kind::Timestamp, true),
    col("lane", Kind::Lowercase { default: None }, true),
    col("assignee_id", Kind::Text, false),
    col(
        "reason",
        Kind::Enum {
            values: REASONS,
            default: None,
        },
        false,
    ),
];

const HANDOFFS: &[ColumnSpec] = &[
    col("conversation_id", Kind::Text, true),
    col("handoff_at", Kind::Timestamp, true),
    col("intent", Kind::Text, false),
    col("key_details", Kind::Text, false),
    col("attempted_steps", Kind::Text, false),
    col("current_status", Kind::Text, false),
    col("next_action", Kind::Text, false),
];

const TEMPLATES: &[ColumnSpec] = &[
    col("template_name", Kind::Text, true),
    col(
        "status",
        Kind::Enum {
            values: TEMPLATE_STATUSES,
            default: None,
        },
        true,
    ),
    col("changed_at", Kind::Timestamp, true),
];

/// Failed outbound sends (importers.md): a failed send never reached the customer.
const SEND_FAILURES: &[ColumnSpec] = &[
    col("message_id", Kind::Text, true),
    col("conversation_id", Kind::Text, true),
    col("failed_at", Kind::Timestamp, true),
    col("error_code", Kind::Text, false),
    col("error_title", Kind::Text, false),
    col("template_name", Kind::Text, false),
    col(
        "sender",
        Kind::Enum {
            values: FAILURE_SENDERS,
            default: None,
        },
        false,
    ),
];

/// Who tried a failed send.
pub const FAILURE_SENDERS: &[&str] = &["bot", "agent"];

/// The file extensions l2lens reads, in the order they are looked for.
pub const EXTENSIONS: &[&str] = &[".csv", ".csv.gz", ".jsonl", ".ndjson", ".parquet"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv { gzip: bool },
    Jsonl,
    Parquet,
}

impl Format {
    pub fn from_path(path: &std::path::Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        if name.ends_with(".csv.gz") {
            Some(Format::Csv { gzip: true })
        } else if name.ends_with(".csv") {
            Some(Format::Csv { gzip: false })
        } else if name.ends_with(".jsonl") || name.ends_with(".ndjson") {
            Some(Format::Jsonl)
        } else if name.ends_with(".parquet") {
            Some(Format::Parquet)
        } else {
            None
        }
    }
}
