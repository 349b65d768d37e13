//! Ids as 128-bit fingerprints: uniqueness and foreign-key checks keep these, not the strings.
//!
//! The fingerprints live in an open-addressing table of their own rather than a general hash
//! map: the merge of a chunk first reads the slots of a run of ids together, so that the
//! memory loads overlap instead of waiting for each other, and then inserts them in order.

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
            Some(&f) if f == fingerprint => Some(next as u32),
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
/// (conversations), without otherwise (a fifth less memory).
pub(super) struct Seen(Fingerprints);

impl Seen {
    pub fn new(numbered: bool) -> Seen {
        Seen(Fingerprints {
            numbered,
            ..Fingerprints::default()
        })
    }

    pub fn contains(&self, fingerprint: u128) -> bool {
        self.0.get(fingerprint).is_some()
    }

    /// Adds an id unless it is already there (its number then stays); whether it was added.
    pub fn insert(&mut self, fingerprint: u128, number: u32) -> bool {
        self.0.insert(fingerprint, number)
    }

    /// Reads the slots of `fingerprints` all at once, so that the inserts that follow find
    /// them in the cache.
    pub fn warm(&self, fingerprints: impl Iterator<Item = u128>) {
        if self.0.slots.is_empty() {
            return;
        }
        let folded = fingerprints.fold(0u128, |acc, f| acc ^ self.0.slots[self.0.home(f)]);
        std::hint::black_box(folded);
    }

    /// Room for `additional` more ids, so that the table is not rebuilt (and briefly held
    /// twice) as it grows.
    pub fn reserve(&mut self, additional: usize) {
        self.0.reserve(additional);
    }

    /// The numbered ids; empty when not numbered.
    pub fn into_map(self) -> IdMap {
        if self.0.numbered {
            IdMap(self.0)
        } else {
            IdMap::default()
        }
    }
}

/// Linear probing over fingerprints; the fingerprint 0 marks an empty slot, so an id whose
/// fingerprint is 0 is stored as 1 (a further collision chance of 2^-127).
#[derive(Clone)]
struct Fingerprints {
    slots: Vec<u128>,
    /// The number of each slot's id, when numbered.
    numbers: Vec<u32>,
    /// The fingerprints numbered 0, 1, 2, … in the order they were inserted, as long as they
    /// were inserted in that order.
    by_number: Vec<u128>,
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
        let fingerprint = fingerprint.max(1);
        let mut i = self.home(fingerprint);
        loop {
            match self.slots[i] {
                0 => return None,
                f if f == fingerprint => {
                    return Some(self.numbers.get(i).copied().unwrap_or(0));
                }
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
        if added && self.numbered && number as usize == self.by_number.len() {
            self.by_number.push(fingerprint);
        }
        added
    }

    /// Puts a fingerprint (not 0) in its slot, in a table with room for it.
    fn insert_slot(&mut self, fingerprint: u128, number: u32) -> bool {
        let mut i = self.home(fingerprint);
        loop {
            match self.slots[i] {
                0 => {
                    self.slots[i] = fingerprint;
                    if self.numbered {
                        self.numbers[i] = number;
                    }
                    self.len += 1;
                    return true;
                }
                f if f == fingerprint => return false,
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
        self.by_number = old.by_number;
        for (i, &f) in old.slots.iter().enumerate() {
            if f != 0 {
                self.insert_slot(f, old.numbers.get(i).copied().unwrap_or(0));
            }
        }
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
}
