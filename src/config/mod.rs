//! The validated configuration: lanes and their tiers, and the rule parameters of the spec.
//!
//! It is read from a TOML file (`--config FILE`, else `l2lens.toml` in the data directory,
//! else the built-in defaults of the spec). A file overrides the defaults lane by lane: lanes it
//! names get its tier, lanes it does not name keep theirs.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Deserializer};

mod email;
pub mod governance;
pub mod input;
pub mod outcomes;
pub mod schedules;
pub mod text;
pub mod thresholds;
pub mod whatsapp;

pub use email::{EmailConfig, Security};
pub use governance::{DuplicateMatch, Governance};
pub use input::Input;
pub use outcomes::{Clock, DurableMatch, Outcomes, Promise, Sla};
pub use schedules::{BusinessHours, Schedule};
pub use text::{Store, TextConfig};
pub use thresholds::{Condition, RawAlerts, Rule, Thresholds};
pub use whatsapp::{Calls, Pricing, WindowRefresh};

/// The group name that stands for every group together.
pub const ALL: &str = "ALL";
/// The group name of a null dimension value.
pub const UNKNOWN: &str = "unknown";

/// The name of the configuration file looked for in a data directory.
pub const CONFIG_FILE: &str = "l2lens.toml";

/// How specialised a lane is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tier {
    Bot,
    L1,
    L2,
    L3,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Bot => "bot",
            Tier::L1 => "L1",
            Tier::L2 => "L2",
            Tier::L3 => "L3",
        }
    }

    /// The order of specialisation: bot 0, L1 1, L2 2, L3 3.
    pub fn rank(self) -> i32 {
        match self {
            Tier::Bot => 0,
            Tier::L1 => 1,
            Tier::L2 => 2,
            Tier::L3 => 3,
        }
    }

    /// L1, L2 and L3 lanes are staffed by people.
    pub fn is_human(self) -> bool {
        self != Tier::Bot
    }

    /// L2 and L3 lanes are specialist lanes.
    pub fn is_specialist(self) -> bool {
        matches!(self, Tier::L2 | Tier::L3)
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Tier {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Tier, D::Error> {
        let text = String::deserialize(d)?;
        match text.trim().to_ascii_lowercase().as_str() {
            "bot" => Ok(Tier::Bot),
            "l1" => Ok(Tier::L1),
            "l2" => Ok(Tier::L2),
            "l3" => Ok(Tier::L3),
            _ => Err(serde::de::Error::custom(format!(
                "unknown tier `{text}`: use bot, L1, L2 or L3"
            ))),
        }
    }
}

/// The tier of a lane the configuration does not name (spec: "counts as tier L1").
pub const UNKNOWN_LANE_TIER: Tier = Tier::L1;

/// The spec's default lanes, from the routing blueprint.
pub const DEFAULT_LANES: &[(&str, Tier)] = &[
    ("automation", Tier::Bot),
    ("general", Tier::L1),
    ("vip_fast_lane", Tier::L2),
    ("revenue_protection", Tier::L2),
    ("retention", Tier::L2),
    ("technical_l2", Tier::L2),
    ("customer_recovery", Tier::L2),
    ("compliance", Tier::L3),
];

/// Whether a lane name matches a glob pattern: `*` is any run of characters, `?` any one.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    // The last `*` seen and the text position it was tried at, to backtrack to.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The lanes the configuration names, exactly or by pattern: any other lane is unknown.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KnownLanes {
    exact: HashSet<String>,
    patterns: Vec<String>,
}

