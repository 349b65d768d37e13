//! The per-conversation facts table: the single place where the rules of the metric spec
//! become data. Every metric, report and query reads this table and nothing else.
//!
//! One polars lazy plan yields one row per conversation opened at or before `as_of`, with the
//! conversation's own columns and these facts (spec: "Per-conversation facts"):
//!
//! | column | rule |
//! |---|---|
//! | `first_customer_at` | earliest customer message |
//! | `first_reply_at` | earliest bot/agent message that is not an internal note, at or after `first_customer_at` |
//! | `first_bot_at`, `bot_handled` | earliest bot message; whether there is one |
//! | `escalated_at` | earliest assignment into a human lane (L1–L3) at or after `first_bot_at` |
//! | `specialist_at` | earliest assignment into a specialist lane (L2–L3) |
//! | `lane` | lane of the latest assignment (ties: the later row); else `automation` if bot-handled, else `unassigned` |
//! | `owner_changes` | non-null assignees in order, consecutive repeats collapsed, minus one |
//! | `misrouted` | any `wrong_queue`, or a null-reason move between two different specialist lanes of one tier |
//! | `trap_signals`, `trapped` | bot fallbacks and repeated customer intents before escalation; trapped above the trap limit |
//! | `context_complete`, `context_score` | the latest brief written by `specialist_at + 60 s`: intent, attempted steps and status present; share of the five fields present |
//! | `repeat_48h` | (closed, with 48 h of hindsight before `as_of`) the customer wrote again within 48 h, in this or a new conversation with the same intent |
//! | `reached_human` | at least one assignment into a human lane (the misroute cohort) |
//! | `last_customer_at`, `owner` | the customer's latest message; the latest non-null assignee (for drill-downs) |
//!
//! Events after `as_of` are ignored and a `closed_at` after it counts as open; assignments
//! after a conversation's `closed_at` are ignored. A customer message before `opened_at` is
//! kept (the customer was waiting from then). Ties in time
//! are broken by input order (`source_row`). Internally every instant is Int64 milliseconds
//! (UTC); the public table has UTC timestamps.

use anyhow::{Context, Result};
use polars::prelude::*;

use crate::config::Config;
use crate::dataset::Dataset;
use crate::ingest::schema::{CONVERSATION_KEY, SOURCE_ROW, Table};

pub mod business;
mod columns;
pub mod governance;
mod repeat;
mod rules;
pub mod sends;
pub mod snapshots;
mod walk;

use columns::fact_columns;
pub use columns::{CONVERSATION_COLUMNS, INSTANT_COLUMNS, public};
pub use rules::{
    art_seconds, frt_seconds, hours_silent, lane_or_fallback, seconds_between, silence_ms,
    tts_seconds,
};
use rules::{is_human_tier, is_specialist_tier, lane_tiers};

const MS_60S: i64 = 60_000;

/// The facts of every conversation, and the `as_of` instant they were computed at.
pub struct Facts {
    /// One row per conversation; instants as Int64 UTC milliseconds. The columns of
    /// [`governance::NOW_COLUMNS`] are the state at `as_of` the board reads; they are not public.
    pub frame: DataFrame,
    pub as_of: i64,
    /// The specialist entries (`key`, `entry_at`, `entry_lane`, `brief`) of the governance
    /// checks: one row per stay in a specialist lane.
    pub entries: DataFrame,
}

/// The latest instant anywhere in the conversation tables: the default `as_of`.
pub fn latest_instant(data: &Dataset) -> Result<Option<i64>> {
    let columns = [
        (Table::Conversations, "opened_at"),
        (Table::Conversations, "closed_at"),
        (Table::Messages, "sent_at"),
        (Table::Assignments, "assigned_at"),
        (Table::Handoffs, "handoff_at"),
    ];
    let mut latest: Option<i64> = None;
    for (table, column) in columns {
        let frame = data
            .table(table)?
            .select([ms(column).max().alias("m")])
            .collect()?;
        if let Some(v) = frame.column("m")?.i64()?.get(0) {
            latest = Some(latest.map_or(v, |l| l.max(v)));
        }
    }
    Ok(latest)
}

/// An instant column as Int64 milliseconds.
pub fn ms(name: &str) -> Expr {
    col(name).cast(DataType::Int64)
}

