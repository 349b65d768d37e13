//! What the report says about calls, customer ids and cost (whatsapp-2026.md): the data-quality
//! lines, the notes under the metric table, and the "Cost" section's spend per group.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::config::Config;
use crate::ingest::summary::IngestSummary;
use crate::ingest::validate::QuarantineLine;
use crate::metrics::{ALL, MetricRow};
use crate::tally::Tally;

/// The "Cost" section.
pub struct CostView {
    pub currency: String,
    /// Per group of the report period: billable messages sent and their spend.
    pub rows: Vec<(String, u64, String)>,
    pub lines: Vec<String>,
}

/// Everything the report says of the three subjects.
#[derive(Default)]
pub struct WhatsAppLines {
    /// Lines of the data-quality block.
    pub quality: Vec<String>,
    /// Notes under the calls, ids and cost table.
    pub notes: Vec<String>,
    /// `None`: the data has no pricing (the notes say so).
    pub cost: Option<CostView>,
}

/// The value and `n` of a metric's `ALL` row in a period.
fn all_row(rows: &[MetricRow], period: NaiveDate, id: &str) -> Option<(f64, u64)> {
    rows.iter()
        .find(|r| r.period_start == period && r.group == ALL && r.metric == id)
        .map(|r| (r.value, r.n))
}

/// The lines of a report period from the tally of its conversations.
pub fn lines_of(
    tally: &Tally,
    config: &Config,
    summary: &IngestSummary,
    quarantine: &[QuarantineLine],
    rows: &[MetricRow],
    period_start: NaiveDate,
) -> WhatsAppLines {
    let mut out = WhatsAppLines::default();
    // Customers known only by a business-scoped id.
    if let Some((share, n)) = all_row(rows, period_start, "bsuid_only_rate") {
        let known_only = (share * n as f64).round() as u64;
        out.quality.push(format!(
            "Customers known only by a business-scoped id: {known_only} of {n} WhatsApp \
             conversations ({:.1} %); repeat contact and duplicates may be under-counted.",
            share * 100.0
        ));
    }
    if let Some(aliases) = &summary.aliases {
        let mut by_reason: BTreeMap<&str, u64> = BTreeMap::new();
        for q in quarantine
            .iter()
            .filter(|q| q.table == crate::ingest::schema::Table::CustomerAliases)
        {
            *by_reason.entry(q.reason.as_str()).or_default() += 1;
        }
        let quarantined = summary
            .tables
            .get("customer_aliases")
            .map_or(0, |t| t.counts.rows_quarantined);
        let reasons = if by_reason.is_empty() {
            String::new()
        } else {
            format!(
                " ({})",
                by_reason
                    .iter()
                    .map(|(r, n)| format!("{r} {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        out.quality.push(format!(
            "Customer aliases: {} rows used, {quarantined} quarantined{reasons}, {} \
             conversations resolved to another id, {} aliases with conflicting targets.",
            aliases.rows_used, aliases.conversations_resolved, aliases.conflicting_targets
        ));
    }
    if let Some(n) = summary.unreadable_values.get("messages.billable") {
        out.quality.push(format!(
            "{n} messages with an unreadable billable value (read as unknown pricing)."
        ));
    }

    // Calls.
    if let Some(business) = tally.calls {
        out.notes.push(format!(
            "Calls: window_refresh = {} (customer calls that refresh the 24-hour window); first \
             response {} calls (frt = {}).",
            config.calls.window_refresh.as_str(),
            if config.calls.frt {
                "counts"
            } else {
                "does not count"
            },
            config.calls.frt
        ));
        if let Some(n) = tally.window_violations_after_calls.filter(|&n| n > 0) {
            out.notes.push(format!(
                "{n} window violations within 24 h of a counted customer call — check [calls] \
                 window_refresh."
            ));
        }
        if business {
            out.notes.push(
                "Business-initiated calls are not priced: call pricing is not modelled.".to_owned(),
            );
        }
    }

    // Cost.
    let Some((notes, spend)) = &tally.cost else {
        out.notes.push(
            "No pricing data in the export (messages have no billable value): no cost metrics."
                .to_owned(),
        );
        return out;
    };
    let (Some(card), Some(spend)) = (&config.pricing, spend) else {
        out.notes.push(
            "No [pricing] rate card in the config: billed messages are counted, cost is not."
                .to_owned(),
        );
        return out;
    };
    let mut rows_out: Vec<(String, u64, String)> = spend
        .iter()
        .map(|(g, (n, s))| (crate::units::printable(g), *n, format!("{:.4}", s.value())))
        .collect();
    rows_out.sort_by(|a, b| (a.0 != ALL).cmp(&(b.0 != ALL)).then(a.0.cmp(&b.0)));
    let mut lines = Vec::new();
    let unpriced: u64 = notes.unpriced.values().sum();
    if unpriced > 0 {
        let which: Vec<String> = notes
            .unpriced
            .iter()
            .map(|((category, market), n)| {
                let category = if category.is_empty() {
                    "(none)"
                } else {
                    category
                };
                format!("{category} / market {market}: {n}")
            })
            .collect();
        lines.push(format!(
            "{unpriced} billable messages had no rate; their conversations are left out of cost \
             ({}).",
            which.join("; ")
        ));
    }
    if notes.cbp_messages > 0 {
        lines.push(format!(
            "{} messages priced per conversation (CBP, before 2025-07-01); their conversations \
             are left out of cost.",
            notes.cbp_messages
        ));
    }
    if notes.unknown_conversations > 0 {
        lines.push(format!(
            "{} conversations lack a pricing value on an outbound message (unknown, not zero: \
             left out of cost).",
            notes.unknown_conversations
        ));
    }
    if let Some(n) = summary.unreadable_values.get("messages.billable") {
        lines.push(format!("{n} messages with an unreadable billable value."));
    }
    if notes.echoes > 0 {
        lines.push(format!(
            "{} replies typed in the WhatsApp Business app, not billed by the platform.",
            notes.echoes
        ));
    }
    if notes.star_market > 0 {
        lines.push(format!(
            "{} billable messages priced at market * because the customer has no market digits \
             (a business-scoped id or another id).",
            notes.star_market
        ));
    }
    if notes.ignored_billable > 0 {
        lines.push(format!(
            "{} customer or system messages carry billable = true (ignored: only bot and agent \
             messages are billed).",
            notes.ignored_billable
        ));
    }
    if notes.business_agent > 0 {
        lines.push(
            "Meta Business Agent messages are billed by token; the rate card's per-message \
             price is an approximation."
                .to_owned(),
        );
    }
    out.cost = Some(CostView {
        currency: card.currency.clone(),
        rows: rows_out,
        lines,
    });
    out
}
