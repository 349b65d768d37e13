//! `[outcomes]` and `[sla]` (outcomes-sla.md): how a bot conversation's outcome is judged, and
//! the promises of first response, time to specialist, updates and resolution with their clock.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use serde::Deserialize;

/// `[outcomes]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcomes {
    /// The customer's last message must get a qualifying reply within this long (ms).
    pub abandon_after_ms: i64,
    /// A bot resolution is durable with no repeat contact within this horizon (ms).
    pub durable_horizon_ms: i64,
    /// Which other conversations of the customer count as a repeat.
    pub durable_match: DurableMatch,
    /// Customer intents that close a thread: skipped when finding the customer's last message.
    pub closing_intents: Vec<String>,
}

impl Default for Outcomes {
    fn default() -> Outcomes {
        Outcomes {
            abandon_after_ms: 86_400_000,
            durable_horizon_ms: 604_800_000,
            durable_match: DurableMatch::CustomerIntent,
            closing_intents: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurableMatch {
    /// The same customer and intent (two missing intents match).
    CustomerIntent,
    /// The same customer, any intent.
    Customer,
}

impl DurableMatch {
    pub fn as_str(self) -> &'static str {
        match self {
            DurableMatch::CustomerIntent => "customer_intent",
            DurableMatch::Customer => "customer",
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOutcomes {
    abandon_after_s: Option<toml::Value>,
    durable_horizon_s: Option<toml::Value>,
    durable_match: Option<String>,
    closing_intents: Option<toml::Value>,
}

/// A number of seconds: a non-negative integer, else an error naming `key`.
fn seconds(key: &str, value: &toml::Value) -> Result<i64> {
    match value.as_integer() {
        Some(s) if s >= 0 => Ok(s.saturating_mul(1000)),
        _ => bail!("{key} must be a whole number of seconds >= 0, got {value}"),
    }
}

impl RawOutcomes {
    pub(super) fn resolve(self) -> Result<Outcomes> {
        let mut out = Outcomes::default();
        if let Some(v) = &self.abandon_after_s {
            out.abandon_after_ms = seconds("[outcomes] abandon_after_s", v)?;
        }
        if let Some(v) = &self.durable_horizon_s {
            out.durable_horizon_ms = seconds("[outcomes] durable_horizon_s", v)?;
        }
        if let Some(m) = &self.durable_match {
            out.durable_match = match m.as_str() {
                "customer_intent" => DurableMatch::CustomerIntent,
                "customer" => DurableMatch::Customer,
                other => bail!(
                    "[outcomes] durable_match must be \"customer_intent\" or \"customer\", got \
                     \"{other}\""
                ),
            };
        }
        if let Some(v) = &self.closing_intents {
            let Some(list) = v.as_array() else {
                bail!("[outcomes] closing_intents must be a list of intents, got {v}");
            };
            out.closing_intents = list
                .iter()
                .map(|i| match i.as_str() {
                    Some(s) => Ok(s.to_owned()),
                    None => bail!("[outcomes] closing_intents must be a list of strings, got {i}"),
                })
                .collect::<Result<_>>()?;
        }
        Ok(out)
    }
}

/// The clock a target runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Clock {
    Calendar,
    /// The business clock of `[business_hours]`.
    Business,
}

impl Clock {
    pub fn as_str(self) -> &'static str {
        match self {
            Clock::Calendar => "calendar",
            Clock::Business => "business",
        }
    }
}

/// The five promises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Promise {
    Frt,
    HumanFrt,
    Tts,
    Update,
    Resolution,
}

impl Promise {
    pub const ALL: [Promise; 5] = [
        Promise::Frt,
        Promise::HumanFrt,
        Promise::Tts,
        Promise::Update,
        Promise::Resolution,
    ];

    /// The name in facts and metric ids (`frt`, `human_frt`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Promise::Frt => "frt",
            Promise::HumanFrt => "human_frt",
            Promise::Tts => "tts",
            Promise::Update => "update",
            Promise::Resolution => "resolution",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Promise::Frt => "frt_s",
            Promise::HumanFrt => "human_frt_s",
            Promise::Tts => "tts_s",
            Promise::Update => "update_s",
            Promise::Resolution => "resolution_s",
        }
    }
}

/// One block of `[sla]`: the targets it sets (ms) and its clock.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Block {
    pub clock: Option<Clock>,
    pub targets: BTreeMap<Promise, i64>,
}

