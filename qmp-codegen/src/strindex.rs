//! [`StrIndex`]: finds a string among many kept elsewhere, without copying them.

use std::hash::BuildHasher;

/// An index of strings that live elsewhere (the keys of an object being parsed, the
/// names of a clash check), each known by its position there. Open addressing over
/// `(hash, position)` pairs: a lookup compares the text of a candidate only when its
/// hash matches, growing never looks at the strings, and nothing is allocated per
/// entry. The hash is seeded at random, so no schema can make lookups slow.
#[derive(Clone)]
pub(crate) struct StrIndex {
    /// `hash << 32 | position + 1`; 0 is an empty slot. A power of two long.
    slots: Vec<u64>,
    len: usize,
    state: foldhash::fast::RandomState,
}

impl StrIndex {
    pub(crate) fn new() -> StrIndex {
        StrIndex::with_capacity(0)
    }

    /// An index with room for `n` strings before it grows.
    pub(crate) fn with_capacity(n: usize) -> StrIndex {
        StrIndex {
            slots: vec![
                0;
                n.saturating_mul(2)
                    .saturating_add(2)
                    .next_power_of_two()
                    .max(64)
            ],
            len: 0,
            state: foldhash::fast::RandomState::default(),
        }
    }

    fn hash(&self, s: &str) -> u32 {
        (self.state.hash_one(s) >> 32) as u32
    }

    /// The position of `key`, if it is there; `get` gives the string at a position.
    pub(crate) fn find<'s>(&self, key: &str, get: impl Fn(usize) -> &'s str) -> Option<usize> {
        let h = self.hash(key);
        let mask = self.slots.len() - 1;
        let mut i = h as usize & mask;
        loop {
            let slot = self.slots[i];
            if slot == 0 {
                return None;
            }
            let pos = (slot as u32 - 1) as usize;
            if (slot >> 32) as u32 == h && get(pos) == key {
                return Some(pos);
            }
            i = (i + 1) & mask;
        }
    }

    /// Records that `key` is at `pos` (not already there: see [`StrIndex::find`]).
    pub(crate) fn insert(&mut self, key: &str, pos: usize) {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let h = self.hash(key);
        self.put(u64::from(h) << 32 | (pos as u64 + 1));
        self.len += 1;
    }

    fn put(&mut self, entry: u64) {
        let mask = self.slots.len() - 1;
        let mut i = (entry >> 32) as usize & mask;
        while self.slots[i] != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = entry;
    }

    fn grow(&mut self) {
        let bigger = vec![0; self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, bigger);
        for e in old.into_iter().filter(|&e| e != 0) {
            self.put(e);
        }
    }

    /// Forgets that `key` is at `pos` (backward-shift deletion: no tombstones, so
    /// lookups stay as fast after many removals).
    pub(crate) fn remove(&mut self, key: &str, pos: usize) {
        let entry = u64::from(self.hash(key)) << 32 | (pos as u64 + 1);
        let mask = self.slots.len() - 1;
        let mut i = (entry >> 32) as usize & mask;
        while self.slots[i] != entry {
            if self.slots[i] == 0 {
                return;
            }
            i = (i + 1) & mask;
        }
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            let e = self.slots[j];
            if e == 0 {
                break;
            }
            let home = (e >> 32) as usize & mask;
            // `e` stays if its home is cyclically in (i, j].
            let stays = if i <= j {
                i < home && home <= j
            } else {
                i < home || home <= j
            };
            if !stays {
                self.slots[i] = e;
                i = j;
            }
        }
        self.slots[i] = 0;
        self.len -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_was_inserted() {
        let words: Vec<String> = (0..10_000).map(|i| format!("w{i}")).collect();
        let mut ix = StrIndex::new();
        for (i, w) in words.iter().enumerate() {
            assert_eq!(ix.find(w, |p| &words[p]), None);
            ix.insert(w, i);
        }
        for (i, w) in words.iter().enumerate() {
            assert_eq!(ix.find(w, |p| &words[p]), Some(i));
        }
        assert_eq!(ix.find("nope", |p| &words[p]), None);
        for (i, w) in words.iter().enumerate().skip(5_000) {
            ix.remove(w, i);
        }
        for (i, w) in words.iter().enumerate() {
            let want = (i < 5_000).then_some(i);
            assert_eq!(ix.find(w, |p| &words[p]), want, "{w}");
        }
        ix.insert("w5000", 5_000);
        assert_eq!(ix.find("w5000", |p| &words[p]), Some(5_000));
        // Removing in any order keeps the rest findable.
        for (i, w) in words
            .iter()
            .enumerate()
            .take(5_000)
            .filter(|(i, _)| i % 3 == 0)
        {
            ix.remove(w, i);
        }
        for (i, w) in words.iter().enumerate().take(5_000) {
            let want = (i % 3 != 0).then_some(i);
            assert_eq!(ix.find(w, |p| &words[p]), want, "{w}");
        }
    }
}
