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
mod story;
mod text;

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::ingest::schema::Table;
use crate::progress::Progress;
use crate::time::{MS_PER_DAY, MS_PER_HOUR};
use rng::Rng;
pub use sink::SampleFormat;
use sink::{Field, Sink};
use story::{
    CHANNELS, Conversation, HOUR_WEIGHTS, INTENTS, SECOND, SEGMENTS, Thread, auto_close, play,
};

#[derive(Debug, Clone)]
pub struct SampleSpec {
    pub conversations: u64,
    pub seed: u64,
    pub weeks: u32,
    /// The export instant (exclusive), UTC milliseconds; conversations open in the `weeks`
    /// before it.
    pub end: i64,
    pub format: SampleFormat,
    /// Whether messages get a `text` column (`--text`).
    pub text: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SampleCounts {
    pub conversations: u64,
    pub messages: u64,
    pub assignments: u64,
    pub handoffs: u64,
    pub templates: u64,
    pub send_failures: u64,
}

struct Sinks {
    conversations: Sink,
    messages: Sink,
    assignments: Sink,
    handoffs: Sink,
    send_failures: Sink,
}

pub fn generate(dir: &Path, spec: &SampleSpec, progress: &Progress) -> Result<SampleCounts> {
    if spec.conversations == 0 {
        bail!("--conversations must be at least 1");
    }
    if spec.weeks == 0 {
        bail!("--weeks must be at least 1");
    }
    // Every table file of any format is replaced, so no older table is read beside the new ones.
    let stale: Vec<std::path::PathBuf> = Table::ALL
        .iter()
        .flat_map(|table| {
            ["csv", "csv.gz", "jsonl", "ndjson", "parquet"]
                .map(|ext| dir.join(format!("{}.{ext}", table.name())))
        })
        .collect();
    let mut counts = SampleCounts::default();
    crate::atomic::add_files(dir, &stale, |staging| {
        counts = write_tables(staging, spec, progress)?;
        Ok(())
    })
    .with_context(|| format!("writing the sample to {}", dir.display()))?;
    Ok(counts)
}

fn write_tables(dir: &Path, spec: &SampleSpec, progress: &Progress) -> Result<SampleCounts> {
    let mut sinks = Sinks {
        conversations: Sink::create(dir, Table::Conversations, spec.format, spec.text)?,
        messages: Sink::create(dir, Table::Messages, spec.format, spec.text)?,
        assignments: Sink::create(dir, Table::Assignments, spec.format, spec.text)?,
        handoffs: Sink::create(dir, Table::Handoffs, spec.format, spec.text)?,
        send_failures: Sink::create(dir, Table::SendFailures, spec.format, spec.text)?,
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
    sinks.send_failures.finish()?;
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
        let (opened, customer_id) = (conversation.opened, conversation.customer.clone());
        self.emit(conversation, thread, sinks)?;

        // A duplicate: the customer opens a second thread on the same channel while the first
        // is still open (impatient, or a new device).
        let second = opened + rng.range(300, 6 * 3_600) * SECOND;
        if self.counts.conversations < self.spec.conversations
            && rng.chance(0.02)
            && closed.is_none_or(|c| second < c)
        {
            let mut duplicate = Conversation {
                id: self.conversation_id(),
                customer: customer_id,
                channel,
                segment,
                intent: intent.name,
                opened: second,
                closed: None,
            };
            let mut thread = Thread::default();
            duplicate.closed = play(&mut rng, &duplicate, intent, &mut thread)
                .or_else(|| auto_close(&mut rng, &thread));
            self.emit(duplicate, thread, sinks)?;
        }

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
            let fields = [
                Field::Str(Some(&id)),
                Field::Str(Some(&c.id)),
                Field::Ts(Some(m.at)),
                Field::Str(Some(m.sender)),
                Field::Str(Some(m.kind)),
                Field::Bool(m.fallback.then_some(true)),
                Field::Str(m.intent),
                Field::Str(m.template),
            ];
            if self.spec.text {
                let text = text::message_text(self.spec.seed, self.next_message, m.sender);
                let mut with_text = fields.to_vec();
                with_text.push(Field::Str(text.as_deref()));
                sinks.messages.row(&with_text)?;
            } else {
                sinks.messages.row(&fields)?;
            }
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
        for f in thread.failures.iter().filter(|f| f.at < end) {
            self.counts.send_failures += 1;
            let id = format!(
                "f{:0width$}",
                self.counts.send_failures,
                width = self.digits
            );
            sinks.send_failures.row(&[
                Field::Str(Some(&id)),
                Field::Str(Some(&c.id)),
                Field::Ts(Some(f.at)),
                Field::Str(Some(f.code.0)),
                Field::Str(Some(f.code.1)),
                Field::Str(None),
                Field::Str(Some("agent")),
            ])?;
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

/// The template status history: approved templates; one paused for two days mid-sample and
/// re-approved; one paused for a few hours a week before the end; one flagged for quality (still
/// usable); one rejected soon after submission yet still used now and then.
fn write_templates(dir: &Path, spec: &SampleSpec) -> Result<u64> {
    let start = spec.end - i64::from(spec.weeks) * 7 * MS_PER_DAY;
    let mid = start + (spec.end - start) / 2;
    let late = spec.end - 7 * MS_PER_DAY;
    let rows: [(&str, &str, i64); 11] = [
        ("order_update", "approved", start - 30 * MS_PER_DAY),
        ("payment_reminder", "pending", start - 21 * MS_PER_DAY),
        ("payment_reminder", "approved", start - 20 * MS_PER_DAY),
        ("payment_reminder", "paused", mid),
        ("payment_reminder", "approved", mid + 2 * MS_PER_DAY),
        ("renewal_notice", "approved", start - 10 * MS_PER_DAY),
        ("winback_offer", "pending", start - 2 * MS_PER_DAY),
        ("winback_offer", "rejected", start + 3 * MS_PER_DAY),
        ("order_update", "paused", late),
        ("order_update", "approved", late + 6 * MS_PER_HOUR),
        ("renewal_notice", "flagged", late + MS_PER_DAY),
    ];
    let mut sink = Sink::create(dir, Table::Templates, spec.format, spec.text)?;
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
