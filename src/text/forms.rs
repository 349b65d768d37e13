//! What may be written of a scanned text: the redacted form, the findings-only form, the
//! markers, and the masked forms and their shapes.

use std::sync::LazyLock;

use regex::Regex;

use super::detect::{Detector, Finding, Kind, Scan, Work};
use super::normalise::normalise;
use super::numbers::iban_length;

impl Detector {
    /// The redacted form: the normalised text with every finding of a redacted kind replaced
    /// by its marker and every URL by `[url]`; markers read back are written back unchanged.
    pub fn redact(&self, scan: &Scan) -> String {
        self.redact_with(scan, true)
    }

    /// The redacted form with every marker written without its token (`[email|j***@e***.com]`):
    /// what the board shows of a brief, whatever the storage mode.
    pub fn redact_without_tokens(&self, text: &str) -> String {
        self.redact_with(&self.scan(text), false)
    }

    fn redact_with(&self, scan: &Scan, tokens: bool) -> String {
        let mut cuts: Vec<(usize, usize, String)> = Vec::new();
        for f in &scan.findings {
            if f.marker && tokens {
                continue; // kept as it is
            }
            if f.marker || self.redacted(f.kind) {
                cuts.push((f.start, f.end, self.marker(f, tokens)));
            }
        }
        // Spans are character positions: their bytes, for text that is not ASCII.
        let text = scan.normalised.as_str();
        let offsets: Option<Vec<usize>> = (!text.is_ascii()).then(|| {
            text.char_indices()
                .map(|(b, _)| b)
                .chain([text.len()])
                .collect()
        });
        let byte = |c: usize| offsets.as_ref().map_or(c, |o| o[c]);
        for (start, end) in &scan.urls {
            if &text[byte(*start)..byte(*end)] != "[url]" {
                cuts.push((*start, *end, "[url]".to_owned()));
            }
        }
        cuts.sort_by_key(|c| c.0);
        let mut out = String::with_capacity(text.len() + 16);
        let mut at = 0;
        for (start, end, marker) in cuts {
            if start < at {
                continue;
            }
            out.push_str(&text[byte(at)..byte(start)]);
            out.push_str(&marker);
            at = end;
        }
        out.push_str(&text[byte(at)..]);
        out
    }

    /// `text` with its card numbers and IBANs (steps 4 and 5 alone, so that nothing hides them)
    /// replaced by their markers: for values that are not text but may hold one (a quarantined
    /// timestamp).
    pub fn redact_cards(&self, text: &str) -> String {
        let normalised = normalise(text);
        let mut work = Work::new(&normalised);
        let mut findings = Vec::new();
        self.ibans(&mut work, &mut findings);
        self.pans(&mut work, &mut findings);
        drop(work);
        findings.sort_by_key(|f| f.start);
        self.redact(&Scan {
            normalised,
            findings,
            urls: Vec::new(),
        })
    }

    /// The findings-only form: every finding's marker in order, space-separated; `None` when
    /// there is none.
    pub fn findings_only(&self, scan: &Scan) -> Option<String> {
        (!scan.findings.is_empty()).then(|| {
            scan.findings
                .iter()
                .map(|f| self.marker(f, true))
                .collect::<Vec<_>>()
                .join(" ")
        })
    }

    /// `[kind|masked|token]`, or `[kind|masked]` without the token (the board's form).
    pub fn marker(&self, finding: &Finding, with_token: bool) -> String {
        let kind = self.kind_name(finding.kind);
        if with_token {
            let token = finding.token.as_deref().unwrap_or_default();
            format!("[{kind}|{}|{token}]", finding.masked)
        } else {
            format!("[{kind}|{}]", finding.masked)
        }
    }
}

pub(super) fn mask_email(value: &str) -> String {
    let (local, domain) = value.split_once('@').unwrap_or((value, ""));
    let first_local = local.chars().next().unwrap_or('?');
    let first_domain = domain.chars().next().unwrap_or('?');
    let tld = domain.rsplit('.').next().unwrap_or_default();
    format!("{first_local}***@{first_domain}***.{tld}")
}

pub(super) fn mask_last4(prefix: &str, value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= 4 {
        prefix.to_owned()
    } else {
        let last: String = chars[chars.len() - 4..].iter().collect();
        format!("{prefix}{last}")
    }
}

/// Whether a marker's masked form has its kind's shape.
pub(super) fn marker_shape(kind: Kind, masked: &str) -> bool {
    static PAN: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:visa|mastercard|amex|discover|jcb|unionpay|diners|maestro) \*{4}[0-9]{4}$")
            .expect("a regex")
    });
    static IBAN: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^([A-Z]{2}) \*{4}[0-9A-Z]{4}$").expect("a regex"));
    static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[a-z0-9._%+-]\*{3}@[a-z0-9]\*{3}\.[a-z]{2,}$").expect("a regex")
    });
    static PHONE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\+\*{4}[0-9]{4}$").expect("a regex"));
    static IDENTIFIER: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\*{4}(?:[0-9a-z]{4})?$").expect("a regex"));
    match kind {
        Kind::Pan => PAN.is_match(masked),
        Kind::Iban => IBAN
            .captures(masked)
            .is_some_and(|c| iban_length(&c[1]).is_some()),
        Kind::Email => EMAIL.is_match(masked),
        Kind::Phone => PHONE.is_match(masked),
        Kind::Cvv => masked == "***",
        Kind::Identifier(_) => IDENTIFIER.is_match(masked),
    }
}