fn left(frame: LazyFrame, other: LazyFrame, key: &str) -> LazyFrame {
    frame.join(other, [col(key)], [col(key)], JoinArgs::new(JoinType::Left))
}

fn inner(frame: LazyFrame, other: LazyFrame, key: &str) -> LazyFrame {
    frame.join(
        other,
        [col(key)],
        [col(key)],
        JoinArgs::new(JoinType::Inner),
    )
}

fn sorted(frame: LazyFrame, by: &[&str]) -> LazyFrame {
    frame.sort(
        by.iter().map(|s| PlSmallStr::from(*s)).collect::<Vec<_>>(),
        SortMultipleOptions::default().with_maintain_order(true),
    )
}

/// Whether this row continues the conversation of the row before it (for sort-based windows:
/// faster than `.over()` on many small groups).
fn same_key_as_previous() -> Expr {
    col("key")
        .eq(col("key").shift(lit(1)))
        .fill_null(lit(false))
}

/// Builds and collects the facts table.
pub fn compute(data: &Dataset, config: &Config, as_of: Option<i64>) -> Result<Facts> {
    let as_of = match as_of {
        Some(t) => t,
        None => latest_instant(data)?
            .context("the data has no timestamps at all, so there is no as_of; pass --as-of")?,
    };
    let frame = plan(data, config, as_of)?
        .collect_with_engine(Engine::Streaming)
        .map(|r| r.unwrap_single())
        .map_err(anyhow::Error::from)
        .context("computing the facts table")?;
    // The per-conversation passes walk the same sorted assignments: collected once.
    let assignments = walk::assignments(data, as_of)?;
    let governance = governance::compute(data, config, &frame, &assignments, as_of)
        .context("computing the governance facts")?;
    // The governance columns are in the facts' row order: stacked beside them, not joined.
    let mut frame = frame;
    frame
        .hstack_mut(&governance.columns)
        .map_err(anyhow::Error::from)
        .context("adding the governance facts")?;
    if let Some(columns) = business::compute(config, &frame, &assignments, as_of)
        .context("computing the business-time facts")?
    {
        frame
            .hstack_mut(&columns)
            .map_err(anyhow::Error::from)
            .context("adding the business-time facts")?;
    }
    Ok(Facts {
        frame,
        as_of,
        entries: governance.entries,
    })
}

