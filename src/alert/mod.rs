//! Threshold alerts: metric rows of one period → alerts, each with the conversations behind it.
//!
//! A value alerts when its cohort has at least `min_n` conversations and it breaks the
//! critical condition of its rule (severity critical) or else the warning condition (severity
//! warning). Alerts are sorted by severity (critical first), then metric and group.

pub mod email;
pub mod groups;
pub mod period_drills;
pub mod state;

use anyhow::{Context as _, Result};
use chrono::NaiveDate;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::{Condition, Thresholds};
use crate::metrics::{self, Dimension, DrillGroup, DrillQuery, Frames, MetricRef, MetricRow};
use crate::period::Period;

/// How bad an alert is. Ordered: a critical alert is worse than a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// How many conversations an alert names at most.
pub const MAX_CONVERSATIONS: usize = 50;

/// One conversation behind an alert, as the report lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DrillRow {
    pub conversation_id: String,
    pub lane: Option<String>,
    pub owner: Option<String>,
    pub hours_silent: Option<f64>,
    /// RFC 3339, UTC.
    pub opened_at: String,
    /// What broke the rule, for metrics that count events (a template and its status).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// The local date of the period's first day.
    #[serde(serialize_with = "crate::time::serialize_date")]
    pub period_start: NaiveDate,
    /// The grouping dimension (`lane`, `segment`, …) and the group.
    pub dimension: Dimension,
    pub group: String,
    pub metric: MetricRef,
    pub value: f64,
    /// The broken condition, e.g. `> 900`.
    pub threshold: String,
    /// The same in the value's units, e.g. `> 15.0 min`.
    pub threshold_human: String,
    /// The broken condition itself (its text is `threshold`).
    #[serde(skip)]
    pub condition: Option<Condition>,
    pub severity: Severity,
    pub n: u64,
    /// Ids of up to 50 conversations behind the value, worst first.
    pub conversations: Vec<String>,
    /// The same conversations with what the report shows of them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub drill: Vec<DrillRow>,
}

/// The alerts of one run, as written to `alerts.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertReport {
    #[serde(serialize_with = "crate::time::serialize_date")]
    pub period_start: NaiveDate,
    pub period: Period,
    /// Milliseconds since the epoch, UTC; written as RFC 3339.
    #[serde(serialize_with = "crate::time::serialize_instant")]
    pub as_of: i64,
    pub dimension: Dimension,
    pub alerts: Vec<Alert>,
}

impl AlertReport {
    pub fn worst(&self) -> Option<Severity> {
        self.alerts.iter().map(|a| a.severity).max()
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.alerts
            .iter()
            .filter(|a| a.severity == severity)
            .count()
    }
}

/// Checks that every metric a threshold names exists (the configuration parses thresholds
/// without knowing the metric registry).
pub fn check_metrics(thresholds: &Thresholds) -> Result<()> {
    let known: Vec<&str> = metrics::all_metrics().map(|m| m.id).collect();
    if let Some(unknown) = thresholds.metric_ids().find(|id| !known.contains(id)) {
        anyhow::bail!(
            "[alerts] names an unknown metric `{unknown}`; known metrics: {}",
            known.join(", ")
        );
    }
    Ok(())
}

/// The state of one value against its rule: what the report colours a cell by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// No rule for this metric and group.
    Unwatched,
    /// Fewer conversations than the rule's `min_n`: no alert either way.
    TooFew,
    Ok,
    Broken(Severity),
}

/// Judges one value; returns the state and the broken condition.
pub fn judge(
    thresholds: &Thresholds,
    by: Dimension,
    row: &MetricRow,
) -> (Verdict, Option<Condition>) {
    let Some(rule) = thresholds.rule_for(row.metric.id(), &row.group, by == Dimension::Lane) else {
        return (Verdict::Unwatched, None);
    };
    if rule.warning.is_none() && rule.critical.is_none() {
        return (Verdict::Unwatched, None);
    }
    if row.n < rule.min_n {
        return (Verdict::TooFew, None);
    }
    if let Some(c) = rule.critical.filter(|c| c.holds(row.value)) {
        return (Verdict::Broken(Severity::Critical), Some(c));
    }
    if let Some(c) = rule.warning.filter(|c| c.holds(row.value)) {
        return (Verdict::Broken(Severity::Warning), Some(c));
    }
    (Verdict::Ok, None)
}

