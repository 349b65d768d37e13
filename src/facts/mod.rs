//! The per-conversation facts table: the single place where the rules of the metric spec
//! become data. Every metric, report and query reads this table and nothing else.
//!
//! One row per conversation opened at or before `as_of`, with the conversation's own columns
//! and these facts (spec: "Per-conversation facts"). The events are read once, sorted by
//! conversation ([`inputs`]), and one pass per conversation applies the rules ([`core`]); the
//! facts that follow from those columns are polars expressions ([`finish`]).
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
use crate::ingest::schema::{CONVERSATION_KEY, SOURCE_CUSTOMER_ID, Table};

pub mod business;
pub mod calls;
mod columns;
mod core;
mod globals;
pub mod governance;
mod inputs;
pub mod outcomes;
mod repeat;
mod rules;
pub mod sends;
pub mod sla;
pub mod snapshots;
pub mod sql;
pub mod text;
mod walk;
pub mod whatsapp;

pub use globals::{Globals, globals};

use columns::fact_columns;
pub use columns::public;
use inputs::Inputs;
pub use rules::{
    BRIEF_AFTER_MS, BRIEF_COMPLETE_SQL, OUTSIDE_WINDOW, REPEAT_HORIZON_MS, WINDOW_MS, art_seconds,
    frt_seconds, hours_silent, lane_or_fallback, seconds_between, tts_seconds,
};

/// The facts of every conversation, and the `as_of` instant they were computed at.
pub struct Facts {
    /// One row per conversation; instants as Int64 UTC milliseconds. The columns of
    /// [`governance::NOW_COLUMNS`] are the state at `as_of` the board reads; they are not public.
    pub frame: DataFrame,
    pub as_of: i64,
    /// The specialist entries (`key`, `entry_at`, `entry_lane`, `brief`) of the governance
    /// checks: one row per stay in a specialist lane.
    pub entries: DataFrame,
    /// Every customer touch at or before `as_of` (customer messages and the user calls
    /// `[calls] window_refresh` counts), by conversation key and time: the window snapshots look
    /// up the customer's last word at each snapshot here.
    pub customer_messages: CustomerMessages,
    /// The calls kept at `as_of` as an event frame ([`calls::frame`]); `None` without a calls
    /// table.
    pub calls: Option<DataFrame>,
    /// With calls: the `131047` failures soon after a counted call but not after a customer
    /// message ([`calls::window_violations_after_calls`]).
    pub window_violations_after_calls: Option<u64>,
    /// The assignments at or before `as_of`, sorted by conversation, time and input order, in
    /// one chunk (`conversation_key`, `assigned_at` as Int64 ms, `lane`, `assignee_id`,
    /// `reason`): the window snapshots take the lane at each snapshot from them.
    pub assignments: DataFrame,
    /// The text facts (text.md), with every governance fact; `None` for the core scope.
    pub text: Option<text::TextFacts>,
    /// The billable messages (`key`, `at`, `price`) and what the report says of pricing;
    /// `None` when no message has a `billable` value.
    pub cost: Option<(DataFrame, whatsapp::CostNotes)>,
    /// The settled update promises ([`sla::compute`]), one row per owned interval; `None` without
    /// `[sla]`.
    pub sla_intervals: Option<DataFrame>,
    /// For a partition of the conversations: the active instants of all of them
    /// ([`Globals::active`]), which the window snapshots read instead of their own.
    pub active: Option<std::sync::Arc<Vec<i64>>>,
}

/// Customer messages as two sorted columns: conversation keys and instants (ms).
#[derive(Debug, Default)]
pub struct CustomerMessages {
    pub key: Vec<u32>,
    pub at: Vec<i64>,
}

/// The latest instant anywhere in the conversation tables (the default `as_of`), from what was
/// read with no `as_of` (every row).
fn latest_instant(
    conversations: &DataFrame,
    inputs: &Inputs,
    calls: Option<&calls::RawCalls>,
) -> Result<Option<i64>> {
    let max = |frame: &DataFrame, name: &str| -> Result<Option<i64>> {
        Ok(frame.column(name)?.i64()?.max())
    };
    let latest = [
        max(conversations, "opened_at")?,
        max(conversations, "closed_at")?,
        inputs.messages.iter().map(|m| m.at).max(),
        max(&inputs.assignments, "assigned_at")?,
        max(&inputs.handoffs, "handoff_at")?,
        calls.and_then(calls::RawCalls::latest),
    ];
    Ok(latest.into_iter().flatten().max())
}

/// An instant column as Int64 milliseconds.
pub fn ms(name: &str) -> Expr {
    col(name).cast(DataType::Int64)
}

