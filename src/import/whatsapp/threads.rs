//! The thread rule and the close rule, applied to the buffered events of one customer on one
//! business number, and the rows each finished thread becomes.
//!
//! A key's events are sorted by (time, input order). A conversation starts at the first event,
//! or at a visible message when the current one is closed at that instant: the business had the
//! last word and no visible message followed for `idle_close_hours`. Statuses of one wamid make
//! one outbound message at the earliest visible status, or one send failure when none is visible.

use std::collections::{HashMap, HashSet};

use anyhow::Result;

use super::calls::{CallRow, aggregate};
use super::events::{Body, CallEventKind, Event, Inbound, Status, StatusKind, tracker_value};
use super::{Outbound, Writer};
use crate::time::MS_PER_HOUR;
use write::write_thread;

mod write;

/// The state of one (business number, customer) key.
#[derive(Default)]
pub struct KeyState {
    /// Events not yet written: the open thread, and anything newer than the last flush.
    pub events: Vec<Event>,
    /// The latest thread written for the key.
    pub written: Option<Written>,
    /// New events arrived since the last flush.
    pub dirty: bool,
    /// When the retained thread can close if nothing arrives (business had the last word).
    pub closes_at: Option<i64>,
}

pub struct Written {
    pub conversation_id: String,
    /// Events before this instant would have changed the written thread.
    pub horizon: i64,
    /// Business wamids of the thread, for `reopens`.
    pub business: HashSet<String>,
}

/// Who a message is from, as the thread rule sees it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Customer,
    Business,
    /// Part of the thread, but neither opens nor keeps it open (failures, system notices, an
    /// unanswered business call).
    Hidden,
    /// An answered business call at its placement: opens a thread when none is open, but is
    /// nobody's word (its end is).
    CallStart,
}

enum What {
    Inbound(usize),
    Echo(usize),
    Outbound(usize),
    Failure(usize),
    /// A call (its row), at its placement.
    Call(usize),
    /// The end of an answered call: the business's word.
    CallEnd,
}

struct Item {
    at: i64,
    seq: u64,
    class: Class,
    what: What,
}

/// The statuses of one wamid.
struct Grouped {
    statuses: Vec<usize>,
    visible_at: Option<i64>,
    failed_at: Option<i64>,
    delivered_at: Option<i64>,
    read_at: Option<i64>,
}

struct Draft {
    items: Vec<usize>,
    last_customer: Option<i64>,
    last_business: Option<i64>,
    business_last_word: bool,
}

impl Draft {
    fn new() -> Draft {
        Draft {
            items: Vec::new(),
            last_customer: None,
            last_business: None,
            business_last_word: false,
        }
    }

    /// Closed at `t`: the business had the last word and `idle` passed without a visible message.
    fn closed_at(&self, t: i64, idle: i64) -> Option<i64> {
        let last = self.last_business?;
        (self.business_last_word && t - last >= idle).then_some(last)
    }
}

