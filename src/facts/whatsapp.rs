//! The customer's kind and market (whatsapp-2026.md B.4), and what each conversation's
//! messages cost (C.1, C.2).
//!
//! The rules owned here, and nowhere else:
//! - the kind and market digits of a conversation's customer: its own `customer_id_kind` (and,
//!   for a phone, `market`) when resolution kept its id; else those of the first conversation
//!   (input order) whose own id is the resolved id and that has a kind; else recognised from the
//!   resolved id (a BSUID; a phone, all digits after one leading `+`, the digits being its
//!   market; anything else `other`);
//! - a message is billable when its `billable` is true and it is an outbound visible message
//!   (bot or agent, not an internal note) at or before `as_of`;
//! - a conversation's pricing is known when every outbound visible message has a `billable`;
//!   `billed` counts its billable messages (null when unknown); `cost` sums their prices (null
//!   when unknown, when a billable message has no rate, or when an outbound visible message is
//!   priced per conversation, `CBP`).

use std::collections::{BTreeMap, HashMap};

use anyhow::Result;
use polars::prelude::*;

use super::walk;
use crate::config::Config;
use crate::dataset::Dataset;
use crate::ingest::schema::{CONVERSATION_KEY, SOURCE_ROW, Table};

use crate::ingest::customer::recognise;

/// `customer_kind` and `market` of every conversation of `frame` (sorted by `key`, with
/// `customer_id` resolved, `source_customer_id`, `customer_id_kind` and `market`).
pub fn identity(frame: &DataFrame) -> Result<[Column; 2]> {
    let resolved = frame.column("customer_id")?.str()?;
    let source = frame.column("source_customer_id")?.str()?;
    let kind = frame.column("customer_id_kind")?.str()?;
    let market = frame.column("market")?.str()?;
    let own = |i: usize| -> Option<(&str, Option<&str>)> {
        let k = kind.get(i)?;
        Some((k, market.get(i).filter(|_| k == "phone")))
    };
    // The first conversation (input order) of each own id that has a kind.
    let mut first: HashMap<&str, (&str, Option<&str>)> = HashMap::new();
    for i in 0..frame.height() {
        if let (Some(id), Some(k)) = (source.get(i), own(i)) {
            first.entry(id).or_insert(k);
        }
    }
    let mut kinds: Vec<Option<&str>> = Vec::with_capacity(frame.height());
    let mut markets: Vec<Option<String>> = Vec::with_capacity(frame.height());
    for i in 0..frame.height() {
        let (Some(to), from) = (resolved.get(i), source.get(i)) else {
            kinds.push(None);
            markets.push(None);
            continue;
        };
        let kept = from.is_none_or(|f| f == to);
        let given = if kept { own(i) } else { first.get(to).copied() };
        let (k, m) = match given {
            Some((k, m)) => (k, m.map(str::to_owned)),
            None => recognise(to),
        };
        kinds.push(Some(k));
        markets.push(m);
    }
    Ok([
        Column::new("customer_kind".into(), kinds),
        Column::new("market".into(), markets),
    ])
}

/// What the report says about pricing besides the metrics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CostNotes {
    /// Billable messages with no rate, by (category, the customer's calling code or `*`).
    pub unpriced: BTreeMap<(String, String), u64>,
    /// Outbound visible messages priced per conversation (CBP).
    pub cbp_messages: u64,
    /// Conversations with an outbound visible message without a `billable` value.
    pub unknown_conversations: u64,
    /// Billable messages priced at market `*` because the customer has no market digits.
    pub star_market: u64,
    /// Customer or system messages with `billable = true` (ignored).
    pub ignored_billable: u64,
    /// Outbound visible messages typed in the WhatsApp Business app (`wa_echo`).
    pub echoes: u64,
    /// Billable messages of the Meta Business Agent category (priced per message here).
    pub business_agent: u64,
}

impl CostNotes {
    /// Adds the notes of other conversations.
    pub fn merge(&mut self, other: CostNotes) {
        for (key, n) in other.unpriced {
            *self.unpriced.entry(key).or_default() += n;
        }
        self.cbp_messages += other.cbp_messages;
        self.unknown_conversations += other.unknown_conversations;
        self.star_market += other.star_market;
        self.ignored_billable += other.ignored_billable;
        self.echoes += other.echoes;
        self.business_agent += other.business_agent;
    }
}

/// The cost facts: `billed_messages` and `cost` per conversation (in the facts' row order), the
/// billable messages (`key`, `at`, `price`) for the report's spend per group, and the notes.
pub struct Cost {
    pub columns: [Column; 2],
    pub messages: DataFrame,
    pub notes: CostNotes,
}

