//! The deterministic detectors: what a text holds of cards, IBANs, CVVs, e-mail addresses, phone
//! numbers and the configured identifier kinds, found on the normalised text in a fixed order
//! (markers, URLs, e-mail, identifiers, IBAN, PAN, phone, CVV), each step blanking what it took
//! so that the later ones cannot take it again.
//!
//! Spans are character positions in the normalised text (blanking keeps every character's
//! position), so the redacted form can be cut from the normalised text.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

use super::forms::{marker_shape, mask_email, mask_last4};
use super::hmac::short_hex;
use super::normalise::{contains_ignore_case, find_all, is_letter_or_digit};
pub use super::normalise::{is_letter, normalise, text_chars};
pub use super::numbers::brand;
use super::numbers::{iban_at, luhn};

use crate::config::text::check_kind_name;
pub use crate::config::text::{BUILT_IN_KINDS, RESERVED_KINDS};

/// A finding's kind: a built-in one or a configured identifier kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Pan,
    Iban,
    Email,
    Phone,
    Cvv,
    /// The configured identifier kind at this position of [`Detector::identifiers`].
    Identifier(usize),
}

/// One thing found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: Kind,
    /// Character positions in the normalised text: `start..end`.
    pub start: usize,
    pub end: usize,
    /// What may be shown of it (`visa ****1111`, `j***@e***.com`).
    pub masked: String,
    /// The keyed token, for the kinds that get one and when there is a key.
    pub token: Option<String>,
    /// Whether the finding was read back from a marker (written back unchanged).
    pub marker: bool,
}

/// A scanned text: its normalised form, its findings in order and the spans of its URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    pub normalised: String,
    pub findings: Vec<Finding>,
    /// URL spans (character positions), replaced by `[url]` in the redacted form.
    pub urls: Vec<(usize, usize)>,
}

/// The configured detectors.
#[derive(Clone)]
pub struct Detector {
    /// Identifier kinds in ascending name order, with their regexes.
    pub identifiers: Vec<(String, Regex)>,
    /// Kinds that make a customer message an exposure; identifier kinds listed here are masked
    /// like a PAN and never get a token.
    pub sensitive: Vec<Kind>,
    /// The HMAC key, when there is one.
    key: Option<Vec<u8>>,
}

impl std::fmt::Debug for Detector {
    /// Never the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detector")
            .field("identifiers", &self.identifiers)
            .field("sensitive", &self.sensitive)
            .field("has_key", &self.key.is_some())
            .finish()
    }
}

impl Detector {
    /// A detector with `identifiers` (kind, regex source; any order), the `sensitive_kinds`
    /// names and the key. Fails on a bad kind name or regex, naming it.
    pub fn new(
        identifiers: &[(String, String)],
        sensitive_kinds: &[String],
        key: Option<Vec<u8>>,
    ) -> Result<Detector, String> {
        let mut ids: Vec<(String, Regex)> = Vec::new();
        let mut sorted: Vec<&(String, String)> = identifiers.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        for (kind, source) in sorted {
            check_kind_name(kind)?;
            let regex = Regex::new(source)
                .map_err(|e| format!("[text.identifiers] `{kind}` is not a valid regex: {e}"))?;
            ids.push((kind.clone(), regex));
        }
        let mut detector = Detector {
            identifiers: ids,
            sensitive: Vec::new(),
            key,
        };
        for name in sensitive_kinds {
            let kind = detector.kind(name.trim()).ok_or_else(|| {
                format!(
                    "[text] sensitive_kinds names `{name}`, which is neither one of {} nor a \
                     kind of [text.identifiers]",
                    BUILT_IN_KINDS.join(", ")
                )
            })?;
            if !detector.sensitive.contains(&kind) {
                detector.sensitive.push(kind);
            }
        }
        Ok(detector)
    }

