//! What the bot really resolved (outcomes-sla.md A) and who a conversation belongs to
//! (`owner_group`, C).
//!
//! Owned here, and nowhere else:
//! - `L`, the customer's latest message at or before end(c) whose intent is not a closing one;
//!   a qualifying reply (a visible reply that is not a bot fallback) in `[L, min(end(c), L +
//!   abandon_after)]` answers it;
//! - `human_at`: the earlier of `escalated_at` and the first visible agent message in
//!   `[first_bot_at, end(c)]`;
//! - `bot_outcome`, the first of `human_first`, `escalated`, `unengaged`, `abandoned`,
//!   `bot_resolved`, `open` that applies, for conversations whose bot wrote at or before end(c),
//!   and `bot_outcome_at`, the instant it was settled;
//! - `handoff_reason`: `human_request` or `strikes`, whichever came first before `human_at` (a
//!   tie to the customer), else `other`;
//! - `durable_resolution`: a bot resolution with no repeat contact within the horizon;
//! - `owner_group`: the last person who held the conversation in a human lane, else `bot` for a
//!   bot conversation no person touched, else `unowned`.

use anyhow::Result;
use polars::prelude::*;

use super::inputs::{
    AGENT, ASKS_PERSON, BOT, CLOSING, CUSTOMER, Conversations, FALLBACK, Inputs, Message, REPLY,
    Row,
};
use super::walk;
use crate::config::{ALL, Config};

/// The owner group of a bot conversation no person touched.
pub const BOT_GROUP: &str = "bot";
/// The owner group of a conversation no named person held.
pub const UNOWNED: &str = "unowned";
/// The group names no assignee can have: an assignee id equal to one is a data-quality warning
/// (as `bot` or `unowned` it merges with that group, as `ALL` it counts as unowned).
pub const RESERVED_GROUPS: [&str; 3] = [BOT_GROUP, UNOWNED, ALL];

/// What one conversation's events give.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome<'a> {
    pub outcome: Option<&'static str>,
    pub outcome_at: Option<i64>,
    pub human_at: Option<i64>,
    pub reason: Option<&'static str>,
    /// The customer's last question (L), for the drill-down of abandonments.
    pub last_question_at: Option<i64>,
    /// A customer message after the close within the durable horizon (repeat (a)).
    pub wrote_again_at: Option<i64>,
    /// The first visible agent message (the owner group at a snapshot reads it).
    pub first_agent_at: Option<i64>,
    pub owner_group: &'a str,
}

/// The rules that do not depend on the conversation.
#[derive(Debug, Clone, Copy)]
pub struct Params {
    pub as_of: i64,
    pub abandon_after_ms: i64,
    pub horizon_ms: i64,
    pub strikes: u32,
}

