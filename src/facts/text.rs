//! The text facts (text.md section 4): per specialist entry the identifiers the customer gave
//! before it and repeated after it, the brief's recall of them and its placeholder fields
//! (`text_entries`); per conversation the customer messages with text and the first exposure
//! of a sensitive kind; and the business items (briefs, bot and agent messages) with the card
//! numbers and CVVs they carry. Everything from `text_findings`, never from text.

use std::collections::BTreeSet;

use anyhow::Result;
use polars::prelude::*;

use super::Facts;
use crate::config::Config;
use crate::config::text::normalise_placeholder;
use crate::dataset::{Dataset, stream};
use crate::ingest::schema::{CONVERSATION_KEY, SOURCE_ROW, Table};
use crate::warehouse::row_count;

/// The brief fields a placeholder can stand in (the three completeness reads).
const PLACEHOLDER_FIELDS: [&str; 3] = ["intent", "attempted_steps", "current_status"];

/// The text facts of one analysis.
#[derive(Clone)]
pub struct TextFacts {
    /// Whether any message has text (`text_chars` not null).
    pub has_text: bool,
    /// One row per specialist entry: `key`, `entry_at`, `entry_lane`, `brief_state`, `before_n`,
    /// `repeated`, `recall`, `placeholder_fields`, and for drill-downs `repeated_pairs`,
    /// `repeat_wait_ms`, `repeated_kinds`, `missed_n`, `missed_kinds`, `placeholder_n`.
    pub entries: DataFrame,
    /// One row per conversation: `key`, `text_customer_messages`, `exposure_at`,
    /// `exposure_kinds`, `exposure_findings` (count), `exposure_masked`.
    pub conversations: DataFrame,
    /// One row per business item: `key`, `at`, `source` (`brief`, `bot`, `agent`),
    /// `message_id`, `handoff_row`, `flagged` (a PAN or CVV), `flagged_masked`.
    pub items: DataFrame,
}

impl TextFacts {
    /// No entries, with the columns of [`TextFacts::entries`].
    pub fn empty_entries() -> Result<DataFrame> {
        EntryColumns::default().frame()
    }
}

mod exposure;
pub use exposure::conversation_columns;
use exposure::{exposure, items};

/// A finding as the text facts read it.
struct Found {
    key: u32,
    at: i64,
    handoff_row: Option<u32>,
    message_id: Option<String>,
    sender: String,
    kind: String,
    token: Option<String>,
    masked: String,
}

pub fn compute(data: &Dataset, facts: &Facts, config: &Config) -> Result<TextFacts> {
    let as_of = facts.as_of;
    let found = findings(data, &facts.frame, as_of)?;
    let messages = text_messages(data, as_of)?;
    let has_text = data.summary.text.messages_with_text > 0 || messages.height() > 0;
    let handoffs = handoffs(data, as_of, &config.text.placeholders)?;
    let entries = entries(facts, config, &found, &handoffs.1)?;
    let conversations = exposure(config, &found, &messages)?;
    let items = items(&found, &messages, &handoffs.0)?;
    Ok(TextFacts {
        has_text,
        entries,
        conversations,
        items,
    })
}

fn conversation_keys(frame: &DataFrame) -> Result<PlHashMap<String, u32>> {
    let ids = frame.column("conversation_id")?.str()?;
    let keys = frame.column("key")?.u32()?;
    Ok(ids
        .iter()
        .zip(keys.iter())
        .filter_map(|(id, key)| Some((id?.to_owned(), key?)))
        .collect())
}

