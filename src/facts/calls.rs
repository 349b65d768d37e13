//! Calls in the thread (whatsapp-2026.md A): the calls kept at `as_of` with their outcome, the
//! user calls that are customer touches for the 24-hour window, and each unanswered user call's
//! callback.
//!
//! The rules owned here, and nowhere else:
//! - `as_of`: a call placed after it is dropped; an answer or end time after it is null, and
//!   then the status is `answered` if the answer time is still known, else undetermined; a null
//!   status with an answer time is `answered`;
//! - a call is answered, unanswered (`missed`, `rejected`, `failed`) or undetermined (null);
//! - counted user calls under `[calls] window_refresh`: every user call (`any`), the answered
//!   ones (`answered`), none (`none`); business calls never;
//! - `callback_at` of an unanswered user call: the earliest business call that was not
//!   `failed`, or visible agent message, strictly after it (and at or before `as_of`).

use anyhow::Result;
use polars::prelude::*;

use super::inputs::{AGENT, Message};
use super::{ms, walk};
use crate::config::{Config, WindowRefresh};
use crate::dataset::Dataset;
use crate::ingest::schema::{CONVERSATION_KEY, SOURCE_ROW, Table, USER_INITIATED};

/// A call's outcome after the `as_of` steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Answered,
    Missed,
    Rejected,
    Failed,
    Undetermined,
}

impl Status {
    fn of(text: Option<&str>) -> Status {
        match text {
            Some("answered") => Status::Answered,
            Some("missed") => Status::Missed,
            Some("rejected") => Status::Rejected,
            Some("failed") => Status::Failed,
            _ => Status::Undetermined,
        }
    }

    pub fn as_str(self) -> Option<&'static str> {
        match self {
            Status::Answered => Some("answered"),
            Status::Missed => Some("missed"),
            Status::Rejected => Some("rejected"),
            Status::Failed => Some("failed"),
            Status::Undetermined => None,
        }
    }

    pub fn unanswered(self) -> bool {
        matches!(self, Status::Missed | Status::Rejected | Status::Failed)
    }
}

/// One call kept at `as_of`.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub key: u32,
    pub placed: i64,
    pub user: bool,
    pub status: Status,
    /// The answer time after the `as_of` steps.
    pub answered_at: Option<i64>,
    pub call_id: String,
}

/// The calls of the data as read, before `as_of` is known: sorted by conversation, placement
/// and input order.
pub struct RawCalls {
    rows: Vec<(Call, Option<i64>)>,
}

impl RawCalls {
    /// The calls of `data` placed at or before `read_to`; `None` without a calls table.
    pub fn read(data: &Dataset, read_to: i64) -> Result<Option<RawCalls>> {
        if !data.has(Table::Calls) {
            return Ok(None);
        }
        let frame = walk::by_conversation(
            data.table(Table::Calls)?
                .with_columns([ms("answered_at"), ms("ended_at")]),
            "placed_at",
            read_to,
            &[
                "call_id",
                "direction",
                "status",
                "answered_at",
                "ended_at",
                SOURCE_ROW,
            ],
        )?;
        let key = frame.column(CONVERSATION_KEY)?.u32()?;
        let placed = frame.column("placed_at")?.i64()?;
        let id = frame.column("call_id")?.str()?;
        let direction = frame.column("direction")?.str()?;
        let status = frame.column("status")?.str()?;
        let answered = frame.column("answered_at")?.i64()?;
        let ended = frame.column("ended_at")?.i64()?;
        let rows = (0..frame.height())
            .map(|i| {
                (
                    Call {
                        key: key.get(i).unwrap_or_default(),
                        placed: placed.get(i).unwrap_or_default(),
                        user: direction.get(i) == Some(USER_INITIATED),
                        status: Status::of(status.get(i)),
                        answered_at: answered.get(i),
                        call_id: id.get(i).unwrap_or_default().to_owned(),
                    },
                    ended.get(i),
                )
            })
            .collect();
        Ok(Some(RawCalls { rows }))
    }

    /// The latest `placed_at` (it counts toward the default `as_of`).
    pub fn latest(&self) -> Option<i64> {
        self.rows.iter().map(|(c, _)| c.placed).max()
    }

    /// The calls kept at `as_of` of the conversations in `keys` (sorted), with the `as_of`
    /// steps applied.
    pub fn at(self, as_of: i64, keys: &[u32]) -> Vec<Call> {
        self.rows
            .into_iter()
            .filter(|(c, _)| c.placed <= as_of && keys.binary_search(&c.key).is_ok())
            .map(|(call, ended)| settle(call, ended, as_of))
            .collect()
    }
}

