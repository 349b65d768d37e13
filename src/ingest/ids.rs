//! Ids as 128-bit fingerprints: uniqueness and foreign-key checks keep these, not the strings.
//!
//! The fingerprints live in an open-addressing table of their own rather than a general hash
//! map: the merge of a chunk first reads the slots of a run of ids together, so that the
//! memory loads overlap instead of waiting for each other, and then inserts them in order.
//!
//! A large table whose ids are not looked up by others (messages, assignments, …) first
//! passes its ids through [`Repeats`]: only the ids that may occur twice are then kept, so
//! the duplicate check of hundreds of millions of ids holds a bitmap and a few percent of
//! them instead of all of them.

/// Ids kept as 128-bit fingerprints, each with a number (for conversations: the integer
/// `conversation_key`). A fraction of the memory of the strings, with a collision chance far
/// below one in 10^20 for a billion ids.
#[derive(Default, Clone)]
pub struct IdMap(Fingerprints);

impl IdMap {
    pub fn fingerprint(id: &str) -> u128 {
        xxhash_rust::xxh3::xxh3_128(id.as_bytes())
    }

    pub fn insert(&mut self, id: &str, number: u32) {
        self.0.insert(Self::fingerprint(id), number);
    }

    pub fn get(&self, id: &str) -> Option<u32> {
        self.0.get(Self::fingerprint(id))
    }

    /// [`Self::get`] for the id that follows the one numbered `previous` in the file: tables
    /// exported in the conversations' own order find it next in line, without a search.
    pub fn get_after(&self, id: &str, previous: Option<u32>) -> Option<u32> {
        let fingerprint = Self::fingerprint(id).max(1);
        let next = previous.map_or(0, |p| p as usize + 1);
        match self.0.by_number.get(next) {
            Some(&slot) if self.0.slots[slot as usize] == fingerprint => Some(next as u32),
            _ => self.0.get(fingerprint),
        }
    }

    pub fn contains(&self, id: &str) -> bool {
        self.0.get(Self::fingerprint(id)).is_some()
    }

    pub fn len(&self) -> usize {
        self.0.len
    }

    pub fn is_empty(&self) -> bool {
        self.0.len == 0
    }
}

/// The ids a table has accepted so far: with their numbers when other tables look them up
/// (conversations), without otherwise (a fifth less memory). With a [`Repeats`] filter, only
/// the ids that may repeat are kept: any other is new by construction.
pub(super) struct Seen {
    ids: Fingerprints,
    repeats: Option<Repeated>,
}

impl Seen {
    pub fn new(numbered: bool) -> Seen {
        Seen {
            ids: Fingerprints {
                numbered,
                ..Fingerprints::default()
            },
            repeats: None,
        }
    }

    /// From now on only the ids `repeats` saw more than once (or that share their bit with
    /// one) are kept; the others are unique in the table. For a table that is not numbered,
    /// before any id is inserted.
    pub fn only_repeats(&mut self, repeats: Repeats) {
        debug_assert!(!self.ids.numbered && self.ids.len == 0);
        let repeated = repeats.finish();
        self.ids.reserve(repeated.candidates);
        self.repeats = Some(repeated);
    }

    fn kept(&self, fingerprint: u128) -> bool {
        self.repeats
            .as_ref()
            .is_none_or(|r| r.may_repeat(fingerprint))
    }

    pub fn contains(&self, fingerprint: u128) -> bool {
        self.kept(fingerprint) && self.ids.get(fingerprint).is_some()
    }

    /// Adds an id unless it is already there (its number then stays); whether it was added.
    pub fn insert(&mut self, fingerprint: u128, number: u32) -> bool {
        !self.kept(fingerprint) || self.ids.insert(fingerprint, number)
    }

    /// Reads the slots of `fingerprints` all at once, so that the inserts that follow find
    /// them in the cache.
    pub fn warm(&self, fingerprints: impl Iterator<Item = u128>) {
        if self.ids.slots.is_empty() {
            return;
        }
        let folded = fingerprints
            .filter(|f| self.kept(*f))
            .fold(0u128, |acc, f| acc ^ self.ids.slots[self.ids.home(f)]);
        std::hint::black_box(folded);
    }

    /// Room for `additional` more ids, so that the table is not rebuilt (and briefly held
    /// twice) as it grows. With a filter, room was made for the ids it keeps.
    pub fn reserve(&mut self, additional: usize) {
        if self.repeats.is_none() {
            self.ids.reserve(additional);
        }
    }

    /// The numbered ids; empty when not numbered.
    pub fn into_map(self) -> IdMap {
        if self.ids.numbered {
            IdMap(self.ids)
        } else {
            IdMap::default()
        }
    }
}

/// The first pass over a table's ids: one bit per id hash marks an id seen once, a second
/// bit one seen again. An id whose hash has only the first bit is unique in the table, so
/// the duplicate check need not keep it. Ids that share a bit with another are kept too
/// (with eight bits per id, about 12 % of them): the filter never misses a repeat.
pub(super) struct Repeats {
    once: Vec<u64>,
    twice: Vec<u64>,
    /// Right shift of a fingerprint's high half to its bit: the bitmaps hold 2^(64 - shift).
    shift: u32,
    ids: usize,
    /// Ids not yet marked: they are marked a run at a time, their words read together first
    /// so that the loads from bitmaps far larger than the cache overlap.
    pending: Vec<u128>,
}

