//! `l2lens sample`: a deterministic generator of realistic WhatsApp-first support logs in the
//! canonical schema.
//!
//! Each "episode" (one contact, sometimes followed by a repeat contact in a new conversation)
//! draws from its own random stream, seeded by (seed, episode number), so the output depends
//! only on the arguments. The model covers what the metrics look for: bot triage with fallbacks
//! and repeated intents, escalations with briefs (complete, partial, late or missing), misroutes
//! corrected by `wrong_queue` and by lateral moves with no reason, reassignments, transfers,
//! unclaimed queue items, internal notes, outbound template-first threads, closes, repeat
//! contacts within 48 h, threads left silent, and a few assignments to an unknown lane.
//! Events at or after the export instant (`end`) are not written, and a close after it is
//! left open, as a real export would be.

mod rng;
pub mod sink;

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::ingest::schema::Table;
use crate::progress::Progress;
use crate::time::{MS_PER_DAY, MS_PER_HOUR, MS_PER_SECOND};
use rng::Rng;
pub use sink::SampleFormat;
use sink::{Field, Sink};

const MINUTE: f64 = 60_000.0;
const SECOND: i64 = MS_PER_SECOND;

#[derive(Debug, Clone)]
pub struct SampleSpec {
    pub conversations: u64,
    pub seed: u64,
    pub weeks: u32,
    /// The export instant (exclusive), UTC milliseconds; conversations open in the `weeks`
    /// before it.
    pub end: i64,
    pub format: SampleFormat,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SampleCounts {
    pub conversations: u64,
    pub messages: u64,
    pub assignments: u64,
    pub handoffs: u64,
    pub templates: u64,
}

struct Intent {
    name: Option<&'static str>,
    weight: f64,
    lane: &'static str,
    /// Chance that the bot resolves it without a human.
    bot_solves: f64,
}

const INTENTS: &[Intent] = &[
    intent("order_status", 30.0, "general", 0.95),
    intent("delivery_delayed", 12.0, "general", 0.88),
    intent("password_reset", 10.0, "technical_l2", 0.93),
    intent("billing_error", 8.0, "revenue_protection", 0.75),
    intent("refund_request", 6.0, "revenue_protection", 0.75),
    intent("cancel_subscription", 6.0, "retention", 0.75),
    intent("downgrade_plan", 3.0, "retention", 0.85),
    intent("api_integration", 5.0, "technical_l2", 0.65),
    intent("webhook_failing", 3.0, "technical_l2", 0.55),
    intent("app_crash", 5.0, "technical_l2", 0.85),
    intent("complaint", 5.0, "customer_recovery", 0.55),
    intent("account_hacked", 2.0, "compliance", 0.20),
    intent("data_deletion", 2.0, "compliance", 0.70),
    Intent {
        name: None,
        weight: 3.0,
        lane: "general",
        bot_solves: 0.9,
    },
];

const fn intent(name: &'static str, weight: f64, lane: &'static str, bot_solves: f64) -> Intent {
    Intent {
        name: Some(name),
        weight,
        lane,
        bot_solves,
    }
}

const CHANNELS: &[(&str, f64)] = &[
    ("whatsapp", 78.0),
    ("webchat", 10.0),
    ("email", 7.0),
    ("sms", 3.0),
    ("voice", 2.0),
];
const SEGMENTS: &[(Option<&str>, f64)] = &[
    (Some("enterprise"), 8.0),
    (Some("pro"), 30.0),
    (Some("free"), 48.0),
    (Some("trial"), 12.0),
    (None, 2.0),
];
/// Lateral misroutes happen between these L2 lanes.
const L2_LANES: &[&str] = &[
    "revenue_protection",
    "retention",
    "technical_l2",
    "customer_recovery",
];
const UNKNOWN_LANES: &[&str] = &["legacy_queue", "overflow_tmp"];
const TEMPLATE_NAMES: &[&str] = &["order_update", "payment_reminder", "renewal_notice"];
/// Contacts by hour of day (UTC): quiet nights, busy mornings and afternoons.
const HOUR_WEIGHTS: [f64; 24] = [
    1.0, 0.7, 0.5, 0.5, 0.6, 1.0, 2.0, 3.5, 5.0, 6.0, 6.5, 6.5, 6.0, 6.0, 6.5, 6.5, 6.0, 5.5, 5.0,
    4.5, 4.0, 3.0, 2.0, 1.5,
];

struct Conversation {
    id: String,
    customer: String,
    channel: &'static str,
    segment: Option<&'static str>,
    intent: Option<&'static str>,
    opened: i64,
    closed: Option<i64>,
}

struct Message {
    at: i64,
    sender: &'static str,
    kind: &'static str,
    fallback: bool,
    intent: Option<&'static str>,
    template: Option<&'static str>,
}

struct Assignment {
    at: i64,
    lane: &'static str,
    assignee: Option<String>,
    reason: Option<&'static str>,
}

struct Brief {
    at: i64,
    fields: [Option<&'static str>; 5],
}

/// The events of one conversation, gathered before they are written.
#[derive(Default)]
struct Thread {
    messages: Vec<Message>,
    assignments: Vec<Assignment>,
    briefs: Vec<Brief>,
}

struct Sinks {
    conversations: Sink,
    messages: Sink,
    assignments: Sink,
    handoffs: Sink,
}

pub fn generate(dir: &Path, spec: &SampleSpec, progress: &Progress) -> Result<SampleCounts> {
    if spec.conversations == 0 {
        bail!("--conversations must be at least 1");
    }
    if spec.weeks == 0 {
        bail!("--weeks must be at least 1");
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the output directory {}", dir.display()))?;
    for table in Table::ALL {
        for ext in ["csv", "csv.gz", "jsonl", "ndjson", "parquet"] {
            let stale = dir.join(format!("{}.{ext}", table.name()));
            if stale.exists() {
                std::fs::remove_file(&stale)
                    .with_context(|| format!("cannot replace {}", stale.display()))?;
            }
        }
    }
    let mut sinks = Sinks {
        conversations: Sink::create(dir, Table::Conversations, spec.format)?,
        messages: Sink::create(dir, Table::Messages, spec.format)?,
        assignments: Sink::create(dir, Table::Assignments, spec.format)?,
        handoffs: Sink::create(dir, Table::Handoffs, spec.format)?,
    };
    let mut generator = Generator {
        spec,
        customers: (spec.conversations * 3 / 4).max(1),
        start: spec.end - i64::from(spec.weeks) * 7 * MS_PER_DAY,
        counts: SampleCounts::default(),
        next_message: 0,
        digits: spec.conversations.to_string().len().max(6),
    };
    let bar = progress.items(spec.conversations, "generating conversations");
    let mut episode = 0u64;
    while generator.counts.conversations < spec.conversations {
        generator.episode(episode, &mut sinks)?;
        episode += 1;
        if episode.is_multiple_of(4096) {
            bar.set_position(generator.counts.conversations);
        }
    }
    bar.finish_and_clear();
    sinks.conversations.finish()?;
    sinks.messages.finish()?;
    sinks.assignments.finish()?;
    sinks.handoffs.finish()?;
    generator.counts.templates = write_templates(dir, spec)?;
    Ok(generator.counts)
}

struct Generator<'a> {
    spec: &'a SampleSpec,
    customers: u64,
    start: i64,
    counts: SampleCounts,
    next_message: u64,
    digits: usize,
}

impl Generator<'_> {
    fn episode(&mut self, number: u64, sinks: &mut Sinks) -> Result<()> {
        let mut rng = Rng::new(self.spec.seed, number);
        let customer = rng.range(0, self.customers as i64 - 1) as u64;
        let segment = {
            let mut r = Rng::new(self.spec.seed ^ 0x05E6_5E47, customer);
            let weights: Vec<f64> = SEGMENTS.iter().map(|s| s.1).collect();
            SEGMENTS[r.weighted(&weights)].0
        };
        let channel_weights: Vec<f64> = CHANNELS.iter().map(|c| c.1).collect();
        let channel = CHANNELS[rng.weighted(&channel_weights)].0;
        let intent_weights: Vec<f64> = INTENTS.iter().map(|i| i.weight).collect();
        let intent = &INTENTS[rng.weighted(&intent_weights)];
        let day = rng.range(0, i64::from(self.spec.weeks) * 7 - 1);
        let hour = rng.weighted(&HOUR_WEIGHTS) as i64;
        let opened =
            self.start + day * MS_PER_DAY + hour * MS_PER_HOUR + rng.range(0, 3_599) * SECOND;

        let mut conversation = Conversation {
            id: self.conversation_id(),
            customer: format!("cus_{customer:07}"),
            channel,
            segment,
            intent: intent.name,
            opened,
            closed: None,
        };
        let mut thread = Thread::default();
        conversation.closed = play(&mut rng, &conversation, intent, &mut thread)
            .or_else(|| auto_close(&mut rng, &thread));
        let closed = conversation.closed;
        self.emit(conversation, thread, sinks)?;

        // A repeat contact: the same customer and issue in a new conversation soon after.
        if let Some(closed) = closed
            && self.counts.conversations < self.spec.conversations
            && rng.chance(0.05)
        {
            let gap = if rng.chance(0.8) {
                rng.range(3_600, 47 * 3_600)
            } else {
                rng.range(49 * 3_600, 96 * 3_600)
            };
            let follow_up = Conversation {
                id: self.conversation_id(),
                customer: format!("cus_{customer:07}"),
                channel: "whatsapp",
                segment,
                intent: intent.name,
                opened: closed + gap * SECOND,
                closed: None,
            };
            let mut thread = Thread::default();
            let mut follow_up = follow_up;
            follow_up.closed = play(&mut rng, &follow_up, intent, &mut thread)
                .or_else(|| auto_close(&mut rng, &thread));
            self.emit(follow_up, thread, sinks)?;
        }
        Ok(())
    }