/// The `as_of` steps of one call placed at or before `as_of`.
fn settle(mut call: Call, ended: Option<i64>, as_of: i64) -> Call {
    let late_answer = call.answered_at.is_some_and(|t| t > as_of);
    let late_end = ended.is_some_and(|t| t > as_of);
    if late_answer {
        call.answered_at = None;
    }
    if late_answer || late_end {
        call.status = if call.answered_at.is_some() {
            Status::Answered
        } else {
            Status::Undetermined
        };
    }
    if call.status == Status::Undetermined && call.answered_at.is_some() {
        call.status = Status::Answered;
    }
    call
}

/// Whether a call is a customer touch under `refresh`.
pub fn counted(call: &Call, refresh: WindowRefresh) -> bool {
    call.user
        && match refresh {
            WindowRefresh::Any => true,
            WindowRefresh::Answered => call.status == Status::Answered,
            WindowRefresh::None => false,
        }
}

/// The customer touches: customer messages (`key`, `at`, sorted) merged with the counted user
/// calls, sorted by conversation and time.
pub(super) fn touches(
    messages: super::CustomerMessages,
    calls: &[Call],
    config: &Config,
) -> super::CustomerMessages {
    let refresh = config.calls.window_refresh;
    let extra: Vec<(u32, i64)> = calls
        .iter()
        .filter(|c| counted(c, refresh))
        .map(|c| (c.key, c.placed))
        .collect();
    if extra.is_empty() {
        return messages;
    }
    let mut all: Vec<(u32, i64)> = messages.key.into_iter().zip(messages.at).collect();
    all.extend(extra);
    all.sort_unstable();
    let (key, at) = all.into_iter().unzip();
    super::CustomerMessages { key, at }
}

/// The `131047` send failures (outside the window) less than 24 hours after the latest counted
/// user call at or before them and 24 hours or more after the latest customer message (or with
/// none): evidence that the platform did not count those calls, so that `[calls]
/// window_refresh` does not match it.
pub(super) fn window_violations_after_calls(
    data: &Dataset,
    messages: &super::CustomerMessages,
    calls: &[Call],
    config: &Config,
    as_of: i64,
) -> Result<u64> {
    if !data.has(Table::SendFailures) {
        return Ok(0);
    }
    let failures = crate::dataset::stream(
        data.table(Table::SendFailures)?
            .filter(col("error_code").eq(lit(super::OUTSIDE_WINDOW)))
            .select([col(CONVERSATION_KEY), ms("failed_at").alias("at")])
            .filter(col("at").lt_eq(lit(as_of))),
    )?;
    let refresh = config.calls.window_refresh;
    let (call_keys, call_times): (Vec<u32>, Vec<i64>) = calls
        .iter()
        .filter(|c| counted(c, refresh))
        .map(|c| (c.key, c.placed))
        .unzip();
    let window = super::WINDOW_MS;
    let keys = failures.column(CONVERSATION_KEY)?.u32()?;
    let times = failures.column("at")?.i64()?;
    let mut n = 0;
    for (key, at) in keys.iter().zip(times.iter()) {
        let (Some(key), Some(at)) = (key, at) else {
            continue;
        };
        let call = walk::last_at_or_before(&call_keys, &call_times, key, at);
        let message = walk::last_at_or_before(&messages.key, &messages.at, key, at);
        if call.is_some_and(|c| at - c < window) && message.is_none_or(|m| at - m >= window) {
            n += 1;
        }
    }
    Ok(n)
}

/// The latest customer touch of every conversation of `facts` (sorted by `key`), as the
/// `last_customer_at` column.
pub(super) fn last_touch(facts: &DataFrame, touches: &super::CustomerMessages) -> Result<Column> {
    let keys = walk::slice(facts.column("key")?.u32()?)?;
    let mut from = 0usize;
    let last: Vec<Option<i64>> = keys
        .iter()
        .map(|&k| {
            let rows = walk::take(&touches.key, &mut from, k);
            touches.at[rows].last().copied()
        })
        .collect();
    Ok(Column::new("last_customer_at".into(), last))
}

/// The calls as an event frame: `key`, `at` (placed), `call_id`, `user`, `status` (after the
/// `as_of` steps, null when undetermined), `unanswered` (null when undetermined) and
/// `callback_s` (unanswered user calls called back: seconds to the callback). `messages` are
/// the facts' messages (visible agent messages among them).
pub(super) fn frame(calls: &[Call], messages: &[Message]) -> Result<DataFrame> {
    let callbacks = callbacks(calls, messages);
    let column = |name: &str, values: Vec<Option<bool>>| {
        BooleanChunked::from_iter_options(name.into(), values.into_iter()).into_column()
    };
    Ok(DataFrame::new_infer_height(vec![
        Column::new(
            "key".into(),
            calls.iter().map(|c| c.key).collect::<Vec<_>>(),
        ),
        Column::new(
            "at".into(),
            calls.iter().map(|c| c.placed).collect::<Vec<_>>(),
        ),
        Column::new(
            "call_id".into(),
            calls.iter().map(|c| c.call_id.as_str()).collect::<Vec<_>>(),
        ),
        column("user", calls.iter().map(|c| Some(c.user)).collect()),
        Column::new(
            "status".into(),
            calls.iter().map(|c| c.status.as_str()).collect::<Vec<_>>(),
        ),
        column(
            "unanswered",
            calls
                .iter()
                .map(|c| (c.status != Status::Undetermined).then(|| c.status.unanswered()))
                .collect(),
        ),
        Column::new(
            "callback_s".into(),
            calls
                .iter()
                .zip(&callbacks)
                .map(|(c, at)| at.map(|at| (at - c.placed) as f64 / 1000.0))
                .collect::<Vec<Option<f64>>>(),
        ),
    ])?)
}