/// The alerts of one period, without their conversations, worst first.
pub fn evaluate(
    rows: &[MetricRow],
    period_start: NaiveDate,
    by: Dimension,
    thresholds: &Thresholds,
) -> Vec<Alert> {
    let mut alerts: Vec<Alert> = rows
        .iter()
        .filter(|r| r.period_start == period_start)
        .filter_map(|r| match judge(thresholds, by, r) {
            (Verdict::Broken(severity), Some(condition)) => Some(Alert {
                period_start: r.period_start,
                dimension: by,
                group: r.group.clone(),
                metric: r.metric,
                value: r.value,
                threshold: condition.to_string(),
                condition: Some(condition),
                threshold_human: condition.human(r.metric.info().unit),
                severity,
                n: r.n,
                conversations: Vec::new(),
                drill: Vec::new(),
            }),
            _ => None,
        })
        .collect();
    alerts.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.metric.cmp(&b.metric))
            .then_with(|| (a.group != metrics::ALL).cmp(&(b.group != metrics::ALL)))
            .then_with(|| a.group.cmp(&b.group))
    });
    alerts
}

/// Fills in the conversations behind each alert (up to [`MAX_CONVERSATIONS`], worst first).
pub fn explain(ctx: &Frames<'_>, alerts: &mut [Alert]) -> Result<()> {
    let frames = drills(ctx, alerts)?;
    fill(alerts, frames)
}

/// The drill-down rows behind each alert (up to [`MAX_CONVERSATIONS`], worst first): of all
/// conversations, or of one partition of them ([`merge_drills`] merges those).
pub fn drills(ctx: &Frames<'_>, alerts: &[Alert]) -> Result<Vec<DataFrame>> {
    alerts
        .iter()
        .map(|alert| {
            let Some(family) = metrics::family_of(alert.metric.id()) else {
                return Ok(metrics::empty_drill().collect()?);
            };
            let query = DrillQuery {
                metric: alert.metric,
                period_start: alert.period_start,
                group: DrillGroup::One(alert.group.clone()),
                high: high_side(alert.condition, alert.value),
            };
            (family.drill)(ctx, &query)?
                .limit(MAX_CONVERSATIONS as IdxSize)
                .collect()
                .map_err(anyhow::Error::from)
                .with_context(|| format!("listing the conversations behind {}", alert.metric))
        })
        .collect()
}

/// The drill-down rows of each alert over partitions of the conversations (`parts`: each
/// partition's [`drills`]), as one run over all of them lists them.
pub fn merge_drills(parts: Vec<Vec<DataFrame>>) -> Result<Vec<DataFrame>> {
    let mut merged: Vec<Option<DataFrame>> = Vec::new();
    for part in parts {
        merged.resize(merged.len().max(part.len()), None);
        for (slot, frame) in merged.iter_mut().zip(part) {
            match slot {
                Some(all) => {
                    all.vstack_mut_owned(frame)?;
                }
                None => *slot = Some(frame),
            }
        }
    }
    merged
        .into_iter()
        .map(|frame| top(frame.unwrap_or_default()))
        .collect()
}

/// The first [`MAX_CONVERSATIONS`] drill-down rows of `frame` in the order of one run over
/// all conversations: by rank, worst first with nulls last, then by conversation key.
fn top(frame: DataFrame) -> Result<DataFrame> {
    Ok(frame
        .lazy()
        .sort(
            [metrics::DRILL_RANK, "key"],
            SortMultipleOptions::default()
                .with_order_descending_multi([true, false])
                .with_nulls_last(true),
        )
        .limit(MAX_CONVERSATIONS as IdxSize)
        .collect()?)
}

/// Whether `value` broke `condition` on its high side: above `>` or `>=`, or above the upper
/// bound of `outside`.
pub fn high_side(condition: Option<Condition>, value: f64) -> bool {
    match condition {
        Some(Condition::Outside(_, hi)) => value > hi,
        Some(Condition::Above(_) | Condition::AtLeast(_)) => true,
        _ => false,
    }
}

/// Fills in each alert's conversations from its drill-down rows.
pub fn fill(alerts: &mut [Alert], frames: Vec<DataFrame>) -> Result<()> {
    for (alert, frame) in alerts.iter_mut().zip(frames) {
        alert.drill = drill_rows(&frame)?;
        alert.conversations = alert
            .drill
            .iter()
            .map(|d| d.conversation_id.clone())
            .collect();
    }
    Ok(())
}

