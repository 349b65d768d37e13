//! The conversation model of the sample generator: who writes, who answers, where a case is
//! routed, what goes wrong. Each function plays one part of a thread from a random stream.

use super::rng::Rng;
use crate::time::MS_PER_SECOND;

pub(super) const MINUTE: f64 = 60_000.0;
pub(super) const SECOND: i64 = MS_PER_SECOND;

pub(super) struct Intent {
    pub(super) name: Option<&'static str>,
    pub(super) weight: f64,
    pub(super) lane: &'static str,
    /// Chance that the bot resolves it without a human.
    pub(super) bot_solves: f64,
}

pub(super) const INTENTS: &[Intent] = &[
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

pub(super) const fn intent(
    name: &'static str,
    weight: f64,
    lane: &'static str,
    bot_solves: f64,
) -> Intent {
    Intent {
        name: Some(name),
        weight,
        lane,
        bot_solves,
    }
}

pub(super) const CHANNELS: &[(&str, f64)] = &[
    ("whatsapp", 78.0),
    ("webchat", 10.0),
    ("email", 7.0),
    ("sms", 3.0),
    ("voice", 2.0),
];
pub(super) const SEGMENTS: &[(Option<&str>, f64)] = &[
    (Some("enterprise"), 8.0),
    (Some("pro"), 30.0),
    (Some("free"), 48.0),
    (Some("trial"), 12.0),
    (None, 2.0),
];
/// Lateral misroutes happen between these L2 lanes.
pub(super) const L2_LANES: &[&str] = &[
    "revenue_protection",
    "retention",
    "technical_l2",
    "customer_recovery",
];
pub(super) const UNKNOWN_LANES: &[&str] = &["legacy_queue", "overflow_tmp"];
/// Templates of outbound threads, by weight: `winback_offer` was rejected, so its rare sends are
/// blocked ones; `payment_reminder` is paused for two days mid-sample.
pub(super) const TEMPLATES: &[(&str, f64)] = &[
    ("order_update", 50.0),
    ("payment_reminder", 30.0),
    ("renewal_notice", 17.0),
    ("winback_offer", 3.0),
];
/// The customer intent that asks for a person (governance's `human_request_intents`).
pub(super) const HUMAN_REQUEST: &str = "human_request";
/// The WhatsApp Cloud API error for a free-form send after the 24-hour window closed.
pub(super) const OUTSIDE_WINDOW: (&str, &str) = ("131047", "Re-engagement message");
pub(super) const UNDELIVERABLE: (&str, &str) = ("131026", "Message undeliverable");
/// Contacts by hour of day (UTC): quiet nights, busy mornings and afternoons.
pub(super) const HOUR_WEIGHTS: [f64; 24] = [
    1.0, 0.7, 0.5, 0.5, 0.6, 1.0, 2.0, 3.5, 5.0, 6.0, 6.5, 6.5, 6.0, 6.0, 6.5, 6.5, 6.0, 5.5, 5.0,
    4.5, 4.0, 3.0, 2.0, 1.5,
];

pub(super) struct Conversation {
    pub(super) id: String,
    pub(super) customer: String,
    pub(super) channel: &'static str,
    pub(super) segment: Option<&'static str>,
    pub(super) intent: Option<&'static str>,
    pub(super) opened: i64,
    pub(super) closed: Option<i64>,
}

pub(super) struct Message {
    pub(super) at: i64,
    pub(super) sender: &'static str,
    pub(super) kind: &'static str,
    pub(super) fallback: bool,
    pub(super) intent: Option<&'static str>,
    pub(super) template: Option<&'static str>,
}

pub(super) struct Assignment {
    pub(super) at: i64,
    pub(super) lane: &'static str,
    pub(super) assignee: Option<String>,
    pub(super) reason: Option<&'static str>,
}

pub(super) struct Brief {
    pub(super) at: i64,
    pub(super) fields: [Option<&'static str>; 5],
}

/// An outbound send that failed (send_failures).
pub(super) struct Failure {
    pub(super) at: i64,
    pub(super) code: (&'static str, &'static str),
}

/// The events of one conversation, gathered before they are written.
#[derive(Default)]
pub(super) struct Thread {
    pub(super) messages: Vec<Message>,
    pub(super) assignments: Vec<Assignment>,
    pub(super) briefs: Vec<Brief>,
    pub(super) failures: Vec<Failure>,
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
pub(super) fn play(
    rng: &mut Rng,
    c: &Conversation,
    intent: &Intent,
    thread: &mut Thread,
) -> Option<i64> {
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
    let mut asked_for_person = false;
    for _ in 0..turns {
        t += lognormal_ms(rng, 0.7 * MINUTE, 0.8);
        let repeated = rng.chance(repeat_p);
        let said = if repeated {
            last_intent
        } else if rng.chance(0.3) {
            Some(*rng.pick(&[HUMAN_REQUEST, "order_number", "still_waiting"]))
        } else {
            None
        };
        thread.say(t, "customer", "text").intent = said;
        asked_for_person |= said == Some(HUMAN_REQUEST);
        if said.is_some() {
            last_intent = said;
        }
        t += secs(rng, 1, 3);
        let fallback = rng.chance(fallback_p);
        thread.say(t, "bot", "text").fallback = fallback;
    }
    let escalate = rng.chance(1.0 - intent.bot_solves)
        || (trap_prone && rng.chance(0.5))
        || (asked_for_person && rng.chance(0.7));
    if escalate {
        if trap_prone && rng.chance(0.4) {
            // The bot kept the customer a few minutes past the strike-3 line.
            t += secs(rng, 180, 900);
        }
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
    let weights: Vec<f64> = TEMPLATES.iter().map(|t| t.1).collect();
    let template = TEMPLATES[rng.weighted(&weights)].0;
    if rng.chance(0.03) {
        // The send failed; the agent tries again a little later.
        thread.failures.push(Failure {
            at: t,
            code: UNDELIVERABLE,
        });
        t += secs(rng, 60, 900);
    }
    thread.say(t, "agent", "template").template = Some(template);
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
    if rng.chance(0.04) {
        // Nobody picked it up for an hour or more (a shift gap, a forgotten queue).
        return lognormal_ms(rng, 75.0 * MINUTE, 0.5);
    }
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
    } else if L2_LANES.contains(&target) && rng.chance(0.03) {
        // Ping-pong: sent to another specialist lane, which sends it straight back.
        let other: &'static str = if target == "retention" {
            "customer_recovery"
        } else {
            "retention"
        };
        for lane in [other, target] {
            t += lognormal_ms(rng, 15.0 * MINUTE, 0.6);
            thread.assign(t, lane, None, Some("transfer"));
            t += queue_wait(rng, lane);
            thread.assign(t, lane, Some(agent(rng, lane)), Some("claim"));
            t += secs(rng, 10, 120);
            thread.say(t, "agent", "text");
        }
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
            // The last question was never answered: a silent thread. Sometimes the agent
            // comes back with a free-form reply after the 24-hour window closed, which fails.
            if c.channel == "whatsapp" && rng.chance(0.4) {
                thread.failures.push(Failure {
                    at: t + secs(rng, 25 * 3_600, 40 * 3_600),
                    code: OUTSIDE_WINDOW,
                });
            }
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
pub(super) fn auto_close(rng: &mut Rng, thread: &Thread) -> Option<i64> {
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
