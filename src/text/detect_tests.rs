use super::*;

const KEY: &[u8] = b"l2lens-fixture-key";
const ORDER: &str = r"(?i)(?:#|\border(?:\s+(?:no\.?|number))?\s*[:#]?\s*)([0-9]{5,16})\b";

fn detector() -> Detector {
    Detector::new(
        &[("order".to_owned(), ORDER.to_owned())],
        &["pan".to_owned(), "iban".to_owned()],
        Some(KEY.to_vec()),
    )
    .unwrap()
}

/// (kind, masked, token) of each finding of `text`.
fn found(text: &str) -> Vec<(String, String, Option<String>)> {
    let d = detector();
    d.scan(text)
        .findings
        .iter()
        .map(|f| {
            (
                d.kind_name(f.kind).to_owned(),
                f.masked.clone(),
                f.token.clone(),
            )
        })
        .collect()
}

fn kinds(text: &str) -> Vec<(String, String)> {
    found(text).into_iter().map(|(k, m, _)| (k, m)).collect()
}

fn one(kind: &str, masked: &str) -> Vec<(String, String)> {
    vec![(kind.to_owned(), masked.to_owned())]
}

#[test]
fn cards_by_groups_brand_and_luhn() {
    assert_eq!(kinds("4111 1111 1111 1111"), one("pan", "visa ****1111"));
    assert_eq!(kinds("4111-1111-1111-1111"), one("pan", "visa ****1111"));
    assert_eq!(kinds("3782 822463 10005"), one("pan", "amex ****0005"));
}

#[test]
fn full_width_and_arabic_indic_digits_are_folded() {
    assert_eq!(
        kinds("４１１１\u{3000}１１１１\u{3000}１１１１\u{3000}１１１１"),
        one("pan", "visa ****1111")
    );
    assert_eq!(
        kinds("٥٥٥٥ ٥٥٥٥ ٥٥٥٥ ٤٤٤٤"),
        one("pan", "mastercard ****4444")
    );
}

#[test]
fn an_expiry_after_the_card_is_in_its_span() {
    let d = detector();
    let scan = d.scan("4111 1111 1111 1111 12/27");
    assert_eq!(scan.findings.len(), 1);
    let span: String = scan
        .normalised
        .chars()
        .skip(scan.findings[0].start)
        .take(scan.findings[0].end - scan.findings[0].start)
        .collect();
    assert_eq!(span, "4111 1111 1111 1111 12");
    assert_eq!(d.redact(&scan), "[pan|visa ****1111|]/27");
}

#[test]
fn numbers_that_are_not_cards() {
    for text in [
        "IMEI 490154203237518",
        "5000123456789014",
        "1699999999999",
        "+4111111111111111",
        "4155550123",
        "113-6082416-1234563",
        "4501-0136-1111-1111-1111-1111-1111-1111-1111-1111-1111",
        "https://t.example.com/p/4111111111111111",
        "DE89 3704 0044 0532 0130 01",
        "ticket 404, code 123",
        "4111111111111111abc",
        "x4111111111111111",
        "4111111111111111 5555555555554444",
    ] {
        assert_eq!(kinds(text), vec![], "{text}");
    }
}

#[test]
fn a_luhn_valid_visa_number_is_a_card_unless_a_declared_identifier_takes_it() {
    assert_eq!(
        kinds("tracking no 4000987654321017"),
        one("pan", "visa ****1017")
    );
    assert_eq!(kinds("my order 4000987654321017"), one("order", "****1017"));
}

#[test]
fn phones_with_plus_or_00_share_a_token() {
    let plus = found("+44 7900 248601");
    let zeros = found("00447900248601");
    assert_eq!(plus.len(), 1);
    assert_eq!(plus[0].0, "phone");
    assert_eq!(plus[0].1, "+****8601");
    assert_eq!(plus[0].2.as_deref(), Some("ec9b6772869fd759"));
    assert_eq!(plus, zeros);
}

#[test]
fn ibans_by_length_and_mod_97() {
    assert_eq!(
        kinds("DE89 3704 0044 0532 0130 00"),
        one("iban", "DE ****3000")
    );
    assert_eq!(
        kinds("GB82 WEST 1234 5698 7654 32"),
        one("iban", "GB ****5432")
    );
}

#[test]
fn emails_are_lower_cased_and_masked_to_the_first_characters_and_tld() {
    let f = found("Jane.Doe@Example.com");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].1, "j***@e***.com");
    assert_eq!(
        f[0].2.as_deref(),
        Some(short_hex(KEY, b"email:jane.doe@example.com").as_str())
    );
}

#[test]
fn cvvs_after_their_keywords() {
    assert_eq!(kinds("cvv 123"), one("cvv", "***"));
    assert_eq!(kinds("CVV2: 1234"), one("cvv", "***"));
    assert_eq!(kinds("the security code is 737"), one("cvv", "***"));
    assert_eq!(
        kinds("card 4111 1111 1111 1111 cvv 123"),
        vec![
            ("pan".to_owned(), "visa ****1111".to_owned()),
            ("cvv".to_owned(), "***".to_owned())
        ]
    );
    assert_eq!(kinds("cvv 123 456"), one("cvv", "***"));
    assert_eq!(kinds("cvv for the card is 12345"), vec![]);
}