/// Ids marked together by [`Repeats`].
const REPEATS_RUN: usize = 32;

/// Bits per id in the [`Repeats`] bitmaps (rounded up to a power of two).
const BITS_PER_ID: usize = 8;

impl Repeats {
    /// Bitmaps for about `ids` ids.
    pub fn new(ids: usize) -> Repeats {
        let bits = (ids.max(1) * BITS_PER_ID).next_power_of_two().max(64);
        let words = bits / 64;
        Repeats {
            once: written_zeros(words),
            twice: written_zeros(words),
            shift: 64 - bits.trailing_zeros(),
            ids: 0,
            pending: Vec::with_capacity(REPEATS_RUN),
        }
    }

    /// The bitmaps' word and bit of an id: from the fingerprint's high half, independent of
    /// the low half that places it in [`Fingerprints`].
    fn bit(shift: u32, fingerprint: u128) -> (usize, u64) {
        let index = ((fingerprint >> 64) as u64 >> shift) as usize;
        (index / 64, 1u64 << (index % 64))
    }

    pub fn add(&mut self, fingerprint: u128) {
        self.pending.push(fingerprint);
        if self.pending.len() == REPEATS_RUN {
            self.mark_pending();
        }
    }

    fn mark_pending(&mut self) {
        let shift = self.shift;
        let words = self.pending.iter().map(|&f| Self::bit(shift, f).0);
        let folded = words.fold(0u64, |acc, w| acc ^ self.once[w] ^ self.twice[w]);
        std::hint::black_box(folded);
        for &fingerprint in &self.pending {
            let (word, bit) = Self::bit(shift, fingerprint);
            if self.once[word] & bit != 0 {
                self.twice[word] |= bit;
            } else {
                self.once[word] |= bit;
            }
        }
        self.ids += self.pending.len();
        self.pending.clear();
    }

    /// Keeps the second bitmap only, and how many ids it lets through.
    fn finish(mut self) -> Repeated {
        self.mark_pending();
        let singles: usize = self
            .once
            .iter()
            .zip(&self.twice)
            .map(|(once, twice)| (once & !twice).count_ones() as usize)
            .sum();
        Repeated {
            twice: self.twice,
            shift: self.shift,
            candidates: self.ids - singles,
        }
    }
}

/// The bits of ids seen more than once, after the first pass.
struct Repeated {
    twice: Vec<u64>,
    shift: u32,
    /// The ids of the table whose bit is set.
    candidates: usize,
}

impl Repeated {
    fn may_repeat(&self, fingerprint: u128) -> bool {
        let (word, bit) = Repeats::bit(self.shift, fingerprint);
        self.twice[word] & bit != 0
    }
}

/// Linear probing over fingerprints; the fingerprint 0 marks an empty slot, so an id whose
/// fingerprint is 0 is stored as 1 (a further collision chance of 2^-127).
#[derive(Clone)]
struct Fingerprints {
    slots: Vec<u128>,
    /// The number of each slot's id, when numbered.
    numbers: Vec<u32>,
    /// The slots of the fingerprints numbered 0, 1, 2, … in the order they were inserted, as
    /// long as they were inserted in that order (a quarter of the memory of the fingerprints).
    by_number: Vec<u32>,
    numbered: bool,
    len: usize,
}

impl Default for Fingerprints {
    fn default() -> Self {
        Fingerprints {
            slots: Vec::new(),
            numbers: Vec::new(),
            by_number: Vec::new(),
            numbered: true,
            len: 0,
        }
    }
}

impl Fingerprints {
    /// The slot where the probe for `fingerprint` starts: its low 64 bits, uniform already,
    /// scaled to the table (any size, not only powers of two).
    fn home(&self, fingerprint: u128) -> usize {
        ((u128::from(fingerprint as u64) * self.slots.len() as u128) >> 64) as usize
    }

    fn next(&self, slot: usize) -> usize {
        if slot + 1 == self.slots.len() {
            0
        } else {
            slot + 1
        }
    }

