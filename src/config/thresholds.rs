//! Alert thresholds: conditions, rules, the spec's defaults and their overrides.
//!
//! A rule gives a metric a warning and/or a critical condition, a minimum cohort size and
//! optionally the groups it applies to. The defaults are the spec's alert table, as each metric's
//! registry entry states it (`metrics::Alert`); the config
//! file's `[alerts]` section overrides them field by field, globally
//! (`[alerts.metrics.<metric>]`) and per lane (`[alerts.lanes.<lane>.<metric>]`).
//!
//! This module only parses; that every named metric exists is checked by the alert layer,
//! which knows the metric registry (`alert::check_metrics`).

use std::collections::BTreeMap;
use std::fmt;

use anyhow::{Result, bail};
use serde::Deserialize;

/// When a value breaks a threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Condition {
    Above(f64),
    AtLeast(f64),
    Below(f64),
    AtMost(f64),
    Equal(f64),
    /// Below the first bound or above the second.
    Outside(f64, f64),
}

impl Condition {
    pub fn holds(self, value: f64) -> bool {
        match self {
            Condition::Above(t) => value > t,
            Condition::AtLeast(t) => value >= t,
            Condition::Below(t) => value < t,
            Condition::AtMost(t) => value <= t,
            Condition::Equal(t) => value == t,
            Condition::Outside(lo, hi) => value < lo || value > hi,
        }
    }

    /// Parses `> 300`, `>= 1`, `< 0.95`, `<= 2`, `= 0` or `outside 0.05 0.10`.
    pub fn parse(text: &str) -> Result<Condition> {
        let t = text.trim();
        let number = |s: &str| -> Result<f64> {
            s.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| anyhow::anyhow!("`{}` is not a number", s.trim()))
        };
        let condition = if let Some(rest) = t.strip_prefix("outside") {
            let bounds: Vec<&str> = rest
                .split(|c: char| c.is_whitespace() || c == ',')
                .filter(|s| !s.is_empty())
                .collect();
            let bounds: Vec<&str> = if bounds.len() == 1 {
                bounds[0].split("..").collect()
            } else {
                bounds
            };
            match bounds.as_slice() {
                [lo, hi] => {
                    let (lo, hi) = (number(lo)?, number(hi)?);
                    if lo > hi {
                        bail!("`{t}`: the lower bound is above the upper bound");
                    }
                    Condition::Outside(lo, hi)
                }
                _ => bail!("`{t}`: write `outside LOW HIGH`, e.g. `outside 0.05 0.10`"),
            }
        } else if let Some(rest) = t.strip_prefix(">=") {
            Condition::AtLeast(number(rest)?)
        } else if let Some(rest) = t.strip_prefix("<=") {
            Condition::AtMost(number(rest)?)
        } else if let Some(rest) = t.strip_prefix('>') {
            Condition::Above(number(rest)?)
        } else if let Some(rest) = t.strip_prefix('<') {
            Condition::Below(number(rest)?)
        } else if let Some(rest) = t.strip_prefix('=') {
            Condition::Equal(number(rest.trim_start_matches('='))?)
        } else {
            bail!(
                "`{t}` is not a condition: use `> N`, `>= N`, `< N`, `<= N`, `= N`, \
                 `outside LOW HIGH` or `off`"
            );
        };
        Ok(condition)
    }
}

impl Condition {
    /// The condition in the units of its value: `> 5.0 min`, `< 80.0 %`.
    pub fn human(self, unit: crate::units::Unit) -> String {
        let h = |v: f64| crate::units::human(v, unit);
        match self {
            Condition::Above(t) => format!("> {}", h(t)),
            Condition::AtLeast(t) => format!(">= {}", h(t)),
            Condition::Below(t) => format!("< {}", h(t)),
            Condition::AtMost(t) => format!("<= {}", h(t)),
            Condition::Equal(t) => format!("= {}", h(t)),
            Condition::Outside(lo, hi) => format!("< {} or > {}", h(lo), h(hi)),
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Above(t) => write!(f, "> {t}"),
            Condition::AtLeast(t) => write!(f, ">= {t}"),
            Condition::Below(t) => write!(f, "< {t}"),
            Condition::AtMost(t) => write!(f, "<= {t}"),
            Condition::Equal(t) => write!(f, "= {t}"),
            Condition::Outside(lo, hi) => write!(f, "< {lo} or > {hi}"),
        }
    }
}

/// The thresholds of one metric (for every lane, or for one lane).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rule {
    pub warning: Option<Condition>,
    pub critical: Option<Condition>,
    /// Alerts need at least this many conversations in the cohort.
    pub min_n: u64,
    /// The groups the rule applies to; `None` is every group.
    pub groups: Option<Vec<String>>,
}

/// Every rule: per metric, and per lane and metric. The defaults come from the metric registry
/// (`metrics::default_thresholds`); `Default` is no rule at all.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Thresholds {
    pub metrics: BTreeMap<String, Rule>,
    pub lanes: BTreeMap<String, BTreeMap<String, Rule>>,
}

/// The spec's minimum cohort size for an alert.
pub const DEFAULT_MIN_N: u64 = 20;

impl Thresholds {
    /// Every metric id a rule names, globally or per lane.
    pub fn metric_ids(&self) -> impl Iterator<Item = &str> {
        self.metrics
            .keys()
            .chain(self.lanes.values().flat_map(|m| m.keys()))
            .map(String::as_str)
    }

