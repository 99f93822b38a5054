//! The categories a search wants, as interned term keys, and the 64-bit masks that
//! rule most candidates out without reading them.

use super::entry::Entry;

/// Wanted categories, indexed by interned term key.
pub struct TermSet {
    wanted: Vec<bool>,
}

/// A 64-bit summary of a set of term keys (bit `key % 64`): two sets that share a
/// term share a bit, so a zero overlap rules a candidate out without reading it.
pub(super) fn term_mask(keys: impl Iterator<Item = u32>) -> u64 {
    keys.fold(0, |mask, key| mask | 1 << (key % 64))
}

impl TermSet {
    pub(super) fn new(wanted: Vec<bool>) -> Self {
        Self { wanted }
    }

    /// The set's summary, to test service-area boxes against before reading entries.
    pub fn mask(&self) -> u64 {
        term_mask(self.keys())
    }

    /// Whether `mask` alone decides a match: with at most 64 terms known, every
    /// term key has its own bit.
    pub fn mask_is_exact(&self) -> bool {
        self.wanted.len() <= 64
    }

    /// The wanted term keys.
    pub(super) fn keys(&self) -> impl Iterator<Item = u32> + '_ {
        self.wanted
            .iter()
            .enumerate()
            .filter(|(_, wanted)| **wanted)
            .map(|(key, _)| key as u32)
    }

    pub fn matches(&self, entry: &Entry) -> bool {
        entry
            .term_keys
            .iter()
            .any(|k| self.wanted.get(*k as usize).copied().unwrap_or(false))
    }
}
