//! Message text for `l2lens sample --text`: sentences of realistic length, with a few
//! identifiers, e-mail addresses, phone numbers, card numbers and IBANs per thousand messages
//! (deterministic: a function of the message number and the seed).

/// Customer and agent sentences (support chat, 20–160 characters).
const CUSTOMER: &[&str] = &[
    "Hi, my parcel still has not arrived and the tracking page has not changed since Monday.",
    "The app logs me out every time I open the payments tab, can you help?",
    "I was charged twice this month.",
    "Can I change the delivery address before it ships?",
    "Still waiting for an answer here.",
    "Thanks, that worked!",
    "I want to cancel my plan, it is too expensive for what we use.",
    "Why was my refund declined? I sent the photos yesterday.",
    "ok",
    "Is anyone there?",
];
const AGENT: &[&str] = &[
    "Thanks for waiting, I am looking into this now.",
    "I have escalated this to our billing team; you will hear from us today.",
    "Could you confirm the email address on the account?",
    "Sorry about that. I have reset your session, please try again.",
    "Your refund has been processed and should arrive in 3 to 5 working days.",
];
const BOT: &[&str] = &[
    "Hi! I am the virtual assistant. What can I help you with?",
    "Sorry, I did not get that. Could you rephrase?",
    "Let me connect you to a specialist.",
];

/// Cards (Luhn-valid test numbers), an IBAN, and shapes of identifiers.
const CARDS: &[&str] = &[
    "4111 1111 1111 1111",
    "5555 5555 5555 4444",
    "3782 822463 10005",
];

fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// The text of message `number` sent by `sender`; `None` for a few media messages.
pub fn message_text(seed: u64, number: u64, sender: &str) -> Option<String> {
    let r = mix(seed ^ number.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let pick = |list: &[&str]| list[(r % list.len() as u64) as usize].to_owned();
    let mut text = match sender {
        "customer" => pick(CUSTOMER),
        "agent" => pick(AGENT),
        "bot" => pick(BOT),
        _ => return None,
    };
    if r % 50 == 7 {
        return None;
    }
    // Per thousand: 8 order numbers, 3 e-mail addresses, 2 phone numbers, 2 cards, 1 IBAN.
    let per_mille = (r >> 20) % 1000;
    let id = (r >> 40) % 900_000 + 100_000;
    match per_mille {
        0..8 => text.push_str(&format!(" My order is #{id}.")),
        8..11 => text.push_str(&format!(" Write to me at user{id}@mail.test")),
        11..13 => text.push_str(&format!(" Call me on +44 7700 9{:05}", id % 100_000)),
        13..15 if sender == "customer" => {
            text.push_str(&format!(" my card is {}", CARDS[(id % 3) as usize]));
        }
        15 if sender == "customer" => text.push_str(" IBAN DE89 3704 0044 0532 0130 00"),
        _ => {}
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_is_deterministic_and_sometimes_holds_findings() {
        assert_eq!(
            message_text(1, 5, "customer"),
            message_text(1, 5, "customer")
        );
        let texts: Vec<String> = (0..10_000)
            .filter_map(|n| message_text(42, n, "customer"))
            .collect();
        let cards = texts.iter().filter(|t| t.contains("my card is")).count();
        assert!((5..60).contains(&cards), "{cards} cards in 10,000 messages");
        assert!(texts.iter().all(|t| t.len() < 200));
    }
}
