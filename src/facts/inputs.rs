//! The event tables every per-conversation pass reads, collected once, filtered to `as_of` and
//! sorted by conversation: messages as a narrow array of structs (flags instead of strings),
//! assignments and handoffs as small frames.

use std::ops::Range;

use anyhow::Result;
use polars::prelude::*;
use rayon::prelude::*;

use super::{ms, walk};
use crate::config::{Config, Tier};
use crate::dataset::{Dataset, stream};
use crate::ingest::schema::{CONVERSATION_KEY, SOURCE_ROW, Table};

/// Message flags ([`Message::flags`]).
pub(super) const CUSTOMER: u16 = 1;
pub(super) const BOT: u16 = 1 << 1;
/// A bot or agent message the customer sees (not an internal note): a reply.
pub(super) const REPLY: u16 = 1 << 2;
/// An agent message the customer sees.
pub(super) const AGENT: u16 = 1 << 3;
pub(super) const FALLBACK: u16 = 1 << 4;
/// A message whose intent is one of `[governance] human_request_intents`.
pub(super) const ASKS_PERSON: u16 = 1 << 5;
/// A user call, as a customer message for first response only (`[calls] frt = true`).
pub(super) const CALL_CUSTOMER: u16 = 1 << 6;
/// An answered call at its answer time, as a visible agent reply for first response only
/// (`[calls] frt = true`).
pub(super) const CALL_REPLY: u16 = 1 << 7;
/// A customer message whose intent is one of `[outcomes] closing_intents` ("thanks"): not the
/// customer's last question.
pub(super) const CLOSING: u16 = 1 << 8;

/// Rows of the messages table read at a time.
const MESSAGE_SLICE: u32 = 1 << 22;

/// The intent code of a message without an intent.
pub(super) const NO_INTENT: u32 = u32::MAX;

/// One message, reduced to what the rules read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Message {
    pub key: u32,
    pub flags: u16,
    /// The intent as an integer code (equal codes, equal intents), or [`NO_INTENT`].
    pub intent: u32,
    pub at: i64,
    pub source_row: u32,
}

impl Message {
    pub fn is(&self, flag: u16) -> bool {
        self.flags & flag != 0
    }

    /// The sort order of the facts: conversation, time, customer messages first among equal
    /// instants, then input order. In it "a customer message came before" means "at or after
    /// `first_customer_at`", and customer messages follow each other by time and input order
    /// (the spec's tie rule).
    fn order(&self) -> (u32, i64, bool, u32) {
        (
            self.key,
            self.at,
            !self.is(CUSTOMER | CALL_CUSTOMER),
            self.source_row,
        )
    }
}

/// The sorted inputs of the per-conversation passes.
pub(super) struct Inputs {
    /// Every message at or before `as_of`, in [`Message::order`].
    pub messages: Vec<Message>,
    /// [`walk::assignments`], in one chunk.
    pub assignments: DataFrame,
    /// The tier of every assignment row.
    pub tiers: Vec<Tier>,
    /// The handoffs at or before `as_of` by conversation, time and input order, in one chunk:
    /// `conversation_key`, `handoff_at` (Int64 ms) and `next_action`.
    pub handoffs: DataFrame,
    /// Which of each handoff's five fields are present: intent, key details, attempted steps,
    /// current status, next action.
    pub present: Vec<[bool; 5]>,
}

impl Inputs {
    pub fn collect(data: &Dataset, config: &Config, as_of: i64) -> Result<Inputs> {
        // Three reads side by side: each has steps on one core (checks, flags).
        let (messages, (assignments, handoffs)) = rayon::join(
            || messages(data, config, as_of),
            || rayon::join(|| walk::assignments(data, as_of), || handoffs(data, as_of)),
        );
        let (messages, assignments, (handoffs, present)) = (messages?, assignments?, handoffs?);
        let tiers = tiers(&assignments, config)?;
        Ok(Inputs {
            messages,
            assignments,
            tiers,
            handoffs,
            present,
        })
    }

    /// With `[calls] frt = true`: every user call becomes a customer message for first
    /// response (at `placed_at`), and every answered call with an answer time a visible reply
    /// (at `answered_at`) for first response and the human first response; no other rule reads
    /// them (whatsapp-2026.md A.4).
    pub fn add_calls(&mut self, calls: &[super::calls::Call]) {
        let call = |key, at, flags| Message {
            key,
            flags,
            intent: NO_INTENT,
            at,
            source_row: u32::MAX,
        };
        for c in calls {
            if c.user {
                self.messages.push(call(c.key, c.placed, CALL_CUSTOMER));
            }
            if let (super::calls::Status::Answered, Some(at)) = (c.status, c.answered_at) {
                self.messages.push(call(c.key, at, CALL_REPLY));
            }
        }
        self.messages.par_sort_unstable_by_key(Message::order);
    }

