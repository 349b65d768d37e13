//! Governance facts (spec: governance.md, "Per-conversation facts"): ownership, routing and
//! stall facts per conversation, the specialist entries with their brief state, and the state
//! at `as_of` that the board shows.
//!
//! Owned here, and nowhere else:
//! - `duplicate_of`: the earliest earlier conversation of the same customer and channel (and
//!   intent, with `duplicate_match = "customer_intent"`) still open at this one's `opened_at`;
//! - `first_human_at`; ownerless spells (`ownerless_max_s`, `ownerless_breach`);
//! - stays and A→B→A `bounces`;
//! - stall intervals (`stall_max_s`, `stalled`): every assignment row and visible agent message
//!   cuts an interval, internal notes and bot messages do not;
//! - specialist entries and their brief (`complete`, `incomplete`, `missing`).
//!
//! These rules walk each conversation's events in order with state (a spell, the current
//! owner, the previous stays), which polars cannot express without range or as-of joins; so
//! polars sorts and collects the few columns they need, and one pass per conversation in Rust
//! applies them ([`conversation`] is a pure function, unit-tested on its own).

use std::hash::{Hash, Hasher};

use anyhow::Result;
use polars::prelude::*;
use rayon::prelude::*;

use super::inputs::{AGENT, CALL_REPLY, Conversations, Inputs};
use super::walk;
use crate::config::{Config, DuplicateMatch, Governance};

pub use super::inputs::Row;

impl Row<'_> {
    fn queued_in_human_lane(&self) -> bool {
        self.tier.is_human() && self.assignee.is_none()
    }

    fn agent_owned(&self) -> bool {
        self.tier.is_human() && self.assignee.is_some()
    }
}

/// One handoff row of a conversation, in time (then input) order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Brief<'a> {
    pub at: i64,
    /// The handoff's 1-based row in its input (`source_row`).
    pub row: u32,
    /// `intent`, `attempted_steps` and `current_status` all non-blank.
    pub complete: bool,
    pub next_action: Option<&'a str>,
}

/// How a specialist entry was briefed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BriefState {
    Complete,
    Incomplete,
    Missing,
}

impl BriefState {
    pub fn as_str(self) -> &'static str {
        match self {
            BriefState::Complete => "complete",
            BriefState::Incomplete => "incomplete",
            BriefState::Missing => "missing",
        }
    }
}

/// A stay in a specialist lane.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry<'a> {
    pub at: i64,
    pub lane: &'a str,
    pub brief: BriefState,
    /// The brief's handoff row (`source_row`), when there is a brief.
    pub brief_row: Option<u32>,
}

/// What one conversation's events give.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome<'a> {
    pub first_human_at: Option<i64>,
    /// The first visible agent message at or after `first_human_at` (metric 12).
    pub first_agent_reply_at: Option<i64>,
    pub ownerless_max_ms: Option<i64>,
    pub ownerless_breach: bool,
    pub stays: u32,
    pub bounces: u32,
    pub stall_max_ms: Option<i64>,
    pub stalled: bool,
    pub entries: Vec<Entry<'a>>,
    /// At `as_of` (for the board).
    pub now: Now<'a>,
}

/// A conversation's state at `as_of`, for the board.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Now<'a> {
    /// The current assignment's assignee (null: unclaimed, or no assignment).
    pub owner: Option<&'a str>,
    pub owner_since: Option<i64>,
    /// The current assignment's time and lane.
    pub assigned_at: Option<i64>,
    pub lane: Option<&'a str>,
    /// When the current assignment is part of an ownerless spell: its start and first lane.
    pub spell_start: Option<i64>,
    pub spell_lane: Option<&'a str>,
    pub last_agent_at: Option<i64>,
    /// The latest handoff's `next_action` (null when blank or no handoff).
    pub next_action: Option<&'a str>,
}

/// `first_human_at`, the first assignment into a human lane, and `first_agent_reply_at`, the
/// first visible agent message at or after it (see [`conversation`]).
fn first_human<'a>(
    mut rows: impl Iterator<Item = Row<'a>>,
    mut agent: impl Iterator<Item = i64>,
) -> (Option<i64>, Option<i64>) {
    let first_human_at = rows.find(|r| r.tier.is_human()).map(|r| r.at);
    let reply = first_human_at.and_then(|h| agent.find(|&t| t >= h));
    (first_human_at, reply)
}

