//! The shape of the facts table: its columns in order, which hold instants, and its public
//! form (instants as UTC timestamps, internal columns dropped).

use polars::prelude::*;

use super::{governance, sla};
use crate::ingest::schema::timestamp_dtype;

/// The conversation columns the facts table carries, in output order.
pub const CONVERSATION_COLUMNS: &[&str] = &[
    "conversation_id",
    "customer_id",
    "channel",
    "segment",
    "intent",
    "opened_at",
    "closed_at",
];

/// Columns holding instants (Int64 ms inside, timestamps in the public table).
pub const INSTANT_COLUMNS: &[&str] = &[
    "opened_at",
    "closed_at",
    "first_customer_at",
    "first_reply_at",
    "first_bot_at",
    "escalated_at",
    "specialist_at",
    "last_customer_at",
    "handoff_due_at",
    "first_human_at",
    "first_agent_reply_at",
    "bot_outcome_at",
    "human_at",
];

/// The columns of the facts table in order, with the internal `key` first.
pub(super) fn fact_columns() -> Vec<Expr> {
    let mut columns: Vec<Expr> = vec![col("key")];
    columns.extend(CONVERSATION_COLUMNS.iter().map(|c| col(*c)));
    columns.extend(
        [
            "first_customer_at",
            "first_reply_at",
            "first_bot_at",
            "bot_handled",
            "escalated_at",
            "specialist_at",
            "lane",
            "owner_changes",
            "misrouted",
            "trap_signals",
            "trapped",
            "context_complete",
            "context_score",
            "repeat_48h",
            "reached_human",
            "last_customer_at",
            "owner",
            "handoff_due_at",
            "missed_handoff",
        ]
        .map(col),
    );
    columns
}

/// The public form of the facts table: instants as UTC timestamps, no internal key, no market
/// digits and no internal board state.
pub fn public(frame: LazyFrame) -> LazyFrame {
    // `market` holds a phone's digits when the id was recognised as one: internal, like the
    // key (the customer's kind is public).
    let internal: Vec<PlSmallStr> = [
        "key",
        "market",
        "last_question_at",
        "repeat_at",
        "first_agent_at",
    ]
    .into_iter()
    .chain(governance::NOW_COLUMNS.iter().copied())
    .map(PlSmallStr::from)
    .collect();
    frame
        .with_columns(
            INSTANT_COLUMNS
                .iter()
                .map(|c| col(*c).cast(timestamp_dtype()))
                // The text facts' instant, when the data has text; the SLA instants, states and
                // clocks with [sla].
                .chain([
                    col("^exposure_at$").cast(timestamp_dtype()),
                    col("^sla_.*_(due_at|settled_at)$").cast(timestamp_dtype()),
                    col("^sla_.*_(state|clock)$").cast(DataType::String),
                ])
                .collect::<Vec<_>>(),
        )
        .drop(Selector::ByName {
            names: internal.into(),
            strict: true,
        })
        // The board's SLA state, with [sla].
        .drop(Selector::ByName {
            names: [sla::PENDING_DUE, sla::BREACH_MASK]
                .map(PlSmallStr::from)
                .into(),
            strict: false,
        })
}
