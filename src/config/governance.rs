//! `[governance]` of the configuration: the parameters of the governance checks
//! (spec: governance.md, "Configuration"), with per-lane limits in
//! `[governance.lanes.<lane>]`.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use serde::Deserialize;

/// Which earlier open conversation makes a new one a duplicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateMatch {
    /// Same customer and channel.
    Customer,
    /// Same customer, channel and intent.
    CustomerIntent,
}

/// The template statuses of the data contract.
pub const TEMPLATE_STATUSES: &[&str] = &[
    "approved", "pending", "rejected", "paused", "disabled", "flagged",
];

/// The validated governance parameters; durations in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Governance {
    pub duplicate_match: DuplicateMatch,
    pub ownerless_max_ms: i64,
    pub stall_after_ms: i64,
    pub strikes: u32,
    pub handoff_grace_ms: i64,
    pub human_request_intents: Vec<String>,
    pub blocked_template_statuses: Vec<String>,
    pub brief_before_ms: i64,
    pub brief_after_ms: i64,
    /// Lane (lowercase) → its own limits.
    pub lanes: BTreeMap<String, LaneLimits>,
}

/// Per-lane overrides of the two limits that vary by lane; milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LaneLimits {
    pub ownerless_max_ms: Option<i64>,
    pub stall_after_ms: Option<i64>,
}

impl Default for Governance {
    fn default() -> Governance {
        Governance {
            duplicate_match: DuplicateMatch::Customer,
            ownerless_max_ms: 1_800_000,
            stall_after_ms: 14_400_000,
            strikes: 3,
            handoff_grace_ms: 120_000,
            human_request_intents: vec!["human_request".to_owned()],
            blocked_template_statuses: ["rejected", "paused", "disabled", "pending"]
                .map(str::to_owned)
                .to_vec(),
            brief_before_ms: 600_000,
            brief_after_ms: 60_000,
            lanes: BTreeMap::new(),
        }
    }
}

impl Governance {
    /// The ownerless limit of a lane (its override, else the global one).
    pub fn ownerless_max_ms(&self, lane: &str) -> i64 {
        self.lanes
            .get(lane)
            .and_then(|l| l.ownerless_max_ms)
            .unwrap_or(self.ownerless_max_ms)
    }

    /// The stall limit of a lane (its override, else the global one).
    pub fn stall_after_ms(&self, lane: &str) -> i64 {
        self.lanes
            .get(lane)
            .and_then(|l| l.stall_after_ms)
            .unwrap_or(self.stall_after_ms)
    }
}

/// `[governance]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGovernance {
    duplicate_match: Option<DuplicateMatch>,
    ownerless_max_s: Option<i64>,
    stall_after_s: Option<i64>,
    strikes: Option<i64>,
    handoff_grace_s: Option<i64>,
    human_request_intents: Option<Vec<String>>,
    blocked_template_statuses: Option<Vec<String>>,
    brief_before_s: Option<i64>,
    brief_after_s: Option<i64>,
    #[serde(default)]
    lanes: BTreeMap<String, RawLaneLimits>,
}

/// `[governance.lanes.<lane>]`: only the limits that vary by lane.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLaneLimits {
    ownerless_max_s: Option<i64>,
    stall_after_s: Option<i64>,
}

/// Seconds from the file as milliseconds; negative durations are refused, naming the key.
fn duration(key: &str, seconds: Option<i64>, default_ms: i64) -> Result<i64> {
    match seconds {
        None => Ok(default_ms),
        Some(s) if s < 0 => bail!("{key} = {s}: a duration must be 0 or more seconds"),
        Some(s) => s
            .checked_mul(1_000)
            .ok_or_else(|| anyhow::anyhow!("{key} = {s}: too many seconds")),
    }
}