impl KnownLanes {
    pub fn contains(&self, lane: &str) -> bool {
        self.exact.contains(lane) || self.patterns.iter().any(|p| glob_match(p, lane))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Lane name (lowercase) → tier.
    pub lanes: BTreeMap<String, Tier>,
    /// Lane patterns (`v5*`, `?_desk`) → tier, most specific (longest) first; exact names win.
    pub lane_patterns: Vec<(String, Tier)>,
    /// The tier of a lane matching no name and no pattern (`[rules] default_tier`; L1).
    pub default_tier: Tier,
    /// A bot-handled conversation is trapped above this many trap signals.
    pub trap_limit: u32,
    /// Silence (hours since the customer's last message) above which a thread is at risk.
    pub window_risk_hours: f64,
    /// Alert thresholds per metric and per lane.
    /// `[alerts]`: overrides of the registry's default thresholds.
    pub alerts: RawAlerts,
    /// Where alert emails go, when configured.
    pub email: Option<EmailConfig>,
    /// The parameters of the governance checks.
    pub governance: Governance,
    /// Business-hour schedules per lane; `None` without `[business_hours]` (no business-time
    /// facts or metrics at all).
    pub business_hours: Option<BusinessHours>,
    /// How the exported files write timestamps, nulls and channels (`[input]`).
    pub input: Input,
    /// `[import.*]`: the importers' own options, checked by the importer that reads them.
    pub import: toml::Table,
    /// `[text]`: how message text is stored and scanned.
    pub text: TextConfig,
    /// `[calls]`: which customer calls refresh the 24-hour window, and first response.
    pub calls: Calls,
    /// `[pricing]`: the rate card; `None` without one (no cost, only billed messages).
    pub pricing: Option<Pricing>,
    /// `[outcomes]`: how bot outcomes are judged.
    pub outcomes: Outcomes,
    /// `[sla]`: the promises and their targets; `None` without the section (no SLA facts,
    /// metrics or board columns).
    pub sla: Option<Sla>,
    /// Where the configuration came from, for messages; `None` for the built-in defaults.
    pub source: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            lanes: DEFAULT_LANES
                .iter()
                .map(|(lane, tier)| ((*lane).to_owned(), *tier))
                .collect(),
            lane_patterns: Vec::new(),
            default_tier: UNKNOWN_LANE_TIER,
            trap_limit: 2,
            window_risk_hours: 20.0,
            alerts: RawAlerts::default(),
            email: None,
            governance: Governance::default(),
            business_hours: None,
            input: Input::default(),
            import: toml::Table::new(),
            text: TextConfig::default(),
            calls: Calls::default(),
            pricing: None,
            outcomes: Outcomes::default(),
            sla: None,
            source: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    lanes: BTreeMap<String, Tier>,
    #[serde(default)]
    rules: RawRules,
    #[serde(default)]
    alerts: RawAlerts,
    email: Option<EmailConfig>,
    #[serde(default)]
    governance: governance::RawGovernance,
    #[serde(default)]
    schedules: BTreeMap<String, schedules::RawSchedule>,
    business_hours: Option<schedules::RawBusinessHours>,
    #[serde(default)]
    input: input::RawInput,
    /// Importer options; read by `l2lens import`, which parses them on its own.
    #[serde(default)]
    import: toml::Table,
    #[serde(default)]
    text: text::RawText,
    #[serde(default)]
    calls: Calls,
    pricing: Option<whatsapp::RawPricing>,
    #[serde(default)]
    outcomes: outcomes::RawOutcomes,
    sla: Option<toml::Table>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    default_tier: Option<Tier>,
    trap_limit: Option<u32>,
    window_risk_hours: Option<f64>,
}

impl Config {
    /// The configuration for a run: the explicit file, else `l2lens.toml` in the data
    /// directory when there is one, else the defaults.
    pub fn resolve(explicit: Option<&Path>, data_dir: Option<&Path>) -> Result<Config> {
        if let Some(path) = explicit {
            return Config::from_file(path);
        }
        if let Some(candidate) = data_dir.map(|d| d.join(CONFIG_FILE))
            && candidate.is_file()
        {
            return Config::from_file(&candidate);
        }
        Ok(Config::default())
    }

    pub fn from_file(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the config file {}", path.display()))?;
        let mut config = Config::from_toml(&text)
            .with_context(|| format!("in config file {}", path.display()))?;
        config.source = Some(path.to_owned());
        Ok(config)
    }

    pub fn from_toml(text: &str) -> Result<Config> {
        let raw: RawConfig = toml::from_str(text)?;
        let mut config = Config::default();
        for (lane, tier) in raw.lanes {
            let name = lane.trim().to_lowercase();
            if name.is_empty() {
                bail!("[lanes] has an empty lane name");
            }
            if name.contains(['*', '?']) {
                config.lane_patterns.push((name, tier));
            } else {
                config.lanes.insert(name, tier);
            }
        }
        config
            .lane_patterns
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        if let Some(tier) = raw.rules.default_tier {
            config.default_tier = tier;
        }
        if let Some(limit) = raw.rules.trap_limit {
            config.trap_limit = limit;
        }
        if let Some(hours) = raw.rules.window_risk_hours {
            if !(hours.is_finite() && hours > 0.0) {
                bail!("[rules] window_risk_hours must be a positive number of hours, got {hours}");
            }
            config.window_risk_hours = hours;
        }
        // Checked now, against no defaults, so that a bad condition is an error of the file;
        // the defaults are the metric registry's (`metrics::thresholds`).
        raw.alerts.resolve(Thresholds::default())?;
        config.alerts = raw.alerts;
        if let Some(email) = raw.email {
            email.validate()?;
            config.email = Some(email);
        }
        config.governance = raw.governance.resolve()?;
        config.business_hours = schedules::resolve(raw.schedules, raw.business_hours)?;
        config.input = raw.input.resolve()?;
        config.import = raw.import;
        config.text = raw.text.resolve()?;
        config.calls = raw.calls;
        config.pricing = match raw.pricing {
            Some(pricing) => pricing.resolve()?,
            None => None,
        };
        config.outcomes = raw.outcomes.resolve()?;
        config.sla = match &raw.sla {
            Some(table) => Some(outcomes::resolve_sla(
                table,
                config.business_hours.is_some(),
            )?),
            None => None,
        };
        Ok(config)
    }

