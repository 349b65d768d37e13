//! The top of the report: what changed since the previous period, and in which direction.
//!
//! - [`drift`]: whether a change moved a value toward its threshold or away from it (not the
//!   sign of the change: a rising CSAT-like rate is good, a rising wait is bad).
//! - [`headline`]: for group `ALL`, every metric's value, its change and its recent values.
//! - [`what_changed`]: up to five plain sentences, each with the numbers behind it, ranked by
//!   how bad the value is now, then by the size of the change.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::alert::{Severity, Verdict, judge};
use crate::config::{ALL, Condition, Thresholds};
use crate::metrics::{Dimension, MetricRow, Unit, find, human};

/// Which way a change went, judged against the metric's threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drift {
    /// Closer to (or further past) the threshold: worse.
    Toward,
    /// Away from the threshold: better.
    Away,
    /// No change.
    Flat,
    /// No threshold to judge by.
    Unjudged,
}

impl Drift {
    pub fn as_str(self) -> &'static str {
        match self {
            Drift::Toward => "toward",
            Drift::Away => "away",
            Drift::Flat => "flat",
            Drift::Unjudged => "unjudged",
        }
    }
}

/// How far a value is into the bad side of a condition (larger is worse).
fn badness(condition: Condition, value: f64) -> f64 {
    match condition {
        Condition::Above(t) | Condition::AtLeast(t) => value - t,
        Condition::Below(t) | Condition::AtMost(t) => t - value,
        Condition::Equal(t) => -(value - t).abs(),
        // Inside the band, the distance to the nearer bound counts as negative badness.
        Condition::Outside(lo, hi) => (lo - value).max(value - hi),
    }
}

/// The direction of a change from `before` to `now` against `condition`.
pub fn drift(condition: Option<Condition>, before: f64, now: f64) -> Drift {
    if now == before {
        return Drift::Flat;
    }
    let Some(c) = condition else {
        return Drift::Unjudged;
    };
    if badness(c, now) > badness(c, before) {
        Drift::Toward
    } else {
        Drift::Away
    }
}

/// The condition a change is judged against: the warning line, else the critical one.
fn line_of(thresholds: &Thresholds, metric: &str, group: &str, by: Dimension) -> Option<Condition> {
    let rule = thresholds.rule_for(metric, group, by == Dimension::Lane)?;
    rule.warning.or(rule.critical)
}

/// One metric in the headline strip.
#[derive(Debug, Clone, PartialEq)]
pub struct Headline {
    pub metric: &'static str,
    /// The metric's name for people.
    pub name: &'static str,
    pub value: String,
    /// `+2.5 min`, `−1.2 %`; empty without a previous value.
    pub delta: String,
    pub arrow: &'static str,
    pub drift: Drift,
    pub n: u64,
    /// An inline SVG polyline's points for the recent values (0..100 × 0..24).
    pub spark: String,
}

