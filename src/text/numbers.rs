//! Card numbers and IBANs: the brand table, Luhn, the IBAN lengths and mod-97.

use super::normalise::is_letter_or_digit;

pub(super) fn luhn(digits: &str) -> bool {
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

pub(super) fn iban_length(country: &str) -> Option<usize> {
    IBAN_LENGTHS
        .iter()
        .find(|(c, _)| *c == country)
        .map(|(_, l)| *l)
}

/// An IBAN starting at `i` (two letters there): its end (exclusive) and compact upper-case form.
pub(super) fn iban_at(chars: &[char], i: usize) -> Option<(usize, String)> {
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