/// Builds and collects the facts table.
pub fn compute(data: &Dataset, config: &Config, as_of: Option<i64>) -> Result<Facts> {
    compute_scoped(
        data,
        config,
        Known::AsOf(as_of),
        governance::Scope::All,
        Some(sla::Detail::Public),
    )
}

/// What the facts are told rather than find for themselves.
#[derive(Debug, Clone, Copy)]
pub enum Known<'a> {
    /// `as_of` (`None`: the latest instant of the data).
    AsOf(Option<i64>),
    /// A partition of the conversations: the decisions taken for all of them.
    Partition(&'a Globals),
}

/// [`compute`], with only the governance facts of `scope` (the others are not columns of the
/// table), and the SLA facts to the detail `sla` asks (`None`: none; a run whose metrics read
/// none of them skips their cost).
pub fn compute_scoped(
    data: &Dataset,
    config: &Config,
    known: Known<'_>,
    scope: governance::Scope,
    sla: Option<sla::Detail>,
) -> Result<Facts> {
    let (as_of, globals) = match known {
        Known::AsOf(as_of) => (as_of, None),
        Known::Partition(g) => (Some(g.as_of), Some(g)),
    };
    // Without an `as_of`, every row is read, and the latest instant read is `as_of`.
    let read_to = as_of.unwrap_or(i64::MAX);
    let mut frame = crate::dataset::stream(conversations(data, read_to)?)
        .map_err(anyhow::Error::from)
        .context("reading the conversations")?;
    if !frame.column("key")?.u32()?.iter().is_sorted() {
        frame.sort_in_place(["key"], SortMultipleOptions::default())?;
    }
    frame.rechunk_mut_par();
    // Every per-conversation pass walks the same sorted events: collected once, while the
    // duplicate rule, which needs only the conversations, runs beside.
    let (duplicate_of, inputs) = rayon::join(
        || match scope {
            governance::Scope::All => governance::duplicate_rows(config, &frame)
                .context("finding duplicate conversations"),
            governance::Scope::Core => Ok(Vec::new()),
        },
        || Inputs::collect(data, config, read_to).context("reading the events"),
    );
    let (duplicate_of, mut inputs) = (duplicate_of?, inputs?);
    let raw_calls = calls::RawCalls::read(data, read_to).context("reading the calls")?;
    let as_of = match as_of {
        Some(t) => t,
        None => latest_instant(&frame, &inputs, raw_calls.as_ref())?
            .context("the data has no timestamps at all, so there is no as_of; pass --as-of")?,
    };
    let kept_calls = raw_calls.map(|raw| {
        let keys = frame.column("key").and_then(|k| k.u32().cloned());
        keys.map(|k| raw.at(as_of, &k.into_no_null_iter().collect::<Vec<_>>()))
    });
    let kept_calls = kept_calls.transpose()?;
    if config.calls.frt
        && let Some(kept) = &kept_calls
    {
        inputs.add_calls(kept);
    }
    // The window snapshots read the customer touches; they are picked out beside the pass.
    let (core, customer_messages) = rayon::join(
        || core::compute(&frame, &inputs, config).context("computing the facts"),
        || inputs.customer_messages(),
    );
    let mut core = core?;
    let outcomes = outcomes::compute(
        &frame,
        core.column("escalated_at")?.i64()?,
        &inputs,
        config,
        as_of,
    )
    .context("computing the bot outcomes")?;
    let mut window_violations_after_calls = None;
    let (customer_messages, calls_frame) = match &kept_calls {
        Some(kept) => {
            window_violations_after_calls = Some(
                calls::window_violations_after_calls(data, &customer_messages, kept, config, as_of)
                    .context("checking window violations against the calls")?,
            );
            let touches = calls::touches(customer_messages, kept, config);
            // The customer's latest word is the latest touch.
            let last = calls::last_touch(&frame, &touches)?;
            core.replace("last_customer_at", last)?;
            (touches, Some(calls::frame(kept, &inputs.messages)?))
        }
        None => (customer_messages, None),
    };
    if scope == governance::Scope::All {
        inputs.keep_agent_messages();
    }
    let governance = governance::compute(config, &frame, &inputs, &duplicate_of, as_of, scope)
        .context("computing the governance facts")?;
    let identity = whatsapp::identity(&frame).context("computing the customers' kinds")?;
    frame.hstack_mut(core.columns())?;
    let mut frame = finish(frame.lazy(), config, as_of)
        .collect()
        .map_err(anyhow::Error::from)
        .context("computing the facts table")?;
    // The governance columns are in the facts' row order: stacked beside them, not joined.
    frame
        .hstack_mut(governance.columns.columns())
        .map_err(anyhow::Error::from)
        .context("adding the governance facts")?;
    let sla = match sla {
        Some(detail) => sla::compute(config, &frame, &inputs, as_of, detail)
            .context("computing the SLA promises")?,
        None => None,
    };
    let sla_intervals = match sla {
        Some((columns, intervals)) => {
            frame
                .hstack_mut(&columns)
                .map_err(anyhow::Error::from)
                .context("adding the SLA facts")?;
            Some(intervals)
        }
        None => None,
    };
    if let Some(columns) = business::compute(config, &frame, &inputs, as_of)
        .context("computing the business-time facts")?
    {
        frame
            .hstack_mut(&columns)
            .map_err(anyhow::Error::from)
            .context("adding the business-time facts")?;
    }
    frame.hstack_mut(&identity)?;
    frame.hstack_mut(&outcomes)?;
    let billable = match globals {
        Some(g) => g.billable,
        None => globals::billable(data)?,
    };
    let cost = match billable {
        true => {
            Some(whatsapp::cost(data, &frame, config, as_of).context("computing the cost facts")?)
        }
        false => None,
    };
    let cost = match cost {
        Some(c) => {
            frame.hstack_mut(&c.columns)?;
            Some((c.messages, c.notes))
        }
        None => None,
    };
    if let Some(calls) = &calls_frame {
        let keys: PlHashSet<u32> = calls.column("key")?.u32()?.into_no_null_iter().collect();
        let has_call: Vec<bool> = frame
            .column("key")?
            .u32()?
            .into_no_null_iter()
            .map(|k| keys.contains(&k))
            .collect();
        frame.with_column(Column::new("has_call".into(), has_call))?;
    }
    let mut facts = Facts {
        frame,
        as_of,
        entries: governance.entries,
        customer_messages,
        calls: calls_frame,
        window_violations_after_calls,
        assignments: inputs.assignments,
        text: None,
        cost,
        sla_intervals,
        active: globals.map(|g| g.active.clone()),
    };
    if scope == governance::Scope::All {
        let text = text::compute(data, &facts, config).context("computing the text facts")?;
        if text.has_text {
            // Public only when the data has text, so that data without it keeps its table.
            let columns = text::conversation_columns(&facts.frame, &text.conversations)?;
            facts.frame.hstack_mut(&columns)?;
        }
        facts.text = Some(text);
    }
    Ok(facts)
}