/// The findings at or before `as_of` of conversations in the facts, by conversation and time.
fn findings(data: &Dataset, conversations: &DataFrame, as_of: i64) -> Result<Vec<Found>> {
    let frame = stream(
        data.text_findings
            .clone()
            .filter(col("sent_at").cast(DataType::Int64).lt_eq(lit(as_of)))
            .select([
                col("conversation_id"),
                col("sent_at").cast(DataType::Int64),
                col("handoff_row"),
                col("message_id"),
                col("sender"),
                col("kind"),
                col("token"),
                col("masked"),
            ]),
    )?;
    if frame.height() == 0 {
        return Ok(Vec::new());
    }
    let keys = conversation_keys(conversations)?;
    let ids = frame.column("conversation_id")?.str()?;
    let at = frame.column("sent_at")?.i64()?;
    let rows = frame.column("handoff_row")?.cast(&DataType::UInt32)?;
    let rows = rows.u32()?;
    let message = frame.column("message_id")?.str()?;
    let sender = frame.column("sender")?.str()?;
    let kind = frame.column("kind")?.str()?;
    let token = frame.column("token")?.str()?;
    let masked = frame.column("masked")?.str()?;
    let mut out: Vec<Found> = (0..frame.height())
        .filter_map(|i| {
            let key = *keys.get(ids.get(i)?)?;
            Some(Found {
                key,
                at: at.get(i)?,
                handoff_row: rows.get(i),
                message_id: message.get(i).map(str::to_owned),
                sender: sender.get(i).unwrap_or_default().to_owned(),
                kind: kind.get(i).unwrap_or_default().to_owned(),
                token: token.get(i).map(str::to_owned),
                masked: masked.get(i).unwrap_or_default().to_owned(),
            })
        })
        .collect();
    out.sort_by_key(|f| (f.key, f.at));
    Ok(out)
}

/// Messages with text at or before `as_of`: `key`, `message_id`, `at`, `sender`.
fn text_messages(data: &Dataset, as_of: i64) -> Result<DataFrame> {
    let table = data.table(Table::Messages)?;
    let has_chars = table.clone().collect_schema()?.get("text_chars").is_some();
    if !has_chars {
        return Ok(df!(
            "key" => Vec::<u32>::new(),
            "message_id" => Vec::<String>::new(),
            "at" => Vec::<i64>::new(),
            "sender" => Vec::<String>::new(),
        )?);
    }
    Ok(stream(
        table
            .filter(
                col("text_chars")
                    .is_not_null()
                    .and(col("sent_at").cast(DataType::Int64).lt_eq(lit(as_of)))
                    .and(col(CONVERSATION_KEY).is_not_null()),
            )
            .select([
                col(CONVERSATION_KEY).alias("key"),
                col("message_id"),
                col("sent_at").cast(DataType::Int64).alias("at"),
                col("sender"),
            ]),
    )?)
}

/// Handoff rows read at a time: their brief fields are looked at for placeholders and dropped,
/// so that no more than a slice of brief text is in memory.
const HANDOFF_SLICE: u32 = 1 << 20;

/// Handoffs at or before `as_of`: `key`, `at`, `row` and whether a field is non-blank; and, by
/// handoff row, the placeholder-prone fields that hold a placeholder.
fn handoffs(
    data: &Dataset,
    as_of: i64,
    placeholders: &[String],
) -> Result<(DataFrame, PlHashMap<u32, Vec<&'static str>>)> {
    handoffs_in_slices(data, as_of, placeholders, HANDOFF_SLICE)
}

