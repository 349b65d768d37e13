//! `[calls]` and `[pricing]` (whatsapp-2026.md A.3, A.4, C.2): which customer calls refresh the
//! 24-hour window, whether calls count for first response, and the rate card of per-message
//! pricing.

use anyhow::{Result, bail};
use serde::Deserialize;

/// Which user-initiated calls are customer touches for the 24-hour window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WindowRefresh {
    /// Every user-initiated call, whatever its status (Meta: "messages you or calls you").
    #[default]
    Any,
    /// Only answered user-initiated calls.
    Answered,
    /// No call (messages only).
    None,
}

impl WindowRefresh {
    pub fn as_str(self) -> &'static str {
        match self {
            WindowRefresh::Any => "any",
            WindowRefresh::Answered => "answered",
            WindowRefresh::None => "none",
        }
    }
}

/// `[calls]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calls {
    #[serde(default)]
    pub window_refresh: WindowRefresh,
    /// User calls start first response, and answered calls are replies.
    #[serde(default)]
    pub frt: bool,
}

/// One rate of the card: the price of a billable message of `category` sent at or after
/// `valid_from` to a customer whose calling code starts with `market` (`*`: any).
#[derive(Debug, Clone, PartialEq)]
pub struct Rate {
    pub category: String,
    /// Digits, or `*`.
    pub market: String,
    pub valid_from: i64,
    pub price: f64,
}

/// `[pricing]`: a rate card in one currency.
#[derive(Debug, Clone, PartialEq)]
pub struct Pricing {
    pub currency: String,
    /// In file order (a tie on `valid_from` goes to the later rate).
    pub rates: Vec<Rate>,
}

/// Any market.
pub const ANY_MARKET: &str = "*";

