//! Metric rules that live above the facts: the window-risk lines and the TTS clamp, on tiny
//! hand-made cases.

use polars::prelude::*;

use super::{Dimension, Frames, MetricsOptions, Period, Zone, compute};
use crate::facts;
use crate::testing::{Case, at};

/// `(group, metric) → (value, n)` of one period (weekly, UTC, by lane).
fn metrics(case: &Case, as_of: &str, period: &str) -> Vec<(String, String, f64, u64)> {
    let data = case.dataset();
    let facts = facts::compute(&data, &case.config, Some(at(as_of))).unwrap();
    let options = MetricsOptions {
        period: Period::Week,
        zone: Zone::UTC,
        by: Dimension::Lane,
        select: super::Selection::Core,
    };
    let ctx = Frames::build(&facts, &data, &case.config, options).unwrap();
    let rows = compute(&ctx).unwrap();
    let day = (chrono::NaiveDate::parse_from_str(period, "%Y-%m-%d").unwrap() - super::epoch())
        .num_days() as i32;
    let rows = rows
        .lazy()
        .filter(col("period_start").cast(DataType::Int32).eq(lit(day)))
        .collect()
        .unwrap();
    let groups = rows.column("lane").unwrap().str().unwrap().clone();
    let names = rows.column("metric").unwrap().str().unwrap().clone();
    let values = rows.column("value").unwrap().f64().unwrap().clone();
    let ns = rows.column("n").unwrap().u64().unwrap().clone();
    (0..rows.height())
        .map(|i| {
            (
                groups.get(i).unwrap().to_owned(),
                names.get(i).unwrap().to_owned(),
                values.get(i).unwrap(),
                ns.get(i).unwrap(),
            )
        })
        .collect()
}

fn value(rows: &[(String, String, f64, u64)], group: &str, metric: &str) -> Option<(f64, u64)> {
    rows.iter()
        .find(|r| r.0 == group && r.1 == metric)
        .map(|r| (r.2, r.3))
}

#[test]
fn the_risk_line_is_strictly_more_than_20_hours_and_expiry_more_than_24() {
    // Snapshot of week 2026-11-16: 2026-11-23T00:00Z.
    let case = Case::new()
        .conv("exact,u1,whatsapp,pro,x,2026-11-21T00:00:00Z,")
        .msg("exact,2026-11-22T04:00:00Z,customer,text,,x")
        .conv("over,u2,whatsapp,pro,x,2026-11-21T00:00:00Z,")
        .msg("over,2026-11-22T03:59:59.999Z,customer,text,,x")
        .conv("day,u3,whatsapp,pro,x,2026-11-20T00:00:00Z,")
        .msg("day,2026-11-22T00:00:00Z,customer,text,,x")
        .conv("gone,u4,whatsapp,pro,x,2026-11-20T00:00:00Z,")
        .msg("gone,2026-11-21T23:59:59.999Z,customer,text,,x")
        // Not in the cohort: email, closed before the snapshot, no customer message.
        .conv("mail,u5,email,pro,x,2026-11-20T00:00:00Z,")
        .msg("mail,2026-11-20T00:00:00Z,customer,text,,x")
        .conv("closed,u6,whatsapp,pro,x,2026-11-20T00:00:00Z,2026-11-22T00:00:00Z")
        .msg("closed,2026-11-20T00:00:00Z,customer,text,,x")
        .conv("outbound,u7,whatsapp,pro,x,2026-11-20T00:00:00Z,")
        .msg("outbound,2026-11-20T00:00:00Z,agent,template,,");
    let rows = metrics(&case, "2026-11-25T00:00:00Z", "2026-11-16");
    // exact: 20 h (not over); over: 20 h + 1 ms; day: exactly 24 h (not expired);
    // gone: 24 h + 1 ms.
    assert_eq!(value(&rows, "ALL", "window_risk_rate"), Some((0.75, 4)));
    assert_eq!(value(&rows, "ALL", "window_expired"), Some((1.0, 4)));
    assert_eq!(value(&rows, "unassigned", "window_expired"), Some((1.0, 4)));
}

#[test]
fn the_risk_line_comes_from_the_config() {
    let mut case = Case::new()
        .conv("c1,u1,whatsapp,pro,x,2026-11-21T00:00:00Z,")
        .msg("c1,2026-11-22T06:00:00Z,customer,text,,x");
    assert_eq!(
        value(
            &metrics(&case, "2026-11-25T00:00:00Z", "2026-11-16"),
            "ALL",
            "window_risk_rate"
        ),
        Some((0.0, 1)),
        "18 h is under the default 20 h line"
    );
    case.config.window_risk_hours = 17.5;
    assert_eq!(
        value(
            &metrics(&case, "2026-11-25T00:00:00Z", "2026-11-16"),
            "ALL",
            "window_risk_rate"
        ),
        Some((1.0, 1))
    );
}

#[test]
fn tts_is_clamped_at_zero_and_needs_a_customer_message() {
    let case = Case::new()
        // The specialist lane came before the customer wrote: 0, not negative.
        .conv("early,u1,whatsapp,pro,x,2026-11-17T08:00:00Z,")
        .asg("early,2026-11-17T08:00:00Z,technical_l2,agent-1,initial")
        .msg("early,2026-11-17T09:00:00Z,customer,text,,x")
        // 90 s after the customer.
        .conv("late,u2,whatsapp,pro,x,2026-11-17T08:00:00Z,")
        .msg("late,2026-11-17T08:00:00Z,customer,text,,x")
        .asg("late,2026-11-17T08:01:30Z,technical_l2,agent-2,initial")
        // No customer message: not in the cohort.
        .conv("silent,u3,whatsapp,pro,x,2026-11-17T08:00:00Z,")
        .asg("silent,2026-11-17T08:00:00Z,technical_l2,agent-3,initial");
    let rows = metrics(&case, "2026-11-25T00:00:00Z", "2026-11-16");
    assert_eq!(
        value(&rows, "technical_l2", "tts_median_s"),
        Some((45.0, 2))
    );
    assert_eq!(value(&rows, "ALL", "tts_p90_s"), Some((81.0, 2)));
}