    fn conversation_id(&self) -> String {
        format!(
            "c{:0width$}",
            self.counts.conversations + 1,
            width = self.digits
        )
    }

    /// Writes one conversation and its events, leaving out what happens at or after `end`.
    fn emit(&mut self, c: Conversation, thread: Thread, sinks: &mut Sinks) -> Result<()> {
        let end = self.spec.end;
        if c.opened >= end {
            // Opened after the export: it does not exist yet. Keep the id sequence dense.
            return Ok(());
        }
        self.counts.conversations += 1;
        let closed = c.closed.filter(|t| *t < end);
        sinks.conversations.row(&[
            Field::Str(Some(&c.id)),
            Field::Str(Some(&c.customer)),
            Field::Str(Some(c.channel)),
            Field::Str(c.segment),
            Field::Str(c.intent),
            Field::Ts(Some(c.opened)),
            Field::Ts(closed),
        ])?;
        for m in thread.messages.iter().filter(|m| m.at < end) {
            self.next_message += 1;
            let id = format!("m{:0width$}", self.next_message, width = self.digits + 1);
            sinks.messages.row(&[
                Field::Str(Some(&id)),
                Field::Str(Some(&c.id)),
                Field::Ts(Some(m.at)),
                Field::Str(Some(m.sender)),
                Field::Str(Some(m.kind)),
                Field::Bool(m.fallback.then_some(true)),
                Field::Str(m.intent),
                Field::Str(m.template),
            ])?;
            self.counts.messages += 1;
        }
        for a in thread.assignments.iter().filter(|a| a.at < end) {
            sinks.assignments.row(&[
                Field::Str(Some(&c.id)),
                Field::Ts(Some(a.at)),
                Field::Str(Some(a.lane)),
                Field::Str(a.assignee.as_deref()),
                Field::Str(a.reason),
            ])?;
            self.counts.assignments += 1;
        }
        for b in thread.briefs.iter().filter(|b| b.at < end) {
            sinks.handoffs.row(&[
                Field::Str(Some(&c.id)),
                Field::Ts(Some(b.at)),
                Field::Str(b.fields[0]),
                Field::Str(b.fields[1]),
                Field::Str(b.fields[2]),
                Field::Str(b.fields[3]),
                Field::Str(b.fields[4]),
            ])?;
            self.counts.handoffs += 1;
        }
        Ok(())
    }
}

impl Thread {
    fn say(&mut self, at: i64, sender: &'static str, kind: &'static str) -> &mut Message {
        self.messages.push(Message {
            at,
            sender,
            kind,
            fallback: false,
            intent: None,
            template: None,
        });
        self.messages.last_mut().expect("just pushed")
    }

