//! Slots by service id without a second copy of each id: the table holds slot
//! numbers only, and hashes and compares through the entries' own ids (at a million
//! services the copies took some 60 MB).

use std::hash::BuildHasher;

use hashbrown::HashTable;

use super::slots::Slots;

#[derive(Default)]
pub struct Ids {
    table: HashTable<u32>,
    /// Ids are many and hashed often: foldhash is several times quicker than SipHash.
    hasher: foldhash::fast::RandomState,
}

/// The id of the entry in `slot`, if it holds one.
fn id_at(slots: &Slots, slot: u32) -> Option<&str> {
    Some(&slots.get(slot)?.id)
}

impl Ids {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            table: HashTable::with_capacity(capacity),
            hasher: Default::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn get(&self, slots: &Slots, id: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(id);
        let found = self
            .table
            .find(hash, |&slot| id_at(slots, slot) == Some(id));
        found.copied()
    }

    /// Record the slot of the entry now in it (a slot not holding one is ignored).
    pub fn insert(&mut self, slots: &Slots, slot: u32) {
        let Some(id) = id_at(slots, slot) else {
            return;
        };
        let hasher = &self.hasher;
        let rehash = |&other: &u32| hasher.hash_one(id_at(slots, other).unwrap_or_default());
        self.table.insert_unique(hasher.hash_one(id), slot, rehash);
    }

    /// Forget `id`, returning its slot; call before the entry leaves the slot.
    pub fn remove(&mut self, slots: &Slots, id: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(id);
        let found = self
            .table
            .find_entry(hash, |&slot| id_at(slots, slot) == Some(id));
        found.ok().map(|entry| entry.remove().0)
    }
}
