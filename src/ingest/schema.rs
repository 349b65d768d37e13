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
    Calls,
    CustomerAliases,
}

impl Table {
    pub const ALL: [Table; 8] = [
        Table::Conversations,
        Table::Messages,
        Table::Assignments,
        Table::Handoffs,
        Table::Templates,
        Table::SendFailures,
        Table::Calls,
        Table::CustomerAliases,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Table::Conversations => "conversations",
            Table::Messages => "messages",
            Table::Assignments => "assignments",
            Table::Handoffs => "handoffs",
            Table::Templates => "templates",
            Table::SendFailures => "send_failures",
            Table::Calls => "calls",
            Table::CustomerAliases => "customer_aliases",
        }
    }

    /// The handoff briefs, the template status history, the send failures, the calls and the
    /// customer aliases may be absent from a data directory: the metrics that need them then
    /// have no rows, and say why.
    pub fn required(self) -> bool {
        matches!(
            self,
            Table::Conversations | Table::Messages | Table::Assignments
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
        if self == Table::Conversations {
            columns.push(Column::new_empty(
                SOURCE_CUSTOMER_ID.into(),
                &DataType::String,
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
            Table::Calls => CALLS,
            Table::CustomerAliases => CUSTOMER_ALIASES,
        }
    }

    /// The columns every writer of the table fills (the sample, the importers): all but the
    /// optional identity columns of conversations and the pricing columns of messages, which a
    /// writer adds by name when it has them.
    pub fn core_columns(self) -> &'static [ColumnSpec] {
        let all = self.columns();
        let optional = match self {
            Table::Conversations => 2,
            Table::Messages => 4,
            _ => 0,
        };
        &all[..all.len() - optional]
    }

    /// The column whose values must be unique within the table, if any.
    pub fn unique_key(self) -> Option<&'static str> {
        match self {
            Table::Conversations => Some("conversation_id"),
            Table::Messages => Some("message_id"),
            Table::Calls => Some("call_id"),
            _ => None,
        }
    }

    /// Whether rows must point at an accepted conversation.
    pub fn references_conversation(self) -> bool {
        matches!(
            self,
            Table::Messages
                | Table::Assignments
                | Table::Handoffs
                | Table::SendFailures
                | Table::Calls
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
    /// A non-negative number of seconds (`duration_s`), stored as Float64; anything else
    /// quarantines the row as `bad_number`.
    Seconds,
    /// A closed set with accepted spellings: `(spelling, stored value)`, matched
    /// case-insensitively after trimming; anything else is `unknown_value`.
    Spelled(&'static [(&'static str, &'static str)]),
    /// Like `Bool`, but a value that is not a boolean is read as null and counted, never
    /// quarantined (the pricing `billable`: it only feeds cost).
    LenientBool,
    /// Like `Enum`, but an unknown value is read as null and counted (`customer_id_kind`).
    LenientEnum(&'static [&'static str]),
    /// ASCII digits (a calling code); anything else is read as null and counted (`market`).
    Digits,
}

impl Kind {
    /// Whether a value this kind cannot read is kept as null (and counted) instead of
    /// quarantining its row.
    pub fn lenient(self) -> bool {
        matches!(
            self,
            Kind::LenientBool | Kind::LenientEnum(_) | Kind::Digits
        )
    }
}

impl Kind {
    pub fn dtype(self) -> DataType {
        match self {
            Kind::Timestamp => timestamp_dtype(),
            Kind::Bool | Kind::LenientBool => DataType::Boolean,
            Kind::Count => DataType::Int64,
            Kind::Seconds => DataType::Float64,
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
    // What the export says of the customer id (whatsapp-2026.md B.4): kept readable when ids
    // are hashed, so that the kind and calling code survive the hashing.
    col(
        "customer_id_kind",
        Kind::LenientEnum(CUSTOMER_ID_KINDS),
        false,
    ),
    col("market", Kind::Digits, false),
];

/// The kinds of customer id: a phone number (`wa_id`), a business-scoped user id, anything else.
pub const CUSTOMER_ID_KINDS: &[&str] = &["phone", "bsuid", "other"];

/// The column ingest adds to conversations: the customer id as the export gave it, before the
/// aliases resolved it (whatsapp-2026.md B.2).
pub const SOURCE_CUSTOMER_ID: &str = "source_customer_id";

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
    // Meta's pricing of an outbound message (whatsapp-2026.md C.1): only cost reads them.
    col("billable", Kind::LenientBool, false),
    col("pricing_category", Kind::Lowercase { default: None }, false),
    col("pricing_type", Kind::Text, false),
    col("pricing_model", Kind::Text, false),
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

/// Calls inside the messaging thread (whatsapp-2026.md A.1).
const CALLS: &[ColumnSpec] = &[
    col("call_id", Kind::Text, true),
    col("conversation_id", Kind::Text, true),
    col("direction", Kind::Spelled(CALL_DIRECTIONS), true),
    col("placed_at", Kind::Timestamp, true),
    col(
        "status",
        Kind::Enum {
            values: CALL_STATUSES,
            default: None,
        },
        false,
    ),
    col("answered_at", Kind::Timestamp, false),
    col("ended_at", Kind::Timestamp, false),
    col("duration_s", Kind::Seconds, false),
    col("agent_id", Kind::Text, false),
    col("error_code", Kind::Text, false),
];

/// The accepted spellings of a call's direction and the value each is stored as.
pub const CALL_DIRECTIONS: &[(&str, &str)] = &[
    ("user_initiated", USER_INITIATED),
    ("user", USER_INITIATED),
    ("inbound", USER_INITIATED),
    ("business_initiated", BUSINESS_INITIATED),
    ("business", BUSINESS_INITIATED),
    ("outbound", BUSINESS_INITIATED),
];
pub const USER_INITIATED: &str = "user_initiated";
pub const BUSINESS_INITIATED: &str = "business_initiated";

/// The outcomes of a call.
pub const CALL_STATUSES: &[&str] = &["answered", "missed", "rejected", "failed"];

/// Ids under which a customer appears, and the id each stands for (whatsapp-2026.md B.1).
const CUSTOMER_ALIASES: &[ColumnSpec] = &[
    col("alias", Kind::Text, true),
    col("customer_id", Kind::Text, true),
    col("valid_from", Kind::Timestamp, false),
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