mod thresholds {
    use super::super::default_thresholds;
    use crate::config::{Condition, RawAlerts};

    #[test]
    fn defaults_follow_the_spec_table() {
        let t = default_thresholds();
        let tts = t.rule_for("tts_median_s", "technical_l2", true).unwrap();
        assert_eq!(tts.critical, Some(Condition::Above(3600.0)));
        let vip = t.rule_for("tts_median_s", "vip_fast_lane", true).unwrap();
        assert_eq!(vip.warning, Some(Condition::Above(30.0)));
        assert_eq!(vip.critical, Some(Condition::Above(120.0)));
        // Per-lane rules apply only when the groups are lanes.
        let by_segment = t.rule_for("tts_median_s", "vip_fast_lane", false).unwrap();
        assert_eq!(by_segment.warning, Some(Condition::Above(900.0)));
        // The escalation band is for the ALL group only.
        assert!(t.rule_for("escalation_rate", "ALL", true).is_some());
        assert!(
            t.rule_for("escalation_rate", "technical_l2", true)
                .is_none()
        );
        assert!(
            t.rule_for("art_mean_s", "ALL", true).is_none(),
            "no default"
        );
        assert_eq!(t.metrics["window_expired"].warning, None);
        assert!(t.metrics.values().all(|r| r.min_n == 20));
    }

    #[test]
    fn the_config_overrides_field_by_field_globally_and_per_lane() {
        let raw: RawAlerts = toml::from_str(
            r#"
            min_n = 5
            [metrics.frt_median_s]
            critical = "> 600"
            [metrics.window_risk_rate]
            warning = "off"
            [metrics.art_mean_s]
            warning = "> 100000"
            [lanes.Retention.misroute_rate]
            warning = "> 0.01"
            min_n = 1
            "#,
        )
        .unwrap();
        let t = raw.resolve(default_thresholds()).unwrap();
        let frt = &t.metrics["frt_median_s"];
        assert_eq!(frt.warning, Some(Condition::Above(300.0)), "kept");
        assert_eq!(frt.critical, Some(Condition::Above(600.0)), "overridden");
        assert_eq!(frt.min_n, 5);
        assert_eq!(t.metrics["window_risk_rate"].warning, None);
        assert_eq!(
            t.metrics["art_mean_s"].warning,
            Some(Condition::Above(100_000.0))
        );
        let lane = t.rule_for("misroute_rate", "retention", true).unwrap();
        assert_eq!(lane.warning, Some(Condition::Above(0.01)));
        assert_eq!(lane.critical, Some(Condition::Above(0.15)), "inherited");
        assert_eq!(lane.min_n, 1);
        assert_eq!(
            t.rule_for("misroute_rate", "general", true).unwrap().min_n,
            5
        );
    }
}

/// Every registry entry is complete: a name for people, SQL or an explicit reason, thresholds
/// (or an explicit none) and its family's data needs; ids and names are unique.
#[test]
fn every_registry_entry_is_complete() {
    use super::{REGISTRY, Sql, SqlTime, SqlValue};
    let mut ids = std::collections::BTreeSet::new();
    let mut names = std::collections::BTreeSet::new();
    for family in REGISTRY {
        for m in family.metrics {
            assert!(ids.insert(m.id), "{} twice", m.id);
            assert!(names.insert(m.name), "the name of {} twice", m.id);
            assert!(
                !m.name.is_empty() && !m.name.contains('_'),
                "{}: a name for people, not an id: {:?}",
                m.id,
                m.name
            );
            assert!(!m.definition.is_empty() && !m.cohort.is_empty(), "{}", m.id);
            match m.sql {
                Sql::Rows {
                    from,
                    filter,
                    time,
                    value,
                } => {
                    assert!(!filter.is_empty(), "{}", m.id);
                    // The table is the facts, or one the family adds.
                    assert!(
                        from == "facts"
                            || family
                                .sql_tables
                                .iter()
                                .any(|t| t.contains(&format!("{from} AS ("))),
                        "{}: no SQL table {from}",
                        m.id
                    );
                    if let SqlTime::Instant(column) = time {
                        assert!(!column.is_empty(), "{}", m.id);
                    }
                    let (SqlValue::Median(e)
                    | SqlValue::P90(e)
                    | SqlValue::Mean(e)
                    | SqlValue::Share(e)
                    | SqlValue::Sum(e)
                    | SqlValue::Ratio(e, _)) = value;
                    assert!(!e.is_empty(), "{}", m.id);
                }
                Sql::NotExported(why) => assert!(why.len() > 20, "{}: say why", m.id),
            }
            // A rule a lane has of its own overrides a default the metric has.
            if !m.alert.lanes.is_empty() {
                assert!(m.alert.warning.is_some() || m.alert.critical.is_some());
            }
        }
    }
    assert!(ids.len() >= 30, "{} ids", ids.len());
    // The families that read optional tables say so.
    for (id, table) in [
        ("context_completeness_rate", super::Table::Handoffs),
        ("brief_missing_rate", super::Table::Handoffs),
        ("template_blocked_sends", super::Table::Templates),
        ("window_violation_sends", super::Table::SendFailures),
        ("missed_call_rate", super::Table::Calls),
    ] {
        assert!(super::family_of(id).unwrap().needs.contains(&table), "{id}");
    }
}