/// How much of the governance pass a run needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every governance fact, the specialist entries and the state at `as_of`.
    All,
    /// Only the two facts a core metric reads (`first_human_at`, `first_agent_reply_at`, for
    /// the human first response time): `l2lens metrics --select core` computes no more.
    Core,
}

/// Applies the governance rules to one conversation. `rows` are its assignment rows at or
/// before `as_of` (and its close) in assignment order; `agent` its visible agent messages at or
/// before `as_of`, in time order; `briefs` its handoffs at or before `as_of` in time and input
/// order; `end` is `closed_at`, else `as_of`. `events` is scratch space, reused across calls.
pub fn conversation<'a>(
    rows: &[Row<'a>],
    agent: &[i64],
    briefs: &[Brief<'a>],
    end: i64,
    g: &Governance,
    events: &mut Vec<i64>,
) -> Outcome<'a> {
    let (first_human_at, first_agent_reply_at) =
        first_human(rows.iter().copied(), agent.iter().copied());
    let mut out = Outcome {
        first_human_at,
        first_agent_reply_at,
        ..Outcome::default()
    };

    // Ownerless spells: maximal runs of human-lane queue rows.
    let mut i = 0;
    while i < rows.len() {
        if !rows[i].queued_in_human_lane() {
            i += 1;
            continue;
        }
        let start = i;
        while i < rows.len() && rows[i].queued_in_human_lane() {
            i += 1;
        }
        let until = rows.get(i).map_or(end, |next| next.at.min(end));
        let length = (until - rows[start].at).max(0);
        out.ownerless_max_ms = Some(out.ownerless_max_ms.map_or(length, |m| m.max(length)));
        if length > g.ownerless_max_ms(rows[start].lane) {
            out.ownerless_breach = true;
        }
    }

    // Stays (consecutive rows of one lane collapse), A→B→A bounces and specialist entries.
    let (mut last, mut before_last): (Option<&str>, Option<&str>) = (None, None);
    for r in rows {
        if last == Some(r.lane) {
            continue;
        }
        out.stays += 1;
        if before_last == Some(r.lane) {
            out.bounces += 1;
        }
        if r.tier.is_specialist() {
            let (brief, brief_row) = brief_of(briefs, r.at, g);
            out.entries.push(Entry {
                at: r.at,
                lane: r.lane,
                brief,
                brief_row,
            });
        }
        before_last = last;
        last = Some(r.lane);
    }

    // Stall intervals: every assignment row and visible agent message at or before the end is
    // an event; each event before the end opens an interval to the next event (or the end).
    events.clear();
    events.extend(rows.iter().map(|r| r.at).chain(agent.iter().copied()));
    events.retain(|&t| t <= end);
    events.sort_unstable();
    let mut after = 0; // rows[..after] are the rows at or before the event
    for (k, &t) in events.iter().enumerate() {
        if t >= end {
            break;
        }
        let until = events.get(k + 1).map_or(end, |&u| u.min(end));
        // The current assignment at t counts every row at t.
        while after < rows.len() && rows[after].at <= t {
            after += 1;
        }
        let Some(current) = after.checked_sub(1).map(|j| &rows[j]) else {
            continue;
        };
        if !current.agent_owned() {
            continue;
        }
        let length = until - t;
        out.stall_max_ms = Some(out.stall_max_ms.map_or(length, |m| m.max(length)));
        if length > g.stall_after_ms(current.lane) {
            out.stalled = true;
        }
    }

    // The state at as_of.
    if let Some(current) = rows.last() {
        out.now.assigned_at = Some(current.at);
        out.now.lane = Some(current.lane);
        if let Some(owner) = current.assignee {
            out.now.owner = Some(owner);
            let run = rows
                .iter()
                .rev()
                .take_while(|r| r.assignee == Some(owner))
                .last()
                .expect("the current row is in the run");
            out.now.owner_since = Some(run.at);
        } else if current.tier.is_human() {
            let run = rows
                .iter()
                .rev()
                .take_while(|r| r.queued_in_human_lane())
                .last()
                .expect("the current row is in the run");
            out.now.spell_start = Some(run.at);
            out.now.spell_lane = Some(run.lane);
        }
    }
    out.now.last_agent_at = agent.last().copied();
    out.now.next_action = briefs.last().and_then(|b| b.next_action);
    out
}