    /// The kind named `name`.
    pub fn kind(&self, name: &str) -> Option<Kind> {
        match name {
            "pan" => Some(Kind::Pan),
            "iban" => Some(Kind::Iban),
            "email" => Some(Kind::Email),
            "phone" => Some(Kind::Phone),
            "cvv" => Some(Kind::Cvv),
            other => self
                .identifiers
                .iter()
                .position(|(k, _)| k == other)
                .map(Kind::Identifier),
        }
    }

    pub fn kind_name(&self, kind: Kind) -> &str {
        match kind {
            Kind::Pan => "pan",
            Kind::Iban => "iban",
            Kind::Email => "email",
            Kind::Phone => "phone",
            Kind::Cvv => "cvv",
            Kind::Identifier(i) => &self.identifiers[i].0,
        }
    }

    pub fn has_key(&self) -> bool {
        self.key.is_some()
    }

    /// Whether findings of `kind` get a token: e-mail, phone and identifier kinds not listed
    /// in `sensitive_kinds`.
    pub fn tokenised(&self, kind: Kind) -> bool {
        match kind {
            Kind::Email | Kind::Phone => true,
            Kind::Identifier(_) => !self.sensitive.contains(&kind),
            _ => false,
        }
    }

    /// Whether the redacted form replaces findings of `kind` by their marker.
    pub(super) fn redacted(&self, kind: Kind) -> bool {
        !matches!(kind, Kind::Identifier(_)) || self.sensitive.contains(&kind)
    }

    fn token(&self, kind: Kind, value: &str) -> Option<String> {
        let key = self.key.as_deref()?;
        self.tokenised(kind)
            .then(|| short_hex(key, format!("{}:{value}", self.kind_name(kind)).as_bytes()))
    }

    fn finding(
        &self,
        kind: Kind,
        start: usize,
        end: usize,
        masked: String,
        value: &str,
    ) -> Finding {
        Finding {
            kind,
            start,
            end,
            masked,
            token: self.token(kind, value),
            marker: false,
        }
    }

    /// Scans one text.
    pub fn scan(&self, text: &str) -> Scan {
        let normalised = normalise(text);
        let mut work = Work::new(&normalised);
        let mut findings = Vec::new();
        let mut urls = Vec::new();
        if work.text.contains('[') {
            self.markers(&mut work, &mut findings, &mut urls);
        }
        if work.text.contains("://") || contains_ignore_case(&work.text, "www.") {
            url_spans(&mut work, &mut urls);
        }
        if work.text.contains('@') {
            self.emails(&mut work, &mut findings);
        }
        for index in 0..self.identifiers.len() {
            self.identifier(index, &mut work, &mut findings);
        }
        if work.text.bytes().any(|b| b.is_ascii_digit()) {
            self.ibans(&mut work, &mut findings);
            self.pans(&mut work, &mut findings);
            self.phones(&mut work, &mut findings);
            self.cvvs(&mut work, &mut findings);
        }
        drop(work);
        findings.sort_by_key(|f| f.start);
        urls.sort_unstable();
        Scan {
            normalised,
            findings,
            urls,
        }
    }

