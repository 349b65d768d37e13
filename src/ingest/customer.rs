//! What a customer id looks like (whatsapp-2026.md B.4): a business-scoped user id (BSUID), a
//! phone number (a WhatsApp id), or anything else.

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
}
