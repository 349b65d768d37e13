//! SLA attainment (outcomes-sla.md B): each conversation's promises of first response, first
//! response by a person, time to specialist, updates and resolution, with their target, clock,
//! due instant and state. Present only with `[sla]`.
//!
//! Owned here, and nowhere else:
//! - the lane of each promise's target lookup (the lane at the reply, or at `stop` without
//!   one; the specialist row's lane; the lane of each owned interval; the facts lane);
//! - `due_at`, the latest instant whose elapsed time from the start is at most the target (on
//!   the business clock, a target reached as a schedule closes is due when it opens again; no
//!   open time left: no due instant);
//! - the state: `hit`, `breach`, `pending` (not yet due), `void` (closed before it was due
//!   without the event), and `settled_at` (the event of a hit, the due instant of a breach).
//!
//! States and clocks are held as enums (a byte a row); [`crate::facts::public`] spells them
//! out.

use std::collections::HashMap;

use anyhow::Result;
use polars::prelude::*;

use super::inputs::{AGENT, Conversations, Inputs, Row};
use super::walk;

mod columns;

use crate::calendar::Calendar;
use crate::config::{Clock, Config, Promise, Sla};
use columns::Builders;
pub use columns::{BREACH_MASK, Detail, PENDING_DUE, breached};
#[cfg(test)]
use columns::{clock_code, clock_dtype, state_dtype};

/// A promise's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Hit,
    Breach,
    Pending,
    Void,
}

impl State {
    /// Every state, in the order of the enum's categories.
    const ALL: [State; 4] = [State::Hit, State::Breach, State::Pending, State::Void];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Hit => "hit",
            State::Breach => "breach",
            State::Pending => "pending",
            State::Void => "void",
        }
    }

    /// Whether the promise is settled: kept or broken (the cohort of the hit rates).
    pub fn is_settled(self) -> bool {
        matches!(self, State::Hit | State::Breach)
    }
}

/// One judged promise.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    pub target_ms: i64,
    pub clock: Clock,
    pub due_at: Option<i64>,
    pub state: State,
    pub settled_at: Option<i64>,
    pub overshoot_ms: Option<i64>,
}

/// The clock of one conversation: elapsed time and due instants on the calendar, or on the
/// business calendars of the lanes it was in.
pub struct Clocks<'c> {
    /// (assignment instant, calendar of its lane; `None` always open), in assignment order.
    pub lanes: Vec<(i64, Option<&'c Calendar>)>,
    /// The calendar before the first assignment.
    pub default: Option<&'c Calendar>,
}

impl Clocks<'_> {
    pub fn elapsed(&self, clock: Clock, a: i64, b: i64) -> i64 {
        match clock {
            Clock::Calendar => (b - a).max(0),
            Clock::Business => crate::calendar::business_between(a, b, &self.lanes, self.default),
        }
    }

    /// The latest instant `d` with `elapsed(start, d) <= target`; `None` when the clock never
    /// runs out of the target (no open time left).
    pub fn due(&self, clock: Clock, start: i64, target: i64) -> Option<i64> {
        if clock == Clock::Calendar {
            return Some(start.saturating_add(target));
        }
        // The current assignment at start, then every change after it.
        let first = self.lanes.partition_point(|(at, _)| *at <= start);
        let mut current = first
            .checked_sub(1)
            .map_or(self.default, |j| self.lanes[j].1);
        let mut from = start;
        let mut left = target;
        for &(at, cal) in &self.lanes[first..] {
            let open = match current {
                None => at - from,
                Some(c) => c.between(from, at),
            };
            if open > left {
                return latest(current, from, left);
            }
            left -= open;
            from = at;
            current = cal;
        }
        latest(current, from, left)
    }
}

/// The latest instant at or after `from` with `left` open milliseconds in `[from, d]`.
fn latest(calendar: Option<&Calendar>, from: i64, left: i64) -> Option<i64> {
    match calendar {
        None => Some(from.saturating_add(left)),
        Some(c) => c.latest_within(from, left),
    }
}