/// The callback instant of every unanswered user call (`None` for other calls, and when none
/// came by `as_of`).
fn callbacks(calls: &[Call], messages: &[Message]) -> Vec<Option<i64>> {
    let mut from = 0usize;
    let mut out = Vec::with_capacity(calls.len());
    let mut start = 0usize;
    while start < calls.len() {
        let key = calls[start].key;
        let end = start + calls[start..].iter().take_while(|c| c.key == key).count();
        let of = &calls[start..end];
        let rows = walk::take_by(messages.len(), &mut from, key, |i| messages[i].key);
        let agent: Vec<i64> = messages[rows]
            .iter()
            .filter(|m| m.is(AGENT))
            .map(|m| m.at)
            .collect();
        for call in of {
            if !(call.user && call.status.unanswered()) {
                out.push(None);
                continue;
            }
            let message = agent.iter().copied().find(|&t| t > call.placed);
            let business = of
                .iter()
                .filter(|b| !b.user && b.status != Status::Failed && b.placed > call.placed)
                .map(|b| b.placed)
                .min();
            out.push(match (message, business) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            });
        }
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(placed: i64, user: bool, status: Status, answered_at: Option<i64>) -> Call {
        Call {
            key: 0,
            placed,
            user,
            status,
            answered_at,
            call_id: String::new(),
        }
    }

    #[test]
    fn times_after_as_of_are_null_and_the_status_follows() {
        // Ended after as_of, never answered: still ringing or in progress → undetermined.
        let c = settle(call(10, true, Status::Missed, None), Some(200), 100);
        assert_eq!(c.status, Status::Undetermined);
        // Answered before as_of, ended after: answered.
        let c = settle(call(10, true, Status::Answered, Some(20)), Some(200), 100);
        assert_eq!(c.status, Status::Answered);
        // Answered after as_of: the answer is unknown yet.
        let c = settle(call(10, true, Status::Answered, Some(150)), Some(200), 100);
        assert_eq!((c.status, c.answered_at), (Status::Undetermined, None));
        // No status, an answer time: answered.
        let c = settle(call(10, true, Status::Undetermined, Some(20)), None, 100);
        assert_eq!(c.status, Status::Answered);
        // Ended in time: the status stands.
        let c = settle(call(10, true, Status::Rejected, None), Some(30), 100);
        assert_eq!(c.status, Status::Rejected);
    }

    #[test]
    fn window_refresh_counts_user_calls_only() {
        let missed = call(0, true, Status::Missed, None);
        let answered = call(0, true, Status::Answered, Some(1));
        let business = call(0, false, Status::Answered, Some(1));
        assert!(counted(&missed, WindowRefresh::Any) && counted(&answered, WindowRefresh::Any));
        assert!(!counted(&missed, WindowRefresh::Answered));
        assert!(counted(&answered, WindowRefresh::Answered));
        assert!(!counted(&answered, WindowRefresh::None));
        assert!(!counted(&business, WindowRefresh::Any));
    }

    #[test]
    fn the_callback_is_the_earliest_non_failed_business_call_or_agent_message_after() {
        let calls = vec![
            call(100, true, Status::Missed, None),
            call(110, false, Status::Failed, None),
            call(130, false, Status::Missed, None),
            call(140, true, Status::Answered, Some(141)),
            call(150, true, Status::Rejected, None),
        ];
        let message = |at, flags| Message {
            key: 0,
            flags,
            at,
            ..Message::default()
        };
        let messages = vec![message(100, AGENT), message(120, super::super::inputs::BOT)];
        // 100: the failed business call and the bot message are no callback; the one at 130 is.
        // 150: nothing after it.
        assert_eq!(
            callbacks(&calls, &messages),
            [Some(130), None, None, None, None]
        );
        let messages = vec![message(125, AGENT), message(160, AGENT)];
        assert_eq!(
            callbacks(&calls, &messages),
            [Some(125), None, None, None, Some(160)]
        );
    }
}
