//! What a customer id looks like (whatsapp-2026.md B.4): a business-scoped user id (BSUID), a
//! phone number (a WhatsApp id), or anything else; and the country calling code of a phone
//! (ITU-T E.164 assigned codes, prefix-free, so at most one is a prefix of a number).

/// Whether an id is a business-scoped user id: two upper-case letters, a dot, optionally
/// `ENT.`, then 1 to 128 ASCII letters or digits.
pub fn is_bsuid(id: &str) -> bool {
    let b = id.as_bytes();
    if b.len() < 4 || !b[0].is_ascii_uppercase() || !b[1].is_ascii_uppercase() || b[2] != b'.' {
        return false;
    }
    let rest = &id[3..];
    let body_ok =
        |s: &str| (1..=128).contains(&s.len()) && s.bytes().all(|c| c.is_ascii_alphanumeric());
    body_ok(rest) || rest.strip_prefix("ENT.").is_some_and(body_ok)
}

/// The kind (`bsuid`, `phone`, `other`) and market digits recognised from an id alone: a phone
/// is all ASCII digits after one leading `+`, its digits being its market digits.
pub fn recognise(id: &str) -> (&'static str, Option<String>) {
    if is_bsuid(id) {
        return ("bsuid", None);
    }
    let digits = id.strip_prefix('+').unwrap_or(id);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return ("phone", Some(digits.to_owned()));
    }
    ("other", None)
}

/// The assigned codes of one, two and three digits.
const CODES: &[&str] = &[
    // One digit: North America (NANP) and Russia/Kazakhstan.
    "1", "7", //
    // Two digits.
    "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47",
    "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65",
    "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
    // Three digits.
    "211", "212", "213", "216", "218", "220", "221", "222", "223", "224", "225", "226", "227",
    "228", "229", "230", "231", "232", "233", "234", "235", "236", "237", "238", "239", "240",
    "241", "242", "243", "244", "245", "246", "247", "248", "249", "250", "251", "252", "253",
    "254", "255", "256", "257", "258", "260", "261", "262", "263", "264", "265", "266", "267",
    "268", "269", "290", "291", "297", "298", "299", "350", "351", "352", "353", "354", "355",
    "356", "357", "358", "359", "370", "371", "372", "373", "374", "375", "376", "377", "378",
    "379", "380", "381", "382", "383", "385", "386", "387", "389", "420", "421", "423", "500",
    "501", "502", "503", "504", "505", "506", "507", "508", "509", "590", "591", "592", "593",
    "594", "595", "596", "597", "598", "599", "670", "672", "673", "674", "675", "676", "677",
    "678", "679", "680", "681", "682", "683", "685", "686", "687", "688", "689", "690", "691",
    "692", "800", "808", "850", "852", "853", "855", "856", "870", "878", "880", "881", "882",
    "883", "886", "888", "960", "961", "962", "963", "964", "965", "966", "967", "968", "970",
    "971", "972", "973", "974", "975", "976", "977", "979", "992", "993", "994", "995", "996",
    "998",
];

/// The calling code of a WhatsApp id (digits, an optional leading `+`), if it starts with an
/// assigned one.
pub fn calling_code(wa_id: &str) -> Option<&'static str> {
    let digits = wa_id.strip_prefix('+').unwrap_or(wa_id);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    (1..=3)
        .filter_map(|len| digits.get(..len))
        .find_map(|prefix| CODES.iter().find(|c| **c == prefix).copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bsuids_phones_and_other_ids_are_told_apart() {
        for (id, kind, digits) in [
            ("DE.AbC123", "bsuid", None),
            ("US.ENT.x9", "bsuid", None),
            ("de.AbC123", "other", None),
            ("DE.", "other", None),
            ("DE.a-b", "other", None),
            ("4915100000201", "phone", Some("4915100000201")),
            ("+4915100000201", "phone", Some("4915100000201")),
            ("++49", "other", None),
            ("contact-17", "other", None),
        ] {
            assert_eq!(recognise(id), (kind, digits.map(str::to_owned)), "{id}");
        }
        let long = format!("DE.{}", "a".repeat(128));
        assert!(is_bsuid(&long) && !is_bsuid(&format!("{long}a")));
    }

    #[test]
    fn the_codes_are_prefix_free_and_found() {
        for a in CODES {
            for b in CODES {
                assert!(a == b || !b.starts_with(a), "{a} is a prefix of {b}");
            }
        }
        assert_eq!(calling_code("4915100000401"), Some("49"));
        assert_eq!(calling_code("14155550100"), Some("1"));
        assert_eq!(calling_code("+351912345678"), Some("351"));
        assert_eq!(calling_code("5511987654321"), Some("55"));
        assert_eq!(calling_code("2125550100"), Some("212"));
        assert_eq!(calling_code("0049"), None);
        assert_eq!(calling_code("DE.AbC123"), None);
    }
}