    fn assign(
        &mut self,
        at: i64,
        lane: &'static str,
        assignee: Option<String>,
        reason: Option<&'static str>,
    ) {
        self.assignments.push(Assignment {
            at,
            lane,
            assignee,
            reason,
        });
    }
}

fn agent(rng: &mut Rng, lane: &str) -> String {
    let prefix = match lane {
        "vip_fast_lane" => "vip",
        "revenue_protection" => "rev",
        "retention" => "ret",
        "technical_l2" => "tech",
        "customer_recovery" => "rec",
        "compliance" => "comp",
        _ => "l1",
    };
    format!("{prefix}-{:03}", rng.range(1, 60))
}

fn secs(rng: &mut Rng, lo: i64, hi: i64) -> i64 {
    rng.range(lo, hi) * SECOND
}

fn lognormal_ms(rng: &mut Rng, median_ms: f64, spread: f64) -> i64 {
    // Cap at two weeks so one extreme draw cannot push a thread out of the data.
    (rng.lognormal(median_ms, spread).min(14.0 * 86_400_000.0) as i64).max(SECOND)
}

/// Plays one conversation; returns its close time (`None`: still open).
fn play(rng: &mut Rng, c: &Conversation, intent: &Intent, thread: &mut Thread) -> Option<i64> {
    let mut t = c.opened;
    if c.channel == "whatsapp" && rng.chance(0.04) {
        return play_outbound(rng, c, intent, thread);
    }
    thread.say(t, "customer", "text").intent = c.intent;
    let enterprise = c.segment == Some("enterprise");
    let bot_handled = matches!(c.channel, "whatsapp" | "webchat")
        && !(enterprise && rng.chance(0.5))
        && rng.chance(0.92);
    if !bot_handled {
        return play_human(rng, c, intent, thread, t, false);
    }
    thread.assign(t, "automation", Some("bot-triage".into()), Some("initial"));
    let trap_prone = rng.chance(0.05);
    let (fallback_p, repeat_p) = if trap_prone {
        (0.55, 0.5)
    } else {
        (0.04, 0.06)
    };
    t += secs(rng, 1, 4);
    thread.say(t, "bot", "interactive");
    let turns = rng.range(0, 2) + if trap_prone { 2 } else { 0 };
    let mut last_intent = c.intent;
    for _ in 0..turns {
        t += lognormal_ms(rng, 0.7 * MINUTE, 0.8);
        let repeated = rng.chance(repeat_p);
        let said = if repeated {
            last_intent
        } else if rng.chance(0.3) {
            Some(*rng.pick(&["talk_to_human", "order_number", "still_waiting"]))
        } else {
            None
        };
        thread.say(t, "customer", "text").intent = said;
        if said.is_some() {
            last_intent = said;
        }
        t += secs(rng, 1, 3);
        let fallback = rng.chance(fallback_p);
        thread.say(t, "bot", "text").fallback = fallback;
    }
    let escalate = rng.chance(1.0 - intent.bot_solves) || (trap_prone && rng.chance(0.5));
    if escalate {
        return play_human(rng, c, intent, thread, t, true);
    }
    if rng.chance(0.06) {
        // The customer went quiet mid-triage and the thread was never closed.
        return None;
    }
    let closed = t + lognormal_ms(rng, 5.0 * MINUTE, 0.8);
    after_close(rng, thread, closed);
    Some(closed)
}

/// A business-initiated thread: an approved template first, then maybe a reply.
fn play_outbound(
    rng: &mut Rng,
    c: &Conversation,
    intent: &Intent,
    thread: &mut Thread,
) -> Option<i64> {
    let mut t = c.opened;
    let owner = agent(rng, "general");
    thread.assign(t, "general", Some(owner), Some("initial"));
    thread.say(t, "agent", "template").template = Some(*rng.pick(TEMPLATE_NAMES));
    if rng.chance(0.25) {
        // No answer: closed as sent after a day or two, or left open.
        return rng.chance(0.7).then(|| t + secs(rng, 86_400, 2 * 86_400));
    }
    t += lognormal_ms(rng, 90.0 * MINUTE, 1.0);
    thread.say(t, "customer", "text").intent = c.intent;
    if rng.chance(0.3) && intent.lane != "general" {
        // Specialist lane assigned right away: the customer's question needs one.
        t += secs(rng, 30, 600);
        thread.assign(t, intent.lane, None, Some("transfer"));
        t += lognormal_ms(rng, 4.0 * MINUTE, 1.0);
        let owner = agent(rng, intent.lane);
        thread.assign(t, intent.lane, Some(owner), Some("claim"));
    }
    t += lognormal_ms(rng, 8.0 * MINUTE, 1.0);
    thread.say(t, "agent", "text");
    let closed = t + lognormal_ms(rng, 30.0 * MINUTE, 1.0);
    after_close(rng, thread, closed);
    Some(closed)
}

/// The brief a specialist receives: complete, partial, minimal or missing; sometimes late.
fn brief(rng: &mut Rng, thread: &mut Thread, escalated_at: i64) {
    let kind = rng.weighted(&[90.0, 5.0, 2.5, 2.5]);
    if kind == 3 {
        return;
    }
    let late = rng.chance(0.04);
    let at = escalated_at
        + if late {
            secs(rng, 120, 900)
        } else {
            secs(rng, 0, 40)
        };
    let fields = match kind {
        0 => [
            Some("customer issue summarised by triage"),
            Some("order or account reference"),
            Some("troubleshooting steps already tried"),
            Some("blocked; needs a specialist"),
            Some("confirm details and resolve"),
        ],
        1 => [
            Some("customer issue summarised by triage"),
            Some("order or account reference"),
            None,
            Some("blocked; needs a specialist"),
            None,
        ],
        _ => [Some("customer issue"), None, None, None, None],
    };
    thread.briefs.push(Brief { at, fields });
}

fn queue_wait(rng: &mut Rng, lane: &str) -> i64 {
    if lane == "vip_fast_lane" {
        lognormal_ms(rng, 20_000.0, 0.9)
    } else {
        lognormal_ms(rng, 4.0 * MINUTE, 1.3)
    }
}

/// The human part: a queue, a claim, maybe a misroute and its correction, a dialogue, a close.
fn play_human(
    rng: &mut Rng,
    c: &Conversation,
    intent: &Intent,
    thread: &mut Thread,
    mut t: i64,
    from_bot: bool,
) -> Option<i64> {
    let enterprise = c.segment == Some("enterprise");
    let target: &'static str = if enterprise && intent.lane != "compliance" && rng.chance(0.7) {
        "vip_fast_lane"
    } else {
        intent.lane
    };
    let misrouted = L2_LANES.contains(&target) && rng.chance(0.07);
    let first_lane: &'static str = if misrouted {
        loop {
            let lane = *rng.pick(L2_LANES);
            if lane != target {
                break lane;
            }
        }
    } else {
        target
    };
    t += if from_bot {
        secs(rng, 2, 20)
    } else {
        secs(rng, 0, 10)
    };
    let reason = if from_bot { "escalation" } else { "initial" };
    if rng.chance(0.004) {
        // A queue the routing configuration no longer lists.
        let lane = *rng.pick(UNKNOWN_LANES);
        thread.assign(t, lane, Some(agent(rng, lane)), Some(reason));
        t += lognormal_ms(rng, 6.0 * MINUTE, 0.8);
        thread.assign(t, first_lane, None, None);
    } else {
        thread.assign(t, first_lane, None, Some(reason));
    }
    if from_bot || first_lane != "general" {
        brief(rng, thread, t);
    }
    if rng.chance(0.03) {
        // Nobody claimed it; the customer asks again later and waits.
        let nudge = t + lognormal_ms(rng, 90.0 * MINUTE, 1.0);
        thread.say(nudge, "customer", "text");
        return None;
    }
    t += queue_wait(rng, first_lane);
    let mut owner = agent(rng, first_lane);
    thread.assign(t, first_lane, Some(owner.clone()), Some("claim"));
    t += secs(rng, 10, 180);
    thread.say(t, "agent", "text");
    if rng.chance(0.12) {
        t += secs(rng, 5, 60);
        thread.say(t, "agent", "internal_note");
    }
    if misrouted {
        // Corrected either explicitly or by a lateral move the export gives no reason for.
        t += lognormal_ms(rng, 15.0 * MINUTE, 0.6);
        let reason = if rng.chance(0.6) {
            Some("wrong_queue")
        } else {
            None
        };
        thread.assign(t, target, None, reason);
        if rng.chance(0.5) {
            brief(rng, thread, t);
        }
        t += queue_wait(rng, target);
        owner = agent(rng, target);
        thread.assign(t, target, Some(owner.clone()), Some("claim"));
        t += secs(rng, 10, 120);
        thread.say(t, "agent", "text");
    } else if target == "general" && rng.chance(0.12) {
        // L1 could not solve it: up to the specialists of the domain.
        let lane = *rng.pick(L2_LANES);
        t += lognormal_ms(rng, 20.0 * MINUTE, 0.8);
        thread.assign(t, lane, None, Some("escalation"));
        brief(rng, thread, t);
        t += queue_wait(rng, lane);
        thread.assign(t, lane, Some(agent(rng, lane)), Some("claim"));
        t += secs(rng, 10, 120);
        thread.say(t, "agent", "text");
    } else if rng.chance(0.06) {
        t += lognormal_ms(rng, 20.0 * MINUTE, 0.8);
        let next = agent(rng, target);
        if next != owner {
            thread.assign(t, target, Some(next), Some("reassign"));
        }
        t += secs(rng, 10, 300);
        thread.say(t, "agent", "text");
    } else if rng.chance(0.03) {
        let lane: &'static str = if target == "customer_recovery" {
            "retention"
        } else {
            "customer_recovery"
        };
        t += lognormal_ms(rng, 25.0 * MINUTE, 0.8);
        thread.assign(t, lane, None, Some("transfer"));
        t += queue_wait(rng, lane);
        thread.assign(t, lane, Some(agent(rng, lane)), Some("claim"));
        t += secs(rng, 10, 120);
        thread.say(t, "agent", "text");
    }
    // Some specialist cases run over days: the customer answers hours later.
    let (exchanges, pace) = if target != "general" && rng.chance(0.3) {
        (rng.range(2, 5), 240.0 * MINUTE)
    } else {
        (rng.range(1, 3), 12.0 * MINUTE)
    };
    for i in 0..exchanges {
        t += lognormal_ms(rng, pace, 1.0);
        thread.say(t, "customer", "text");
        if i == exchanges - 1 && rng.chance(0.05) {
            // The last question was never answered: a silent thread.
            return None;
        }
        t += lognormal_ms(rng, 9.0 * MINUTE, 1.3);
        thread.say(t, "agent", "text");
    }
    if rng.chance(0.07) {
        return None;
    }
    let closed = t + lognormal_ms(rng, 30.0 * MINUTE, 1.0);
    after_close(rng, thread, closed);
    Some(closed)
}