    fn get(&self, fingerprint: u128) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let i = self.slot_of(fingerprint.max(1));
        (self.slots[i] != 0).then(|| self.numbers.get(i).copied().unwrap_or(0))
    }

    /// The slot of a fingerprint (not 0), or the empty slot where it would go.
    fn slot_of(&self, fingerprint: u128) -> usize {
        let mut i = self.home(fingerprint);
        loop {
            match self.slots[i] {
                0 => return i,
                f if f == fingerprint => return i,
                _ => i = self.next(i),
            }
        }
    }

    fn insert(&mut self, fingerprint: u128, number: u32) -> bool {
        if !self.fits(1) {
            self.resize((self.slots.len() * 2).max(16));
        }
        let fingerprint = fingerprint.max(1);
        let added = self.insert_slot(fingerprint, number);
        if let Some(slot) = added
            && self.numbered
            && number as usize == self.by_number.len()
        {
            self.by_number.push(slot as u32);
        }
        added.is_some()
    }

    /// Puts a fingerprint (not 0) in its slot, in a table with room for it; the slot, if it
    /// was not there yet.
    fn insert_slot(&mut self, fingerprint: u128, number: u32) -> Option<usize> {
        let mut i = self.home(fingerprint);
        loop {
            match self.slots[i] {
                0 => {
                    self.slots[i] = fingerprint;
                    if self.numbered {
                        self.numbers[i] = number;
                    }
                    self.len += 1;
                    return Some(i);
                }
                f if f == fingerprint => return None,
                _ => i = self.next(i),
            }
        }
    }

    /// Whether `additional` more ids keep the table at most 7/8 full.
    fn fits(&self, additional: usize) -> bool {
        (self.len + additional) * 8 <= self.slots.len() * 7
    }

    /// Grows, to just the size that keeps the table 7/8 full with `additional` more ids.
    fn reserve(&mut self, additional: usize) {
        if !self.fits(additional) {
            self.resize(((self.len + additional) * 8 / 7 + 1).max(16));
        }
    }

    fn resize(&mut self, capacity: usize) {
        let old = std::mem::replace(
            self,
            Fingerprints {
                slots: written_zeros(capacity),
                numbers: if self.numbered {
                    written_zeros(capacity)
                } else {
                    Vec::new()
                },
                by_number: Vec::new(),
                numbered: self.numbered,
                len: 0,
            },
        );
        // Slot indices must fit the u32 of `by_number` (4 billion conversations).
        assert!(
            capacity <= u32::MAX as usize,
            "more ids than a table can number"
        );
        for (i, &f) in old.slots.iter().enumerate() {
            if f != 0 {
                self.insert_slot(f, old.numbers.get(i).copied().unwrap_or(0));
            }
        }
        self.by_number = old
            .by_number
            .iter()
            .map(|&slot| self.slot_of(old.slots[slot as usize]) as u32)
            .collect();
    }
}

/// `n` zeros written, not only allocated: memory allocated as zeros is mapped to the shared
/// zero page until first written, and the warm-up reads before the inserts write would then
/// fault every page twice (the second time flushing the other cores' address caches).
fn written_zeros<T: Copy + Default>(n: usize) -> Vec<T> {
    let mut v = Vec::with_capacity(n);
    v.resize(n, T::default());
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_found_with_their_numbers_across_growth() {
        let mut map = IdMap::default();
        for i in 0..10_000u32 {
            map.insert(&format!("c{i}"), i);
        }
        assert_eq!(map.len(), 10_000);
        assert!((0..10_000u32).all(|i| map.get(&format!("c{i}")) == Some(i)));
        assert_eq!(map.get("c10000"), None);
        assert_eq!(map.get_after("c5", Some(4)), Some(5), "next in line");
        assert_eq!(map.get_after("c5", Some(7)), Some(5), "out of line");
        assert_eq!(map.get_after("c0", None), Some(0));
        assert_eq!(map.get_after("c10000", Some(9_999)), None);

        let mut seen = Seen::new(false);
        seen.reserve(3);
        assert!(
            seen.insert(0, 0),
            "the fingerprint 0 is an id like any other"
        );
        assert!(!seen.insert(0, 0));
        assert!(seen.insert(5, 0) && seen.insert(5 + (1 << 70), 0));
        assert!(seen.contains(5 + (1 << 70)) && !seen.contains(6));
        assert!(seen.into_map().is_empty());
    }

    #[test]
    fn the_repeat_filter_keeps_every_answer_and_few_ids() {
        // 200,000 ids, every 50th of them again later, and ids that failed (only looked up).
        let ids: Vec<u128> = (0..200_000u64)
            .map(|i| IdMap::fingerprint(&format!("m{i}")))
            .collect();
        let mut sequence: Vec<(u128, bool)> = ids.iter().map(|&f| (f, true)).collect();
        sequence.extend(ids.iter().step_by(50).map(|&f| (f, true)));
        sequence.extend(ids.iter().step_by(777).map(|&f| (f, false)));
        sequence.push((IdMap::fingerprint("never inserted"), false));
        let mut repeats = Repeats::new(sequence.len());
        for (f, _) in &sequence {
            repeats.add(*f);
        }
        let mut filtered = Seen::new(false);
        filtered.only_repeats(repeats);
        let mut whole = Seen::new(false);
        for (f, accepted) in &sequence {
            if *accepted {
                assert_eq!(filtered.insert(*f, 0), whole.insert(*f, 0));
            } else {
                assert_eq!(filtered.contains(*f), whole.contains(*f));
            }
        }
        assert_eq!(whole.ids.len, 200_000);
        let kept = filtered.ids.len;
        // Every repeated id is kept; the others only when they share a bit (about 12 %).
        assert!((4_000..40_000).contains(&kept), "kept {kept}");
        assert!(!filtered.insert(IdMap::fingerprint("m0"), 0));
    }
}