/// Applies the rules to one conversation: its messages in the facts' order (at or before
/// `as_of`), its assignment rows at or before `as_of` and its close, `escalated_at`.
pub(super) fn conversation<'a>(
    messages: &[Message],
    rows: &[Row<'a>],
    closed_at: Option<i64>,
    escalated_at: Option<i64>,
    p: Params,
) -> Outcome<'a> {
    let end = closed_at.unwrap_or(p.as_of).min(p.as_of);
    let mut out = Outcome {
        owner_group: UNOWNED,
        ..Outcome::default()
    };
    if let Some(c) = closed_at {
        out.wrote_again_at = messages
            .iter()
            .find(|m| m.is(CUSTOMER) && m.at > c && m.at <= c.saturating_add(p.horizon_ms))
            .map(|m| m.at);
    }
    let first_bot = messages.iter().find(|m| m.is(BOT)).map(|m| m.at);
    out.first_agent_at = messages.iter().find(|m| m.is(AGENT)).map(|m| m.at);
    let bot_by_end = first_bot.filter(|&b| b <= end);
    if let Some(fb) = bot_by_end {
        let agent_after = messages
            .iter()
            .find(|m| m.is(AGENT) && m.at >= fb && m.at <= end)
            .map(|m| m.at);
        out.human_at = match (escalated_at, agent_after) {
            (Some(e), Some(a)) => Some(e.min(a)),
            (e, a) => e.or(a),
        };
        let last = messages
            .iter()
            .rev()
            .find(|m| m.is(CUSTOMER) && !m.is(CLOSING) && m.at <= end)
            .map(|m| m.at);
        out.last_question_at = last;
        let answered = last.is_some_and(|l| {
            let until = end.min(l.saturating_add(p.abandon_after_ms));
            messages.iter().any(|m| {
                m.is(REPLY) && !(m.is(BOT) && m.is(FALLBACK)) && m.at >= l && m.at <= until
            })
        });
        let human_before = rows.iter().any(|r| r.tier.is_human() && r.at < fb)
            || messages.iter().any(|m| m.is(AGENT) && m.at < fb);
        let (outcome, at) = if human_before {
            ("human_first", None)
        } else if let Some(h) = out.human_at {
            ("escalated", Some(h))
        } else if closed_at.is_some() && last.is_none() {
            ("unengaged", None)
        } else if let Some(l) =
            last.filter(|&l| !answered && (closed_at.is_some() || p.as_of - l > p.abandon_after_ms))
        {
            let due = l.saturating_add(p.abandon_after_ms);
            ("abandoned", Some(closed_at.map_or(due, |c| c.min(due))))
        } else if closed_at.is_some() {
            ("bot_resolved", closed_at)
        } else {
            ("open", None)
        };
        out.outcome = Some(outcome);
        out.outcome_at = at;
        if outcome == "escalated" {
            out.reason = Some(reason(
                messages,
                out.human_at.unwrap_or(i64::MAX),
                p.strikes,
            ));
        }
    }
    let held = rows
        .iter()
        .rev()
        .find(|r| r.tier.is_human() && r.assignee.is_some())
        .and_then(|r| r.assignee);
    let person = rows.iter().any(|r| r.tier.is_human())
        || out.human_at.is_some()
        || messages.iter().any(|m| m.is(AGENT));
    out.owner_group = owner_group(held, first_bot.is_some(), person);
    out
}

/// Why a person took over before `human_at`: a request for a person or the strikes-th trap
/// signal, whichever came first (a tie to the request), else `other`.
fn reason(messages: &[Message], human_at: i64, strikes: u32) -> &'static str {
    let mut trap = super::core::TrapSignals::default();
    let mut signals = 0u32;
    let (mut asked, mut struck) = (None, None);
    for m in messages.iter().take_while(|m| m.at < human_at) {
        if m.is(CUSTOMER) && m.is(ASKS_PERSON) {
            asked.get_or_insert(m.at);
        }
        if trap.is_signal(m) {
            signals += 1;
            if signals == strikes {
                struck.get_or_insert(m.at);
            }
        }
    }
    match (asked, struck) {
        (Some(h), s) if s.is_none_or(|s| h <= s) => "human_request",
        (_, Some(_)) => "strikes",
        _ => "other",
    }
}

/// The owner group from what is known of a conversation (at the end, or at a snapshot): the
/// last person who held it in a human lane (`ALL` is reserved: nobody named); else the bot,
/// when it wrote and no person was involved (a human-lane row, an agent's message); else
/// nobody named.
pub fn owner_group(held: Option<&str>, bot_wrote: bool, person_involved: bool) -> &str {
    match held {
        Some(ALL) => UNOWNED,
        Some(person) => person,
        None if bot_wrote && !person_involved => BOT_GROUP,
        None => UNOWNED,
    }
}