/// Writes every thread of `state` that is finished by `limit` (all of them when `last`), and
/// keeps the events of a thread that may still grow.
pub fn flush(
    key: &(String, String),
    state: &mut KeyState,
    limit: i64,
    last: bool,
    writer: &mut Writer,
) -> Result<()> {
    state.dirty = false;
    let idle = writer.options.idle_ms();
    let mut events = std::mem::take(&mut state.events);
    events.sort_by_key(|e| (e.at, e.seq));

    // De-duplicate: messages by id, statuses by (id, status, time).
    let mut seen_messages: HashSet<&str> = HashSet::new();
    let mut seen_statuses: HashSet<(&str, StatusKind, i64)> = HashSet::new();
    let mut seen_calls: HashSet<(&str, CallEventKind, i64)> = HashSet::new();
    let mut keep = vec![true; events.len()];
    for (i, e) in events.iter().enumerate() {
        let fresh = match &e.body {
            Body::Status(s) => seen_statuses.insert((s.id.as_str(), s.status, e.at)),
            Body::Call(c) => seen_calls.insert((c.id.as_str(), c.event, e.at)),
            _ => seen_messages.insert(e.id()),
        };
        if !fresh {
            keep[i] = false;
            let reason = match e.body {
                Body::Status(_) => "duplicate_statuses",
                Body::Call(_) => "duplicate_call_events",
                _ => "duplicate_messages",
            };
            writer.summary.skip(reason);
        }
    }

    // Group call events by call id, in order of first appearance; each group is one call.
    let mut call_events: Vec<Vec<usize>> = Vec::new();
    let mut call_of: HashMap<&str, usize> = HashMap::new();
    for (i, e) in events.iter().enumerate() {
        let Body::Call(c) = &e.body else { continue };
        if !keep[i] {
            continue;
        }
        let g = *call_of.entry(c.id.as_str()).or_insert_with(|| {
            call_events.push(Vec::new());
            call_events.len() - 1
        });
        call_events[g].push(i);
    }
    let calls: Vec<CallRow> = call_events
        .iter()
        .map(|parts| {
            let parts: Vec<(i64, &super::events::CallPart)> = parts
                .iter()
                .filter_map(|&i| match &events[i].body {
                    Body::Call(c) => Some((events[i].at, c)),
                    _ => None,
                })
                .collect();
            aggregate(&parts, None).expect("a call group has an event")
        })
        .collect();

    // Group statuses by wamid, in order of first appearance.
    let mut groups: Vec<Grouped> = Vec::new();
    let mut group_of: HashMap<&str, usize> = HashMap::new();
    for (i, e) in events.iter().enumerate() {
        let Body::Status(s) = &e.body else { continue };
        if !keep[i] {
            continue;
        }
        let g = *group_of.entry(s.id.as_str()).or_insert_with(|| {
            groups.push(Grouped {
                statuses: Vec::new(),
                visible_at: None,
                failed_at: None,
                delivered_at: None,
                read_at: None,
            });
            groups.len() - 1
        });
        let group = &mut groups[g];
        group.statuses.push(i);
        let min = |slot: &mut Option<i64>| *slot = Some(slot.map_or(e.at, |v| v.min(e.at)));
        match s.status {
            StatusKind::Failed => min(&mut group.failed_at),
            StatusKind::Delivered => {
                min(&mut group.visible_at);
                min(&mut group.delivered_at);
            }
            StatusKind::Read | StatusKind::Played => {
                min(&mut group.visible_at);
                min(&mut group.read_at);
            }
            StatusKind::Sent => min(&mut group.visible_at),
        }
    }

    let mut items: Vec<Item> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        if !keep[i] {
            continue;
        }
        match &e.body {
            Body::Inbound(m) => items.push(Item {
                at: e.at,
                seq: e.seq,
                class: if m.system {
                    Class::Hidden
                } else {
                    Class::Customer
                },
                what: What::Inbound(i),
            }),
            Body::Echo { .. } => items.push(Item {
                at: e.at,
                seq: e.seq,
                class: Class::Business,
                what: What::Echo(i),
            }),
            Body::Status(_) | Body::Call(_) => {}
        }
    }
    for (g, call) in calls.iter().enumerate() {
        let seq = events[call_events[g][0]].seq;
        let class = match (call.user, call.answered()) {
            (true, _) => Class::Customer,
            (false, true) => Class::CallStart,
            (false, false) => Class::Hidden,
        };
        items.push(Item {
            at: call.placed_at,
            seq,
            class,
            what: What::Call(g),
        });
        if let Some(at) = call.business_word_at() {
            items.push(Item {
                at,
                seq,
                class: Class::Business,
                what: What::CallEnd,
            });
        }
    }
    for (g, group) in groups.iter().enumerate() {
        let seq = events[group.statuses[0]].seq;
        match (group.visible_at, group.failed_at) {
            (Some(at), _)
                if group.delivered_at.is_some()
                    || group.read_at.is_some()
                    || group.failed_at.is_none() =>
            {
                items.push(Item {
                    at,
                    seq,
                    class: Class::Business,
                    what: What::Outbound(g),
                });
            }
            (_, Some(at)) => items.push(Item {
                at,
                seq,
                class: Class::Hidden,
                what: What::Failure(g),
            }),
            (Some(at), None) => items.push(Item {
                at,
                seq,
                class: Class::Business,
                what: What::Outbound(g),
            }),
            (None, None) => unreachable!("a group has at least one status"),
        }
    }
    items.sort_by_key(|item| (item.at, item.seq));

    // The thread rule.
    let mut drafts: Vec<Draft> = Vec::new();
    for (n, item) in items.iter().enumerate() {
        // An unanswered business call joins the key's latest thread, never opens one.
        if let (What::Call(g), None) = (&item.what, drafts.last())
            && item.class == Class::Hidden
        {
            let call = &calls[*g];
            match &state.written {
                Some(written) => {
                    let id = written.conversation_id.clone();
                    writer.call(call, &id, &key.0)?;
                    writer
                        .summary
                        .skip_n("merged_call_events", call_events[*g].len() as u64 - 1);
                }
                None => {
                    let first = &events[call_events[*g][0]];
                    let (line, file) = match &first.body {
                        Body::Call(c) => (first.line, c.file.clone()),
                        _ => (first.line, String::new()),
                    };
                    writer
                        .summary
                        .skip_n("calls_without_thread", call_events[*g].len() as u64);
                    writer
                        .call_problems
                        .push(crate::import::sink::ImportProblem {
                            file,
                            row: line,
                            column: "call_id".to_owned(),
                            value: call.id.clone(),
                            reason: "call_without_thread".to_owned(),
                        });
                }
            }
            continue;
        }
        let starts = match drafts.last() {
            None => true,
            Some(d) => item.class != Class::Hidden && d.closed_at(item.at, idle).is_some(),
        };
        if starts {
            drafts.push(Draft::new());
        }
        let draft = drafts.last_mut().expect("a draft");
        draft.items.push(n);
        match item.class {
            Class::Customer => {
                draft.last_customer = Some(item.at);
                draft.business_last_word = false;
            }
            Class::Business => {
                draft.last_business = Some(item.at);
                draft.business_last_word = true;
            }
            Class::Hidden | Class::CallStart => {}
        }
    }

    // Which drafts are finished: all but the last, and the last when closed by `limit`.
    let open_last = drafts
        .last()
        .is_some_and(|d| d.closed_at(limit, idle).is_none());
    let finished = if last || !open_last {
        drafts.len()
    } else {
        drafts.len() - 1
    };
    let view = View {
        events: &events,
        items: &items,
        groups: &groups,
        calls: &calls,
        call_events: &call_events,
    };
    for (d, draft) in drafts.iter().enumerate().take(finished) {
        let closed_at = if d + 1 < drafts.len() {
            let next = &items[drafts[d + 1].items[0]];
            draft.closed_at(next.at, idle)
        } else {
            draft.closed_at(limit, idle)
        };
        write_thread(key, state, draft, closed_at, &view, writer)?;
    }
    state.closes_at = None;
    if finished < drafts.len() {
        let draft = &drafts[finished];
        state.closes_at = draft
            .business_last_word
            .then(|| draft.last_business.map(|b| b + idle))
            .flatten();
        let mut retained: Vec<usize> = Vec::new();
        for &n in &draft.items {
            match items[n].what {
                What::Inbound(i) | What::Echo(i) => retained.push(i),
                What::Outbound(g) | What::Failure(g) => retained.extend(&groups[g].statuses),
                What::Call(g) => retained.extend(&call_events[g]),
                What::CallEnd => {}
            }
        }
        retained.sort_unstable();
        let mut taken: Vec<Option<Event>> = events.into_iter().map(Some).collect();
        state.events = retained
            .into_iter()
            .filter_map(|i| taken[i].take())
            .collect();
    }
    Ok(())
}