/// The lazy plan of the facts table (instants as Int64 ms, plus the internal `key`).
pub fn plan(data: &Dataset, config: &Config, as_of: i64) -> Result<LazyFrame> {
    let as_of_lit = lit(as_of);
    let conversations = data
        .table(Table::Conversations)?
        .select([
            col("conversation_id"),
            col("customer_id"),
            col("channel"),
            col("segment"),
            col("intent"),
            ms("opened_at").alias("opened_at"),
            ms("closed_at").alias("closed_at"),
            col(CONVERSATION_KEY).alias("key"),
        ])
        .filter(col("opened_at").lt_eq(as_of_lit.clone()))
        .with_column(
            when(col("closed_at").gt(as_of_lit.clone()))
                .then(lit(NULL).cast(DataType::Int64))
                .otherwise(col("closed_at"))
                .alias("closed_at"),
        )
        .cache();

    // Rows of conversations opened after as_of have no facts row: the final left joins onto
    // the conversations drop them, so no table is joined on the id strings.
    // Each message is reduced to what the rules read before anything is sorted: flags instead
    // of the sender, kind and intent strings, and the intent as an integer code (a categorical's
    // physical value; null stays null), so the sorted frame of every message stays narrow.
    let sender = col("sender");
    let asks_for_person = config
        .governance
        .human_request_intents
        .iter()
        .fold(lit(false), |any, intent| {
            any.or(col("intent").eq(lit(intent.clone())).fill_null(lit(false)))
        });
    let messages = data
        .table(Table::Messages)?
        .filter(ms("sent_at").lt_eq(as_of_lit.clone()))
        .select([
            col(CONVERSATION_KEY).alias("key"),
            ms("sent_at").alias("at"),
            col(SOURCE_ROW),
            sender.clone().eq(lit("customer")).alias("is_customer"),
            sender.clone().eq(lit("bot")).alias("is_bot"),
            sender
                .clone()
                .eq(lit("bot"))
                .or(sender.eq(lit("agent")))
                .and(col("kind").neq(lit("internal_note")))
                .alias("is_reply"),
            col("is_fallback"),
            col("intent")
                .cast(DataType::from_categories(Categories::global()))
                .to_physical()
                .cast(DataType::UInt32)
                .alias("intent_code"),
            asks_for_person.alias("asks_person"),
        ])
        .cache();

    // Routing after a conversation closed (an archive queue, a clean-up reassignment) is not
    // part of its handling: every fact ignores assignments later than `closed_at`.
    let assignments = left(
        inner(
            data.table(Table::Assignments)?
                .select([
                    col(CONVERSATION_KEY).alias("key"),
                    ms("assigned_at").alias("at"),
                    col("lane"),
                    col("assignee_id"),
                    col("reason"),
                    col(SOURCE_ROW),
                ])
                .filter(col("at").lt_eq(as_of_lit.clone())),
            conversations
                .clone()
                .select([col("key"), col("closed_at").alias("conversation_closed_at")]),
            "key",
        )
        .filter(
            col("conversation_closed_at")
                .is_null()
                .or(col("at").lt_eq(col("conversation_closed_at"))),
        )
        .drop(Selector::ByName {
            names: ["conversation_closed_at".into()].into(),
            strict: true,
        }),
        lane_tiers(data, config)?,
        "lane",
    )
    // A lane the configuration does not know counts as L1.
    .with_column(col("tier").fill_null(lit(config.default_tier.rank())))
    .cache();

    // Messages, sorted once: by conversation, time, customer messages first among equal
    // instants, then input order. In that order "a customer message came before" means
    // "at or after first_customer_at", and customer messages follow each other by time and
    // input order (the spec's tie rule), so one pass finds every message fact. The sorted frame
    // keeps flags (bits) rather than one instant column per kind of message.
    let only = |cond: Expr| {
        when(cond)
            .then(col("at"))
            .otherwise(lit(NULL).cast(DataType::Int64))
    };
    let customers_so_far = col("is_customer").cast(DataType::UInt32).cum_sum(false);
    // A customer message's intent code, with u32::MAX standing for "no intent" (categorical
    // codes count up from 0).
    let customer_intent = when(col("is_customer"))
        .then(col("intent_code").fill_null(lit(u32::MAX)))
        .otherwise(lit(NULL).cast(DataType::UInt32));
    let previous_customer = |e: Expr| {
        e.fill_null_with_strategy(FillNullStrategy::Forward(None))
            .shift(lit(1))
    };
    let messages = sorted(
        messages.with_column(col("is_customer").not().alias("not_customer")),
        &["key", "at", "not_customer", SOURCE_ROW],
    )
    .with_columns([
        customers_so_far.clone().alias("customers_so_far"),
        when(
            col("key")
                .neq(col("key").shift(lit(1)))
                .fill_null(lit(true)),
        )
        .then(customers_so_far - col("is_customer").cast(DataType::UInt32))
        .otherwise(lit(NULL).cast(DataType::UInt32))
        .fill_null_with_strategy(FillNullStrategy::Forward(None))
        .alias("customers_before_conversation"),
        previous_customer(customer_intent).alias("previous_intent"),
        previous_customer(
            when(col("is_customer"))
                .then(col("key"))
                .otherwise(lit(NULL).cast(DataType::UInt32)),
        )
        .alias("previous_customer_key"),
    ])
    .select([
        col("key"),
        col("at"),
        col("is_customer"),
        col("asks_person"),
        col("is_bot"),
        col("is_reply")
            .and(col("customers_so_far").gt(col("customers_before_conversation")))
            .alias("is_answer"),
        // Trap signals: bot fallbacks, and customer messages repeating the intent of the
        // previous customer message of the conversation.
        col("is_bot")
            .and(col("is_fallback").fill_null(lit(false)))
            .or(col("is_customer")
                .and(col("intent_code").is_not_null())
                .and(col("previous_customer_key").eq(col("key")))
                .and(col("previous_intent").eq(col("intent_code")))
                .fill_null(lit(false)))
            .alias("trap_signal"),
    ])
    .cache();
    let firsts = messages.clone().group_by([col("key")]).agg([
        only(col("is_customer")).min().alias("first_customer_at"),
        only(col("is_customer")).max().alias("last_customer_at"),
        only(col("is_bot")).min().alias("first_bot_at"),
        only(col("is_answer")).min().alias("first_reply_at"),
    ]);

    // Assignments, sorted once by conversation, time and input order: escalation, specialist,
    // last lane, misroutes and owner changes in one group-by.
    let human = is_human_tier(col("tier"));
    let specialist = is_specialist_tier(col("tier"));
    let prev = |name: &str| col(name).shift(lit(1));
    let lateral_move = col("reason")
        .is_null()
        .and(same_key_as_previous())
        .and(is_specialist_tier(prev("tier")))
        .and(col("tier").eq(prev("tier")))
        .and(col("lane").neq(prev("lane")));
    // The previous non-null assignee before this row, and the conversation it belonged to.
    let previous_owner = |e: Expr| {
        e.fill_null_with_strategy(FillNullStrategy::Forward(None))
            .shift(lit(1))
    };
    let routing = sorted(
        left(
            assignments,
            firsts.clone().select([col("key"), col("first_bot_at")]),
            "key",
        ),
        &["key", "at", SOURCE_ROW],
    )
    .with_columns([
        only(human.clone().and(col("at").gt_eq(col("first_bot_at")))).alias("escalation_at"),
        only(specialist).alias("specialist_lane_at"),
        col("reason")
            .eq(lit("wrong_queue"))
            .fill_null(lit(false))
            .or(lateral_move.fill_null(lit(false)))
            .alias("misroute_signal"),
        col("assignee_id")
            .is_not_null()
            .and(
                previous_owner(
                    when(col("assignee_id").is_not_null())
                        .then(col("key"))
                        .otherwise(lit(NULL).cast(DataType::UInt32)),
                )
                .eq(col("key")),
            )
            .and(previous_owner(col("assignee_id")).neq(col("assignee_id")))
            .fill_null(lit(false))
            .alias("owner_changed"),
        // The latest non-null assignee so far in this conversation.
        when(
            when(col("assignee_id").is_not_null())
                .then(col("key"))
                .otherwise(lit(NULL).cast(DataType::UInt32))
                .fill_null_with_strategy(FillNullStrategy::Forward(None))
                .eq(col("key")),
        )
        .then(col("assignee_id").fill_null_with_strategy(FillNullStrategy::Forward(None)))
        .otherwise(lit(NULL).cast(DataType::String))
        .alias("owner_so_far"),
    ])
    .group_by([col("key")])
    .agg([
        col("escalation_at").min().alias("escalated_at"),
        col("specialist_lane_at").min().alias("specialist_at"),
        human.any(true).alias("reached_human"),
        col("lane").last().alias("last_lane"),
        col("misroute_signal").any(true).alias("misrouted"),
        col("owner_changed")
            .cast(DataType::UInt32)
            .sum()
            .alias("owner_changes"),
        col("owner_so_far").last().alias("owner"),
    ])
    .cache();

    // The messages matching `which` before the escalation (all of them if never escalated),
    // per conversation.
    let before_escalation = |which: Expr| {
        left(
            messages
                .clone()
                .filter(which)
                .select([col("key"), col("at")]),
            routing.clone().select([col("key"), col("escalated_at")]),
            "key",
        )
        .filter(
            col("escalated_at")
                .is_null()
                .or(col("at").lt(col("escalated_at"))),
        )
        .group_by([col("key")])
    };
    // Trap signals count only before the escalation.
    let traps = before_escalation(col("trap_signal")).agg([
        len().cast(DataType::UInt32).alias("trap_signals"),
        // The strike-th trap signal (governance: the bot must hand off by then).
        col("at")
            .sort(SortOptions::default())
            .slice(lit(i64::from(config.governance.strikes) - 1), lit(1u32))
            .first()
            .alias("strike_at"),
    ]);

    // The first customer message asking for a person, before the escalation.
    let person_requests =
        before_escalation(col("is_customer").and(col("asks_person")))
            .agg([col("at").min().alias("person_requested_at")]);

    // The brief: the latest handoff written by specialist_at + 60 s.
    let present = |name: &str| {
        col(name)
            .is_not_null()
            .and(
                col(name)
                    .str()
                    .strip_chars(lit(NULL))
                    .str()
                    .len_chars()
                    .gt(lit(0)),
            )
            .fill_null(lit(false))
    };
    let briefs = inner(
        data.table(Table::Handoffs)?
            .select([
                col(CONVERSATION_KEY).alias("key"),
                ms("handoff_at").alias("at"),
                col("intent").alias("brief_intent"),
                col("key_details"),
                col("attempted_steps"),
                col("current_status"),
                col("next_action"),
                col(SOURCE_ROW),
            ])
            .filter(col("at").lt_eq(as_of_lit.clone())),
        routing.clone().select([col("key"), col("specialist_at")]),
        "key",
    )
    .filter(col("at").lt_eq(col("specialist_at") + lit(MS_60S)));
    let briefs = sorted(briefs, &["key", "at", SOURCE_ROW])
        .with_columns([
            present("brief_intent").alias("p_intent"),
            present("key_details").alias("p_details"),
            present("attempted_steps").alias("p_steps"),
            present("current_status").alias("p_status"),
            present("next_action").alias("p_next"),
        ])
        .group_by([col("key")])
        .agg([
            col("p_intent")
                .last()
                .and(col("p_steps").last())
                .and(col("p_status").last())
                .alias("context_complete"),
            ((col("p_intent").last().cast(DataType::Float64)
                + col("p_details").last().cast(DataType::Float64)
                + col("p_steps").last().cast(DataType::Float64)
                + col("p_status").last().cast(DataType::Float64)
                + col("p_next").last().cast(DataType::Float64))
                / lit(5.0))
            .alias("context_score"),
        ]);

    let eligible = repeat::eligible(as_of);
    let (wrote_again, returned) = repeat::contacts(&conversations, &messages, &firsts, as_of)?;

    let mut facts = conversations;
    for part in [
        firsts,
        routing,
        traps,
        person_requests,
        briefs,
        wrote_again,
        returned,
    ] {
        facts = left(facts, part, "key");
    }
    let earlier = |a: &str, b: &str| {
        when(col(a).is_null())
            .then(col(b))
            .when(col(b).is_null().or(col(a).lt_eq(col(b))))
            .then(col(a))
            .otherwise(col(b))
    };
    let grace = lit(config.governance.handoff_grace_ms);
    let bot_handled = col("first_bot_at").is_not_null();
    let facts = facts
        .with_columns([
            bot_handled.clone().alias("bot_handled"),
            lane_or_fallback(col("last_lane"), bot_handled.clone()).alias("lane"),
            col("owner_changes").fill_null(lit(0u32)),
            col("misrouted").fill_null(lit(false)),
            col("trap_signals").fill_null(lit(0u32)),
            col("context_complete").fill_null(lit(false)),
            col("context_score").fill_null(lit(0.0)),
            col("reached_human").fill_null(lit(false)),
            when(eligible)
                .then(
                    col("wrote_again")
                        .fill_null(lit(false))
                        .or(col("returned").fill_null(lit(false))),
                )
                .otherwise(lit(NULL).cast(DataType::Boolean))
                .alias("repeat_48h"),
        ])
        .with_columns([
            bot_handled
                .clone()
                .and(col("trap_signals").gt(lit(config.trap_limit)))
                .alias("trapped"),
            when(bot_handled)
                .then(earlier("strike_at", "person_requested_at"))
                .otherwise(lit(NULL).cast(DataType::Int64))
                .alias("handoff_due_at"),
        ])
        // Missed when escalated more than the grace after the due time, or never escalated
        // once the grace has run out; undetermined (null) while it is still running.
        .with_column(
            when(col("handoff_due_at").is_null())
                .then(lit(NULL).cast(DataType::Boolean))
                .when(col("escalated_at").is_not_null())
                .then((col("escalated_at") - col("handoff_due_at")).gt(grace.clone()))
                .when((col("handoff_due_at") + grace).lt_eq(lit(as_of)))
                .then(lit(true))
                .otherwise(lit(NULL).cast(DataType::Boolean))
                .alias("missed_handoff"),
        )
        .sort(["key"], SortMultipleOptions::default())
        .select(fact_columns());
    Ok(facts)
}

#[cfg(test)]
mod tests;