impl RawGovernance {
    pub fn resolve(self) -> Result<Governance> {
        let d = Governance::default();
        let strikes = match self.strikes {
            None => d.strikes,
            Some(n) if (1..=1_000).contains(&n) => n as u32,
            Some(n) => bail!("[governance] strikes = {n}: use a whole number from 1 to 1000"),
        };
        let blocked = match self.blocked_template_statuses {
            None => d.blocked_template_statuses,
            Some(list) => {
                let mut out = Vec::with_capacity(list.len());
                for status in list {
                    let s = status.trim().to_lowercase();
                    if !TEMPLATE_STATUSES.contains(&s.as_str()) {
                        bail!(
                            "[governance] blocked_template_statuses: `{status}` is not a template \
                             status; use {}",
                            TEMPLATE_STATUSES.join(", ")
                        );
                    }
                    out.push(s);
                }
                out
            }
        };
        let mut lanes = BTreeMap::new();
        for (lane, raw) in self.lanes {
            let name = lane.trim().to_lowercase();
            if name.is_empty() {
                bail!("[governance.lanes] has an empty lane name");
            }
            let key = |k: &str| format!("[governance.lanes.{lane}] {k}");
            lanes.insert(
                name,
                LaneLimits {
                    ownerless_max_ms: raw
                        .ownerless_max_s
                        .map(|s| duration(&key("ownerless_max_s"), Some(s), 0))
                        .transpose()?,
                    stall_after_ms: raw
                        .stall_after_s
                        .map(|s| duration(&key("stall_after_s"), Some(s), 0))
                        .transpose()?,
                },
            );
        }
        Ok(Governance {
            duplicate_match: self.duplicate_match.unwrap_or(d.duplicate_match),
            ownerless_max_ms: duration(
                "[governance] ownerless_max_s",
                self.ownerless_max_s,
                d.ownerless_max_ms,
            )?,
            stall_after_ms: duration(
                "[governance] stall_after_s",
                self.stall_after_s,
                d.stall_after_ms,
            )?,
            strikes,
            handoff_grace_ms: duration(
                "[governance] handoff_grace_s",
                self.handoff_grace_s,
                d.handoff_grace_ms,
            )?,
            human_request_intents: self
                .human_request_intents
                .map(|v| v.into_iter().map(|s| s.trim().to_owned()).collect())
                .unwrap_or(d.human_request_intents),
            blocked_template_statuses: blocked,
            brief_before_ms: duration(
                "[governance] brief_before_s",
                self.brief_before_s,
                d.brief_before_ms,
            )?,
            brief_after_ms: duration(
                "[governance] brief_after_s",
                self.brief_after_s,
                d.brief_after_ms,
            )?,
            lanes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Governance> {
        let raw: RawGovernance = toml::from_str(text)?;
        raw.resolve()
    }

    #[test]
    fn defaults_follow_the_spec() {
        let g = parse("").unwrap();
        assert_eq!(g, Governance::default());
        assert_eq!(g.ownerless_max_ms("general"), 1_800_000);
        assert_eq!(g.stall_after_ms("general"), 14_400_000);
        assert_eq!(g.strikes, 3);
    }

    #[test]
    fn lanes_override_their_two_limits() {
        let g =
            parse("stall_after_s = 100\n[lanes.VIP_fast_lane]\nownerless_max_s = 60\n").unwrap();
        assert_eq!(g.ownerless_max_ms("vip_fast_lane"), 60_000);
        assert_eq!(g.stall_after_ms("vip_fast_lane"), 100_000);
        assert_eq!(g.ownerless_max_ms("general"), 1_800_000);
    }

    #[test]
    fn bad_values_name_their_key() {
        let err = format!("{:#}", parse("ownerless_max_s = -5\n").unwrap_err());
        assert!(err.contains("ownerless_max_s = -5"), "{err}");
        let err = format!("{:#}", parse("stall_afer_s = 5\n").unwrap_err());
        assert!(err.contains("stall_afer_s"), "{err}");
        let err = format!("{:#}", parse("[lanes.general]\nstrikes = 2\n").unwrap_err());
        assert!(err.contains("strikes"), "{err}");
        let err = format!(
            "{:#}",
            parse("[lanes.general]\nstall_after_s = -1\n").unwrap_err()
        );
        assert!(
            err.contains("[governance.lanes.general] stall_after_s"),
            "{err}"
        );
        let err = format!("{:#}", parse("duplicate_match = \"phone\"\n").unwrap_err());
        assert!(err.contains("phone"), "{err}");
        let err = format!(
            "{:#}",
            parse("blocked_template_statuses = [\"gone\"]\n").unwrap_err()
        );
        assert!(err.contains("`gone`"), "{err}");
    }
}