/// The headline of every metric in `ids` for group `ALL` in `period`, with the change from the
/// period before it and the values over `periods` (oldest first).
pub fn headline(
    rows: &[MetricRow],
    ids: &[&'static str],
    periods: &[NaiveDate],
    thresholds: &Thresholds,
    by: Dimension,
) -> Vec<Headline> {
    let Some((&now_period, earlier)) = periods.split_last() else {
        return Vec::new();
    };
    let all: HashMap<(&str, NaiveDate), &MetricRow> = rows
        .iter()
        .filter(|r| r.group == ALL)
        .map(|r| ((r.metric.id(), r.period_start), r))
        .collect();
    let value = |metric: &str, p: NaiveDate| all.get(&(metric, p)).copied();
    ids.iter()
        .filter_map(|&id| {
            let now = value(id, now_period)?;
            let unit = find(id).map_or(Unit::Rate, |m| m.unit);
            let before = earlier.last().and_then(|&p| value(id, p));
            let (delta, arrow, drift) = match before {
                None => (String::new(), "", Drift::Unjudged),
                Some(b) => {
                    let d = now.value - b.value;
                    let sign = if d > 0.0 {
                        "+"
                    } else if d < 0.0 {
                        "−"
                    } else {
                        "±"
                    };
                    let arrow = if d > 0.0 {
                        "▲"
                    } else if d < 0.0 {
                        "▼"
                    } else {
                        "■"
                    };
                    // A rate moves in percentage points, not percent.
                    let size = if unit == Unit::Rate {
                        format!("{:.1} pp", d.abs() * 100.0)
                    } else {
                        human(d.abs(), unit)
                    };
                    (
                        format!("{sign}{size}"),
                        arrow,
                        drift(line_of(thresholds, id, ALL, by), b.value, now.value),
                    )
                }
            };
            let series: Vec<Option<f64>> = periods
                .iter()
                .map(|&p| value(id, p).map(|r| r.value))
                .collect();
            Some(Headline {
                metric: id,
                name: crate::metrics::find(id).map_or(id, |m| m.name),
                value: human(now.value, unit),
                delta,
                arrow,
                drift,
                n: now.n,
                spark: sparkline(&series),
            })
        })
        .collect()
}

/// The points of a small line chart (100 × 24) of `values`; gaps are skipped.
pub fn sparkline(values: &[Option<f64>]) -> String {
    let known: Vec<f64> = values.iter().flatten().copied().collect();
    let (lo, hi) = known
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    let span = if hi > lo { hi - lo } else { 1.0 };
    let step = 100.0 / (values.len().max(2) - 1) as f64;
    values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            v.map(|v| {
                format!(
                    "{:.1},{:.1}",
                    i as f64 * step,
                    22.0 - (v - lo) / span * 20.0
                )
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A change worth a sentence, with what ranks it.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub sentence: String,
    /// 2 critical, 1 warning, 0 otherwise (now).
    pub severity: u8,
    /// |now − before| / max(|before|, a tiny floor).
    pub size: f64,
}

/// Up to `limit` sentences about what changed from `before` to `now`, worst first: by the
/// severity of the value now, then by the relative size of the change. Cohorts too small to
/// alert on (`min_n`) are left out: their swings are noise.
pub fn what_changed(
    rows: &[MetricRow],
    before: NaiveDate,
    now: NaiveDate,
    thresholds: &Thresholds,
    by: Dimension,
    limit: usize,
) -> Vec<Change> {
    let previous: HashMap<(&str, &str), &MetricRow> = rows
        .iter()
        .filter(|r| r.period_start == before)
        .map(|r| ((r.group.as_str(), r.metric.id()), r))
        .collect();
    let mut changes: Vec<Change> = rows
        .iter()
        .filter(|r| r.period_start == now)
        .filter_map(|r| {
            let b = *previous.get(&(r.group.as_str(), r.metric.id()))?;
            if b.value == r.value {
                return None;
            }
            let info = r.metric.info();
            let (state, broken) = judge(thresholds, by, r);
            if state == Verdict::TooFew {
                return None;
            }
            let severity = match state {
                Verdict::Broken(Severity::Critical) => 2,
                Verdict::Broken(Severity::Warning) => 1,
                _ => 0,
            };
            let rose = r.value > b.value;
            let mut sentence = format!(
                "{} in {} {} from {} to {} (n = {})",
                info.id,
                if r.group == ALL {
                    "all groups".to_owned()
                } else {
                    r.group.clone()
                },
                if rose { "rose" } else { "fell" },
                human(b.value, info.unit),
                human(r.value, info.unit),
                r.n
            );
            if let Some(c) = broken {
                let level = if severity == 2 { "critical" } else { "warning" };
                sentence.push_str(&format!(", now {} ({level} line)", c.human(info.unit)));
            } else if judge(thresholds, by, b).1.is_some() {
                sentence.push_str(", back within its thresholds");
            }
            sentence.push('.');
            Some(Change {
                sentence,
                severity,
                size: (r.value - b.value).abs() / b.value.abs().max(1e-9),
            })
        })
        .collect();
    changes.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.size.total_cmp(&a.size))
            .then_with(|| a.sentence.cmp(&b.sentence))
    });
    changes.truncate(limit);
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_direction_follows_the_threshold_not_the_sign() {
        use Condition::*;
        // A wait: rising is toward `> 300`.
        assert_eq!(drift(Some(Above(300.0)), 100.0, 200.0), Drift::Toward);
        assert_eq!(drift(Some(Above(300.0)), 400.0, 350.0), Drift::Away);
        // A completeness rate: falling is toward `< 0.95`.
        assert_eq!(drift(Some(Below(0.95)), 0.99, 0.97), Drift::Toward);
        assert_eq!(drift(Some(Below(0.95)), 0.90, 0.93), Drift::Away);
        // A band: toward its nearer edge, or further out, is worse.
        let band = Some(Outside(0.05, 0.10));
        assert_eq!(drift(band, 0.075, 0.095), Drift::Toward);
        assert_eq!(drift(band, 0.12, 0.15), Drift::Toward);
        assert_eq!(drift(band, 0.03, 0.06), Drift::Away);
        assert_eq!(drift(band, 0.09, 0.07), Drift::Away);
        assert_eq!(drift(band, 0.07, 0.07), Drift::Flat);
        assert_eq!(drift(None, 1.0, 2.0), Drift::Unjudged);
    }

    fn row(p: NaiveDate, group: &str, metric: &str, value: f64, n: u64) -> MetricRow {
        MetricRow {
            period_start: p,
            group: group.to_owned(),
            metric: crate::metrics::MetricRef::parse(metric).unwrap(),
            value,
            n,
        }
    }

    #[test]
    fn changes_rank_by_severity_then_size_and_carry_their_numbers() {
        let (w1, w2) = (
            NaiveDate::from_ymd_opt(2026, 11, 9).unwrap(),
            NaiveDate::from_ymd_opt(2026, 11, 16).unwrap(),
        );
        let rows = vec![
            // Critical now: small change, ranked first anyway.
            row(w1, "technical_l2", "tts_median_s", 3_500.0, 40),
            row(w2, "technical_l2", "tts_median_s", 3_700.0, 40),
            // Warning now: a 14 s → 41 s jump in the VIP lane (its own lines: > 30 / > 120).
            row(w1, "vip_fast_lane", "tts_median_s", 14.0, 48),
            row(w2, "vip_fast_lane", "tts_median_s", 41.0, 48),
            // Fine, but a big relative change.
            row(w1, "ALL", "frt_median_s", 10.0, 500),
            row(w2, "ALL", "frt_median_s", 60.0, 500),
            // Too few conversations to say anything.
            row(w1, "general", "frt_median_s", 10.0, 3),
            row(w2, "general", "frt_median_s", 900.0, 3),
            // Unchanged.
            row(w1, "ALL", "misroute_rate", 0.02, 500),
            row(w2, "ALL", "misroute_rate", 0.02, 500),
        ];
        let changes = what_changed(
            &rows,
            w1,
            w2,
            &crate::metrics::default_thresholds(),
            Dimension::Lane,
            5,
        );
        let sentences: Vec<&str> = changes.iter().map(|c| c.sentence.as_str()).collect();
        assert_eq!(
            sentences,
            [
                "tts_median_s in technical_l2 rose from 58.3 min to 61.7 min (n = 40), now > 60.0 min (critical line).",
                "tts_median_s in vip_fast_lane rose from 14.0 s to 41.0 s (n = 48), now > 30.0 s (warning line).",
                "frt_median_s in all groups rose from 10.0 s to 60.0 s (n = 500).",
            ]
        );
        assert_eq!(
            what_changed(
                &rows,
                w1,
                w2,
                &crate::metrics::default_thresholds(),
                Dimension::Lane,
                1
            )
            .len(),
            1
        );
    }

    #[test]
    fn a_sparkline_spans_its_box_and_skips_gaps() {
        assert_eq!(
            sparkline(&[Some(1.0), None, Some(3.0)]),
            "0.0,22.0 100.0,2.0"
        );
        assert_eq!(sparkline(&[Some(5.0), Some(5.0)]), "0.0,22.0 100.0,22.0");
    }
}