/// Judges one promise: `start`, its `event` (null if it has not happened), `stop` (the close,
/// else as_of) and whether the conversation is closed.
pub fn judge(
    clocks: &Clocks<'_>,
    (target, clock): (i64, Clock),
    start: i64,
    event: Option<i64>,
    stop: i64,
    closed: bool,
) -> Judged {
    let due_at = clocks.due(clock, start, target);
    let (state, settled_at, overshoot) = match event {
        Some(e) => {
            let elapsed = clocks.elapsed(clock, start, e);
            if elapsed <= target || due_at.is_none() {
                (State::Hit, Some(e), None)
            } else {
                (State::Breach, due_at, Some(elapsed - target))
            }
        }
        None => match due_at {
            Some(due) if stop > due => (
                State::Breach,
                Some(due),
                Some(clocks.elapsed(clock, start, stop) - target),
            ),
            _ if closed => (State::Void, None, None),
            _ => (State::Pending, None, None),
        },
    };
    Judged {
        target_ms: target,
        clock,
        due_at,
        state,
        settled_at,
        overshoot_ms: overshoot,
    }
}

/// The lane at `t`: the current assignment's, else `automation` after a bot message, else
/// `unassigned` (the facts' lane rule at an instant).
fn lane_at<'a>(rows: &[Row<'a>], t: i64, first_bot_at: Option<i64>) -> &'a str {
    match rows[..rows.partition_point(|r| r.at <= t)].last() {
        Some(r) => r.lane,
        None if first_bot_at.is_some_and(|b| b <= t) => "automation",
        None => "unassigned",
    }
}

/// One owned interval's promise (an update).
#[derive(Debug, Clone, PartialEq)]
pub struct Interval<'a> {
    pub started_at: i64,
    pub ended_at: i64,
    /// The position in the conversation's rows of the assignment that owns it.
    pub row: usize,
    pub lane: &'a str,
    pub assignee: &'a str,
    pub judged: Judged,
}

/// Everything `[sla]` gives one conversation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Promises<'a> {
    pub frt: Option<Judged>,
    pub human_frt: Option<Judged>,
    pub tts: Option<Judged>,
    pub resolution: Option<Judged>,
    /// `None`: no update target anywhere the conversation was owned.
    pub updates: Option<Vec<Interval<'a>>>,
}

/// The instants a conversation's promises read.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Instants {
    pub opened: i64,
    pub closed: Option<i64>,
    pub first_customer: Option<i64>,
    pub first_reply: Option<i64>,
    pub first_human: Option<i64>,
    pub first_agent_reply: Option<i64>,
    pub specialist: Option<i64>,
    pub first_bot: Option<i64>,
}

/// A promise's target and clock; `None`: no block sets it.
type Target = Option<(i64, Clock)>;

/// The targets of `[sla]` ([`Sla::target`]) for each lane and segment, looked up once per
/// pair (a run meets a few lanes and segments, and a million conversations).
pub struct Targets<'s, 'a> {
    sla: &'s Sla,
    seen: PlHashMap<(&'a str, Option<&'a str>), [Target; 5]>,
}

impl<'s, 'a> Targets<'s, 'a> {
    pub fn new(sla: &'s Sla) -> Targets<'s, 'a> {
        Targets {
            sla,
            seen: PlHashMap::default(),
        }
    }

    /// [`Sla::target`] of `promise` for `lane` and `segment`.
    pub fn get(&mut self, promise: Promise, lane: &'a str, segment: Option<&'a str>) -> Target {
        let sla = self.sla;
        let all = self
            .seen
            .entry((lane, segment))
            .or_insert_with(|| Promise::ALL.map(|p| sla.target(p, Some(lane), segment)));
        all[promise as usize]
    }
}