    /// Step 0: markers written by l2lens, read back as the findings they stand for.
    fn markers(
        &self,
        work: &mut Work,
        findings: &mut Vec<Finding>,
        urls: &mut Vec<(usize, usize)>,
    ) {
        static MARKER: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"\[([a-z][a-z0-9_]*)\|([^\[\]|]*)\|([0-9a-f]{16})?\]").expect("a regex")
        });
        let mut spans = Vec::new();
        for at in find_all(&work.text, "[url]") {
            spans.push((at, at + 5));
        }
        for (start, end) in &spans {
            urls.push((work.char_at(*start), work.char_at(*end)));
        }
        for caps in MARKER.captures_iter(&work.text) {
            let whole = caps.get(0).expect("group 0");
            let Some(kind) = self.kind(&caps[1]) else {
                continue;
            };
            let masked = &caps[2];
            if !marker_shape(kind, masked) {
                continue;
            }
            let token = caps
                .get(3)
                .filter(|_| self.tokenised(kind))
                .map(|t| t.as_str().to_owned());
            findings.push(Finding {
                kind,
                start: work.char_at(whole.start()),
                end: work.char_at(whole.end()),
                masked: masked.to_owned(),
                token,
                marker: true,
            });
            spans.push((whole.start(), whole.end()));
        }
        work.blank(&spans);
    }

    /// Step 2: e-mail addresses.
    fn emails(&self, work: &mut Work, findings: &mut Vec<Finding>) {
        static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(
                r"([A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,})(?:[^A-Za-z0-9-]|$)",
            )
            .expect("a regex")
        });
        let mut spans = Vec::new();
        let mut at = 0;
        while let Some(caps) = EMAIL.captures_at(&work.text, at) {
            let m = caps.get(1).expect("group 1");
            let before = work.text[..m.start()].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || "._%+-".contains(c)) {
                at = m.start()
                    + work.text[m.start()..]
                        .chars()
                        .next()
                        .map_or(1, char::len_utf8);
                continue;
            }
            let value = m.as_str().to_ascii_lowercase();
            let masked = mask_email(&value);
            findings.push(self.finding(
                Kind::Email,
                work.char_at(m.start()),
                work.char_at(m.end()),
                masked,
                &value,
            ));
            spans.push((m.start(), m.end()));
            at = m.end();
        }
        work.blank(&spans);
    }

    /// Step 3: one configured identifier kind.
    fn identifier(&self, index: usize, work: &mut Work, findings: &mut Vec<Finding>) {
        let regex = &self.identifiers[index].1;
        let kind = Kind::Identifier(index);
        let mut spans = Vec::new();
        for caps in regex.captures_iter(&work.text) {
            let whole = caps.get(0).expect("group 0");
            let value = caps
                .iter()
                .skip(1)
                .flatten()
                .next()
                .unwrap_or(whole)
                .as_str();
            let value: String = value
                .to_ascii_lowercase()
                .chars()
                .filter(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
                .collect();
            if value.is_empty() {
                continue;
            }
            let masked = mask_last4("****", &value);
            findings.push(self.finding(
                kind,
                work.char_at(whole.start()),
                work.char_at(whole.end()),
                masked,
                &value,
            ));
            spans.push((whole.start(), whole.end()));
        }
        work.blank(&spans);
    }

    /// Step 4: IBANs (country length and mod-97).
    pub(super) fn ibans(&self, work: &mut Work, findings: &mut Vec<Finding>) {
        // Every IBAN starts with two letters and two digits: most texts have no such place.
        let bytes = work.text.as_bytes();
        let candidate = bytes.windows(4).any(|w| {
            w[0].is_ascii_alphabetic()
                && w[1].is_ascii_alphabetic()
                && w[2].is_ascii_digit()
                && w[3].is_ascii_digit()
        });
        if !candidate {
            return;
        }
        let chars: Vec<char> = work.text.chars().collect();
        let mut spans = Vec::new();
        let mut i = 0;
        while i + 4 <= chars.len() {
            let starts = chars[i].is_ascii_alphabetic()
                && chars[i + 1].is_ascii_alphabetic()
                && (i == 0 || !is_letter_or_digit(chars[i - 1]));
            if starts && let Some((end, compact)) = iban_at(&chars, i) {
                let masked = format!("{} ****{}", &compact[..2], &compact[compact.len() - 4..]);
                findings.push(self.finding(Kind::Iban, i, end, masked, &compact));
                spans.push((i, end));
                i = end;
                continue;
            }
            i += 1;
        }
        work.blank_chars(&spans);
    }

    /// Step 5: card numbers in digit runs.
    pub(super) fn pans(&self, work: &mut Work, findings: &mut Vec<Finding>) {
        let mut spans = Vec::new();
        for run in runs(&work.text) {
            let before = work.text[..run.start].chars().next_back();
            let after = work.text[run.end..].chars().next();
            if before.is_some_and(|c| is_letter(c) || "+_.@-".contains(c))
                || after.is_some_and(|c| is_letter(c) || c == '_')
            {
                continue;
            }
            let groups: Vec<&str> = work.text[run.clone()].split([' ', '-']).collect();
            for j in (1..=groups.len()).rev() {
                let rest = &groups[j..];
                if rest.len() > 2 || rest.iter().any(|g| g.len() > 4) {
                    continue;
                }
                let digits: String = groups[..j].concat();
                if !(13..=19).contains(&digits.len()) || !luhn(&digits) {
                    continue;
                }
                let Some(brand) = brand(&digits) else {
                    continue;
                };
                let masked = format!("{brand} ****{}", &digits[digits.len() - 4..]);
                findings.push(self.finding(
                    Kind::Pan,
                    work.char_at(run.start),
                    work.char_at(run.end),
                    masked,
                    &digits,
                ));
                spans.push((run.start, run.end));
                break;
            }
        }
        work.blank(&spans);
    }

    /// Step 6: international phone numbers (`+` or `00`).
    fn phones(&self, work: &mut Work, findings: &mut Vec<Finding>) {
        let mut spans = Vec::new();
        for run in runs(&work.text) {
            let text = &work.text;
            let mut before = text[..run.start].chars().rev();
            let prev = before.next();
            let after = text[run.end..].chars().next();
            if after.is_some_and(|c| is_letter(c) || c == '_') {
                continue;
            }
            let digits: String = text[run.clone()]
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            let (start, national) = if prev == Some('+') {
                let before_plus = before.next();
                if before_plus.is_some_and(|c| is_letter_or_digit(c) || "+_.@-".contains(c)) {
                    continue;
                }
                (run.start - 1, digits.as_str())
            } else if digits.starts_with("00") && text[run.clone()].starts_with("00") {
                if prev.is_some_and(|c| is_letter(c) || "+_.@-".contains(c)) {
                    continue;
                }
                (run.start, &digits[2..])
            } else {
                continue;
            };
            if !(8..=15).contains(&national.len()) || national.starts_with('0') {
                continue;
            }
            let masked = format!("+****{}", &national[national.len() - 4..]);
            findings.push(self.finding(
                Kind::Phone,
                work.char_at(start),
                work.char_at(run.end),
                masked,
                national,
            ));
            spans.push((start, run.end));
        }
        work.blank(&spans);
    }

    /// Step 7: CVVs after their keywords.
    fn cvvs(&self, work: &mut Work, findings: &mut Vec<Finding>) {
        static DIGITS: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"[0-9]{3,4}").expect("a regex"));
        static KEYWORD: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(
                r"(?:^|[^\p{L}0-9])(?:[cC][vV][vV]2|[cC][vV][cC]2|[cC][vV][vV]|[cC][vV][cC]|[sS][eE][cC][uU][rR][iI][tT][yY]\s+[cC][oO][dD][eE]|[cC][aA][rR][dD]\s+[cC][oO][dD][eE])(?:[^\p{L}0-9]+\p{L}+){0,3}[^\p{L}0-9]*$",
            )
            .expect("a regex")
        });
        let text = &work.text;
        // Every keyword holds `cv` or `code` (ASCII, any case).
        if !(contains_ignore_case(text, "cv") || contains_ignore_case(text, "code")) {
            return;
        }
        let mut spans = Vec::new();
        for m in DIGITS.find_iter(text) {
            let before = text[..m.start()].chars().next_back();
            let after = text[m.end()..].chars().next();
            if before.is_some_and(|c| c.is_ascii_digit())
                || after.is_some_and(|c| c.is_ascii_digit() || is_letter(c) || c == '_')
            {
                continue;
            }
            if !KEYWORD.is_match(&text[..m.start()]) {
                continue;
            }
            spans.push((m.start(), m.end()));
        }
        for (start, end) in &spans {
            findings.push(Finding {
                kind: Kind::Cvv,
                start: work.char_at(*start),
                end: work.char_at(*end),
                masked: "***".to_owned(),
                token: None,
                marker: false,
            });
        }
        work.blank(&spans);
    }
}

