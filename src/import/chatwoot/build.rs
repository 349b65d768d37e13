//! One Chatwoot conversation's snapshots and messages → care cycles, assignment rows (diff of
//! consecutive snapshots), message, brief and failure rows.

use std::collections::HashMap;

use anyhow::Result;

use super::payload::{Key, Message, MessageType, Snapshot};
use super::{Options, Sinks};
use crate::config::{Config, Tier};
use crate::import::ImportSummary;
use crate::time::format_rfc3339;

pub struct Builder<'a> {
    pub options: &'a Options,
    pub config: &'a Config,
    pub fallback: Option<regex::Regex>,
    pub sinks: &'a mut Sinks,
    pub summary: &'a mut ImportSummary,
    /// Conversation → the first agent bot seen sending in it.
    pub bot_ids: HashMap<Key, String>,
}

/// The routing state carried between snapshots.
#[derive(Clone, PartialEq)]
struct Routing {
    status: Option<String>,
    team: Option<String>,
    assignee: Option<String>,
    inbox: Option<String>,
}

impl Builder<'_> {
    fn lane(&self, state: &Routing) -> String {
        let lanes = &self.options.lanes;
        if let Some(team) = &state.team {
            return lanes
                .get(team)
                .cloned()
                .unwrap_or_else(|| team.to_lowercase());
        }
        match &state.inbox {
            Some(inbox) => {
                let key = format!("inbox:{inbox}");
                lanes.get(&key).cloned().unwrap_or(key)
            }
            None => "unassigned".to_owned(),
        }
    }

    fn bot_lane(&self) -> String {
        self.options
            .bot_lane
            .clone()
            .unwrap_or_else(|| "automation".to_owned())
    }

    pub fn conversation(
        &mut self,
        key: &Key,
        mut snapshots: Vec<Snapshot>,
        messages: Vec<Message>,
    ) -> Result<()> {
        let (account, id) = key;
        snapshots.sort_by_key(|s| (s.at, s.seq));
        let messages = self.dedupe(messages);
        let starts = self.cycles(&snapshots, &messages);
        let cycle_of = |at: i64| starts.iter().rposition(|&(s, _)| s <= at).unwrap_or(0);
        let split = self.options.split_cycles.unwrap_or(true);
        let cycle_id = |n: usize| {
            if split {
                format!("cw:{account}:{id}#{}", n + 1)
            } else {
                format!("cw:{account}:{id}")
            }
        };
        if let Some(bot) = messages
            .iter()
            .find(|m| m.sender_type.as_deref() == Some("agent_bot"))
            .and_then(|m| m.sender_id.clone())
        {
            self.bot_ids.insert(key.clone(), bot);
        }

        // Assignments: the first snapshot, each cycle's start, and every change.
        let mut state: Option<Routing> = None;
        let mut lane = String::new();
        let mut next_cycle = 1;
        // Each snapshot, then an end marker so that cycles started after the last one get
        // their initial row too.
        for snap in snapshots.iter().map(Some).chain([None]) {
            let until = snap.map_or(i64::MAX, |s| s.at);
            while next_cycle < starts.len() && starts[next_cycle].0 <= until {
                if let Some(s) = &state {
                    lane = self.lane(s);
                    self.assignment(
                        &cycle_id(next_cycle),
                        starts[next_cycle].0,
                        &lane,
                        s.assignee.as_deref(),
                        Some("initial"),
                        account,
                    )?;
                }
                next_cycle += 1;
            }
            let Some(snap) = snap else { break };
            let new = Routing {
                status: snap
                    .status
                    .clone()
                    .or_else(|| state.as_ref().and_then(|s| s.status.clone())),
                team: snap.team.clone(),
                assignee: snap.assignee.clone(),
                inbox: snap
                    .inbox
                    .clone()
                    .or_else(|| state.as_ref().and_then(|s| s.inbox.clone())),
            };
            let conversation = cycle_id(cycle_of(snap.at));
            match &state {
                None => {
                    if new.status.as_deref() == Some("pending") {
                        lane = self.bot_lane();
                        let bot = self.bot_ids.get(key).map(|b| format!("bot:{b}"));
                        self.assignment(
                            &conversation,
                            snap.at,
                            &lane,
                            bot.as_deref(),
                            Some("initial"),
                            account,
                        )?;
                    } else {
                        lane = self.lane(&new);
                        let who = new.assignee.clone();
                        self.assignment(
                            &conversation,
                            snap.at,
                            &lane,
                            who.as_deref(),
                            Some("initial"),
                            account,
                        )?;
                    }
                }
                Some(old) => {
                    let handoff = old.status.as_deref() == Some("pending")
                        && new.status.as_deref() == Some("open");
                    if handoff {
                        lane = self.lane(&new);
                        self.assignment(
                            &conversation,
                            snap.at,
                            &lane,
                            new.assignee.as_deref(),
                            Some("escalation"),
                            account,
                        )?;
                    } else if old.team != new.team {
                        let to = self.lane(&new);
                        let rises = self.config.tier(&lane).rank() <= Tier::L1.rank()
                            && self.config.tier(&to).is_specialist();
                        lane = to;
                        let reason = rises.then_some("escalation");
                        self.assignment(
                            &conversation,
                            snap.at,
                            &lane,
                            new.assignee.as_deref(),
                            reason,
                            account,
                        )?;
                    } else if old.assignee != new.assignee {
                        let reason = if old.assignee.is_none() {
                            "claim"
                        } else {
                            "reassign"
                        };
                        self.assignment(
                            &conversation,
                            snap.at,
                            &lane,
                            new.assignee.as_deref(),
                            Some(reason),
                            account,
                        )?;
                    }
                }
            }
            if self.options.briefs_from_attributes
                && let Some(brief) = &snap.brief
            {
                self.brief(&conversation, snap.at, brief)?;
            }
            state = Some(new);
        }

        for m in &messages {
            self.message(&cycle_id(cycle_of(m.at)), m, account)?;
        }

        // Conversation rows, one per cycle.
        let customer = snapshots.iter().rev().find_map(|s| s.customer.clone());
        let customer_id = customer.map(|c| format!("cw:{account}:{c}"));
        let source = snapshots
            .iter()
            .rev()
            .find_map(|s| s.source_id.clone())
            .unwrap_or_default();
        let channel = snapshots
            .iter()
            .rev()
            .find_map(|s| s.channel.clone())
            .map(|raw| channel(&raw, &source));
        let segment = snapshots.iter().rev().find_map(|s| s.segment.clone());
        let intent = snapshots.iter().find_map(|s| s.intent.clone());
        let inbox = snapshots.iter().rev().find_map(|s| s.inbox.clone());
        let source_id = format!("cw:{account}:{id}");
        for (n, &(start, closed)) in starts.iter().enumerate() {
            let opened = format_rfc3339(start);
            let closed = closed.map(format_rfc3339);
            self.sinks.conversations.row(&[
                Some(&cycle_id(n)),
                customer_id.as_deref(),
                channel.as_deref(),
                segment.as_deref(),
                intent.as_deref(),
                Some(&opened),
                closed.as_deref(),
                Some(&source_id),
                inbox.as_deref(),
            ])?;
        }
        Ok(())
    }

    /// Messages by id, the last state seen winning (`message_updated` after `message_created`).
    fn dedupe(&mut self, mut messages: Vec<Message>) -> Vec<Message> {
        messages.sort_by_key(|m| m.seq);
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut kept: Vec<Message> = Vec::new();
        for m in messages {
            match index.get(&m.id) {
                Some(&i) => {
                    self.summary.skip("message_updates");
                    let first = &mut kept[i];
                    first.failed |= m.failed;
                    if m.external_error.is_some() {
                        first.external_error = m.external_error;
                    }
                }
                None => {
                    index.insert(m.id.clone(), kept.len());
                    kept.push(m);
                }
            }
        }
        kept.sort_by_key(|m| (m.at, m.seq));
        kept
    }

    /// Care cycles: (start, closed_at). A cycle ends resolved; the next starts at the first
    /// reopen snapshot or incoming message after the resolve, whichever is earlier.
    fn cycles(&self, snapshots: &[Snapshot], messages: &[Message]) -> Vec<(i64, Option<i64>)> {
        let created = snapshots.iter().filter_map(|s| s.created_at).min();
        let first_message = messages.first().map(|m| m.at);
        let first_snapshot = snapshots.first().map(|s| s.at);
        let opened = [created, first_message, first_snapshot]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(0);
        // Status changes and customer messages, in time order.
        enum Step<'s> {
            Status(&'s str),
            Incoming,
        }
        let mut steps: Vec<(i64, u64, Step<'_>)> = snapshots
            .iter()
            .filter_map(|s| {
                s.status
                    .as_deref()
                    .map(|st| (s.at, s.seq, Step::Status(st)))
            })
            .collect();
        steps.extend(
            messages
                .iter()
                .filter(|m| m.message_type == MessageType::Incoming && !m.private)
                .map(|m| (m.at, m.seq, Step::Incoming)),
        );
        steps.sort_by_key(|(at, seq, _)| (*at, *seq));
        let split = self.options.split_cycles.unwrap_or(true);
        let mut cycles: Vec<(i64, Option<i64>)> = vec![(opened, None)];
        let mut resolved_at: Option<i64> = None;
        for (at, _, step) in steps {
            let reopens = match step {
                Step::Status(status) => status != "resolved",
                Step::Incoming => true,
            };
            match resolved_at {
                None => {
                    if let Step::Status("resolved") = step {
                        resolved_at = Some(at);
                    }
                }
                Some(r) if reopens && (at > r || matches!(step, Step::Status(_))) => {
                    cycles.last_mut().expect("a cycle").1 = Some(r);
                    resolved_at = None;
                    if split {
                        cycles.push((at, None));
                    } else {
                        cycles.last_mut().expect("a cycle").1 = None;
                    }
                }
                Some(_) => {}
            }
        }
        if let Some(r) = resolved_at {
            cycles.last_mut().expect("a cycle").1 = Some(r);
        }
        cycles
    }

    fn assignment(
        &mut self,
        conversation: &str,
        at: i64,
        lane: &str,
        assignee: Option<&str>,
        reason: Option<&str>,
        account: &str,
    ) -> Result<()> {
        let at = format_rfc3339(at);
        let assignee = assignee.map(|a| {
            if a.starts_with("bot:") {
                format!("cw:{account}:{a}")
            } else {
                format!("cw:{account}:user:{a}")
            }
        });
        self.sinks.assignments.row(&[
            Some(conversation),
            Some(&at),
            Some(lane),
            assignee.as_deref(),
            reason,
        ])
    }

    fn brief(&mut self, conversation: &str, at: i64, fields: &[Option<String>; 5]) -> Result<()> {
        let at = format_rfc3339(at);
        let f = |i: usize| fields[i].as_deref();
        self.sinks
            .handoffs
            .row(&[Some(conversation), Some(&at), f(0), f(1), f(2), f(3), f(4)])
    }

    fn message(&mut self, conversation: &str, m: &Message, account: &str) -> Result<()> {
        let user = m.sender_type.as_deref() == Some("user");
        let contact = m.sender_type.as_deref() == Some("contact");
        let unknown_sender = || match self.options.outgoing_unknown_sender.as_deref() {
            Some("agent") => "agent",
            _ => "bot",
        };
        let sender = match m.message_type {
            MessageType::Incoming => "customer",
            MessageType::Activity => {
                if !self.options.include_activity {
                    self.summary.skip("activity_messages");
                    return Ok(());
                }
                "system"
            }
            MessageType::Template => "bot",
            MessageType::Outgoing if m.private => {
                if user || m.sender_type.is_none() {
                    "agent"
                } else {
                    "bot"
                }
            }
            MessageType::Outgoing if user => "agent",
            MessageType::Outgoing if m.sender_type.is_some() && !contact => "bot",
            MessageType::Outgoing if m.automated => "bot",
            MessageType::Outgoing => unknown_sender(),
        };
        let interactive = matches!(
            m.content_type.as_deref(),
            Some("input_select" | "cards" | "form" | "input_csat" | "input_email")
        );
        let kind = match m.message_type {
            MessageType::Activity => "internal_note",
            _ if m.private => "internal_note",
            MessageType::Incoming if m.attachments => "media",
            MessageType::Incoming if m.submitted_values => "interactive",
            MessageType::Incoming => "text",
            MessageType::Template
                if matches!(
                    m.content_type.as_deref(),
                    Some("input_csat" | "input_email")
                ) =>
            {
                "interactive"
            }
            MessageType::Template => "text",
            MessageType::Outgoing if m.template_name.is_some() => "template",
            MessageType::Outgoing if interactive => "interactive",
            MessageType::Outgoing if m.attachments => "media",
            MessageType::Outgoing => "text",
        };
        let message_id = format!("cw:{account}:{}", m.id);
        let at = format_rfc3339(m.at);
        if m.failed || m.external_error.is_some() {
            let error = m.external_error.as_deref().unwrap_or("");
            let digits: String = error.chars().take_while(char::is_ascii_digit).collect();
            let title = match error.split_once(':') {
                Some((code, title)) if !digits.is_empty() && code.trim() == digits => title.trim(),
                _ => error,
            };
            return self.sinks.failures.row(&[
                Some(&message_id),
                Some(conversation),
                Some(&at),
                (!digits.is_empty()).then_some(digits.as_str()),
                (!title.is_empty()).then_some(title),
                m.template_name.as_deref(),
                Some(sender),
            ]);
        }
        let fallback = sender == "bot"
            && self
                .fallback
                .as_ref()
                .is_some_and(|re| m.content.as_deref().is_some_and(|c| re.is_match(c)));
        let author = m.sender_id.as_deref();
        // A brief note becomes a handoff row; its message keeps no text, so that the brief is
        // scanned once (text.md).
        let brief = (self.options.briefs_from_notes && m.private)
            .then(|| {
                let marker = self.options.brief_marker.as_deref().unwrap_or("#brief");
                m.content.as_deref().and_then(|c| parse_brief(c, marker))
            })
            .flatten();
        let text = if brief.is_some() {
            None
        } else {
            m.content.as_deref()
        };
        self.sinks.messages.row(&[
            Some(&message_id),
            Some(conversation),
            Some(&at),
            Some(sender),
            Some(kind),
            fallback.then_some("true"),
            None,
            m.template_name.as_deref(),
            text,
            None,
            m.source_id.as_deref(),
            author,
        ])?;
        if let Some(brief) = brief {
            self.brief(conversation, m.at, &brief)?;
        }
        Ok(())
    }
}

