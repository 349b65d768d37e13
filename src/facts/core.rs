//! The message, routing, trap, brief and repeat facts: one pass per conversation over its
//! sorted events ([`conversation`] is a pure function of them), beside the conversations
//! sorted by key. The table in the module documentation of [`super`] states each rule.

use anyhow::Result;
use polars::prelude::*;

use super::inputs::{
    ASKS_PERSON, BOT, CALL_CUSTOMER, CALL_REPLY, CUSTOMER, Conversations, FALLBACK, Handoff,
    Inputs, Message, NO_INTENT, REPLY, Row,
};
use super::rules::{BRIEF_AFTER_MS, REPEAT_HORIZON_MS};
use super::{repeat, walk};
use crate::config::Config;

/// What one conversation's events give.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Core<'a> {
    pub first_customer_at: Option<i64>,
    pub last_customer_at: Option<i64>,
    pub first_bot_at: Option<i64>,
    pub first_reply_at: Option<i64>,
    pub escalated_at: Option<i64>,
    pub specialist_at: Option<i64>,
    pub reached_human: bool,
    pub last_lane: Option<&'a str>,
    pub misrouted: bool,
    pub owner_changes: u32,
    pub owner: Option<&'a str>,
    pub trap_signals: u32,
    /// The strike-th trap signal before the escalation (the bot must hand off by then).
    pub strike_at: Option<i64>,
    /// The first customer message asking for a person, before the escalation.
    pub person_requested_at: Option<i64>,
    pub context_complete: bool,
    pub context_score: f64,
    /// The customer wrote in `(closed_at, closed_at + 48 h]`.
    pub wrote_again: bool,
}

/// The trap-signal rule: a bot fallback, or a customer message repeating the intent of the
/// previous customer message. Fed a conversation's messages in the facts' order.
#[derive(Debug, Default)]
pub(super) struct TrapSignals {
    previous_intent: Option<u32>,
}

impl TrapSignals {
    /// Whether `m`, the next message, is a trap signal.
    pub fn is_signal(&mut self, m: &Message) -> bool {
        if m.is(CUSTOMER) {
            let repeated = m.intent != NO_INTENT && self.previous_intent == Some(m.intent);
            self.previous_intent = Some(m.intent);
            return repeated;
        }
        m.is(BOT) && m.is(FALLBACK)
    }
}

/// Applies the rules to one conversation. `messages` are its messages in the facts' order
/// ([`Inputs::messages`]), `rows` its assignment rows, `handoffs` its handoffs; `traps` is
/// scratch space, reused across calls.
pub(super) fn conversation<'a>(
    messages: &[Message],
    rows: &[Row<'a>],
    handoffs: &[Handoff<'_>],
    closed_at: Option<i64>,
    strikes: u32,
    traps: &mut Vec<i64>,
) -> Core<'a> {
    let mut out = Core::default();

    // Messages: customer messages come first among equal instants, so a reply "after the
    // customer wrote" is any reply once a customer message has been seen.
    traps.clear();
    let mut first_ask = None;
    let mut signals = TrapSignals::default();
    for m in messages {
        if signals.is_signal(m) {
            traps.push(m.at);
        }
        if m.is(CUSTOMER) {
            out.first_customer_at.get_or_insert(m.at);
            out.last_customer_at = Some(m.at);
            if m.is(ASKS_PERSON) {
                first_ask.get_or_insert(m.at);
            }
            if closed_at.is_some_and(|c| m.at > c && m.at <= c + REPEAT_HORIZON_MS) {
                out.wrote_again = true;
            }
        }
        if m.is(BOT) {
            out.first_bot_at.get_or_insert(m.at);
        }
        if m.is(CALL_CUSTOMER) {
            out.first_customer_at.get_or_insert(m.at);
        }
        if m.is(REPLY | CALL_REPLY) && out.first_customer_at.is_some() {
            out.first_reply_at.get_or_insert(m.at);
        }
    }

    // Routing.
    let mut previous: Option<&Row<'_>> = None;
    for r in rows {
        if r.tier.is_human() {
            out.reached_human = true;
            if out.escalated_at.is_none() && out.first_bot_at.is_some_and(|b| r.at >= b) {
                out.escalated_at = Some(r.at);
            }
        }
        if r.tier.is_specialist() {
            out.specialist_at.get_or_insert(r.at);
        }
        // A misroute: sent to the wrong queue, or moved without a reason between two
        // different specialist lanes of one tier.
        let lateral = r.reason.is_none()
            && previous
                .is_some_and(|p| p.tier.is_specialist() && p.tier == r.tier && p.lane != r.lane);
        if r.reason == Some("wrong_queue") || lateral {
            out.misrouted = true;
        }
        if let Some(assignee) = r.assignee {
            if out.owner.is_some_and(|o| o != assignee) {
                out.owner_changes += 1;
            }
            out.owner = Some(assignee);
        }
        out.last_lane = Some(r.lane);
        previous = Some(r);
    }

    // Trap signals and requests for a person count only before the escalation.
    let before = |t: i64| out.escalated_at.is_none_or(|e| t < e);
    // Messages are in time order, so the signals are too.
    debug_assert!(traps.is_sorted());
    let counted = traps.partition_point(|&t| before(t));
    out.trap_signals = counted as u32;
    out.strike_at = (strikes as usize)
        .checked_sub(1)
        .and_then(|i| traps[..counted].get(i).copied());
    out.person_requested_at = first_ask.filter(|&t| before(t));

    // The brief: the latest handoff written by specialist_at + 60 s.
    if let Some(specialist) = out.specialist_at
        && let Some(brief) = handoffs
            .iter()
            .rev()
            .find(|h| h.at <= specialist + BRIEF_AFTER_MS)
    {
        out.context_complete = super::rules::brief_complete(&brief.present);
        out.context_score = brief.present.iter().filter(|&&p| p).count() as f64 / 5.0;
    }
    out
}

