//! Ids as 128-bit fingerprints: uniqueness and foreign-key checks keep these, not the strings.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

type Fingerprints = BuildHasherDefault<FingerprintHasher>;

/// Ids kept as 128-bit fingerprints, each with a number (for conversations: the integer
/// `conversation_key`). A fraction of the memory of the strings, with a collision chance far
/// below one in 10^20 for a billion ids.
#[derive(Default, Clone)]
pub struct IdMap(HashMap<u128, u32, Fingerprints>);

impl IdMap {
    pub fn fingerprint(id: &str) -> u128 {
        xxhash_rust::xxh3::xxh3_128(id.as_bytes())
    }

    pub fn insert(&mut self, id: &str, number: u32) {
        self.0.insert(Self::fingerprint(id), number);
    }

    pub fn get(&self, id: &str) -> Option<u32> {
        self.0.get(&Self::fingerprint(id)).copied()
    }

    pub fn contains(&self, id: &str) -> bool {
        self.0.contains_key(&Self::fingerprint(id))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The ids a table has accepted so far: with their numbers when other tables look them up
/// (conversations), as a bare set otherwise (half the memory).
pub(super) enum Seen {
    Numbered(IdMap),
    Set(HashSet<u128, Fingerprints>),
}

impl Seen {
    pub fn new(numbered: bool) -> Seen {
        if numbered {
            Seen::Numbered(IdMap::default())
        } else {
            Seen::Set(HashSet::default())
        }
    }

    pub fn contains(&self, fingerprint: u128) -> bool {
        match self {
            Seen::Numbered(map) => map.0.contains_key(&fingerprint),
            Seen::Set(set) => set.contains(&fingerprint),
        }
    }

    pub fn insert(&mut self, fingerprint: u128, number: u32) {
        match self {
            Seen::Numbered(map) => {
                map.0.insert(fingerprint, number);
            }
            Seen::Set(set) => {
                set.insert(fingerprint);
            }
        }
    }

    /// Room for `additional` more ids, so that the table is not rebuilt (and briefly held
    /// twice) as it grows.
    pub fn reserve(&mut self, additional: usize) {
        match self {
            Seen::Numbered(map) => map.0.reserve(additional),
            Seen::Set(set) => set.reserve(additional),
        }
    }

    /// The numbered ids; empty for a set.
    pub fn into_map(self) -> IdMap {
        match self {
            Seen::Numbered(map) => map,
            Seen::Set(_) => IdMap::default(),
        }
    }
}

/// The values are already uniform hashes: use their low bits as they are.
#[derive(Default)]
pub(super) struct FingerprintHasher(u64);

impl Hasher for FingerprintHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u128(&mut self, v: u128) {
        self.0 = v as u64;
    }
}