#[test]
fn identifiers_normalise_to_the_same_token() {
    let a = found("my order #482913");
    let b = found("Order no. 482913");
    assert_eq!(a[0].1, "****2913");
    assert_eq!(a[0].2.as_deref(), Some("f67a77904f0cc58b"));
    assert_eq!(a, b);
}

#[test]
fn without_a_key_the_kinds_are_found_and_nothing_is_tokenised() {
    let d = Detector::new(
        &[("order".to_owned(), ORDER.to_owned())],
        &["pan".to_owned(), "iban".to_owned()],
        None,
    )
    .unwrap();
    let scan = d.scan("order #482913, card 4111 1111 1111 1111, jane@example.com");
    assert_eq!(scan.findings.len(), 3);
    assert!(scan.findings.iter().all(|f| f.token.is_none()));
}

#[test]
fn redacted_and_findings_only_forms_scan_back_to_the_same_findings() {
    let d = detector();
    for text in [
        "Hi, my order #482913 hasn't arrived. Email is Jane.Doe@Example.com",
        "card 4111 1111 1111 1111, exp 12/27 and cvv 737, IBAN DE89 3704 0044 0532 0130 00",
        "call +44 7900 248601 or see https://x.example.com/a?b=4111111111111111",
        "nothing here",
    ] {
        let scan = d.scan(text);
        let strip = |s: &Scan| -> Vec<(Kind, String, Option<String>)> {
            s.findings
                .iter()
                .map(|f| (f.kind, f.masked.clone(), f.token.clone()))
                .collect()
        };
        let redacted = d.redact(&scan);
        assert_eq!(
            strip(&d.scan(&redacted)),
            strip(&scan),
            "{text} → {redacted}"
        );
        // The redacted form of a redacted form is itself.
        assert_eq!(d.redact(&d.scan(&redacted)), redacted);
        let only = d.findings_only(&scan).unwrap_or_default();
        assert_eq!(strip(&d.scan(&only)), strip(&scan), "{text} → {only}");
        for secret in ["4111", "Jane", "7900", "3704", "737"] {
            assert!(!only.contains(secret), "{only}");
        }
    }
    assert_eq!(
        d.findings_only(
            &d.scan("Hi, my order #482913 hasn't arrived. Email is Jane.Doe@Example.com")
        )
        .unwrap(),
        "[order|****2913|f67a77904f0cc58b] [email|j***@e***.com|e4481fb952f9f2bf]"
    );
}

#[test]
fn the_board_form_has_no_tokens() {
    let d = detector();
    let stored =
        d.redact(&d.scan("call jane@example.com about order #482913, card 4111 1111 1111 1111"));
    assert!(stored.contains("|1") || stored.contains("|"), "{stored}");
    assert_eq!(
        d.redact_without_tokens(&stored),
        "call [email|j***@e***.com] about order #482913, card [pan|visa ****1111]"
    );
}

#[test]
fn a_bracket_without_a_known_kind_or_shape_is_no_marker() {
    let d = detector();
    assert_eq!(kinds("[pan|my secret text|]"), vec![]);
    assert_eq!(kinds("[name|****abcd|]"), vec![]);
    // The token of a PAN marker is ignored.
    let scan = d.scan("[pan|visa ****1111|0123456789abcdef]");
    assert_eq!(scan.findings[0].token, None);
}

#[test]
fn configuration_errors_name_the_kind() {
    let bad_name = Detector::new(&[("Order".into(), "x".into())], &[], None).unwrap_err();
    assert!(bad_name.contains("`Order`"), "{bad_name}");
    let reserved = Detector::new(&[("customer".into(), "x".into())], &[], None).unwrap_err();
    assert!(reserved.contains("reserved"), "{reserved}");
    let regex = Detector::new(&[("order".into(), "(".into())], &[], None).unwrap_err();
    assert!(regex.contains("not a valid regex"), "{regex}");
    let unknown = Detector::new(&[], &["passport".into()], None).unwrap_err();
    assert!(unknown.contains("`passport`"), "{unknown}");
}

#[test]
fn a_sensitive_identifier_kind_is_redacted_and_never_tokenised() {
    let d = Detector::new(
        &[("national_id".to_owned(), r"\bID ([0-9]{9})\b".to_owned())],
        &["pan".to_owned(), "national_id".to_owned()],
        Some(KEY.to_vec()),
    )
    .unwrap();
    let scan = d.scan("my ID 123456789");
    assert_eq!(scan.findings[0].token, None);
    assert_eq!(d.redact(&scan), "my [national_id|****6789|]");
}

#[test]
fn text_chars_counts_scalar_values_of_the_trimmed_text() {
    assert_eq!(text_chars("  card 4111 1111 1111 1111 \n"), 24);
    assert_eq!(text_chars("٥٥"), 2);
}