/// The brief of a specialist entry at `entry`: the latest handoff within
/// `[entry − brief_before, entry + brief_after]`, its state and its row.
fn brief_of(briefs: &[Brief<'_>], entry: i64, g: &Governance) -> (BriefState, Option<u32>) {
    let from = entry - g.brief_before_ms;
    let to = entry + g.brief_after_ms;
    match briefs.iter().rev().find(|b| b.at >= from && b.at <= to) {
        None => (BriefState::Missing, None),
        Some(b) if b.complete => (BriefState::Complete, Some(b.row)),
        Some(b) => (BriefState::Incomplete, Some(b.row)),
    }
}

/// One conversation as the duplicate rule sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Intake<'a> {
    pub key: u32,
    pub id: &'a str,
    pub customer: &'a str,
    pub channel: Option<&'a str>,
    pub intent: Option<&'a str>,
    pub opened_at: i64,
    pub closed_at: Option<i64>,
}

/// `duplicate_of` for each conversation, as a position in `all`: the earliest earlier
/// conversation (by `opened_at`, then input order) of the same customer and channel (and
/// intent, when matching on it) that is still open at this one's `opened_at`.
pub fn duplicates(all: &[Intake<'_>], matching: DuplicateMatch) -> Vec<Option<usize>> {
    let same_group = |a: &Intake<'_>, b: &Intake<'_>| {
        a.customer == b.customer
            && a.channel == b.channel
            && (matching == DuplicateMatch::Customer || a.intent == b.intent)
    };
    // Sorting by a hash of the group is much cheaper than by its strings; a hash collision only
    // puts two groups in one run, where the exact comparison tells them apart.
    let hash = |c: &Intake<'_>| {
        let mut h = std::hash::DefaultHasher::new();
        c.customer.hash(&mut h);
        c.channel.hash(&mut h);
        if matching == DuplicateMatch::CustomerIntent {
            c.intent.hash(&mut h);
        }
        h.finish()
    };
    let mut order: Vec<(u64, i64, u32, usize)> = all
        .par_iter()
        .enumerate()
        .map(|(i, c)| (hash(c), c.opened_at, c.key, i))
        .collect();
    order.par_sort_unstable();
    let mut out = vec![None; all.len()];
    for run in order.chunk_by(|a, b| a.0 == b.0) {
        for k in 1..run.len() {
            let c = &all[run[k].3];
            out[run[k].3] = run[..k].iter().map(|o| o.3).find(|&p| {
                let p_row = &all[p];
                same_group(p_row, c) && p_row.closed_at.is_none_or(|closed| closed > c.opened_at)
            });
        }
    }
    out
}

/// The governance facts of every conversation of `conversations` (sorted by `key`, with `key`,
/// `conversation_id`, `customer_id`, `channel`, `intent`, `opened_at`, `closed_at`): columns in
/// its row order, to stack beside them, and the specialist entries (`key`, `entry_at`,
/// `entry_lane`, `brief`).
pub struct Computed {
    pub columns: DataFrame,
    pub entries: DataFrame,
}

/// `duplicate_of` of every conversation of `conversations` (see [`compute`]), as row positions.
pub(super) fn duplicate_rows(
    config: &Config,
    conversations: &DataFrame,
) -> Result<Vec<Option<usize>>> {
    let c = Conversations::of(conversations)?;
    let intake: Vec<Intake<'_>> = (0..c.len())
        .into_par_iter()
        .map(|i| Intake {
            key: c.key[i],
            id: c.id.get(i).unwrap_or_default(),
            customer: c.customer.get(i).unwrap_or_default(),
            channel: c.channel.get(i),
            intent: c.intent.get(i),
            opened_at: c.opened[i],
            closed_at: c.closed(i),
        })
        .collect();
    Ok(duplicates(&intake, config.governance.duplicate_match))
}

