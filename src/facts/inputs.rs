//! The event tables every per-conversation pass reads, collected once, filtered to `as_of` and
//! sorted by conversation: messages as a narrow array of structs (flags instead of strings),
//! assignments and handoffs as small frames.

use anyhow::Result;
use polars::prelude::*;
use rayon::slice::ParallelSliceMut;

use super::{ms, walk};
use crate::config::Config;
use crate::dataset::Dataset;
use crate::ingest::schema::{CONVERSATION_KEY, SOURCE_ROW, Table};

/// Message flags ([`Message::flags`]).
pub(super) const CUSTOMER: u8 = 1;
pub(super) const BOT: u8 = 1 << 1;
/// A bot or agent message the customer sees (not an internal note): a reply.
pub(super) const REPLY: u8 = 1 << 2;
/// An agent message the customer sees.
pub(super) const AGENT: u8 = 1 << 3;
pub(super) const FALLBACK: u8 = 1 << 4;
/// A message whose intent is one of `[governance] human_request_intents`.
pub(super) const ASKS_PERSON: u8 = 1 << 5;

/// The intent code of a message without an intent.
pub(super) const NO_INTENT: u32 = u32::MAX;

/// One message, reduced to what the rules read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Message {
    pub key: u32,
    pub flags: u8,
    /// The intent as an integer code (equal codes, equal intents), or [`NO_INTENT`].
    pub intent: u32,
    pub at: i64,
    pub source_row: u32,
}

impl Message {
    pub fn is(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// The sort order of the facts: conversation, time, customer messages first among equal
    /// instants, then input order. In it "a customer message came before" means "at or after
    /// `first_customer_at`", and customer messages follow each other by time and input order
    /// (the spec's tie rule).
    fn order(&self) -> (u32, i64, bool, u32) {
        (self.key, self.at, !self.is(CUSTOMER), self.source_row)
    }
}

/// The sorted inputs of the per-conversation passes.
pub(super) struct Inputs {
    /// Every message at or before `as_of`, in [`Message::order`].
    pub messages: Vec<Message>,
    /// [`walk::assignments`].
    pub assignments: DataFrame,
    /// The handoffs at or before `as_of` by conversation, time and input order: `conversation_key`,
    /// `handoff_at` (Int64 ms), whether each of the five fields is present (`p_intent`,
    /// `p_details`, `p_steps`, `p_status`, `p_next`), and `next_action` when present.
    pub handoffs: DataFrame,
}

impl Inputs {
    pub fn collect(data: &Dataset, config: &Config, as_of: i64) -> Result<Inputs> {
        let messages = messages(data, config, as_of)?;
        let assignments = walk::assignments(data, as_of)?;
        Ok(Inputs {
            messages,
            assignments,
            handoffs: handoffs(data, as_of)?,
        })
    }
}

fn messages(data: &Dataset, config: &Config, as_of: i64) -> Result<Vec<Message>> {
    let sender = col("sender");
    let flag = |cond: Expr, bit: u8| {
        when(cond.fill_null(lit(false)))
            .then(lit(u32::from(bit)))
            .otherwise(lit(0u32))
    };
    // The schema fills a missing kind with `text`: a null kind is a visible message.
    let visible = col("kind").neq(lit("internal_note")).fill_null(lit(true));
    let asks_for_person = config
        .governance
        .human_request_intents
        .iter()
        .fold(lit(false), |any, intent| {
            any.or(col("intent").eq(lit(intent.clone())).fill_null(lit(false)))
        });
    let frame = data
        .table(Table::Messages)?
        .filter(ms("sent_at").lt_eq(lit(as_of)))
        .select([
            col(CONVERSATION_KEY).fill_null(lit(u32::MAX)).alias("key"),
            ms("sent_at").alias("at"),
            col(SOURCE_ROW).fill_null(lit(0u32)),
            // Distinct bits: their sum is their union.
            (flag(sender.clone().eq(lit("customer")), CUSTOMER)
                + flag(sender.clone().eq(lit("bot")), BOT)
                + flag(
                    sender
                        .clone()
                        .eq(lit("bot"))
                        .or(sender.clone().eq(lit("agent")))
                        .and(visible.clone()),
                    REPLY,
                )
                + flag(sender.eq(lit("agent")).and(visible), AGENT)
                + flag(col("is_fallback"), FALLBACK)
                + flag(asks_for_person, ASKS_PERSON))
            .cast(DataType::UInt32)
            .alias("flags"),
            // A categorical's physical value: equal intents, equal codes.
            col("intent")
                .cast(DataType::from_categories(Categories::global()))
                .to_physical()
                .cast(DataType::UInt32)
                .fill_null(lit(NO_INTENT))
                .alias("intent"),
        ])
        .collect()?;
    let key = frame.column("key")?.u32()?;
    let at = frame.column("at")?.i64()?;
    let source_row = frame.column(SOURCE_ROW)?.u32()?;
    let flags = frame.column("flags")?.u32()?;
    let intent = frame.column("intent")?.u32()?;
    let mut out: Vec<Message> = Vec::with_capacity(frame.height());
    for ((((key, at), source_row), flags), intent) in key
        .into_no_null_iter()
        .zip(at.iter())
        .zip(source_row.into_no_null_iter())
        .zip(flags.into_no_null_iter())
        .zip(intent.into_no_null_iter())
    {
        out.push(Message {
            key,
            // Six bits.
            flags: flags as u8,
            intent,
            // The filter on `sent_at` dropped null instants.
            at: at.unwrap_or(i64::MIN),
            source_row,
        });
    }
    drop(frame);
    // Exports usually come in conversation or time order: check before sorting.
    if !out.is_sorted_by_key(Message::order) {
        out.par_sort_unstable_by_key(Message::order);
    }
    Ok(out)
}

fn handoffs(data: &Dataset, as_of: i64) -> Result<DataFrame> {
    let present = |name: &str| {
        col(name)
            .str()
            .strip_chars(lit(NULL))
            .str()
            .len_chars()
            .gt(lit(0))
            .fill_null(lit(false))
    };
    Ok(
        walk::by_conversation(data.table(Table::Handoffs)?, "handoff_at", as_of)
            .select([
                col(CONVERSATION_KEY),
                col("handoff_at").cast(DataType::Int64),
                present("intent").alias("p_intent"),
                present("key_details").alias("p_details"),
                present("attempted_steps").alias("p_steps"),
                present("current_status").alias("p_status"),
                present("next_action").alias("p_next"),
                when(present("next_action"))
                    .then(col("next_action"))
                    .otherwise(lit(NULL).cast(DataType::String))
                    .alias("next_action"),
            ])
            .collect()?,
    )
}
