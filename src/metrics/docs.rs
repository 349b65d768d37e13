//! The registry as Markdown: `l2lens metrics --list --format markdown` and the metric tables of
//! the README and `docs/`, which are generated from here (a test fails when a committed table
//! differs; `L2LENS_UPDATE_DOCS=1 cargo test --release docs_tables` rewrites them).

use super::{Alert, MetricSet, REGISTRY, Sql};

/// How much of an entry a table shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Id, name and definition: the README.
    Short,
    /// Everything: cohort, unit, default thresholds, the tables it needs and its SQL.
    Full,
}

/// One Markdown table of the metrics of `set`, in registry order.
pub fn table(set: MetricSet, style: Style) -> String {
    let mut out = String::new();
    match style {
        Style::Short => {
            out.push_str("| metric | name | what it measures |\n|---|---|---|\n");
        }
        Style::Full => out.push_str(
            "| metric | name | what it measures | cohort | unit | warning | critical | needs | SQL |\n\
             |---|---|---|---|---|---|---|---|---|\n",
        ),
    }
    for family in REGISTRY.iter().filter(|f| f.set == set) {
        for m in family.metrics {
            let cells = match style {
                Style::Short => vec![format!("`{}`", m.id), m.name.into(), m.definition.into()],
                Style::Full => {
                    let (warning, critical) = levels(&m.alert);
                    let needs: Vec<String> = family
                        .needs
                        .iter()
                        .map(|t| format!("`{}`", t.name()))
                        .collect();
                    vec![
                        format!("`{}`", m.id),
                        m.name.into(),
                        m.definition.into(),
                        m.cohort.into(),
                        m.unit.as_str().into(),
                        warning,
                        critical,
                        needs.join(", "),
                        match m.sql {
                            Sql::Rows { .. } => "yes".into(),
                            Sql::NotExported(why) => format!("no: {why}"),
                        },
                    ]
                }
            };
            let cells: Vec<String> = cells.iter().map(|c| c.replace('|', "\\|")).collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
    }
    out
}

/// The warning and critical cells of a default: the condition, `ALL` only, and lanes of their
/// own.
fn levels(alert: &Alert) -> (String, String) {
    let cell = |level: Option<crate::config::Condition>, lane: &dyn Fn(usize) -> String| {
        let mut text = level.map_or_else(|| "none".to_owned(), |c| c.to_string());
        if alert.all_only && level.is_some() {
            text.push_str(" (ALL only)");
        }
        for i in 0..alert.lanes.len() {
            text.push_str(&lane(i));
        }
        text
    };
    let lane = |i: usize, c: Option<crate::config::Condition>| {
        let (name, ..) = alert.lanes[i];
        format!(
            "; `{name}`: {}",
            c.map_or_else(|| "none".to_owned(), |c| c.to_string())
        )
    };
    (
        cell(alert.warning, &|i| lane(i, alert.lanes[i].1)),
        cell(alert.critical, &|i| lane(i, alert.lanes[i].2)),
    )
}

/// The block markers of a generated table in a Markdown file.
pub fn markers(set: MetricSet, style: Style) -> (String, String) {
    let name = format!(
        "{}-{}",
        match set {
            MetricSet::Core => "core",
            MetricSet::Governance => "governance",
            MetricSet::BusinessTime => "business-time",
            MetricSet::Text => "text",
            MetricSet::WhatsApp => "whatsapp",
            MetricSet::Outcomes => "outcomes",
            MetricSet::Sla => "sla",
        },
        match style {
            Style::Short => "short",
            Style::Full => "full",
        }
    );
    (
        format!("<!-- metric table {name}: generated from the registry -->\n"),
        format!("<!-- end of metric table {name} -->"),
    )
}

/// `text` with every generated block replaced by the registry's table; `None` when it has no
/// block.
pub fn refresh(text: &str) -> Option<String> {
    let mut out = text.to_owned();
    let mut found = false;
    for set in MetricSet::ALL {
        for style in [Style::Short, Style::Full] {
            let (begin, end) = markers(set, style);
            let Some(start) = out.find(&begin) else {
                continue;
            };
            let body = start + begin.len();
            let Some(stop) = out[body..].find(&end).map(|i| body + i) else {
                continue;
            };
            found = true;
            out.replace_range(body..stop, &table(set, style));
        }
    }
    found.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Markdown files that hold generated metric tables.
    const DOCS: &[&str] = &[
        "README.md",
        "docs/metrics.md",
        "docs/governance.md",
        "docs/business-hours.md",
        "docs/commands.md",
        "docs/text.md",
        "docs/whatsapp.md",
        "docs/outcomes-sla.md",
    ];

    #[test]
    fn docs_tables_are_generated_from_the_registry() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let update = std::env::var("L2LENS_UPDATE_DOCS").is_ok_and(|v| v == "1");
        let mut stale = Vec::new();
        let mut sets_seen = Vec::new();
        for doc in DOCS {
            let path = root.join(doc);
            let text = std::fs::read_to_string(&path).unwrap();
            let fresh = refresh(&text).unwrap_or_else(|| panic!("{doc} has no metric table"));
            for set in MetricSet::ALL {
                if [Style::Short, Style::Full]
                    .iter()
                    .any(|&s| text.contains(&markers(set, s).0))
                {
                    sets_seen.push(set);
                }
            }
            if fresh != text {
                if update {
                    std::fs::write(&path, fresh).unwrap();
                } else {
                    stale.push(*doc);
                }
            }
        }
        assert!(
            stale.is_empty(),
            "metric tables differ from the registry in {stale:?}; rerun with L2LENS_UPDATE_DOCS=1"
        );
        for set in MetricSet::ALL {
            assert!(sets_seen.contains(&set), "no docs table for {set:?}");
        }
    }

    #[test]
    fn a_table_lists_every_metric_of_its_set_once() {
        let text = table(MetricSet::Governance, Style::Full);
        for id in [
            "duplicate_rate",
            "ownerless_rate",
            "ping_pong_rate",
            "missed_handoff_rate",
            "template_blocked_sends",
            "silent_stall_rate",
            "brief_missing_rate",
            "window_violation_sends",
        ] {
            assert_eq!(text.matches(&format!("| `{id}` |")).count(), 1, "{id}");
        }
        assert!(text.contains("| `template_blocked_sends` | Sends of blocked templates |"));
        assert!(!text.contains("frt_median_s"));
        let core = table(MetricSet::Core, Style::Full);
        assert!(core.contains("> 900; `vip_fast_lane`: > 30"), "{core}");
        assert!(core.contains("< 0.05 or > 0.1 (ALL only)"), "{core}");
    }

    #[test]
    fn refresh_replaces_only_the_block() {
        let (begin, end) = markers(MetricSet::Governance, Style::Short);
        let text = format!("before\n{begin}| stale |\n{end}\nafter\n");
        let fresh = refresh(&text).unwrap();
        assert!(fresh.starts_with("before\n"));
        assert!(fresh.ends_with(&format!("{end}\nafter\n")));
        assert!(fresh.contains("| `silent_stall_rate` | Silent stalls |"));
        assert!(!fresh.contains("stale"));
        assert_eq!(refresh("no block"), None);
    }
}