/// `duplicate_of` holds [`duplicate_rows`].
pub(super) fn compute(
    config: &Config,
    conversations: &DataFrame,
    inputs: &Inputs,
    duplicate_of: &[Option<usize>],
    as_of: i64,
    scope: Scope,
) -> Result<Computed> {
    if scope == Scope::Core {
        return first_human_columns(conversations, inputs);
    }
    let c = Conversations::of(conversations)?;

    // The inputs are sorted by conversation and time (and input order), as the conversations
    // are sorted by key: one merge walk pairs them.
    let view = inputs.view()?;
    let parts = walk::in_chunks(c.len(), |range| {
        let mut cols = Columns::with_capacity(range.len());
        let mut entries = EntryColumns::default();
        let mut cursor = view.cursor(c.first_key(&range));
        let mut rows: Vec<Row<'_>> = Vec::new();
        let mut agent: Vec<i64> = Vec::new();
        let mut briefs: Vec<Brief<'_>> = Vec::new();
        let mut scratch: Vec<i64> = Vec::new();
        for i in range {
            let key = c.key[i];
            let closed_at = c.closed(i);
            let end = closed_at.unwrap_or(as_of).min(as_of);
            let events = cursor.events(key);
            rows.clear();
            rows.extend(events.rows(closed_at));
            agent.clear();
            agent.extend(events.messages.iter().filter(|m| m.is(AGENT)).map(|m| m.at));
            briefs.clear();
            briefs.extend(events.handoffs().map(|h| Brief {
                at: h.at,
                row: h.row,
                complete: super::rules::brief_complete(&h.present),
                next_action: h.next_action,
            }));
            let mut out = conversation(
                &rows,
                &agent,
                &briefs,
                end,
                &config.governance,
                &mut scratch,
            );
            // Answered calls reply for the human first response only (`[calls] frt`).
            if events.messages.iter().any(|m| m.is(CALL_REPLY)) {
                let replies = events.messages.iter().filter(|m| m.is(AGENT | CALL_REPLY));
                out.first_agent_reply_at =
                    first_human(rows.iter().copied(), replies.map(|m| m.at)).1;
            }
            let original = duplicate_of[i];
            let duplicate_open = original.is_some_and(|p| c.closed(p).is_none());
            cols.push(original.and_then(|p| c.id.get(p)), duplicate_open, &out);
            for entry in &out.entries {
                entries.key.push(key);
                entries.at.push(entry.at);
                entries.lane.push(entry.lane);
                entries.brief.push(entry.brief.as_str());
                entries.brief_row.push(entry.brief_row);
            }
        }
        Ok((
            DataFrame::new_infer_height(cols.into_columns())?,
            entries.frame()?,
        ))
    })?;
    let (columns, entries): (Vec<DataFrame>, Vec<DataFrame>) = parts.into_iter().unzip();
    Ok(Computed {
        columns: walk::stack(columns)?,
        entries: walk::stack(entries)?,
    })
}

/// The [`Scope::Core`] pass: `first_human_at` and `first_agent_reply_at`, and no entries.
fn first_human_columns(conversations: &DataFrame, inputs: &Inputs) -> Result<Computed> {
    let c = Conversations::of(conversations)?;
    let view = inputs.view()?;
    let parts = walk::in_chunks(c.len(), |range| {
        let mut human = Vec::with_capacity(range.len());
        let mut reply = Vec::with_capacity(range.len());
        let mut cursor = view.cursor(c.first_key(&range));
        for i in range {
            let events = cursor.events(c.key[i]);
            let agent = events
                .messages
                .iter()
                .filter(|m| m.is(AGENT | CALL_REPLY))
                .map(|m| m.at);
            let (h, r) = first_human(events.rows(c.closed(i)), agent);
            human.push(h);
            reply.push(r);
        }
        Ok(df!("first_human_at" => human, "first_agent_reply_at" => reply)?)
    })?;
    Ok(Computed {
        columns: walk::stack(parts)?,
        entries: EntryColumns::default().frame()?,
    })
}

#[derive(Default)]
struct EntryColumns<'a> {
    key: Vec<u32>,
    at: Vec<i64>,
    lane: Vec<&'a str>,
    brief: Vec<&'static str>,
    brief_row: Vec<Option<u32>>,
}

impl EntryColumns<'_> {
    fn frame(self) -> PolarsResult<DataFrame> {
        df!(
            "key" => self.key,
            "entry_at" => self.at,
            "entry_lane" => self.lane,
            "brief" => self.brief,
            "brief_row" => self.brief_row,
        )
    }
}