/// A private note starting with the marker → (intent, details, tried, status, next) from its
/// `Intent:`, `Details:`, `Tried:`, `Status:`, `Next:` lines.
pub fn parse_brief(content: &str, marker: &str) -> Option<[Option<String>; 5]> {
    let rest = content.trim_start().strip_prefix(marker)?;
    let mut fields: [Option<String>; 5] = Default::default();
    for line in rest.lines() {
        let Some((label, value)) = line.split_once(':') else {
            continue;
        };
        let slot = match label.trim().to_lowercase().as_str() {
            "intent" => 0,
            "details" => 1,
            "tried" => 2,
            "status" => 3,
            "next" => 4,
            _ => continue,
        };
        let value = value.trim();
        if !value.is_empty() {
            fields[slot] = Some(value.to_owned());
        }
    }
    Some(fields)
}

/// Chatwoot's channel class → l2lens channel.
pub fn channel(raw: &str, source_id: &str) -> String {
    match raw {
        "Channel::Whatsapp" => "whatsapp".to_owned(),
        "Channel::TwilioSms" if source_id.starts_with("whatsapp:") => "whatsapp".to_owned(),
        "Channel::TwilioSms" | "Channel::Sms" => "sms".to_owned(),
        "Channel::WebWidget" => "webchat".to_owned(),
        "Channel::Email" => "email".to_owned(),
        other => other
            .strip_prefix("Channel::")
            .unwrap_or(other)
            .to_lowercase(),
    }
}