    /// The customer messages, in the messages' order (by conversation, then time).
    pub fn customer_messages(&self) -> super::CustomerMessages {
        let (key, at) = self
            .messages
            .iter()
            .filter(|m| m.is(CUSTOMER))
            .map(|m| (m.key, m.at))
            .unzip();
        super::CustomerMessages { key, at }
    }

    /// Drops every message but the visible agent messages, which are all the governance pass
    /// reads.
    pub fn keep_agent_messages(&mut self) {
        self.messages.retain(|m| m.is(AGENT | CALL_REPLY));
        self.messages.shrink_to_fit();
    }

    /// The inputs as slices and arrays, for one pass.
    pub fn view(&self) -> Result<View<'_>> {
        let (a, h) = (&self.assignments, &self.handoffs);
        Ok(View {
            messages: &self.messages,
            a_key: walk::slice(a.column(CONVERSATION_KEY)?.u32()?)?,
            a_at: walk::slice(a.column("assigned_at")?.i64()?)?,
            a_lane: Text::of(a, "lane")?,
            a_who: Text::of(a, "assignee_id")?,
            a_reason: Text::of(a, "reason")?,
            tiers: &self.tiers,
            h_key: walk::slice(h.column(CONVERSATION_KEY)?.u32()?)?,
            h_at: walk::slice(h.column("handoff_at")?.i64()?)?,
            h_next: Text::of(h, "next_action")?,
            h_row: walk::slice(h.column(SOURCE_ROW)?.u32()?)?,
            present: &self.present,
        })
    }
}

/// A String column of a frame in one chunk, read by row.
#[derive(Clone, Copy)]
pub(super) struct Text<'a>(Option<&'a <StringType as PolarsDataType>::Array>);

impl<'a> Text<'a> {
    pub fn of(frame: &'a DataFrame, name: &str) -> Result<Text<'a>> {
        let ca = frame.column(name)?.str()?;
        anyhow::ensure!(ca.chunks().len() <= 1, "{name}: expected one chunk");
        Ok(Text(ca.downcast_get(0)))
    }

    pub fn get(&self, row: usize) -> Option<&'a str> {
        self.0.and_then(|a| a.get(row))
    }
}

/// The conversations frame of the facts (sorted by `key`, in one chunk), read by row.
pub(super) struct Conversations<'a> {
    pub key: &'a [u32],
    pub opened: &'a [i64],
    closed: Option<&'a <Int64Type as PolarsDataType>::Array>,
    pub id: Text<'a>,
    pub customer: Text<'a>,
    pub channel: Text<'a>,
    pub intent: Text<'a>,
}

impl<'a> Conversations<'a> {
    pub fn of(frame: &'a DataFrame) -> Result<Conversations<'a>> {
        Ok(Conversations {
            key: walk::slice(frame.column("key")?.u32()?)?,
            opened: walk::slice(frame.column("opened_at")?.i64()?)?,
            closed: frame.column("closed_at")?.i64()?.downcast_get(0),
            id: Text::of(frame, "conversation_id")?,
            customer: Text::of(frame, "customer_id")?,
            channel: Text::of(frame, "channel")?,
            intent: Text::of(frame, "intent")?,
        })
    }

    pub fn len(&self) -> usize {
        self.key.len()
    }

    pub fn closed(&self, row: usize) -> Option<i64> {
        self.closed.and_then(|a| a.get(row))
    }

    /// The first key of the rows `range`.
    pub fn first_key(&self, range: &Range<usize>) -> u32 {
        self.key.get(range.start).copied().unwrap_or(0)
    }
}

/// The inputs of one pass: slices and arrays, no copies.
pub(super) struct View<'a> {
    messages: &'a [Message],
    a_key: &'a [u32],
    a_at: &'a [i64],
    a_lane: Text<'a>,
    a_who: Text<'a>,
    a_reason: Text<'a>,
    tiers: &'a [Tier],
    h_key: &'a [u32],
    h_at: &'a [i64],
    h_next: Text<'a>,
    h_row: &'a [u32],
    present: &'a [[bool; 5]],
}