/// The conversations opened at or before `as_of`, instants as Int64 ms; a close after `as_of`
/// is open.
fn conversations(data: &Dataset, as_of: i64) -> Result<LazyFrame> {
    let as_of_lit = lit(as_of);
    let mut table = data.table(Table::Conversations)?;
    let schema = table.collect_schema()?;
    // A table written before the identity columns existed has none of them.
    let or_null = |name: &str| {
        if schema.contains(name) {
            col(name)
        } else {
            lit(NULL).cast(DataType::String).alias(name)
        }
    };
    let source = if schema.contains(SOURCE_CUSTOMER_ID) {
        col(SOURCE_CUSTOMER_ID)
    } else {
        col("customer_id").alias(SOURCE_CUSTOMER_ID)
    };
    Ok(table
        .select([
            col("conversation_id"),
            col("customer_id"),
            source,
            or_null("customer_id_kind"),
            or_null("market"),
            col("channel"),
            col("segment"),
            col("intent"),
            ms("opened_at").alias("opened_at"),
            ms("closed_at").alias("closed_at"),
            col(CONVERSATION_KEY).alias("key"),
        ])
        .filter(col("opened_at").lt_eq(as_of_lit.clone()))
        .with_column(
            when(col("closed_at").gt(as_of_lit))
                .then(lit(NULL).cast(DataType::Int64))
                .otherwise(col("closed_at"))
                .alias("closed_at"),
        ))
}

/// The facts derived from the per-conversation columns ([`core::compute`]): the lane
/// fallback, `trapped`, the handoff due time and `missed_handoff`, `repeat_48h`; then the
/// columns of the facts table in order.
fn finish(frame: LazyFrame, config: &Config, as_of: i64) -> LazyFrame {
    let earlier = |a: &str, b: &str| {
        when(col(a).is_null())
            .then(col(b))
            .when(col(b).is_null().or(col(a).lt_eq(col(b))))
            .then(col(a))
            .otherwise(col(b))
    };
    let grace = lit(config.governance.handoff_grace_ms);
    let bot_handled = col("first_bot_at").is_not_null();
    frame
        .with_columns([
            bot_handled.clone().alias("bot_handled"),
            lane_or_fallback(col("last_lane"), bot_handled.clone()).alias("lane"),
            when(repeat::eligible(as_of))
                .then(col("wrote_again").or(col("returned")))
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
        .select(fact_columns())
}

#[cfg(test)]
mod tests;