/// The cost facts of `facts` (sorted by `key`, with `market`), for data in which some message
/// has a `billable` value ([`super::globals`]; without one there is no pricing data).
pub fn cost(data: &Dataset, facts: &DataFrame, config: &Config, as_of: i64) -> Result<Cost> {
    let messages = data.table(Table::Messages)?;
    let schema = messages.clone().collect_schema()?;
    let echo = if schema.contains("wa_echo") {
        col("wa_echo")
            .cast(DataType::String)
            .str()
            .to_lowercase()
            .eq(lit("true"))
            .fill_null(lit(false))
    } else {
        lit(false)
    };
    let outbound = col("sender")
        .eq(lit("bot"))
        .or(col("sender").eq(lit("agent")))
        .and(col("kind").neq(lit("internal_note")).fill_null(lit(true)));
    let rows = walk::by_conversation(
        messages.with_columns([
            outbound.alias("outbound"),
            echo.alias("echo"),
            col("pricing_model")
                .str()
                .strip_chars(lit(NULL))
                .str()
                .to_uppercase()
                .eq(lit("CBP"))
                .fill_null(lit(false))
                .alias("cbp"),
        ]),
        "sent_at",
        as_of,
        &[
            "outbound",
            "billable",
            "pricing_category",
            "cbp",
            "echo",
            SOURCE_ROW,
        ],
    )?;
    let key = rows.column(CONVERSATION_KEY)?.u32()?;
    let at = rows.column("sent_at")?.i64()?;
    let outbound = rows.column("outbound")?.bool()?;
    let billable = rows.column("billable")?.bool()?;
    let category = rows.column("pricing_category")?.str()?;
    let cbp = rows.column("cbp")?.bool()?;
    let echo = rows.column("echo")?.bool()?;

    let keys = walk::slice(facts.column("key")?.u32()?)?;
    let market = facts.column("market")?.str()?;
    let mut notes = CostNotes::default();
    let (mut billed, mut cost) = (
        Vec::with_capacity(keys.len()),
        Vec::with_capacity(keys.len()),
    );
    let (mut m_key, mut m_at, mut m_price) = (Vec::new(), Vec::new(), Vec::new());
    let mut from = 0usize;
    for (row, &k) in keys.iter().enumerate() {
        let digits = market.get(row);
        let range = walk::take_by(rows.height(), &mut from, k, |i| {
            key.get(i).unwrap_or(u32::MAX)
        });
        let (mut known, mut priced, mut n, mut sum) = (true, true, 0u32, 0.0f64);
        for i in range {
            if outbound.get(i) != Some(true) {
                notes.ignored_billable += u64::from(billable.get(i) == Some(true));
                continue;
            }
            notes.echoes += u64::from(echo.get(i) == Some(true));
            if cbp.get(i) == Some(true) {
                notes.cbp_messages += 1;
                priced = false;
            }
            match billable.get(i) {
                None => known = false,
                Some(false) => {}
                Some(true) => {
                    n += 1;
                    let sent = at.get(i).unwrap_or_default();
                    let cat = category.get(i);
                    notes.business_agent += u64::from(cat == Some("meta_business_agent"));
                    let price = match (&config.pricing, cat, cbp.get(i) == Some(true)) {
                        (Some(card), Some(cat), false) => card.price(cat, sent, digits),
                        _ => None,
                    };
                    if price.is_none() && cbp.get(i) != Some(true) && config.pricing.is_some() {
                        // By calling code: the digits may be a whole phone number.
                        let market = match digits {
                            Some(d) => {
                                crate::ingest::customer::calling_code(d).unwrap_or("unknown code")
                            }
                            None => "*",
                        };
                        *notes
                            .unpriced
                            .entry((cat.unwrap_or("").to_owned(), market.to_owned()))
                            .or_default() += 1;
                    }
                    if price.is_some() && digits.is_none() {
                        notes.star_market += 1;
                    }
                    if price.is_none() {
                        priced = false;
                    }
                    sum += price.unwrap_or(0.0);
                    m_key.push(k);
                    m_at.push(sent);
                    m_price.push(price);
                }
            }
        }
        notes.unknown_conversations += u64::from(!known);
        billed.push(known.then_some(n));
        cost.push((known && priced && config.pricing.is_some()).then_some(sum));
    }
    Ok(Cost {
        columns: [
            Column::new("billed_messages".into(), billed),
            Column::new("cost".into(), cost),
        ],
        messages: DataFrame::new_infer_height(vec![
            Column::new("key".into(), m_key),
            Column::new("at".into(), m_at),
            Column::new("price".into(), m_price),
        ])?,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kind_comes_from_the_columns_then_the_root_conversation_then_the_id() {
        let frame = df!(
            "key" => [0u32, 1, 2, 3],
            "customer_id" => ["h1", "h1", "4930", "DE.X"],
            "source_customer_id" => ["h1", "h2", "4930", "DE.X"],
            "customer_id_kind" => [Some("phone"), Some("bsuid"), None, None],
            "market" => [Some("49"), None, None, None],
        )
        .unwrap();
        let [kind, market] = identity(&frame).unwrap();
        let kind: Vec<_> = kind.str().unwrap().iter().collect();
        let market: Vec<_> = market.str().unwrap().iter().collect();
        // h2 resolved to h1: h1's own columns, not h2's bsuid.
        assert_eq!(
            kind,
            [Some("phone"), Some("phone"), Some("phone"), Some("bsuid")]
        );
        assert_eq!(market, [Some("49"), Some("49"), Some("4930"), None]);
    }
}