/// The core facts of every conversation of `conversations` (collected, sorted by `key`, in one
/// chunk, with `key`, `customer_id`, `intent`, `opened_at`, `closed_at` as Int64 ms): a frame
/// in its row order.
pub(super) fn compute(
    conversations: &DataFrame,
    inputs: &Inputs,
    config: &Config,
) -> Result<DataFrame> {
    let c = Conversations::of(conversations)?;
    let view = inputs.view()?;
    let strikes = config.governance.strikes;
    let frames = walk::in_chunks(c.len(), |range| {
        let mut cols = Columns::with_capacity(range.len());
        let mut cursor = view.cursor(c.first_key(&range));
        let (mut rows, mut handoffs, mut traps) = (Vec::new(), Vec::new(), Vec::new());
        for i in range {
            let closed_at = c.closed(i);
            let events = cursor.events(c.key[i]);
            rows.clear();
            rows.extend(events.rows(closed_at));
            handoffs.clear();
            handoffs.extend(events.handoffs());
            let core = conversation(
                events.messages,
                &rows,
                &handoffs,
                closed_at,
                strikes,
                &mut traps,
            );
            cols.push(&core);
        }
        Ok(DataFrame::new_infer_height(cols.into_columns())?)
    })?;
    let mut frame = walk::stack(frames)?;
    frame.with_column(Column::new("returned".into(), repeat::returned(&c)))?;
    Ok(frame)
}

/// The per-conversation output, column by column.
struct Columns<'a> {
    first_customer_at: Vec<Option<i64>>,
    last_customer_at: Vec<Option<i64>>,
    first_bot_at: Vec<Option<i64>>,
    first_reply_at: Vec<Option<i64>>,
    escalated_at: Vec<Option<i64>>,
    specialist_at: Vec<Option<i64>>,
    reached_human: Vec<bool>,
    last_lane: Vec<Option<&'a str>>,
    misrouted: Vec<bool>,
    owner_changes: Vec<u32>,
    owner: Vec<Option<&'a str>>,
    trap_signals: Vec<u32>,
    strike_at: Vec<Option<i64>>,
    person_requested_at: Vec<Option<i64>>,
    context_complete: Vec<bool>,
    context_score: Vec<f64>,
    wrote_again: Vec<bool>,
}

impl<'a> Columns<'a> {
    fn with_capacity(n: usize) -> Columns<'a> {
        Columns {
            first_customer_at: Vec::with_capacity(n),
            last_customer_at: Vec::with_capacity(n),
            first_bot_at: Vec::with_capacity(n),
            first_reply_at: Vec::with_capacity(n),
            escalated_at: Vec::with_capacity(n),
            specialist_at: Vec::with_capacity(n),
            reached_human: Vec::with_capacity(n),
            last_lane: Vec::with_capacity(n),
            misrouted: Vec::with_capacity(n),
            owner_changes: Vec::with_capacity(n),
            owner: Vec::with_capacity(n),
            trap_signals: Vec::with_capacity(n),
            strike_at: Vec::with_capacity(n),
            person_requested_at: Vec::with_capacity(n),
            context_complete: Vec::with_capacity(n),
            context_score: Vec::with_capacity(n),
            wrote_again: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, c: &Core<'a>) {
        self.first_customer_at.push(c.first_customer_at);
        self.last_customer_at.push(c.last_customer_at);
        self.first_bot_at.push(c.first_bot_at);
        self.first_reply_at.push(c.first_reply_at);
        self.escalated_at.push(c.escalated_at);
        self.specialist_at.push(c.specialist_at);
        self.reached_human.push(c.reached_human);
        self.last_lane.push(c.last_lane);
        self.misrouted.push(c.misrouted);
        self.owner_changes.push(c.owner_changes);
        self.owner.push(c.owner);
        self.trap_signals.push(c.trap_signals);
        self.strike_at.push(c.strike_at);
        self.person_requested_at.push(c.person_requested_at);
        self.context_complete.push(c.context_complete);
        self.context_score.push(c.context_score);
        self.wrote_again.push(c.wrote_again);
    }

    fn into_columns(self) -> Vec<Column> {
        vec![
            Column::new("first_customer_at".into(), self.first_customer_at),
            Column::new("last_customer_at".into(), self.last_customer_at),
            Column::new("first_bot_at".into(), self.first_bot_at),
            Column::new("first_reply_at".into(), self.first_reply_at),
            Column::new("escalated_at".into(), self.escalated_at),
            Column::new("specialist_at".into(), self.specialist_at),
            Column::new("reached_human".into(), self.reached_human),
            Column::new("last_lane".into(), self.last_lane),
            Column::new("misrouted".into(), self.misrouted),
            Column::new("owner_changes".into(), self.owner_changes),
            Column::new("owner".into(), self.owner),
            Column::new("trap_signals".into(), self.trap_signals),
            Column::new("strike_at".into(), self.strike_at),
            Column::new("person_requested_at".into(), self.person_requested_at),
            Column::new("context_complete".into(), self.context_complete),
            Column::new("context_score".into(), self.context_score),
            Column::new("wrote_again".into(), self.wrote_again),
        ]
    }
}

#[cfg(test)]
#[path = "core_tests.rs"]
mod tests;
