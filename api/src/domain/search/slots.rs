//! Where the index's entries live: pages of `PAGE` slots. A restart's snapshot holds
//! a page per chunk, and each chunk becomes a page as it was decoded, where one long
//! list had every entry moved again into fresh memory (at a million services, 200 MB
//! that the kernel zeroed first, on the restart's critical path).

use super::entry::Entry;

/// Slots per page; the snapshot is written a page per chunk.
pub const PAGE: usize = 1 << 14;

/// Every page holds exactly `PAGE` slots; a slot without an entry is free.
#[derive(Default)]
pub struct Slots {
    pages: Vec<Vec<Option<Entry>>>,
}

impl Slots {
    /// Slots from chunks of entries in order, and the slots left free. A chunk of
    /// at most `PAGE` entries becomes a page where it lies (padded with free slots);
    /// a longer one is split.
    pub fn from_chunks(chunks: Vec<Vec<Entry>>) -> (Self, Vec<u32>) {
        let mut pages: Vec<Vec<Option<Entry>>> = Vec::new();
        for chunk in chunks {
            if chunk.len() <= PAGE {
                pages.push(chunk.into_iter().map(Some).collect());
            } else {
                let mut entries = chunk.into_iter().map(Some).peekable();
                while entries.peek().is_some() {
                    pages.push(entries.by_ref().take(PAGE).collect());
                }
            }
        }
        let mut free = Vec::new();
        for (i, page) in pages.iter_mut().enumerate() {
            free.extend((page.len()..PAGE).map(|at| (i * PAGE + at) as u32));
            page.resize_with(PAGE, || None);
        }
        // Handed out lowest first (`pop` takes from the end).
        free.reverse();
        (Self { pages }, free)
    }

    /// A new page of free slots, returned lowest last.
    pub fn grow(&mut self) -> impl Iterator<Item = u32> + use<> {
        let first = self.len();
        self.pages
            .push(std::iter::repeat_with(|| None).take(PAGE).collect());
        (first..first + PAGE).rev().map(|slot| slot as u32)
    }

    /// Slots in use or free.
    pub fn len(&self) -> usize {
        self.pages.len() * PAGE
    }

    pub fn get(&self, slot: u32) -> Option<&Entry> {
        let slot = slot as usize;
        self.pages.get(slot / PAGE)?.get(slot % PAGE)?.as_ref()
    }

    fn at(&mut self, slot: u32) -> Option<&mut Option<Entry>> {
        let slot = slot as usize;
        self.pages.get_mut(slot / PAGE)?.get_mut(slot % PAGE)
    }

    pub fn take(&mut self, slot: u32) -> Option<Entry> {
        self.at(slot)?.take()
    }

    /// Put an entry in a slot (one `grow` or `from_chunks` made).
    pub fn put(&mut self, slot: u32, entry: Entry) {
        if let Some(at) = self.at(slot) {
            *at = Some(entry);
        }
    }

    /// Every entry with its slot, in slot order, to change.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (u32, &mut Entry)> {
        (self.pages.iter_mut().flatten().enumerate())
            .filter_map(|(slot, entry)| Some((slot as u32, entry.as_mut()?)))
    }

    /// Every entry with its slot, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &Entry)> {
        (self.pages.iter().flatten().enumerate())
            .filter_map(|(slot, entry)| Some((slot as u32, entry.as_ref()?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::search::index::tests::entry;
    use crate::spatial::Coordinates;

    #[test]
    fn chunks_become_pages_padded_with_free_slots() {
        let at = Coordinates::new(53.45, -2.3).unwrap_or_else(|_| unreachable!());
        let chunk = |from: usize, n: usize| -> Vec<Entry> {
            (from..from + n)
                .map(|i| entry(&format!("s{i}"), &[], at))
                .collect()
        };
        let (mut slots, mut free) = Slots::from_chunks(vec![
            chunk(0, PAGE),
            chunk(PAGE, 3),
            chunk(PAGE + 3, PAGE + 2),
        ]);
        assert_eq!(
            slots.len(),
            4 * PAGE,
            "a full page, a short one, one split in two"
        );
        let ids: Vec<&str> = slots.iter().map(|(_, e)| &*e.id).collect();
        assert_eq!(ids.len(), 2 * PAGE + 5);
        assert_eq!(ids[PAGE + 2], format!("s{}", PAGE + 2));
        assert!(slots.get(PAGE as u32 + 3).is_none(), "padding is free");
        assert_eq!(free.len(), slots.len() - ids.len());
        assert_eq!(free.pop(), Some(PAGE as u32 + 3), "lowest free slot first");
        assert_eq!(
            slots.get(2 * PAGE as u32).map(|e| &*e.id),
            Some(format!("s{}", PAGE + 3).as_str())
        );
        let grown: Vec<u32> = slots.grow().collect();
        assert_eq!(grown.last(), Some(&(4 * PAGE as u32)));
        slots.put(4 * PAGE as u32, entry("new", &[], at));
        assert_eq!(
            slots.take(4 * PAGE as u32).map(|e| e.id),
            Some("new".into())
        );
        assert!(slots.get(4 * PAGE as u32).is_none());
    }
}