/// The working text of a scan: the normalised text with what earlier steps took blanked.
pub(super) struct Work<'a> {
    /// Borrowed until a step blanks something.
    text: Cow<'a, str>,
    /// Whether every character is one byte (byte positions are character positions).
    ascii: bool,
}

impl<'a> Work<'a> {
    pub(super) fn new(normalised: &'a str) -> Work<'a> {
        Work {
            ascii: normalised.is_ascii(),
            text: Cow::Borrowed(normalised),
        }
    }

    /// The character position of byte position `byte`.
    fn char_at(&self, byte: usize) -> usize {
        if self.ascii {
            byte
        } else {
            self.text[..byte].chars().count()
        }
    }

    /// Blanks byte spans.
    fn blank(&mut self, spans: &[(usize, usize)]) {
        if spans.is_empty() {
            return;
        }
        if self.ascii {
            let mut bytes = std::mem::take(&mut self.text).into_owned().into_bytes();
            for (start, end) in spans {
                bytes[*start..*end].fill(b' ');
            }
            self.text = Cow::Owned(String::from_utf8(bytes).expect("ASCII stays ASCII"));
            return;
        }
        let mut out = String::with_capacity(self.text.len());
        let mut spans = spans.to_vec();
        spans.sort_unstable();
        let mut next = spans.iter().peekable();
        for (at, c) in self.text.char_indices() {
            while next.peek().is_some_and(|s| s.1 <= at) {
                next.next();
            }
            let inside = next.peek().is_some_and(|s| s.0 <= at && at < s.1);
            out.push(if inside { ' ' } else { c });
        }
        self.ascii = out.is_ascii();
        self.text = Cow::Owned(out);
    }

    /// Blanks character spans.
    fn blank_chars(&mut self, spans: &[(usize, usize)]) {
        if spans.is_empty() {
            return;
        }
        let mut chars: Vec<char> = self.text.chars().collect();
        for (start, end) in spans {
            chars[*start..*end].fill(' ');
        }
        self.text = Cow::Owned(chars.into_iter().collect());
        self.ascii = self.text.is_ascii();
    }
}

/// Step 1: URL spans, anchored where the previous character allows a URL to start.
fn url_spans(work: &mut Work, urls: &mut Vec<(usize, usize)>) {
    static START: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?i)(?:https?://|www\.)").expect("a regex"));
    static URL: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?i)^(?:https?://|www\.)\S+").expect("a regex"));
    let mut spans = Vec::new();
    let mut at = 0;
    while let Some(m) = START.find_at(&work.text, at) {
        let p = m.start();
        let before = work.text[..p].chars().next_back();
        let allowed = before.is_none_or(|c| !(is_letter_or_digit(c) || "@.-_".contains(c)));
        if allowed && let Some(url) = URL.find(&work.text[p..]) {
            spans.push((p, p + url.end()));
            at = p + url.end();
            continue;
        }
        at = p + work.text[p..].chars().next().map_or(1, char::len_utf8);
    }
    for (start, end) in &spans {
        urls.push((work.char_at(*start), work.char_at(*end)));
    }
    work.blank(&spans);
}

/// Maximal digit runs: groups of digits joined by one space or one hyphen (byte ranges).
fn runs(text: &str) -> Vec<std::ops::Range<usize>> {
    static RUN: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"[0-9]+(?:[ -][0-9]+)*").expect("a regex"));
    RUN.find_iter(text).map(|m| m.range()).collect()
}

#[cfg(test)]
#[path = "detect_tests.rs"]
mod tests;