    /// The rule for a metric in a group: the lane's own rule when the groups are lanes and it
    /// has one, else the metric's rule. `None` when nothing alerts on this metric and group.
    pub fn rule_for(&self, metric: &str, group: &str, groups_are_lanes: bool) -> Option<&Rule> {
        let rule = groups_are_lanes
            .then(|| self.lanes.get(group).and_then(|m| m.get(metric)))
            .flatten()
            .or_else(|| self.metrics.get(metric))?;
        match &rule.groups {
            Some(groups) if !groups.iter().any(|g| g == group) => None,
            _ => Some(rule),
        }
    }
}

/// `[alerts]` as written in the config file: overrides of the defaults.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAlerts {
    min_n: Option<u64>,
    #[serde(default)]
    metrics: BTreeMap<String, RawRule>,
    #[serde(default)]
    lanes: BTreeMap<String, BTreeMap<String, RawRule>>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    warning: Option<String>,
    critical: Option<String>,
    min_n: Option<u64>,
    groups: Option<Vec<String>>,
}

fn parse_level(text: &Option<String>, current: Option<Condition>) -> Result<Option<Condition>> {
    match text.as_deref().map(str::trim) {
        None => Ok(current),
        Some("off" | "none" | "") => Ok(None),
        Some(t) => Ok(Some(Condition::parse(t)?)),
    }
}

impl RawRule {
    fn apply(&self, base: &Rule) -> Result<Rule> {
        Ok(Rule {
            warning: parse_level(&self.warning, base.warning)?,
            critical: parse_level(&self.critical, base.critical)?,
            min_n: self.min_n.unwrap_or(base.min_n),
            groups: self.groups.clone().or_else(|| base.groups.clone()),
        })
    }
}

impl RawAlerts {
    /// `defaults` with this section applied.
    pub fn resolve(&self, defaults: Thresholds) -> Result<Thresholds> {
        let mut t = defaults;
        if let Some(min_n) = self.min_n {
            for rule in t.metrics.values_mut() {
                rule.min_n = min_n;
            }
            for rules in t.lanes.values_mut() {
                for rule in rules.values_mut() {
                    rule.min_n = min_n;
                }
            }
        }
        let empty = Rule {
            min_n: self.min_n.unwrap_or(DEFAULT_MIN_N),
            ..Rule::default()
        };
        for (metric, raw) in &self.metrics {
            let base = t
                .metrics
                .get(metric)
                .cloned()
                .unwrap_or_else(|| empty.clone());
            let resolved = raw
                .apply(&base)
                .map_err(|e| anyhow::anyhow!("[alerts.metrics.{metric}]: {e}"))?;
            t.metrics.insert(metric.clone(), resolved);
        }
        for (lane, rules) in &self.lanes {
            let lane_name = lane.trim().to_lowercase();
            for (metric, raw) in rules {
                let base = t
                    .lanes
                    .get(&lane_name)
                    .and_then(|m| m.get(metric))
                    .or_else(|| t.metrics.get(metric))
                    .cloned()
                    .unwrap_or_else(|| empty.clone());
                let resolved = raw
                    .apply(&base)
                    .map_err(|e| anyhow::anyhow!("[alerts.lanes.{lane}.{metric}]: {e}"))?;
                t.lanes
                    .entry(lane_name.clone())
                    .or_default()
                    .insert(metric.clone(), resolved);
            }
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_parse_and_hold() {
        assert_eq!(Condition::parse("> 300").unwrap(), Condition::Above(300.0));
        assert_eq!(Condition::parse(">=1").unwrap(), Condition::AtLeast(1.0));
        assert_eq!(Condition::parse(" < 0.95").unwrap(), Condition::Below(0.95));
        assert_eq!(Condition::parse("<= 2").unwrap(), Condition::AtMost(2.0));
        assert_eq!(Condition::parse("= 0").unwrap(), Condition::Equal(0.0));
        assert_eq!(
            Condition::parse("outside 0.05 0.10").unwrap(),
            Condition::Outside(0.05, 0.10)
        );
        assert_eq!(
            Condition::parse("outside 0.05..0.10").unwrap(),
            Condition::Outside(0.05, 0.10)
        );
        assert!(Condition::parse("above 3").is_err());
        assert!(Condition::parse("> fast").is_err());
        assert!(Condition::parse("outside 0.2 0.1").is_err());

        assert!(Condition::Above(300.0).holds(300.5) && !Condition::Above(300.0).holds(300.0));
        assert!(Condition::Below(0.95).holds(0.9) && !Condition::Below(0.95).holds(0.95));
        assert!(Condition::Outside(0.05, 0.10).holds(0.04));
        assert!(Condition::Outside(0.05, 0.10).holds(0.11));
        assert!(!Condition::Outside(0.05, 0.10).holds(0.05));
        assert!(!Condition::Outside(0.05, 0.10).holds(0.10));
        assert_eq!(Condition::Outside(0.05, 0.1).to_string(), "< 0.05 or > 0.1");
        use crate::units::Unit;
        assert_eq!(
            Condition::Outside(0.05, 0.1).human(Unit::Rate),
            "< 5.0 % or > 10.0 %"
        );
        assert_eq!(Condition::Above(900.0).human(Unit::Seconds), "> 15.0 min");
    }

    #[test]
    fn bad_conditions_are_errors() {
        let raw: RawAlerts = toml::from_str("[metrics.frt_median_s]\nwarning = \"big\"\n").unwrap();
        let err = format!("{:#}", raw.resolve(Thresholds::default()).unwrap_err());
        assert!(err.contains("[alerts.metrics.frt_median_s]"), "{err}");
    }
}