/// The outcome facts of every conversation of `frame` (the conversations, sorted by key), with
/// `escalated` its `escalated_at` in the same order, as columns in its row order: `bot_outcome`, `bot_outcome_at`, `human_at`, `handoff_reason`,
/// `last_question_at` (for drill-downs), `owner_group`, `durable_resolution` and `repeat_at`
/// (the first repeat of a judged resolution, for drill-downs).
pub(super) fn compute(
    frame: &DataFrame,
    escalated: &Int64Chunked,
    inputs: &Inputs,
    config: &Config,
    as_of: i64,
) -> Result<Vec<Column>> {
    let c = Conversations::of(frame)?;
    let view = inputs.view()?;
    let o = &config.outcomes;
    let params = Params {
        as_of,
        abandon_after_ms: o.abandon_after_ms,
        horizon_ms: o.durable_horizon_ms,
        strikes: config.governance.strikes,
    };
    columns(escalated, config, &c, &view, params)
}

/// The columns of [`compute`].
fn columns(
    escalated: &Int64Chunked,
    config: &Config,
    c: &Conversations<'_>,
    view: &super::inputs::View<'_>,
    params: Params,
) -> Result<Vec<Column>> {
    let escalated = escalated.rechunk();
    let parts = walk::in_chunks(c.len(), |range| {
        let mut cursor = view.cursor(c.first_key(&range));
        let mut rows = Vec::new();
        let n = range.len();
        let mut outcome: Vec<Option<&'static str>> = Vec::with_capacity(n);
        let mut outcome_at: Vec<Option<i64>> = Vec::with_capacity(n);
        let mut human_at: Vec<Option<i64>> = Vec::with_capacity(n);
        let mut reason: Vec<Option<&'static str>> = Vec::with_capacity(n);
        let mut last_question: Vec<Option<i64>> = Vec::with_capacity(n);
        let mut wrote_again: Vec<Option<i64>> = Vec::with_capacity(n);
        let mut first_agent: Vec<Option<i64>> = Vec::with_capacity(n);
        let mut owner = StringChunkedBuilder::new("owner_group".into(), n);
        for i in range {
            let events = cursor.events(c.key[i]);
            rows.clear();
            rows.extend(events.rows(c.closed(i)));
            let o = conversation(
                events.messages,
                &rows,
                c.closed(i),
                escalated.get(i),
                params,
            );
            outcome.push(o.outcome);
            outcome_at.push(o.outcome_at);
            human_at.push(o.human_at);
            reason.push(o.reason);
            last_question.push(o.last_question_at);
            wrote_again.push(o.wrote_again_at);
            first_agent.push(o.first_agent_at);
            owner.append_value(o.owner_group);
        }
        Ok(DataFrame::new_infer_height(vec![
            Column::new("bot_outcome".into(), outcome),
            Column::new("bot_outcome_at".into(), outcome_at),
            Column::new("human_at".into(), human_at),
            Column::new("handoff_reason".into(), reason),
            Column::new("last_question_at".into(), last_question),
            Column::new("wrote_again_at".into(), wrote_again),
            Column::new("first_agent_at".into(), first_agent),
            owner.finish().into_column(),
        ])?)
    })?;
    let mut columns = walk::stack(parts)?;
    // Durable: resolved, the horizon elapsed, no repeat contact within it: a customer message
    // in the conversation after the close, or another conversation of the customer (and
    // intent) opened after it.
    let h = params.horizon_ms;
    let returned = super::repeat::returned_within(
        c,
        h,
        config.outcomes.durable_match == crate::config::DurableMatch::CustomerIntent,
    );
    let outcome = columns.column("bot_outcome")?.str()?.clone();
    let wrote = columns.column("wrote_again_at")?.i64()?.clone();
    let mut durable: Vec<Option<bool>> = Vec::with_capacity(c.len());
    let mut repeat_at: Vec<Option<i64>> = Vec::with_capacity(c.len());
    for (i, returned) in returned.into_iter().enumerate() {
        let closed = c.closed(i);
        let first_repeat = match (wrote.get(i), returned) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let judged = outcome.get(i) == Some("bot_resolved")
            && closed.is_some_and(|c| c.saturating_add(h) <= params.as_of);
        durable.push(judged.then_some(first_repeat.is_none()));
        repeat_at.push(first_repeat.filter(|_| judged));
    }
    columns.drop_in_place("wrote_again_at")?;
    columns.with_column(Column::new("durable_resolution".into(), durable))?;
    columns.with_column(Column::new("repeat_at".into(), repeat_at))?;
    Ok(columns.columns().to_vec())
}

