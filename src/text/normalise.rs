//! The text the detectors read: NFKC with every decimal digit folded to ASCII, and the small
//! character tests the steps share.

use std::sync::LazyLock;

use regex::Regex;
use unicode_normalization::UnicodeNormalization;

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

pub(super) fn is_letter_or_digit(c: char) -> bool {
    c.is_ascii_digit() || is_letter(c)
}

pub(super) fn contains_ignore_case(text: &str, needle: &str) -> bool {
    text.as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

pub(super) fn find_all(text: &str, needle: &str) -> Vec<usize> {
    text.match_indices(needle).map(|(at, _)| at).collect()
}

/// The number of Unicode scalar values of a text trimmed of White_Space (`text_chars`).
pub fn text_chars(text: &str) -> usize {
    text.trim().chars().count()
}