/// The per-conversation output, column by column.
struct Columns<'a> {
    duplicate_of: Vec<Option<&'a str>>,
    first_human_at: Vec<Option<i64>>,
    first_agent_reply_at: Vec<Option<i64>>,
    ownerless_max_s: Vec<Option<f64>>,
    ownerless_breach: Vec<bool>,
    stays: Vec<u32>,
    bounces: Vec<u32>,
    stall_max_s: Vec<Option<f64>>,
    stalled: Vec<bool>,
    now_owner: Vec<Option<&'a str>>,
    now_owner_since: Vec<Option<i64>>,
    now_assigned_at: Vec<Option<i64>>,
    now_lane: Vec<Option<&'a str>>,
    now_spell_start: Vec<Option<i64>>,
    now_spell_lane: Vec<Option<&'a str>>,
    now_last_agent_at: Vec<Option<i64>>,
    now_next_action: Vec<Option<&'a str>>,
    now_duplicate_open: Vec<bool>,
}

/// The internal columns, which [`super::public`] drops.
pub const NOW_COLUMNS: &[&str] = &[
    "now_owner",
    "now_owner_since",
    "now_assigned_at",
    "now_lane",
    "now_spell_start",
    "now_spell_lane",
    "now_last_agent_at",
    "now_next_action",
    "now_duplicate_open",
];

impl<'a> Columns<'a> {
    fn with_capacity(n: usize) -> Columns<'a> {
        Columns {
            duplicate_of: Vec::with_capacity(n),
            first_human_at: Vec::with_capacity(n),
            first_agent_reply_at: Vec::with_capacity(n),
            ownerless_max_s: Vec::with_capacity(n),
            ownerless_breach: Vec::with_capacity(n),
            stays: Vec::with_capacity(n),
            bounces: Vec::with_capacity(n),
            stall_max_s: Vec::with_capacity(n),
            stalled: Vec::with_capacity(n),
            now_owner: Vec::with_capacity(n),
            now_owner_since: Vec::with_capacity(n),
            now_assigned_at: Vec::with_capacity(n),
            now_lane: Vec::with_capacity(n),
            now_spell_start: Vec::with_capacity(n),
            now_spell_lane: Vec::with_capacity(n),
            now_last_agent_at: Vec::with_capacity(n),
            now_next_action: Vec::with_capacity(n),
            now_duplicate_open: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, duplicate_of: Option<&'a str>, duplicate_open: bool, o: &Outcome<'a>) {
        let seconds = |ms: Option<i64>| ms.map(|v| v as f64 / 1000.0);
        self.duplicate_of.push(duplicate_of);
        self.first_human_at.push(o.first_human_at);
        self.first_agent_reply_at.push(o.first_agent_reply_at);
        self.ownerless_max_s.push(seconds(o.ownerless_max_ms));
        self.ownerless_breach.push(o.ownerless_breach);
        self.stays.push(o.stays);
        self.bounces.push(o.bounces);
        self.stall_max_s.push(seconds(o.stall_max_ms));
        self.stalled.push(o.stalled);
        self.now_owner.push(o.now.owner);
        self.now_owner_since.push(o.now.owner_since);
        self.now_assigned_at.push(o.now.assigned_at);
        self.now_lane.push(o.now.lane);
        self.now_spell_start.push(o.now.spell_start);
        self.now_spell_lane.push(o.now.spell_lane);
        self.now_last_agent_at.push(o.now.last_agent_at);
        self.now_next_action.push(o.now.next_action);
        self.now_duplicate_open.push(duplicate_open);
    }

    fn into_columns(self) -> Vec<Column> {
        vec![
            Column::new("duplicate_of".into(), self.duplicate_of),
            Column::new("first_human_at".into(), self.first_human_at),
            Column::new("first_agent_reply_at".into(), self.first_agent_reply_at),
            Column::new("ownerless_max_s".into(), self.ownerless_max_s),
            Column::new("ownerless_breach".into(), self.ownerless_breach),
            Column::new("stays".into(), self.stays),
            Column::new("bounces".into(), self.bounces),
            Column::new("stall_max_s".into(), self.stall_max_s),
            Column::new("stalled".into(), self.stalled),
            Column::new("now_owner".into(), self.now_owner),
            Column::new("now_owner_since".into(), self.now_owner_since),
            Column::new("now_assigned_at".into(), self.now_assigned_at),
            Column::new("now_lane".into(), self.now_lane),
            Column::new("now_spell_start".into(), self.now_spell_start),
            Column::new("now_spell_lane".into(), self.now_spell_lane),
            Column::new("now_last_agent_at".into(), self.now_last_agent_at),
            Column::new("now_next_action".into(), self.now_next_action),
            Column::new("now_duplicate_open".into(), self.now_duplicate_open),
        ]
    }
}

#[cfg(test)]
#[path = "governance_tests.rs"]
mod tests;