/// The promises of one conversation. `rows` are its assignment rows at or before as_of and its
/// close, `agent` its visible agent messages at or before as_of; `lane` the facts lane.
#[allow(clippy::too_many_arguments)]
pub fn conversation<'a>(
    targets: &mut Targets<'_, 'a>,
    clocks: &Clocks<'_>,
    rows: &[Row<'a>],
    agent: &[i64],
    t: Instants,
    lane: Option<&'a str>,
    segment: Option<&'a str>,
    as_of: i64,
) -> Promises<'a> {
    let stop = t.closed.unwrap_or(as_of).min(as_of);
    let closed = t.closed.is_some();
    let mut target = |p: Promise, lane: &'a str| targets.get(p, lane, segment);
    let at = |time: i64| lane_at(rows, time, t.first_bot);
    let mut out = Promises::default();
    if let Some(start) = t.first_customer {
        let lane = at(t.first_reply.unwrap_or(stop));
        out.frt = target(Promise::Frt, lane)
            .map(|tc| judge(clocks, tc, start, t.first_reply, stop, closed));
    }
    if let Some(start) = t.first_human {
        let lane = at(t.first_agent_reply.unwrap_or(stop));
        out.human_frt = target(Promise::HumanFrt, lane)
            .map(|tc| judge(clocks, tc, start, t.first_agent_reply, stop, closed));
    }
    if let (Some(start), Some(event)) = (t.first_customer, t.specialist) {
        let lane = rows
            .iter()
            .find(|r| r.tier.is_specialist())
            .map_or("unassigned", |r| r.lane);
        // Clamped at 0 like TTS: a specialist before the customer wrote is on time.
        out.tts = target(Promise::Tts, lane)
            .map(|tc| judge(clocks, tc, start, Some(event.max(start)), stop, closed));
    }
    out.resolution = target(Promise::Resolution, lane.unwrap_or("unassigned"))
        .map(|tc| judge(clocks, tc, t.opened, t.closed, stop, closed));

    // Owned intervals: every assignment row and visible agent message at or before the end cuts
    // one; an interval is owned when the current assignment at its start is agent-owned.
    let mut events: Vec<i64> = rows
        .iter()
        .map(|r| r.at)
        .chain(agent.iter().copied())
        .collect();
    events.retain(|&e| e <= stop);
    events.sort_unstable();
    events.dedup();
    let mut intervals = Vec::new();
    let mut any_target = false;
    // The update target of the owning row (consecutive intervals mostly share one).
    let mut row_target: Option<(usize, Target)> = None;
    for (k, &start) in events.iter().enumerate() {
        if start >= stop {
            break;
        }
        let next = events.get(k + 1).copied();
        let until = next.map_or(stop, |u| u.min(stop));
        let Some(row) = rows.partition_point(|r| r.at <= start).checked_sub(1) else {
            continue;
        };
        let current = &rows[row];
        let (true, Some(assignee)) = (current.tier.is_human(), current.assignee) else {
            continue;
        };
        if until <= start {
            continue;
        }
        let tc = match row_target {
            Some((r, t)) if r == row => t,
            _ => {
                let t = target(Promise::Update, current.lane);
                row_target = Some((row, t));
                t
            }
        };
        let Some(tc) = tc else {
            continue;
        };
        any_target = true;
        // The interval's event: a later event or the close; none while it runs at as_of.
        let event = (next.is_some_and(|u| u <= stop) || closed).then_some(until);
        intervals.push(Interval {
            started_at: start,
            ended_at: until,
            row,
            lane: current.lane,
            assignee,
            judged: judge(clocks, tc, start, event, stop, closed),
        });
    }
    out.updates = any_target.then_some(intervals);
    out
}

