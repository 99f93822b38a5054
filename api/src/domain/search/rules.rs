//! Each distinct set of compact rules held once. Listings share their rules far more
//! often than not (none at all, an age floor, the same languages and weekly session),
//! so the index keeps one copy of each set, counted, and a slot holds its number: at
//! a million services that is a few megabytes where a copy per slot was 200 MB.

use std::hash::BuildHasher;

use hashbrown::HashTable;

use super::verdict::Compact;

#[derive(Default)]
pub struct RuleBook {
    /// Each set with how many slots use it; a set nobody uses is free for reuse.
    sets: Vec<(Compact, u32)>,
    /// Ids of the sets in use, found by the set's own hash.
    ids: HashTable<u32>,
    free: Vec<u32>,
    hasher: foldhash::fast::RandomState,
}

impl RuleBook {
    /// The id of this set, held once; each call counts one more user.
    pub fn add(&mut self, rules: Compact) -> u32 {
        let hash = self.hasher.hash_one(rules);
        let sets = &mut self.sets;
        if let Some(&id) = self.ids.find(hash, |&id| sets[id as usize].0 == rules) {
            sets[id as usize].1 += 1;
            return id;
        }
        let id = match self.free.pop() {
            Some(id) => {
                sets[id as usize] = (rules, 1);
                id
            }
            None => {
                sets.push((rules, 1));
                (sets.len() - 1) as u32
            }
        };
        let hasher = &self.hasher;
        self.ids
            .insert_unique(hash, id, |&id| hasher.hash_one(sets[id as usize].0));
        id
    }

    /// One user fewer; a set nobody uses is forgotten and its id reused.
    pub fn release(&mut self, id: u32) {
        let Some((rules, users)) = self.sets.get_mut(id as usize) else {
            return;
        };
        // Released more often than held would free an id twice.
        debug_assert!(*users > 0, "rule set {id} released with no users");
        if *users == 0 {
            return;
        }
        *users -= 1;
        if *users == 0 {
            let hash = self.hasher.hash_one(*rules);
            if let Ok(found) = self.ids.find_entry(hash, |&other| other == id) {
                found.remove();
            }
            self.free.push(id);
        }
    }

    /// The set with this id, if in use.
    pub fn get(&self, id: u32) -> Option<&Compact> {
        self.sets
            .get(id as usize)
            .filter(|(_, users)| *users > 0)
            .map(|(rules, _)| rules)
    }

    /// Distinct sets in use.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.ids.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::eligibility::Listing;
    use crate::domain::search::verdict::Dictionary;

    #[test]
    fn a_shared_set_is_held_once_until_its_last_user_goes() {
        let mut codes = Dictionary::default();
        let of = |minimum_age: Option<f64>, codes: &mut Dictionary| {
            let listing = Listing {
                minimum_age,
                ..Listing::default()
            };
            Compact::of(&listing, false, codes)
        };
        let mut book = RuleBook::default();
        let adults = book.add(of(Some(18.0), &mut codes));
        assert_eq!(book.add(of(Some(18.0), &mut codes)), adults);
        let anyone = book.add(of(None, &mut codes));
        assert_ne!(adults, anyone);
        assert_eq!(book.len(), 2);
        book.release(adults);
        assert!(book.get(adults).is_some(), "one user left");
        book.release(adults);
        assert!(book.get(adults).is_none());
        assert_eq!(book.len(), 1);
        let older = book.add(of(Some(65.0), &mut codes));
        assert_eq!(older, adults, "a forgotten id is reused");
        assert_eq!(book.add(of(Some(65.0), &mut codes)), older);
        assert_eq!(book.add(of(None, &mut codes)), anyone);
    }
}
