//! What was mailed, so that cron runs do not repeat themselves.
//!
//! An alert is identified by (dimension, group, metric), whatever the period: one still firing
//! at the same or a lower severity is not mailed again; one firing at a higher severity than
//! any mailed while it kept firing is mailed as escalated; one that stops firing is announced
//! once as resolved and forgotten.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::{Alert, Severity};
use crate::atomic::write_atomic;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mailed {
    pub dimension: String,
    pub group: String,
    pub metric: String,
    /// The highest severity mailed while the alert kept firing.
    pub severity: Severity,
    /// The latest period and value seen.
    pub period_start: String,
    pub value: f64,
    pub threshold: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmailLog {
    pub alerts: BTreeMap<String, Mailed>,
}

fn key(dimension: &str, group: &str, metric: &str) -> String {
    format!("{dimension}|{group}|{metric}")
}

/// What one run has to say.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    pub new: Vec<Alert>,
    /// Escalated alerts with the severity mailed before.
    pub escalated: Vec<(Alert, Severity)>,
    pub resolved: Vec<Mailed>,
    /// The state to keep once the mail is sent.
    pub next: EmailLog,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.new.is_empty() && self.escalated.is_empty() && self.resolved.is_empty()
    }

    /// The worst severity among new and escalated alerts.
    pub fn worst(&self) -> Option<Severity> {
        self.new
            .iter()
            .map(|a| a.severity)
            .chain(self.escalated.iter().map(|(a, _)| a.severity))
            .max()
    }
}

impl EmailLog {
    /// Reads the state; a missing file is an empty state.
    pub fn load(path: &Path) -> Result<EmailLog> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).with_context(|| {
                format!(
                    "the alert state file {} is not valid; delete it to start afresh (every \
                     firing alert is then mailed once more)",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(EmailLog::default()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let mut json = serde_json::to_vec_pretty(self)?;
        json.push(b'\n');
        write_atomic(path, |w| Ok(std::io::Write::write_all(w, &json)?))
    }

    /// Compares the firing alerts with what was mailed.
    pub fn changes(&self, firing: &[Alert]) -> Changes {
        let mut changes = Changes::default();
        for alert in firing {
            let dimension = alert.dimension.to_string();
            let k = key(&dimension, &alert.group, alert.metric.id());
            let mailed_severity = match self.alerts.get(&k) {
                None => {
                    changes.new.push(alert.clone());
                    alert.severity
                }
                Some(before) if alert.severity > before.severity => {
                    changes.escalated.push((alert.clone(), before.severity));
                    alert.severity
                }
                Some(before) => before.severity,
            };
            changes.next.alerts.insert(
                k,
                Mailed {
                    dimension,
                    group: alert.group.clone(),
                    metric: alert.metric.id().to_owned(),
                    severity: mailed_severity,
                    period_start: alert.period_start.to_string(),
                    value: alert.value,
                    threshold: alert.threshold.clone(),
                },
            );
        }
        for (k, mailed) in &self.alerts {
            if !changes.next.alerts.contains_key(k) {
                changes.resolved.push(mailed.clone());
            }
        }
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(group: &str, metric: &str, severity: Severity) -> Alert {
        Alert {
            period_start: chrono::NaiveDate::from_ymd_opt(2026, 11, 16).unwrap(),
            dimension: crate::metrics::Dimension::Lane,
            group: group.into(),
            metric: crate::metrics::MetricRef::parse(metric).unwrap(),
            value: 1.0,
            threshold: "> 0".into(),
            threshold_human: "> 0".into(),
            condition: None,
            severity,
            n: 30,
            conversations: vec![],
            drill: vec![],
        }
    }

    #[test]
    fn new_same_lower_escalated_and_resolved() {
        let first = EmailLog::default().changes(&[
            alert("ALL", "misroute_rate", Severity::Warning),
            alert("ALL", "window_expired", Severity::Critical),
        ]);
        assert_eq!(first.new.len(), 2);
        assert_eq!(first.worst(), Some(Severity::Critical));
        let state = first.next;

        let same = state.changes(&[
            alert("ALL", "misroute_rate", Severity::Warning),
            alert("ALL", "window_expired", Severity::Warning),
        ]);
        assert!(same.is_empty(), "same or lower: nothing to say");
        assert_eq!(
            same.next.alerts["lane|ALL|window_expired"].severity,
            Severity::Critical,
            "the mailed severity is remembered"
        );

        let escalated = same.next.changes(&[
            alert("ALL", "misroute_rate", Severity::Critical),
            alert("ALL", "window_expired", Severity::Critical),
        ]);
        assert_eq!(escalated.escalated.len(), 1);
        assert_eq!(escalated.escalated[0].1, Severity::Warning);
        assert!(escalated.new.is_empty() && escalated.resolved.is_empty());

        let resolved =
            escalated
                .next
                .changes(&[alert("ALL", "window_expired", Severity::Critical)]);
        assert_eq!(resolved.resolved.len(), 1);
        assert_eq!(resolved.resolved[0].metric, "misroute_rate");
        assert!(resolved.changes_nothing_else());
        let again = resolved
            .next
            .changes(&[alert("ALL", "window_expired", Severity::Critical)]);
        assert!(again.is_empty(), "a resolution is announced once");
    }

    impl Changes {
        fn changes_nothing_else(&self) -> bool {
            self.new.is_empty() && self.escalated.is_empty()
        }
    }
}
