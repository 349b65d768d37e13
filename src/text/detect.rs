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
use unicode_normalization::UnicodeNormalization;

use super::hmac::short_hex;

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
    fn redacted(&self, kind: Kind) -> bool {
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
    fn ibans(&self, work: &mut Work, findings: &mut Vec<Finding>) {
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
    fn pans(&self, work: &mut Work, findings: &mut Vec<Finding>) {
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

/// The working text of a scan: the normalised text with what earlier steps took blanked.
struct Work<'a> {
    /// Borrowed until a step blanks something.
    text: Cow<'a, str>,
    /// Whether every character is one byte (byte positions are character positions).
    ascii: bool,
}

impl<'a> Work<'a> {
    fn new(normalised: &'a str) -> Work<'a> {
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

/// NFKC, then every decimal digit (Unicode Nd) folded to its ASCII digit (ASCII text is its
/// own normal form).
pub fn normalise(text: &str) -> String {
    if text.is_ascii() {
        return text.to_owned();
    }
    text.nfkc().map(fold_digit).collect()
}

/// The code points of the digit zero of every Nd block (Unicode 15.0); each block runs 0–9.
const DIGIT_ZEROS: [u32; 68] = [
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66,
    0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
    0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650,
    0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x11F50, 0x16A60, 0x16AC0,
    0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E4F0, 0x1E950,
    0x1FBF0,
];

fn fold_digit(c: char) -> char {
    let code = c as u32;
    if code < 0x660 {
        return c;
    }
    // The last block whose zero is at or before the character.
    let i = DIGIT_ZEROS.partition_point(|z| *z <= code);
    let zero = DIGIT_ZEROS[i - 1];
    if code - zero < 10 {
        char::from_digit(code - zero, 10).unwrap_or(c)
    } else {
        c
    }
}

/// Unicode General_Category L*.
pub fn is_letter(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    static LETTER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\p{L}$").expect("a regex"));
    let mut buf = [0u8; 4];
    LETTER.is_match(c.encode_utf8(&mut buf))
}

fn is_letter_or_digit(c: char) -> bool {
    c.is_ascii_digit() || is_letter(c)
}

fn contains_ignore_case(text: &str, needle: &str) -> bool {
    text.as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

fn find_all(text: &str, needle: &str) -> Vec<usize> {
    text.match_indices(needle).map(|(at, _)| at).collect()
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

fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The card brand of a digit string: the first row of the brand table whose prefix and length
/// match.
pub fn brand(digits: &str) -> Option<&'static str> {
    type Row = (
        &'static str,
        &'static [(u32, u32)],
        (usize, usize),
        &'static [usize],
    );
    const BRANDS: [Row; 8] = [
        ("visa", &[(4, 4)], (0, 0), &[13, 16, 19]),
        ("mastercard", &[(51, 55), (2221, 2720)], (16, 16), &[]),
        ("amex", &[(34, 34), (37, 37)], (15, 15), &[]),
        (
            "discover",
            &[(6011, 6011), (644, 649), (65, 65)],
            (16, 19),
            &[],
        ),
        ("jcb", &[(3528, 3589)], (16, 19), &[]),
        ("unionpay", &[(62, 62)], (16, 19), &[]),
        (
            "diners",
            &[(300, 305), (36, 36), (38, 38), (39, 39)],
            (14, 14),
            &[],
        ),
        (
            "maestro",
            &[
                (5018, 5018),
                (5020, 5020),
                (5038, 5038),
                (5893, 5893),
                (6304, 6304),
                (6759, 6759),
                (6761, 6761),
                (6762, 6762),
                (6763, 6763),
            ],
            (13, 19),
            &[],
        ),
    ];
    let len = digits.len();
    BRANDS.iter().find_map(|(name, prefixes, range, lengths)| {
        let length_ok = if lengths.is_empty() {
            (range.0..=range.1).contains(&len)
        } else {
            lengths.contains(&len)
        };
        let prefix_ok = prefixes.iter().any(|(low, high)| {
            let k = low.to_string().len();
            digits
                .get(..k)
                .and_then(|p| p.parse::<u32>().ok())
                .is_some_and(|p| (*low..=*high).contains(&p))
        });
        (length_ok && prefix_ok).then_some(*name)
    })
}

/// IBAN lengths per country.
const IBAN_LENGTHS: [(&str, usize); 79] = [
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("LY", 25),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NL", 18),
    ("NO", 15),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("RU", 33),
    ("SA", 24),
    ("SC", 31),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
];

fn iban_length(country: &str) -> Option<usize> {
    IBAN_LENGTHS
        .iter()
        .find(|(c, _)| *c == country)
        .map(|(_, l)| *l)
}

/// An IBAN starting at `i` (two letters there): its end (exclusive) and compact upper-case form.
fn iban_at(chars: &[char], i: usize) -> Option<(usize, String)> {
    let country: String = chars[i..i + 2]
        .iter()
        .collect::<String>()
        .to_ascii_uppercase();
    let length = iban_length(&country)?;
    if !(chars[i + 2].is_ascii_digit() && chars[i + 3].is_ascii_digit()) {
        return None;
    }
    let mut compact = String::with_capacity(length);
    compact.push_str(&country);
    compact.push(chars[i + 2]);
    compact.push(chars[i + 3]);
    let mut at = i + 4;
    while compact.len() < length {
        let c = *chars.get(at)?;
        if c.is_ascii_alphanumeric() {
            compact.push(c.to_ascii_uppercase());
            at += 1;
        } else if c == ' ' && chars.get(at + 1).is_some_and(char::is_ascii_alphanumeric) {
            compact.push(chars[at + 1].to_ascii_uppercase());
            at += 2;
        } else {
            return None;
        }
    }
    if chars.get(at).is_some_and(|c| is_letter_or_digit(*c)) || !mod97(&compact) {
        return None;
    }
    Some((at, compact))
}

fn mod97(compact: &str) -> bool {
    let rearranged = compact[4..].chars().chain(compact[..4].chars());
    let mut rest: u32 = 0;
    for c in rearranged {
        let value = match c.to_digit(36) {
            Some(v) => v,
            None => return false,
        };
        rest = if value >= 10 {
            (rest * 100 + value) % 97
        } else {
            (rest * 10 + value) % 97
        };
    }
    rest == 1
}

fn mask_email(value: &str) -> String {
    let (local, domain) = value.split_once('@').unwrap_or((value, ""));
    let first_local = local.chars().next().unwrap_or('?');
    let first_domain = domain.chars().next().unwrap_or('?');
    let tld = domain.rsplit('.').next().unwrap_or_default();
    format!("{first_local}***@{first_domain}***.{tld}")
}

fn mask_last4(prefix: &str, value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= 4 {
        prefix.to_owned()
    } else {
        let last: String = chars[chars.len() - 4..].iter().collect();
        format!("{prefix}{last}")
    }
}

/// Whether a marker's masked form has its kind's shape.
fn marker_shape(kind: Kind, masked: &str) -> bool {
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

/// The number of Unicode scalar values of a text trimmed of White_Space (`text_chars`).
pub fn text_chars(text: &str) -> usize {
    text.trim().chars().count()
}

#[cfg(test)]
#[path = "detect_tests.rs"]
mod tests;