/// Most threads left open are closed by the inbox's stale-thread rule days later (after their
/// 24-hour window is gone); a few stay open for good.
fn auto_close(rng: &mut Rng, thread: &Thread) -> Option<i64> {
    let last = thread
        .messages
        .iter()
        .map(|m| m.at)
        .chain(thread.assignments.iter().map(|a| a.at))
        .max()?;
    rng.chance(0.98)
        .then(|| last + secs(rng, 26 * 3_600, 3 * 86_400))
}

/// Sometimes the customer writes again after the close: within 48 h mostly, later at times.
fn after_close(rng: &mut Rng, thread: &mut Thread, closed: i64) {
    if rng.chance(0.05) {
        let gap = if rng.chance(0.85) {
            secs(rng, 600, 47 * 3_600)
        } else {
            secs(rng, 49 * 3_600, 120 * 3_600)
        };
        thread.say(closed + gap, "customer", "text");
    }
}

/// The template status history: a few approved templates, one paused and re-approved, one
/// rejected.
fn write_templates(dir: &Path, spec: &SampleSpec) -> Result<u64> {
    let start = spec.end - i64::from(spec.weeks) * 7 * MS_PER_DAY;
    let mid = start + (spec.end - start) / 2;
    let rows: [(&str, &str, i64); 7] = [
        ("order_update", "approved", start - 30 * MS_PER_DAY),
        ("payment_reminder", "pending", start - 21 * MS_PER_DAY),
        ("payment_reminder", "approved", start - 20 * MS_PER_DAY),
        ("payment_reminder", "paused", mid),
        ("payment_reminder", "approved", mid + 2 * MS_PER_DAY),
        ("renewal_notice", "approved", start - 10 * MS_PER_DAY),
        ("winback_offer", "rejected", start + 3 * MS_PER_DAY),
    ];
    let mut sink = Sink::create(dir, Table::Templates, spec.format)?;
    for (name, status, at) in rows {
        sink.row(&[
            Field::Str(Some(name)),
            Field::Str(Some(status)),
            Field::Ts(Some(at)),
        ])?;
    }
    sink.finish()?;
    Ok(rows.len() as u64)
}