/// One assignment row of a conversation, in assignment order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row<'a> {
    pub at: i64,
    pub lane: &'a str,
    /// The lane's tier, looked up once per lane.
    pub tier: Tier,
    pub assignee: Option<&'a str>,
    pub reason: Option<&'a str>,
}

/// One handoff of a conversation, in time and input order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Handoff<'a> {
    pub at: i64,
    /// The handoff's input row (`source_row`).
    pub row: u32,
    /// Which of intent, key details, attempted steps, current status and next action are
    /// present.
    pub present: [bool; 5],
    /// `next_action`, when present.
    pub next_action: Option<&'a str>,
}

/// The events of one conversation.
pub(super) struct Events<'v, 'a> {
    view: &'v View<'a>,
    pub messages: &'a [Message],
    assignments: Range<usize>,
    handoffs: Range<usize>,
}

impl<'a> Events<'_, 'a> {
    /// The input position (row of [`Inputs::assignments`]) of the first of [`Events::rows`].
    pub fn first_row(&self) -> usize {
        self.assignments.start
    }

    /// The assignment rows at or before the close (routing after the close is not part of
    /// the handling; every fact ignores it).
    pub fn rows(&self, closed_at: Option<i64>) -> impl Iterator<Item = Row<'a>> + '_ {
        let v = self.view;
        self.assignments
            .clone()
            .filter(move |&j| closed_at.is_none_or(|c| v.a_at[j] <= c))
            .map(move |j| Row {
                at: v.a_at[j],
                lane: v.a_lane.get(j).unwrap_or_default(),
                tier: v.tiers[j],
                assignee: v.a_who.get(j),
                reason: v.a_reason.get(j),
            })
    }

    pub fn handoffs(&self) -> impl Iterator<Item = Handoff<'a>> + '_ {
        let v = self.view;
        self.handoffs.clone().map(move |j| Handoff {
            at: v.h_at[j],
            row: v.h_row[j],
            present: v.present[j],
            next_action: v.h_next.get(j).filter(|t| present(Some(t))),
        })
    }
}

impl<'a> View<'a> {
    /// A cursor over the events of conversations with keys from `first` up, asked for in
    /// ascending key order.
    pub fn cursor(&self, first: u32) -> Cursor<'_, 'a> {
        Cursor {
            view: self,
            m: self.messages.partition_point(|m| m.key < first),
            a: self.a_key.partition_point(|&k| k < first),
            h: self.h_key.partition_point(|&k| k < first),
        }
    }
}

/// A position in each input, moving forward with the conversation keys.
pub(super) struct Cursor<'v, 'a> {
    view: &'v View<'a>,
    m: usize,
    a: usize,
    h: usize,
}

impl<'v, 'a> Cursor<'v, 'a> {
    /// The events of conversation `key` (keys asked for in ascending order).
    pub fn events(&mut self, key: u32) -> Events<'v, 'a> {
        let v = self.view;
        let messages = walk::take_by(v.messages.len(), &mut self.m, key, |i| v.messages[i].key);
        Events {
            view: v,
            messages: &v.messages[messages],
            assignments: walk::take(v.a_key, &mut self.a, key),
            handoffs: walk::take(v.h_key, &mut self.h, key),
        }
    }
}

/// The tier of every assignment row, looked up once per lane.
fn tiers(assignments: &DataFrame, config: &Config) -> Result<Vec<Tier>> {
    let mut tiers: PlHashMap<&str, Tier> = PlHashMap::new();
    Ok(assignments
        .column("lane")?
        .str()?
        .iter()
        .map(|lane| {
            let lane = lane.unwrap_or_default();
            *tiers.entry(lane).or_insert_with(|| config.tier(lane))
        })
        .collect())
}

fn messages(data: &Dataset, config: &Config, as_of: i64) -> Result<Vec<Message>> {
    let sender = col("sender");
    let flag = |cond: Expr, bit: u16| {
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
    let closing = config
        .outcomes
        .closing_intents
        .iter()
        .fold(lit(false), |any, intent| {
            any.or(col("intent").eq(lit(intent.clone())).fill_null(lit(false)))
        });
    let table = data.table(Table::Messages)?;
    let rows = crate::warehouse::row_count(table.clone())?;
    let columns = [
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
            + flag(asks_for_person, ASKS_PERSON)
            + flag(closing, CLOSING))
        .cast(DataType::UInt32)
        .alias("flags"),
        // A categorical's physical value: equal intents, equal codes.
        col("intent")
            .cast(DataType::from_categories(Categories::global()))
            .to_physical()
            .cast(DataType::UInt32)
            .fill_null(lit(NO_INTENT))
            .alias("intent"),
    ];
    // Read in slices of the table, so that only one slice is ever held twice (as polars
    // columns and as messages).
    // Room for every row at once: growing would copy the messages read so far.
    let mut out: Vec<Message> = Vec::with_capacity(rows as usize);
    let mut offset = 0;
    while offset < rows {
        let frame = stream(
            table
                .clone()
                .slice(offset as i64, MESSAGE_SLICE)
                .filter(ms("sent_at").lt_eq(lit(as_of)))
                .select(columns.clone()),
        )?;
        offset += u64::from(MESSAGE_SLICE);
        append_messages(&frame, &mut out)?;
    }
    // Exports usually come in conversation or time order: check before sorting.
    if !out.par_windows(2).all(|w| w[0].order() <= w[1].order()) {
        out.par_sort_unstable_by_key(Message::order);
    }
    Ok(out)
}