fn handoffs_in_slices(
    data: &Dataset,
    as_of: i64,
    placeholders: &[String],
    slice: u32,
) -> Result<(DataFrame, PlHashMap<u32, Vec<&'static str>>)> {
    let non_blank = crate::ingest::schema::HANDOFF_FIELDS
        .iter()
        .fold(lit(false), |any, f| {
            any.or(col(*f)
                .str()
                .strip_chars(lit(NULL))
                .str()
                .len_chars()
                .gt(lit(0))
                .fill_null(lit(false)))
        });
    let mut select = vec![
        col(CONVERSATION_KEY).alias("key"),
        col("handoff_at").cast(DataType::Int64).alias("at"),
        col(SOURCE_ROW).alias("row"),
        non_blank.alias("non_blank"),
    ];
    select.extend(PLACEHOLDER_FIELDS.iter().map(|f| col(*f)));
    let table = data.table(Table::Handoffs)?;
    let total = row_count(table.clone())?;
    let mut frames = Vec::new();
    let mut found: PlHashMap<u32, Vec<&'static str>> = PlHashMap::new();
    let mut offset = 0u64;
    loop {
        let mut part = stream(
            table
                .clone()
                .slice(offset as i64, slice)
                .filter(
                    col("handoff_at")
                        .cast(DataType::Int64)
                        .lt_eq(lit(as_of))
                        .and(col(CONVERSATION_KEY).is_not_null()),
                )
                .select(select.clone()),
        )?;
        part.rechunk_mut_par();
        let rows = part.column("row")?.u32()?;
        let values: Vec<&StringChunked> = PLACEHOLDER_FIELDS
            .iter()
            .map(|f| part.column(f).and_then(|c| c.str()))
            .collect::<PolarsResult<_>>()?;
        for i in 0..part.height() {
            let Some(row) = rows.get(i) else { continue };
            let fields: Vec<&'static str> = PLACEHOLDER_FIELDS
                .iter()
                .zip(&values)
                .filter(|(_, v)| v.get(i).is_some_and(|v| is_placeholder(v, placeholders)))
                .map(|(f, _)| *f)
                .collect();
            if !fields.is_empty() {
                found.insert(row, fields);
            }
        }
        frames.push(part.drop_many(PLACEHOLDER_FIELDS));
        offset += u64::from(slice);
        if offset >= total {
            break;
        }
    }
    Ok((super::walk::stack(frames)?, found))
}

type Pair = (String, String);