impl Pricing {
    /// The price of a billable message of `category` sent at `sent_at` to a customer with the
    /// market digits `digits` (none for a BSUID or another id): among the rates of the category
    /// valid at `sent_at`, those of the longest market that is a prefix of the digits, else
    /// those of `*`; of them the latest `valid_from`, ties to the later rate. `None`: unpriced.
    pub fn price(&self, category: &str, sent_at: i64, digits: Option<&str>) -> Option<f64> {
        let candidates: Vec<(usize, &Rate)> = self
            .rates
            .iter()
            .enumerate()
            .filter(|(_, r)| r.category == category && r.valid_from <= sent_at)
            .collect();
        let prefix = |r: &Rate| {
            r.market != ANY_MARKET && digits.is_some_and(|d| d.starts_with(r.market.as_str()))
        };
        let longest = candidates
            .iter()
            .filter(|(_, r)| prefix(r))
            .map(|(_, r)| r.market.len())
            .max();
        candidates
            .into_iter()
            .filter(|(_, r)| match longest {
                Some(len) => prefix(r) && r.market.len() == len,
                None => r.market == ANY_MARKET,
            })
            .max_by(|(i, a), (j, b)| a.valid_from.cmp(&b.valid_from).then(i.cmp(j)))
            .map(|(_, r)| r.price)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPricing {
    currency: Option<String>,
    #[serde(default)]
    rates: Vec<RawRate>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRate {
    category: Option<String>,
    market: Option<String>,
    valid_from: Option<String>,
    price: Option<f64>,
    currency: Option<String>,
}

impl RawPricing {
    /// The rate card; `None` for a section without rates (no rate card).
    pub(super) fn resolve(self) -> Result<Option<Pricing>> {
        let Some(currency) = self.currency.map(|c| c.trim().to_owned()) else {
            bail!("[pricing] needs `currency` (one currency for the whole card, e.g. \"EUR\")");
        };
        if currency.is_empty() {
            bail!("[pricing] `currency` is empty");
        }
        let mut rates = Vec::with_capacity(self.rates.len());
        for (i, raw) in self.rates.into_iter().enumerate() {
            let at = format!("[[pricing.rates]] number {}", i + 1);
            let Some(category) = raw.category else {
                bail!("{at} needs `category` (e.g. \"service\", \"utility\")");
            };
            let Some(valid_from) = raw.valid_from else {
                bail!("{at} needs `valid_from` (an RFC 3339 instant)");
            };
            let Some(price) = raw.price else {
                bail!("{at} needs `price` (per billable message, in {currency})");
            };
            if !(price.is_finite() && price >= 0.0) {
                bail!("{at}: `price` must be a number >= 0, got {price}");
            }
            if let Some(other) = raw.currency
                && other.trim() != currency
            {
                bail!(
                    "{at}: `currency` {other} differs from [pricing] currency {currency}; a card \
                     has one currency"
                );
            }
            let market = raw
                .market
                .map_or(ANY_MARKET.to_owned(), |m| m.trim().to_owned());
            if market != ANY_MARKET
                && (market.is_empty() || !market.bytes().all(|b| b.is_ascii_digit()))
            {
                bail!(
                    "{at}: `market` must be a calling code in digits (\"49\") or \"*\", got `{market}`"
                );
            }
            let Some(valid_from) = crate::time::parse_timestamp(valid_from.trim(), None) else {
                bail!("{at}: `valid_from` `{valid_from}` is not an RFC 3339 instant");
            };
            rates.push(Rate {
                category: category.trim().to_lowercase(),
                market,
                valid_from,
                price,
            });
        }
        Ok((!rates.is_empty()).then_some(Pricing { currency, rates }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(rates: &[(&str, &str, i64, f64)]) -> Pricing {
        Pricing {
            currency: "EUR".into(),
            rates: rates
                .iter()
                .map(|(c, m, v, p)| Rate {
                    category: (*c).into(),
                    market: (*m).into(),
                    valid_from: *v,
                    price: *p,
                })
                .collect(),
        }
    }

    #[test]
    fn the_longest_market_prefix_among_the_valid_rates_of_the_category_wins() {
        let c = card(&[
            ("service", "*", 0, 0.004),
            ("service", "49", 0, 0.005),
            ("utility", "*", 0, 0.015),
            ("utility", "49", 0, 0.02),
            ("utility", "49", 100, 0.025),
            ("utility", "491", 200, 0.03),
        ]);
        assert_eq!(c.price("service", 10, Some("4915100000301")), Some(0.005));
        assert_eq!(c.price("service", 10, None), Some(0.004));
        assert_eq!(c.price("service", 10, Some("33612")), Some(0.004));
        assert_eq!(c.price("utility", 99, Some("4915")), Some(0.02));
        assert_eq!(c.price("utility", 100, Some("4915")), Some(0.025));
        // A longer market not yet valid does not hide the shorter one.
        assert_eq!(c.price("utility", 150, Some("4915")), Some(0.025));
        assert_eq!(c.price("utility", 200, Some("4915")), Some(0.03));
        assert_eq!(c.price("marketing", 200, Some("4915")), None);
        // Ties on valid_from: the later rate of the file.
        let tie = card(&[("service", "*", 0, 1.0), ("service", "*", 0, 2.0)]);
        assert_eq!(tie.price("service", 1, None), Some(2.0));
        // Only a market rate, and a customer without digits: unpriced.
        let only = card(&[("service", "49", 0, 1.0)]);
        assert_eq!(only.price("service", 1, None), None);
    }

    #[test]
    fn bad_cards_name_the_key() {
        let bad = |text: &str| {
            let raw: RawPricing = toml::from_str(text).unwrap();
            format!("{:#}", raw.resolve().unwrap_err())
        };
        assert!(
            bad("[[rates]]\ncategory='service'\nvalid_from='2026-01-01T00:00:00Z'\nprice=1\n")
                .contains("currency")
        );
        assert!(
            bad("currency='EUR'\n[[rates]]\nvalid_from='2026-01-01T00:00:00Z'\nprice=1\n")
                .contains("category")
        );
        assert!(bad("currency='EUR'\n[[rates]]\ncategory='service'\nvalid_from='2026-01-01T00:00:00Z'\nprice=-1\n").contains("price"));
        assert!(bad("currency='EUR'\n[[rates]]\ncategory='service'\nvalid_from='2026-01-01T00:00:00Z'\nprice=1\ncurrency='USD'\n").contains("differs"));
        assert!(toml::from_str::<RawPricing>("currency='EUR'\n[[rates]]\ncolour='red'\n").is_err());
        let none: RawPricing = toml::from_str("currency='EUR'\n").unwrap();
        assert_eq!(none.resolve().unwrap(), None);
    }
}