struct View<'a> {
    events: &'a [Event],
    items: &'a [Item],
    groups: &'a [Grouped],
    calls: &'a [CallRow],
    call_events: &'a [Vec<usize>],
}

/// One message row.
pub struct MessageRow<'a> {
    pub id: &'a str,
    pub conversation_id: &'a str,
    pub at: i64,
    pub sender: &'a str,
    pub kind: &'a str,
    pub intent: Option<&'a str>,
    pub template_name: Option<&'a str>,
    pub agent_id: Option<&'a str>,
    /// What the sender wrote, as given: the messages sink writes it through the storage rule.
    pub text: Option<&'a str>,
    /// Its later edits and revokes.
    pub updates: &'a [super::events::TextUpdate],
    pub status: Option<&'a Status>,
    pub inbound: Option<&'a Inbound>,
    pub delivered_at: Option<i64>,
    pub read_at: Option<i64>,
    /// Typed in the WhatsApp Business app (an echo): not billed.
    pub echo: bool,
}

/// The sender, kind, template and agent of an outbound message, from the side log, the tracker
/// or the default, in that order.
pub fn outbound_fields(
    status: &Status,
    side: Option<&Outbound>,
    default_sender: &'static str,
) -> (Fields, bool) {
    let tracker = status.tracker.as_deref();
    let from_side = side.and_then(|o| o.sender);
    let from_tracker =
        tracker_value(tracker, "sender").and_then(|s| match s.to_lowercase().as_str() {
            "bot" => Some("bot"),
            "agent" => Some("agent"),
            _ => None,
        });
    let known = from_side.or(from_tracker);
    let template = side
        .and_then(|o| o.template.clone())
        .or_else(|| tracker_value(tracker, "template").map(str::to_owned));
    let agent = side
        .and_then(|o| o.agent.clone())
        .or_else(|| tracker_value(tracker, "agent").map(str::to_owned));
    let pmp_template = status
        .pricing_model
        .as_deref()
        .is_some_and(|m| m.eq_ignore_ascii_case("pmp"))
        && status.category.as_deref().is_some_and(|c| {
            matches!(
                c.to_lowercase().as_str(),
                "marketing"
                    | "marketing_lite"
                    | "utility"
                    | "authentication"
                    | "authentication_international"
            )
        });
    let kind = if template.is_some() || pmp_template {
        "template"
    } else {
        "text"
    };
    (
        Fields {
            sender: known.unwrap_or(default_sender),
            kind,
            template,
            agent,
        },
        known.is_none(),
    )
}

pub struct Fields {
    pub sender: &'static str,
    pub kind: &'static str,
    pub template: Option<String>,
    pub agent: Option<String>,
}

/// Milliseconds of a number of hours.
pub fn hours_ms(hours: f64) -> i64 {
    (hours * MS_PER_HOUR as f64).round() as i64
}
