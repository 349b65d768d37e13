//! Customer identities of the WhatsApp import: which ids are one customer, the root each
//! thread is written with, and the alias rows the import writes out.

use std::collections::HashMap;

/// Customer identities: a WhatsApp id and a business-scoped user id seen together are one
/// customer, and a changed number keeps the old one's identity (from the change on). A class's
/// root is its first-seen WhatsApp id, else its first-seen business-scoped id.
#[derive(Default)]
pub(super) struct Identities {
    parent: HashMap<String, String>,
    /// The position at which each id was first seen.
    order: HashMap<String, u64>,
    /// The instant of the `user_changed_number` through which a new number joined.
    pub(super) changed_at: HashMap<String, i64>,
}

impl Identities {
    pub(super) fn see(&mut self, id: &str) {
        if !self.order.contains_key(id) {
            let next = self.order.len() as u64;
            self.order.insert(id.to_owned(), next);
        }
    }

    /// WhatsApp ids before business-scoped ids, then the first seen.
    fn rank(&self, id: &str) -> (bool, u64) {
        (
            crate::ingest::customer::is_bsuid(id),
            self.order.get(id).copied().unwrap_or(u64::MAX),
        )
    }

    pub(super) fn root(&self, id: &str) -> String {
        let mut current = id;
        for _ in 0..64 {
            match self.parent.get(current) {
                Some(next) if next != current => current = next,
                _ => break,
            }
        }
        current.to_owned()
    }

    /// The key of an event of `id` at `at`: its class's root, except for a new number's events
    /// before the change (the number may have been someone else's).
    pub(super) fn key(&self, id: &str, at: i64) -> String {
        match self.changed_at.get(id) {
            Some(&changed) if at < changed => id.to_owned(),
            _ => self.root(id),
        }
    }

    /// Joins the identities of `a` and `b`; returns the root that was absorbed and the one
    /// that survives, if they were two.
    pub(super) fn join(&mut self, a: &str, b: &str) -> Option<(String, String)> {
        self.see(a);
        self.see(b);
        let (ra, rb) = (self.root(a), self.root(b));
        if ra == rb {
            return None;
        }
        let (root, absorbed) = if self.rank(&ra) <= self.rank(&rb) {
            (ra, rb)
        } else {
            (rb, ra)
        };
        self.parent.insert(absorbed.clone(), root.clone());
        Some((absorbed, root))
    }

    /// The alias rows: every id that is not its class's root, in first-seen order, with the
    /// instant of its number change when it joined through one.
    pub(super) fn aliases(&self) -> Vec<(String, String, Option<i64>)> {
        let mut ids: Vec<(&String, &u64)> = self.order.iter().collect();
        ids.sort_by_key(|(_, order)| **order);
        ids.into_iter()
            .filter_map(|(id, _)| {
                let root = self.root(id);
                (root != *id).then(|| (id.clone(), root, self.changed_at.get(id).copied()))
            })
            .collect()
    }
}