/// `text_entries`, with what the drill-downs need.
fn entries(
    facts: &Facts,
    config: &Config,
    found: &[Found],
    brief_placeholders: &PlHashMap<u32, Vec<&'static str>>,
) -> Result<DataFrame> {
    let window = config.text.repeat_window_ms;
    let as_of = facts.as_of;
    // Customer (kind, token) pairs by conversation, in time order.
    let mut customer: PlHashMap<u32, Vec<(i64, Pair)>> = PlHashMap::new();
    // The pairs of each handoff row.
    let mut brief_pairs: PlHashMap<u32, BTreeSet<Pair>> = PlHashMap::new();
    for f in found {
        let Some(token) = &f.token else { continue };
        let pair = (f.kind.clone(), token.clone());
        match f.handoff_row {
            Some(row) => {
                brief_pairs.entry(row).or_default().insert(pair);
            }
            None if f.sender == "customer" => {
                customer.entry(f.key).or_default().push((f.at, pair));
            }
            None => {}
        }
    }
    // Closes by conversation key: the facts are sorted by key.
    // Only the two columns read, in one chunk each (not a copy of the whole table).
    let mut facts_frame = facts.frame.select(["key", "closed_at"])?;
    facts_frame.rechunk_mut_par();
    let keys = facts_frame.column("key")?.u32()?;
    let keys: Vec<u32> = keys.into_no_null_iter().collect();
    let closes = facts_frame.column("closed_at")?.i64()?;
    let closed_of = |key: u32| -> Option<i64> {
        let i = keys.partition_point(|&k| k < key);
        (keys.get(i) == Some(&key)).then(|| closes.get(i)).flatten()
    };

    // The entries in conversation, time and lane order (as the governance pass writes them).
    let mut e = facts.entries.clone();
    e.rechunk_mut_par();
    let sorted = {
        let k = e.column("key")?.u32()?;
        let t = e.column("entry_at")?.i64()?;
        k.iter().zip(t.iter()).is_sorted()
    };
    if !sorted {
        e.sort_in_place(
            ["key", "entry_at", "entry_lane"],
            SortMultipleOptions::default().with_maintain_order(true),
        )?;
        e.rechunk_mut_par();
    }
    let e_key: Vec<u32> = e.column("key")?.u32()?.into_no_null_iter().collect();
    let e_at: Vec<i64> = e.column("entry_at")?.i64()?.into_no_null_iter().collect();
    let e_lane = e.column("entry_lane")?.str()?;
    let e_brief = e.column("brief")?.str()?;
    let e_row: Vec<Option<u32>> = e.column("brief_row")?.u32()?.iter().collect();

    let mut out = EntryColumns::default();
    for i in 0..e.height() {
        let (key, at) = (e_key[i], e_at[i]);
        // The later entries of this conversation follow it.
        let later = || {
            e_key[i + 1..]
                .iter()
                .zip(&e_at[i + 1..])
                .take_while(|(k, _)| **k == key)
                .map(|(_, t)| *t)
        };
        let next = later().find(|&t| t > at);
        let has_next = later().next().is_some();
        let closed_at = closed_of(key);
        let messages = customer.get(&key).map(Vec::as_slice).unwrap_or_default();
        let before: BTreeSet<&Pair> = messages
            .iter()
            .filter(|(t, _)| *t < at)
            .map(|(_, p)| p)
            .collect();
        let in_window = |t: i64| {
            t >= at
                && next.is_none_or(|n| t < n)
                && closed_at.is_none_or(|c| t <= c)
                && t <= at + window
                && t <= as_of
        };
        let mut repeated: BTreeSet<&Pair> = BTreeSet::new();
        let mut first_repeat: Option<i64> = None;
        for (t, p) in messages.iter().filter(|(t, _)| in_window(*t)) {
            if before.contains(p) {
                repeated.insert(p);
                first_repeat = Some(first_repeat.map_or(*t, |f| f.min(*t)));
            }
        }
        let determined =
            !repeated.is_empty() || has_next || closed_at.is_some() || at + window <= as_of;
        let brief_row = e_row[i];
        let brief_state = e_brief.get(i).unwrap_or_default();
        let (recall, missed) = match brief_row {
            Some(row) if !before.is_empty() => {
                let pairs = brief_pairs.get(&row);
                let missed: Vec<&&Pair> = before
                    .iter()
                    .filter(|p| !pairs.is_some_and(|b| b.contains(**p)))
                    .collect();
                let recall = (before.len() - missed.len()) as f64 / before.len() as f64;
                (Some(recall), missed)
            }
            _ => (None, Vec::new()),
        };
        let fields = brief_row.and_then(|row| brief_placeholders.get(&row));
        out.key.push(key);
        out.entry_at.push(at);
        out.lane.push(e_lane.get(i).unwrap_or_default());
        out.brief_state.push(brief_state);
        out.before_n.push(before.len() as u32);
        out.repeated
            .push((!before.is_empty() && determined).then_some(!repeated.is_empty()));
        out.recall.push(recall);
        out.placeholder_fields
            .push(fields.filter(|f| !f.is_empty()).map(|f| f.join(";")));
        out.placeholder_n
            .push(brief_row.map(|_| fields.map_or(0, |f| f.len() as u32)));
        out.repeated_pairs.push(repeated.len() as u32);
        out.repeat_wait_ms.push(first_repeat.map(|t| t - at));
        out.repeated_kinds
            .push(kinds(repeated.iter().map(|p| &p.0)));
        out.missed_n.push(missed.len() as u32);
        out.missed_kinds.push(kinds(missed.iter().map(|p| &p.0)));
    }
    out.frame()
}

/// Whether a brief value is one of the (normalised) placeholders: compared word by word,
/// ASCII case-insensitively, for ASCII text (no allocation); through the full normalisation
/// (NFKC, Unicode lower-casing, White_Space runs) otherwise.
fn is_placeholder(value: &str, placeholders: &[String]) -> bool {
    if value.is_ascii() && !value.contains('\x0b') {
        // A value with more non-blank characters than the longest placeholder has is none of
        // them (most briefs are sentences: rejected after a few bytes).
        let longest = placeholders.iter().map(String::len).max().unwrap_or(0);
        if value
            .bytes()
            .filter(|b| !b.is_ascii_whitespace())
            .nth(longest)
            .is_some()
        {
            return false;
        }
        return placeholders.iter().any(|p| {
            let mut words = value.split_ascii_whitespace();
            let mut wanted = p.split(' ');
            loop {
                match (words.next(), wanted.next()) {
                    (None, None) => return !p.is_empty(),
                    (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => {}
                    _ => return false,
                }
            }
        });
    }
    let v = normalise_placeholder(value);
    !v.is_empty() && placeholders.contains(&v)
}

/// Distinct kinds, sorted, `;`-joined (null when none).
fn kinds<'a>(kinds: impl Iterator<Item = &'a String>) -> Option<String> {
    let set: BTreeSet<&String> = kinds.collect();
    (!set.is_empty()).then(|| set.into_iter().cloned().collect::<Vec<_>>().join(";"))
}