#[cfg(test)]
mod tests {
    use super::super::inputs::{NO_INTENT, TEST_MINUTE as MIN, test_message as msg};
    use super::*;

    fn row(at_min: i64, lane: &'static str, assignee: Option<&'static str>) -> Row<'static> {
        super::super::inputs::test_row(at_min, lane, assignee, None)
    }

    fn params(as_of_min: i64) -> Params {
        Params {
            as_of: as_of_min * MIN,
            abandon_after_ms: 60 * MIN,
            horizon_ms: 7 * 24 * 60 * MIN,
            strikes: 3,
        }
    }

    const BOT_REPLY: u16 = BOT | REPLY;

    #[test]
    fn a_reply_at_the_same_instant_or_exactly_at_the_close_answers_and_a_fallback_does_not() {
        // The reply in the same minute as the last question, written before it in the input.
        let same = [
            msg(0, CUSTOMER, NO_INTENT),
            msg(5, BOT_REPLY, NO_INTENT),
            msg(5, CUSTOMER, NO_INTENT),
        ];
        let o = conversation(&same, &[], Some(10 * MIN), None, params(1000));
        assert_eq!(
            (o.outcome, o.outcome_at),
            (Some("bot_resolved"), Some(10 * MIN))
        );
        // Exactly at the close.
        let at_close = [
            msg(0, CUSTOMER, NO_INTENT),
            msg(1, BOT_REPLY, NO_INTENT),
            msg(5, CUSTOMER, NO_INTENT),
            msg(10, BOT_REPLY, NO_INTENT),
        ];
        let o = conversation(&at_close, &[], Some(10 * MIN), None, params(1000));
        assert_eq!(o.outcome, Some("bot_resolved"));
        // Only a fallback: abandoned at the close (earlier than L + 60 min).
        let fallback = [
            msg(0, CUSTOMER, NO_INTENT),
            msg(1, BOT_REPLY | FALLBACK, NO_INTENT),
        ];
        let o = conversation(&fallback, &[], Some(30 * MIN), None, params(1000));
        assert_eq!(
            (o.outcome, o.outcome_at),
            (Some("abandoned"), Some(30 * MIN))
        );
    }

    #[test]
    fn a_late_reply_does_not_undo_an_abandonment_and_an_open_thread_waits_its_time() {
        // L at 0, a bot reply at 61 (> L + 60): abandoned at L + 60 though closed at 70.
        let late = [msg(0, CUSTOMER, NO_INTENT), msg(61, BOT_REPLY, NO_INTENT)];
        let o = conversation(&late, &[], Some(70 * MIN), None, params(1000));
        assert_eq!(
            (o.outcome, o.outcome_at),
            (Some("abandoned"), Some(60 * MIN))
        );
        // Open, unanswered for exactly the limit: still open; one minute more: abandoned.
        let open = [msg(0, BOT_REPLY, NO_INTENT), msg(1, CUSTOMER, NO_INTENT)];
        assert_eq!(
            conversation(&open, &[], None, None, params(61)).outcome,
            Some("open")
        );
        assert_eq!(
            conversation(&open, &[], None, None, params(62)).outcome,
            Some("abandoned")
        );
    }

    #[test]
    fn human_first_is_tested_before_escalated_and_unengaged_needs_a_close() {
        let agent_first = [
            msg(0, CUSTOMER, NO_INTENT),
            msg(2, AGENT | REPLY, NO_INTENT),
            msg(5, BOT_REPLY, NO_INTENT),
            msg(10, AGENT | REPLY, NO_INTENT),
        ];
        let o = conversation(&agent_first, &[], Some(30 * MIN), None, params(1000));
        assert_eq!(
            (o.outcome, o.human_at),
            (Some("human_first"), Some(10 * MIN))
        );
        assert_eq!(o.owner_group, UNOWNED);
        // An agent's reply with no assignment escalates; the owner is nobody named.
        let replied = [
            msg(0, CUSTOMER, NO_INTENT),
            msg(1, BOT_REPLY, NO_INTENT),
            msg(5, AGENT | REPLY, NO_INTENT),
        ];
        let o = conversation(&replied, &[], Some(30 * MIN), None, params(1000));
        assert_eq!(
            (o.outcome, o.outcome_at, o.reason),
            (Some("escalated"), Some(5 * MIN), Some("other"))
        );
        // The bot wrote and the customer never did: unengaged once closed, open before.
        let outbound = [msg(0, BOT_REPLY, NO_INTENT)];
        assert_eq!(
            conversation(&outbound, &[], Some(MIN), None, params(1000)).outcome,
            Some("unengaged")
        );
        assert_eq!(
            conversation(&outbound, &[], None, None, params(1000)).outcome,
            Some("open")
        );
        // A bot message only after the close: no outcome, but the bot is the owner group.
        let survey = [msg(0, CUSTOMER, NO_INTENT), msg(40, BOT_REPLY, NO_INTENT)];
        let o = conversation(&survey, &[], Some(30 * MIN), None, params(1000));
        assert_eq!((o.outcome, o.owner_group), (None, BOT_GROUP));
    }

    #[test]
    fn a_request_for_a_person_wins_a_tie_with_the_third_strike() {
        let messages = [
            msg(0, CUSTOMER, NO_INTENT),
            msg(1, BOT_REPLY | FALLBACK, NO_INTENT),
            msg(2, BOT_REPLY | FALLBACK, NO_INTENT),
            msg(3, CUSTOMER | ASKS_PERSON, 9),
            msg(3, BOT_REPLY | FALLBACK, NO_INTENT),
        ];
        let rows = [
            row(0, "automation", Some("bot-1")),
            row(4, "general", Some("agent-c")),
            row(9, "general", None),
        ];
        let o = conversation(
            &messages,
            &rows,
            Some(30 * MIN),
            Some(4 * MIN),
            params(1000),
        );
        assert_eq!(
            (o.outcome, o.reason),
            (Some("escalated"), Some("human_request"))
        );
        // A later queue row does not erase the owner; a bot-lane assignee never is one.
        assert_eq!(o.owner_group, "agent-c");
        // Strikes alone.
        let strikes = [
            msg(0, CUSTOMER, 7),
            msg(1, BOT_REPLY | FALLBACK, NO_INTENT),
            msg(2, CUSTOMER, 7),
            msg(3, BOT_REPLY | FALLBACK, NO_INTENT),
        ];
        let o = conversation(
            &strikes,
            &rows[..2],
            Some(30 * MIN),
            Some(4 * MIN),
            params(1000),
        );
        assert_eq!(o.reason, Some("strikes"));
    }

    #[test]
    fn closing_intents_are_no_question_and_a_repeat_within_the_horizon_is_found() {
        let thanks = [
            msg(0, CUSTOMER, NO_INTENT),
            msg(1, BOT_REPLY, NO_INTENT),
            msg(2, CUSTOMER | CLOSING, 3),
            msg(7 * 24 * 60 + 10, CUSTOMER, NO_INTENT),
        ];
        let o = conversation(&thanks, &[], Some(10 * MIN), None, params(20_000));
        assert_eq!(o.outcome, Some("bot_resolved"));
        // The message exactly 7 days after the close is within the (inclusive) horizon.
        assert_eq!(o.wrote_again_at, Some((7 * 24 * 60 + 10) * MIN));
    }
}