/// The SLA facts of every conversation of `facts` (sorted by key, with the facts and the
/// governance columns) to the `detail` asked: per promise `sla_<p>_target_s`, `_clock`,
/// `_due_at` (public only), `_state`, `_breach`, `_overshoot_s` and `_settled_at`; the update
/// counts (public only); the board's [`PENDING_DUE`] and [`BREACH_MASK`]; and the settled
/// update intervals, the ones the hit rate counts (`key`, `settled_at`, `lane`,
/// `assignee_id`, `breach`, `overshoot_s`; a breach settles at its due instant). `None`
/// without `[sla]`.
pub(super) fn compute(
    config: &Config,
    facts: &DataFrame,
    inputs: &Inputs,
    as_of: i64,
    detail: Detail,
) -> Result<Option<(Vec<Column>, DataFrame)>> {
    let Some(sla) = &config.sla else {
        return Ok(None);
    };
    let c = Conversations::of(facts)?;
    let i64s = |name: &str| walk::one_chunk(facts, name);
    let get = walk::at;
    let (first_customer, first_reply) = (i64s("first_customer_at")?, i64s("first_reply_at")?);
    let (first_human, first_agent) = (i64s("first_human_at")?, i64s("first_agent_reply_at")?);
    let (specialist, first_bot) = (i64s("specialist_at")?, i64s("first_bot_at")?);
    let lanes = facts.column("lane")?.str()?.rechunk();
    let segments = facts.column("segment")?.str()?.rechunk();

    // Business calendars over every instant a promise can reach: from the earliest opening to
    // well past as_of (a due instant may lie after it).
    let calendars: HashMap<&str, Calendar> = match &config.business_hours {
        Some(hours) if sla.uses_business_clock() => {
            let earliest = c.opened.iter().copied().min().unwrap_or(as_of);
            let longest = Promise::ALL
                .iter()
                .flat_map(|p| {
                    std::iter::once(&sla.default)
                        .chain(sla.lanes.values())
                        .chain(sla.segments.values())
                        .chain(sla.lane_segments.values())
                        .filter_map(move |b| b.targets.get(p).copied())
                })
                .max()
                .unwrap_or(0);
            let to = as_of
                .saturating_add(longest.saturating_mul(30))
                .saturating_add(60 * crate::time::MS_PER_DAY);
            hours
                .schedules
                .iter()
                .map(|(name, s)| (name.as_str(), Calendar::build(s, earliest, to)))
                .collect()
        }
        _ => HashMap::new(),
    };
    let calendar_of = |lane: Option<&str>| -> Option<&Calendar> {
        let hours = config.business_hours.as_ref()?;
        hours
            .schedule_of(lane)
            .and_then(|s| calendars.get(s.name.as_str()))
    };
    let view = inputs.view()?;
    let parts = walk::in_chunks(c.len(), |range| {
        let mut cursor = view.cursor(c.first_key(&range));
        let mut cols = Builders::with_capacity(range.len(), detail);
        let mut targets = Targets::new(sla);
        let (mut rows, mut agent, mut lane_clocks) = (Vec::new(), Vec::new(), Vec::new());
        // Each lane's calendar, looked up once per lane.
        let mut lane_calendars: PlHashMap<&str, Option<&Calendar>> = PlHashMap::new();
        for i in range {
            let events = cursor.events(c.key[i]);
            rows.clear();
            rows.extend(events.rows(c.closed(i)));
            agent.clear();
            agent.extend(events.messages.iter().filter(|m| m.is(AGENT)).map(|m| m.at));
            // The calendar clock reads no schedule: the lanes' calendars only for the business
            // clock.
            lane_clocks.clear();
            if !calendars.is_empty() {
                lane_clocks.extend(rows.iter().map(|r| {
                    let calendar = *lane_calendars
                        .entry(r.lane)
                        .or_insert_with(|| calendar_of(Some(r.lane)));
                    (r.at, calendar)
                }));
            }
            let clocks = Clocks {
                lanes: std::mem::take(&mut lane_clocks),
                default: calendar_of(None),
            };
            let instants = Instants {
                opened: c.opened[i],
                closed: c.closed(i),
                first_customer: get(&first_customer, i),
                first_reply: get(&first_reply, i),
                first_human: get(&first_human, i),
                first_agent_reply: get(&first_agent, i),
                specialist: get(&specialist, i),
                first_bot: get(&first_bot, i),
            };
            let promises = conversation(
                &mut targets,
                &clocks,
                &rows,
                &agent,
                instants,
                lanes.downcast_get(0).and_then(|a| a.get(i)),
                segments.downcast_get(0).and_then(|a| a.get(i)),
                as_of,
            );
            cols.push(c.key[i], &promises, events.first_row());
            lane_clocks = clocks.lanes;
        }
        cols.finish()
    })?;
    let mut columns: Vec<DataFrame> = Vec::with_capacity(parts.len());
    let mut intervals: Vec<DataFrame> = Vec::with_capacity(parts.len());
    for (a, b) in parts {
        columns.push(a);
        intervals.push(b);
    }
    Ok(Some((
        walk::stack(columns)?.columns().to_vec(),
        columns::owners(walk::stack(intervals)?, &inputs.assignments)?,
    )))
}

#[cfg(test)]
#[path = "sla_tests.rs"]
mod tests;