fn drill_rows(frame: &DataFrame) -> Result<Vec<DrillRow>> {
    let ids = frame.column("conversation_id")?.str()?;
    let lanes = frame.column("lane")?.str()?;
    let owners = frame.column("owner")?.str()?;
    let hours = frame.column("hours_silent")?.f64()?;
    let opened = frame.column("opened_at")?.i64()?;
    let details = frame.column("detail")?.str()?;
    Ok((0..frame.height())
        .map(|i| DrillRow {
            conversation_id: ids.get(i).unwrap_or_default().to_owned(),
            lane: lanes.get(i).map(str::to_owned),
            owner: owners.get(i).map(str::to_owned),
            hours_silent: hours.get(i),
            opened_at: opened
                .get(i)
                .map(crate::time::format_rfc3339)
                .unwrap_or_default(),
            detail: details.get(i).map(str::to_owned),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(group: &str, metric: &str, value: f64, n: u64) -> MetricRow {
        MetricRow {
            period_start: NaiveDate::from_ymd_opt(2026, 11, 16).unwrap(),
            group: group.to_owned(),
            metric: MetricRef::parse(metric).unwrap(),
            value,
            n,
        }
    }

    fn severities(rows: &[MetricRow], thresholds: &Thresholds) -> Vec<(String, String, Severity)> {
        let period = NaiveDate::from_ymd_opt(2026, 11, 16).unwrap();
        evaluate(rows, period, Dimension::Lane, thresholds)
            .into_iter()
            .map(|a| (a.group, a.metric.id().to_owned(), a.severity))
            .collect()
    }

    #[test]
    fn both_directions_the_band_and_severity_order() {
        let t = crate::metrics::default_thresholds();
        let rows = [
            row("ALL", "frt_median_s", 301.0, 50), // above: warning
            row("ALL", "context_completeness_rate", 0.79, 50), // below: critical
            row("general", "context_completeness_rate", 0.96, 50), // fine
            row("ALL", "escalation_rate", 0.0, 50), // = 0: critical
            row("ALL", "misroute_rate", 0.05, 50), // not above 0.05
            row("technical_l2", "escalation_rate", 0.5, 50), // band is for ALL only
        ];
        assert_eq!(
            severities(&rows, &t),
            vec![
                (
                    "ALL".into(),
                    "context_completeness_rate".into(),
                    Severity::Critical
                ),
                ("ALL".into(), "escalation_rate".into(), Severity::Critical),
                ("ALL".into(), "frt_median_s".into(), Severity::Warning),
            ]
        );
        let band = |v| severities(&[row("ALL", "escalation_rate", v, 50)], &t);
        assert_eq!(
            band(0.04),
            vec![("ALL".into(), "escalation_rate".into(), Severity::Warning)]
        );
        assert_eq!(
            band(0.11),
            vec![("ALL".into(), "escalation_rate".into(), Severity::Warning)]
        );
        assert!(band(0.07).is_empty());
    }

    #[test]
    fn per_lane_overrides_and_min_n() {
        let t = crate::metrics::default_thresholds();
        let rows = [
            row("vip_fast_lane", "tts_median_s", 45.0, 30), // VIP: > 30 warning
            row("technical_l2", "tts_median_s", 45.0, 30),  // others: > 900
            row("vip_fast_lane", "tts_median_s", 500.0, 19), // too few
        ];
        assert_eq!(
            severities(&rows, &t),
            vec![(
                "vip_fast_lane".into(),
                "tts_median_s".into(),
                Severity::Warning
            )]
        );
        let (state, _) = judge(&t, Dimension::Lane, &rows[2]);
        assert_eq!(state, Verdict::TooFew);
        let (state, _) = judge(&t, Dimension::Lane, &row("ALL", "art_mean_s", 1e9, 50));
        assert_eq!(state, Verdict::Unwatched);
    }

    #[test]
    fn other_periods_do_not_alert() {
        let t = crate::metrics::default_thresholds();
        let mut r = row("ALL", "frt_median_s", 1000.0, 50);
        r.period_start = NaiveDate::from_ymd_opt(2026, 11, 9).unwrap();
        assert!(severities(&[r], &t).is_empty());
    }
}

#[cfg(test)]
mod check_tests {
    use super::*;

    #[test]
    fn unknown_metrics_in_thresholds_are_errors() {
        let raw: crate::config::RawAlerts =
            toml::from_str("[lanes.billing.frt_mean_s]\nwarning = \"> 1\"\n").unwrap();
        let err = check_metrics(&raw.resolve(crate::metrics::default_thresholds()).unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown metric `frt_mean_s`"), "{err}");
        assert!(check_metrics(&crate::metrics::default_thresholds()).is_ok());
    }
}