    /// The tier of a lane: its own, else the most specific matching pattern's, else the
    /// default tier (L1 unless `[rules] default_tier` says otherwise).
    pub fn tier(&self, lane: &str) -> Tier {
        if let Some(tier) = self.lanes.get(lane) {
            return *tier;
        }
        self.lane_patterns
            .iter()
            .find(|(p, _)| glob_match(p, lane))
            .map_or(self.default_tier, |(_, tier)| *tier)
    }

    pub fn known_lanes(&self) -> KnownLanes {
        KnownLanes {
            exact: self.lanes.keys().cloned().collect(),
            patterns: self.lane_patterns.iter().map(|(p, _)| p.clone()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_spec() {
        let c = Config::default();
        assert_eq!(c.tier("automation"), Tier::Bot);
        assert_eq!(c.tier("general"), Tier::L1);
        assert_eq!(c.tier("vip_fast_lane"), Tier::L2);
        assert_eq!(c.tier("compliance"), Tier::L3);
        assert_eq!(c.tier("legacy_queue"), Tier::L1);
        assert_eq!(c.trap_limit, 2);
        assert_eq!(c.window_risk_hours, 20.0);
    }

    #[test]
    fn a_file_overrides_lane_by_lane() {
        let c = Config::from_toml(
            "[lanes]\nGeneral = \"l2\"\nfraud = \"L3\"\n[rules]\ntrap_limit = 3\nwindow_risk_hours = 18\n",
        )
        .unwrap();
        assert_eq!(c.tier("general"), Tier::L2);
        assert_eq!(c.tier("fraud"), Tier::L3);
        assert_eq!(c.tier("retention"), Tier::L2);
        assert_eq!(c.trap_limit, 3);
        assert_eq!(c.window_risk_hours, 18.0);
    }

    #[test]
    fn lane_patterns_and_a_default_tier() {
        let c = Config::from_toml(
            "[lanes]\n\"V5*\" = \"L2\"\n\"v5 ?3*\" = \"L3\"\n\"v5 special\" = \"L1\"\n             [rules]\ndefault_tier = \"L2\"\n",
        )
        .unwrap();
        assert_eq!(c.tier("v5 g2"), Tier::L2);
        assert_eq!(
            c.tier("v5 g3 desk"),
            Tier::L3,
            "the longer pattern is more specific"
        );
        assert_eq!(c.tier("v5 special"), Tier::L1, "an exact name wins");
        assert_eq!(c.tier("n1"), Tier::L2, "the default tier");
        assert_eq!(c.tier("general"), Tier::L1, "built-in lanes keep theirs");
        assert!(c.known_lanes().contains("v5 g2") && !c.known_lanes().contains("n1"));
        for (pattern, text, expected) in [
            ("v5*", "v5", true),
            ("*desk", "night desk", true),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("*a*b", "xxaxxb", true),
            ("*a*b", "xxaxxbc", false),
        ] {
            assert_eq!(glob_match(pattern, text), expected, "{pattern} ~ {text}");
        }
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let err = Config::from_toml("[lanes]\ngeneral = \"L4\"\n").unwrap_err();
        assert!(format!("{err:#}").contains("unknown tier `L4`"), "{err:#}");
        let err = Config::from_toml("[rulez]\n").unwrap_err();
        assert!(format!("{err:#}").contains("rulez"), "{err:#}");
        let err = Config::from_toml("[rules]\nwindow_risk_hours = -1\n").unwrap_err();
        assert!(format!("{err:#}").contains("positive"), "{err:#}");
    }
}