#[derive(Default)]
struct EntryColumns<'a> {
    key: Vec<u32>,
    entry_at: Vec<i64>,
    lane: Vec<&'a str>,
    brief_state: Vec<&'a str>,
    before_n: Vec<u32>,
    repeated: Vec<Option<bool>>,
    recall: Vec<Option<f64>>,
    placeholder_fields: Vec<Option<String>>,
    placeholder_n: Vec<Option<u32>>,
    repeated_pairs: Vec<u32>,
    repeat_wait_ms: Vec<Option<i64>>,
    repeated_kinds: Vec<Option<String>>,
    missed_n: Vec<u32>,
    missed_kinds: Vec<Option<String>>,
}

impl EntryColumns<'_> {
    fn frame(self) -> Result<DataFrame> {
        Ok(df!(
            "key" => self.key,
            "entry_at" => self.entry_at,
            "entry_lane" => self.lane,
            "brief_state" => self.brief_state,
            "before_n" => self.before_n,
            "repeated" => self.repeated,
            "recall" => self.recall,
            "placeholder_fields" => self.placeholder_fields,
            "placeholder_n" => self.placeholder_n,
            "repeated_pairs" => self.repeated_pairs,
            "repeat_wait_ms" => self.repeat_wait_ms,
            "repeated_kinds" => self.repeated_kinds,
            "missed_n" => self.missed_n,
            "missed_kinds" => self.missed_kinds,
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handoffs_read_in_slices_equal_one_read() {
        let conv = |id: &str| format!("{id},cus_{id},whatsapp,pro,billing,2026-11-16T08:00:00Z,");
        let mut case = crate::testing::Case::new();
        for (i, id) in ["c1", "c2", "c3"].iter().enumerate() {
            case = case.conv(&conv(id));
            for j in 0..3 {
                let steps = if (i + j) % 2 == 0 {
                    "n/a"
                } else {
                    "restarted router"
                };
                case = case.brief(&format!(
                    "{id},2026-11-16T09:0{j}:00Z,billing,order 123,{steps},TBD,call back"
                ));
            }
        }
        // One after as_of: filtered out in whichever slice it falls.
        case = case.brief("c2,2026-11-30T09:00:00Z,billing,x,n/a,n/a,y");
        let data = case.dataset();
        let as_of = crate::testing::at("2026-11-20T00:00:00Z");
        let list = crate::config::TextConfig::default().placeholders;
        let (one, one_found) = handoffs_in_slices(&data, as_of, &list, 1 << 20).unwrap();
        assert_eq!(one.height(), 9);
        assert_eq!(one_found.len(), 9, "TBD in every brief");
        for slice in [1, 2, 4] {
            let (sliced, found) = handoffs_in_slices(&data, as_of, &list, slice).unwrap();
            assert!(sliced.equals_missing(&one), "slice {slice}");
            assert_eq!(found, one_found, "slice {slice}");
        }
    }

    #[test]
    fn placeholders_match_after_normalisation_only() {
        let list: Vec<String> = crate::config::TextConfig::default().placeholders;
        for yes in [
            "N/A",
            "  n/a ",
            "See  Chat",
            "see\tchat",
            "   see          chat                ",
            "TBD",
            "-",
            "\u{FF2E}/A",
        ] {
            assert!(is_placeholder(yes, &list), "{yes:?}");
        }
        for no in [
            "n/a.",
            "",
            "   ",
            "see chat now",
            "seechat",
            "inspect logs",
            "the customer asked for a refund of the second invoice",
        ] {
            assert!(!is_placeholder(no, &list), "{no:?}");
        }
    }
}