/// `[sla]`: the default block, lane blocks, segment blocks and lane + segment blocks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sla {
    pub default: Block,
    /// By lowercase lane name.
    pub lanes: BTreeMap<String, Block>,
    pub segments: BTreeMap<String, Block>,
    /// By (lowercase lane, segment).
    pub lane_segments: BTreeMap<(String, String), Block>,
}

impl Sla {
    /// The target of `promise` for a lane and segment, and its clock: the first of the lane +
    /// segment, lane, segment and default blocks that sets it; the clock is that block's, else
    /// the default block's, else calendar. `None`: no block sets it.
    pub fn target(
        &self,
        promise: Promise,
        lane: Option<&str>,
        segment: Option<&str>,
    ) -> Option<(i64, Clock)> {
        // Lane names are matched case-insensitively (lowercased only when they need it: this
        // runs for every promise of every conversation).
        let lane = lane.map(|l| {
            if l.bytes()
                .any(|b| !b.is_ascii_lowercase() && b.is_ascii_alphabetic())
                || !l.is_ascii()
            {
                std::borrow::Cow::Owned(l.to_lowercase())
            } else {
                std::borrow::Cow::Borrowed(l)
            }
        });
        let lane = lane.as_deref();
        let candidates = [
            lane.zip(segment).and_then(|(l, s)| {
                self.lane_segments
                    .iter()
                    .find(|((bl, bs), _)| bl == l && bs == s)
                    .map(|(_, b)| b)
            }),
            lane.and_then(|l| self.lanes.get(l)),
            segment.and_then(|s| self.segments.get(s)),
            Some(&self.default),
        ];
        let block = candidates
            .into_iter()
            .flatten()
            .find(|b| b.targets.contains_key(&promise))?;
        let clock = block
            .clock
            .or(self.default.clock)
            .unwrap_or(Clock::Calendar);
        Some((block.targets[&promise], clock))
    }

    /// Whether any block runs on the business clock.
    pub fn uses_business_clock(&self) -> bool {
        std::iter::once(&self.default)
            .chain(self.lanes.values())
            .chain(self.segments.values())
            .chain(self.lane_segments.values())
            .any(|b| b.clock == Some(Clock::Business))
    }
}

/// Reads `[sla]` from its TOML table; `business_hours` says whether the business clock exists.
pub(super) fn resolve_sla(table: &toml::Table, business_hours: bool) -> Result<Sla> {
    let mut sla = Sla {
        default: block("[sla]", table, &["lanes", "segments"])?,
        ..Sla::default()
    };
    if let Some(lanes) = table.get("lanes") {
        let Some(lanes) = lanes.as_table() else {
            bail!("[sla] lanes must be a table of lane blocks");
        };
        for (lane, value) in lanes {
            let name = format!("[sla.lanes.{lane}]");
            let Some(t) = value.as_table() else {
                bail!("{name} must be a table");
            };
            let key = lane.trim().to_lowercase();
            if sla.lanes.contains_key(&key) {
                bail!("{name}: two lane blocks whose names differ only in case");
            }
            sla.lanes
                .insert(key.clone(), block(&name, t, &["segments"])?);
            if let Some(segments) = t.get("segments") {
                let Some(segments) = segments.as_table() else {
                    bail!("{name} segments must be a table of segment blocks");
                };
                for (segment, value) in segments {
                    let name = format!("[sla.lanes.{lane}.segments.{segment}]");
                    let Some(t) = value.as_table() else {
                        bail!("{name} must be a table");
                    };
                    sla.lane_segments
                        .insert((key.clone(), segment.clone()), block(&name, t, &[])?);
                }
            }
        }
    }
    if let Some(segments) = table.get("segments") {
        let Some(segments) = segments.as_table() else {
            bail!("[sla] segments must be a table of segment blocks");
        };
        for (segment, value) in segments {
            let name = format!("[sla.segments.{segment}]");
            let Some(t) = value.as_table() else {
                bail!("{name} must be a table");
            };
            sla.segments.insert(segment.clone(), block(&name, t, &[])?);
        }
    }
    if sla.uses_business_clock() && !business_hours {
        bail!(
            "[sla] clock = \"business\" needs a [business_hours] section (the schedules the \
             business clock runs on)"
        );
    }
    Ok(sla)
}

