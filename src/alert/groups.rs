//! The alerts of a period grouped by metric, and the few findings a reader acts on first. One
//! home for both, so that the report and the emails say the same thing in the same order.
//!
//! - **A metric's alerts**: its worst severity, its value for all groups together, and the
//!   groups in breach, worst first (critical before warning, then the furthest past the
//!   threshold, then the largest cohort, then the name).
//! - **Conversations affected** by an alert: for a rate, the conversations it counts
//!   (`value × n`, rounded); for a count, the count; for a duration or any other value, its
//!   cohort `n`. A metric's total is the sum over its groups in breach, or its `ALL` value when
//!   only `ALL` broke the threshold.
//! - **Findings**: the metrics that alert, ranked by severity weight × conversations affected
//!   (critical weighs [`CRITICAL_WEIGHT`], warning 1), ties by metric id; the first
//!   [`MAX_FINDINGS`].

use super::{Alert, AlertReport, Severity};
use crate::config::Condition;
use crate::metrics::{ALL, MetricRef, MetricRow, Unit, human};

/// How many findings the top of the report shows.
pub const MAX_FINDINGS: usize = 5;

/// How much a critical alert weighs against a warning when findings are ranked.
pub const CRITICAL_WEIGHT: u64 = 3;

/// The alerts of one metric.
#[derive(Debug, Clone)]
pub struct MetricAlerts<'a> {
    pub metric: MetricRef,
    pub severity: Severity,
    /// The metric's value and `n` for all groups together this period, when it has one.
    pub all: Option<(f64, u64)>,
    /// The alerts, `ALL` first when it alerts, then the groups worst first.
    pub alerts: Vec<&'a Alert>,
    /// The groups (besides `ALL`) with a value of this metric this period.
    pub groups_measured: usize,
    /// Conversations affected (the module's rule).
    pub affected: u64,
}

impl MetricAlerts<'_> {
    /// The groups in breach (not `ALL`), worst first.
    pub fn groups(&self) -> impl Iterator<Item = &&Alert> {
        self.alerts.iter().filter(|a| a.group != ALL)
    }

    /// How the metric ranks among findings: severity weight × conversations affected.
    pub fn score(&self) -> u64 {
        let weight = match self.severity {
            Severity::Critical => CRITICAL_WEIGHT,
            Severity::Warning => 1,
        };
        weight.saturating_mul(self.affected)
    }

    /// One sentence for people, with its numbers and the groups involved, e.g. "Silent stalls:
    /// 30.0 % for all lanes (n = 412, threshold > 15.0 %); critical in 8 of 9 lanes, worst
    /// retention 43.0 % (n = 51)."
    pub fn sentence(&self, dimension: &str) -> String {
        let info = self.metric.info();
        let mut out = format!("{}: ", info.name);
        match self.all {
            Some((value, n)) => out.push_str(&format!(
                "{} for all {dimension}s (n = {n})",
                human(value, info.unit)
            )),
            None => out.push_str("no value for all groups together"),
        }
        if let Some(all) = self.alerts.iter().find(|a| a.group == ALL) {
            out.push_str(&format!(
                ", {} against {}",
                all.severity.as_str(),
                all.threshold_human
            ));
        }
        let groups: Vec<&&Alert> = self.groups().collect();
        if let Some(worst) = groups.first() {
            let critical = groups
                .iter()
                .filter(|a| a.severity == Severity::Critical)
                .count();
            let count = if critical > 0 {
                format!("critical in {critical}")
            } else {
                format!("warning in {}", groups.len())
            };
            out.push_str(&format!(
                "; {count} of {} {dimension}s, worst {} {} (n = {}, threshold {})",
                self.groups_measured.max(groups.len()),
                crate::units::printable(&worst.group),
                human(worst.value, info.unit),
                worst.n,
                worst.threshold_human
            ));
        }
        out.push('.');
        out
    }
}

/// Conversations an alert's value stands for (the module's rule).
pub fn affected(alert: &Alert) -> u64 {
    match alert.metric.info().unit {
        Unit::Rate => (alert.value * alert.n as f64).round().max(0.0) as u64,
        Unit::Count => alert.value.round().max(0.0) as u64,
        _ => alert.n,
    }
}

/// How far past its threshold a value is, in the threshold's own scale (0 when it holds).
fn excess(condition: Option<Condition>, value: f64) -> f64 {
    let past = |limit: f64, above: bool| {
        let d = if above { value - limit } else { limit - value };
        d / limit.abs().max(f64::MIN_POSITIVE)
    };
    match condition {
        Some(Condition::Above(t) | Condition::AtLeast(t)) => past(t, true),
        Some(Condition::Below(t) | Condition::AtMost(t)) => past(t, false),
        Some(Condition::Outside(lo, hi)) => {
            if value < lo {
                past(lo, false)
            } else {
                past(hi, true)
            }
        }
        Some(Condition::Equal(_)) | None => 0.0,
    }
}