/// Appends the rows of a frame of the message columns to `out`, converted in pieces on every
/// core.
fn append_messages(frame: &DataFrame, out: &mut Vec<Message>) -> Result<()> {
    const PIECE: usize = 1 << 16;
    let start = out.len();
    // Room made on every core: the pages are touched in parallel, not by one thread.
    out.par_extend(rayon::iter::repeat_n(Message::default(), frame.height()));
    out[start..]
        .par_chunks_mut(PIECE)
        .enumerate()
        .try_for_each(|(i, piece)| convert(&frame.slice((i * PIECE) as i64, piece.len()), piece))
}

/// Writes the rows of a frame of the message columns into `out` (as long as the frame).
fn convert(frame: &DataFrame, out: &mut [Message]) -> Result<()> {
    let key = frame.column("key")?.u32()?;
    let at = frame.column("at")?.i64()?;
    let source_row = frame.column(SOURCE_ROW)?.u32()?;
    let flags = frame.column("flags")?.u32()?;
    let intent = frame.column("intent")?.u32()?;
    let rows = key
        .into_no_null_iter()
        .zip(at.iter())
        .zip(source_row.into_no_null_iter())
        .zip(flags.into_no_null_iter())
        .zip(intent.into_no_null_iter());
    for (m, ((((key, at), source_row), flags), intent)) in out.iter_mut().zip(rows) {
        *m = Message {
            key,
            // Nine bits.
            flags: flags as u16,
            intent,
            // The filter on `sent_at` dropped null instants.
            at: at.unwrap_or(i64::MIN),
            source_row,
        };
    }
    Ok(())
}

/// Whether a brief field is present: not null and not blank.
fn present(text: Option<&str>) -> bool {
    text.is_some_and(|t| !t.trim().is_empty())
}

fn handoffs(data: &Dataset, as_of: i64) -> Result<(DataFrame, Vec<[bool; 5]>)> {
    const FIELDS: [&str; 5] = [
        "intent",
        "key_details",
        "attempted_steps",
        "current_status",
        "next_action",
    ];
    // The input row stays: a specialist entry names its brief by it (text.md).
    let mut frame = walk::by_conversation(
        data.table(Table::Handoffs)?,
        "handoff_at",
        as_of,
        &[&FIELDS[..], &[SOURCE_ROW]].concat(),
    )?;
    let mut flags = vec![[false; 5]; frame.height()];
    for (field, name) in FIELDS.iter().enumerate() {
        let column = frame.column(name)?.str()?;
        for (row, value) in flags.iter_mut().zip(column.iter()) {
            row[field] = present(value);
        }
    }
    for name in &FIELDS[..4] {
        frame.drop_in_place(name)?;
    }
    Ok((frame, flags))
}

/// A minute, for hand-made test timelines.
#[cfg(test)]
pub(super) const TEST_MINUTE: i64 = 60_000;

/// A message `at_min` minutes after the epoch, for tests.
#[cfg(test)]
pub(super) fn test_message(at_min: i64, flags: u16, intent: u32) -> Message {
    Message {
        key: 0,
        flags,
        intent,
        at: at_min * TEST_MINUTE,
        source_row: 0,
    }
}

/// An assignment row `at_min` minutes after the epoch, with the default lanes' tier, for tests.
#[cfg(test)]
pub(super) fn test_row(
    at_min: i64,
    lane: &'static str,
    assignee: Option<&'static str>,
    reason: Option<&'static str>,
) -> Row<'static> {
    Row {
        at: at_min * TEST_MINUTE,
        lane,
        tier: crate::config::Config::default().tier(lane),
        assignee,
        reason,
    }
}