/// One block: its targets and clock; `nested` are the keys that hold blocks, read elsewhere.
fn block(name: &str, table: &toml::Table, nested: &[&str]) -> Result<Block> {
    let mut out = Block::default();
    for (key, value) in table {
        if nested.contains(&key.as_str()) {
            continue;
        }
        if key == "clock" {
            out.clock = Some(match value.as_str() {
                Some("calendar") => Clock::Calendar,
                Some("business") => Clock::Business,
                _ => bail!("{name} clock must be \"calendar\" or \"business\", got {value}"),
            });
            continue;
        }
        let Some(promise) = Promise::ALL.into_iter().find(|p| p.key() == key) else {
            bail!(
                "{name}: unknown key `{key}`; a block sets clock, frt_s, human_frt_s, tts_s, \
                 update_s and resolution_s"
            );
        };
        out.targets
            .insert(promise, seconds(&format!("{name} {key}"), value)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sla(text: &str) -> Result<Sla> {
        let table: toml::Table = toml::from_str(text).unwrap();
        resolve_sla(&table, true)
    }

    #[test]
    fn the_first_block_that_sets_a_target_gives_it_and_its_clock_travels_with_it() {
        let s = sla("frt_s = 300\ntts_s = 900\nresolution_s = 86400\n\
             [lanes.vip_fast_lane]\ntts_s = 30\n\
             [segments.enterprise]\nfrt_s = 60\ntts_s = 20\n\
             [lanes.vip_fast_lane.segments.enterprise]\nfrt_s = 30\n\
             [lanes.technical_l2]\nresolution_s = 7200\nclock = \"business\"\n")
        .unwrap();
        let ms = |s: i64| s * 1000;
        let t = |p, l, seg| s.target(p, l, seg);
        let vip = Some("VIP_fast_lane");
        let ent = Some("enterprise");
        assert_eq!(t(Promise::Frt, vip, ent), Some((ms(30), Clock::Calendar)));
        assert_eq!(t(Promise::Tts, vip, ent), Some((ms(30), Clock::Calendar)));
        assert_eq!(
            t(Promise::Frt, Some("general"), ent),
            Some((ms(60), Clock::Calendar))
        );
        assert_eq!(
            t(Promise::Frt, Some("general"), None),
            Some((ms(300), Clock::Calendar))
        );
        let tech = Some("technical_l2");
        assert_eq!(
            t(Promise::Resolution, tech, None),
            Some((ms(7200), Clock::Business))
        );
        // The lane block's clock reaches only the targets it sets.
        assert_eq!(
            t(Promise::Tts, tech, None),
            Some((ms(900), Clock::Calendar))
        );
        assert_eq!(t(Promise::Update, tech, None), None);
    }

    #[test]
    fn bad_blocks_name_the_key() {
        let err = |text: &str| format!("{:#}", sla(text).unwrap_err());
        assert!(err("frt_s = -1\n").contains("[sla] frt_s"));
        assert!(err("frt_s = 1.5\n").contains("whole number"));
        assert!(err("[lanes.x]\nfrt = 3\n").contains("unknown key `frt`"));
        assert!(err("clock = \"wall\"\n").contains("clock"));
        assert!(
            err("[lanes.Vip]\nfrt_s = 1\n[lanes.vip]\nfrt_s = 2\n").contains("differ only in case")
        );
        let table: toml::Table = toml::from_str("clock = \"business\"\nfrt_s = 1\n").unwrap();
        assert!(
            format!("{:#}", resolve_sla(&table, false).unwrap_err()).contains("[business_hours]")
        );
    }

    #[test]
    fn outcomes_default_and_errors() {
        let raw: RawOutcomes = toml::from_str("").unwrap();
        assert_eq!(raw.resolve().unwrap(), Outcomes::default());
        let raw: RawOutcomes =
            toml::from_str("abandon_after_s = 3600\nclosing_intents = [\"thanks\"]\n").unwrap();
        let o = raw.resolve().unwrap();
        assert_eq!(
            (o.abandon_after_ms, o.closing_intents.len()),
            (3_600_000, 1)
        );
        let raw: RawOutcomes = toml::from_str("durable_match = \"intent\"\n").unwrap();
        assert!(raw.resolve().is_err());
        let raw: RawOutcomes = toml::from_str("closing_intents = [1]\n").unwrap();
        assert!(raw.resolve().is_err());
        assert!(toml::from_str::<RawOutcomes>("abandon = 1\n").is_err());
    }
}