/// The alerts of `report` grouped by metric, in the order of their findings' rank; `rows` are the
/// metric rows (the `ALL` values and how many groups each metric has are read from them).
pub fn by_metric<'a>(report: &'a AlertReport, rows: &[MetricRow]) -> Vec<MetricAlerts<'a>> {
    let mut groups: Vec<MetricAlerts<'a>> = Vec::new();
    for alert in &report.alerts {
        match groups.iter_mut().find(|g| g.metric == alert.metric) {
            Some(g) => g.alerts.push(alert),
            None => groups.push(MetricAlerts {
                metric: alert.metric,
                severity: alert.severity,
                all: None,
                alerts: vec![alert],
                groups_measured: 0,
                affected: 0,
            }),
        }
    }
    for g in &mut groups {
        g.severity = g
            .alerts
            .iter()
            .map(|a| a.severity)
            .max()
            .unwrap_or(g.severity);
        g.alerts.sort_by(|a, b| {
            (b.group == ALL)
                .cmp(&(a.group == ALL))
                .then_with(|| b.severity.cmp(&a.severity))
                .then_with(|| excess(b.condition, b.value).total_cmp(&excess(a.condition, a.value)))
                .then_with(|| b.n.cmp(&a.n))
                .then_with(|| a.group.cmp(&b.group))
        });
        let period = |r: &&MetricRow| r.period_start == report.period_start && r.metric == g.metric;
        g.all = rows
            .iter()
            .filter(period)
            .find(|r| r.group == ALL)
            .map(|r| (r.value, r.n));
        g.groups_measured = rows
            .iter()
            .filter(period)
            .filter(|r| r.group != ALL)
            .count();
        let in_groups: u64 = g.groups().map(|a| affected(a)).sum();
        g.affected = if g.groups().next().is_some() {
            in_groups
        } else {
            g.alerts.iter().map(|a| affected(a)).sum()
        };
    }
    groups.sort_by(|a, b| {
        b.score()
            .cmp(&a.score())
            .then_with(|| b.severity.cmp(&a.severity))
            .then_with(|| a.metric.id().cmp(b.metric.id()))
    });
    groups
}

/// The metrics of the alert cards, in the report's order.
pub fn ranking(report: &AlertReport, rows: &[MetricRow]) -> Vec<MetricRef> {
    by_metric(report, rows).iter().map(|g| g.metric).collect()
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::metrics::Dimension;

    fn week() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 16).unwrap()
    }

    fn alert(metric: &str, group: &str, severity: Severity, value: f64, n: u64) -> Alert {
        let condition = Condition::Above(0.05);
        Alert {
            period_start: week(),
            dimension: Dimension::Lane,
            group: group.to_owned(),
            metric: MetricRef::parse(metric).unwrap(),
            value,
            threshold: condition.to_string(),
            threshold_human: "> 5.0 %".to_owned(),
            condition: Some(condition),
            severity,
            n,
            conversations: Vec::new(),
            drill: Vec::new(),
        }
    }

    fn report(alerts: Vec<Alert>) -> AlertReport {
        AlertReport {
            period_start: week(),
            period: crate::period::Period::Week,
            as_of: 0,
            dimension: Dimension::Lane,
            alerts,
        }
    }

    fn row(metric: &str, group: &str, value: f64, n: u64) -> MetricRow {
        MetricRow {
            period_start: week(),
            group: group.to_owned(),
            metric: MetricRef::parse(metric).unwrap(),
            value,
            n,
        }
    }

    #[test]
    fn findings_rank_by_severity_weight_times_conversations_affected() {
        // A warning on 100 of 200 conversations (100), a critical on 20 of 100 (3 × 20 = 60),
        // and a critical count of 30 threads (3 × 30 = 90).
        let r = report(vec![
            alert("misroute_rate", "general", Severity::Critical, 0.2, 100),
            alert(
                "silent_stall_rate",
                "retention",
                Severity::Warning,
                0.5,
                200,
            ),
            alert("window_expired", "general", Severity::Critical, 30.0, 80),
        ]);
        let ranked: Vec<(&str, u64, u64)> = by_metric(&r, &[])
            .iter()
            .map(|g| (g.metric.id(), g.affected, g.score()))
            .collect();
        assert_eq!(
            ranked,
            vec![
                ("silent_stall_rate", 100, 100),
                ("window_expired", 30, 90),
                ("misroute_rate", 20, 60),
            ]
        );
    }

    #[test]
    fn a_metric_has_one_group_of_alerts_all_first_then_worst_first() {
        let r = report(vec![
            alert("silent_stall_rate", "general", Severity::Warning, 0.09, 50),
            alert(
                "silent_stall_rate",
                "retention",
                Severity::Critical,
                0.43,
                51,
            ),
            alert("silent_stall_rate", "ALL", Severity::Critical, 0.30, 412),
            alert("silent_stall_rate", "billing", Severity::Critical, 0.20, 90),
        ]);
        let rows = [
            row("silent_stall_rate", "ALL", 0.30, 412),
            row("silent_stall_rate", "general", 0.09, 50),
            row("silent_stall_rate", "retention", 0.43, 51),
            row("silent_stall_rate", "billing", 0.20, 90),
            row("silent_stall_rate", "vip_fast_lane", 0.01, 40),
        ];
        let groups = by_metric(&r, &rows);
        assert_eq!(groups.len(), 1);
        let g = &groups[0];
        let order: Vec<&str> = g.alerts.iter().map(|a| a.group.as_str()).collect();
        assert_eq!(order, ["ALL", "retention", "billing", "general"]);
        assert_eq!(
            (g.severity, g.all, g.groups_measured),
            (Severity::Critical, Some((0.30, 412)), 4)
        );
        // The groups in breach count, not ALL: 22 + 18 + 5 (rounded).
        assert_eq!(g.affected, 22 + 18 + 5);
        let sentence = g.sentence("lane");
        assert!(
            sentence.starts_with("Silent stalls: 30.0 % for all lanes (n = 412)"),
            "{sentence}"
        );
        assert!(
            sentence.contains("critical in 2 of 4 lanes, worst retention 43.0 % (n = 51"),
            "{sentence}"
        );
    }
}
