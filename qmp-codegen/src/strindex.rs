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

/// The first repeat among `n` strings (`get` gives the string at a position): the
/// smallest `j` whose string is also at some `i < j`, with the smallest such `i`:
/// what a [`StrIndex`] filled in order finds, found faster for many strings at once.
/// Each string is hashed once; the hashes are split by their top bits into parts that
/// fit the processor's cache (one pass, in order), and each part is searched with a
/// small table of its own, so that no lookup waits on a random access to a large one
/// (the two million values of a 16 MB enum are checked in 2/5 of the time). From
/// 2^24 strings on, which the packing cannot number, they are checked in order with
/// a [`StrIndex`].
pub(crate) fn first_repeat<'s>(n: usize, get: impl Fn(usize) -> &'s str) -> Option<(usize, usize)> {
    // Hash in the top 40 bits, position + 1 in the low 24 (0 is an empty slot).
    const IDX_BITS: u32 = 24;
    const IDX: u64 = (1 << IDX_BITS) - 1;
    // Parts of some 4 096 hashes (a table of 64 KB), at most 256 of them.
    const MAX_PART_BITS: u32 = 8;
    if n as u64 >= IDX {
        let mut ix = StrIndex::with_capacity(n);
        for j in 0..n {
            if let Some(i) = ix.find(get(j), &get) {
                return Some((j, i));
            }
            ix.insert(get(j), j);
        }
        return None;
    }
    let part_bits = (n >> 12)
        .next_power_of_two()
        .trailing_zeros()
        .min(MAX_PART_BITS);
    let parts_n = 1usize << part_bits;
    let part = |x: u64| x.checked_shr(64 - part_bits).unwrap_or(0) as usize;
    let state = foldhash::fast::RandomState::default();
    let mut count = [0usize; (1 << MAX_PART_BITS) + 1];
    let hashed: Vec<u64> = (0..n)
        .map(|i| {
            let x = (state.hash_one(get(i)) & !IDX) | (i as u64 + 1);
            count[part(x) + 1] += 1;
            x
        })
        .collect();
    for p in 0..parts_n {
        count[p + 1] += count[p];
    }
    // Split by the top bits, keeping the order of positions within each part.
    let mut parts = vec![0u64; n];
    let mut at = count;
    for &x in &hashed {
        let d = &mut at[part(x)];
        parts[*d] = x;
        *d += 1;
    }
    drop(hashed);
    let largest = (0..parts_n)
        .map(|p| count[p + 1] - count[p])
        .max()
        .unwrap_or(0);
    let mut table = vec![0u64; (largest * 2).next_power_of_two().max(16)];
    let mut best: Option<(usize, usize)> = None;
    for p in 0..parts_n {
        let part = &parts[count[p]..count[p + 1]];
        let mask = (part.len() * 2).next_power_of_two().max(16) - 1;
        let table = &mut table[..=mask];
        table.fill(0);
        'part: for &x in part {
            let h = x & !IDX;
            let j = (x & IDX) as usize - 1;
            if best.is_some_and(|(bj, _)| bj < j) {
                break;
            }
            // The slot from bits below the part's.
            let mut s = (x >> IDX_BITS) as usize & mask;
            loop {
                let y = table[s];
                if y == 0 {
                    table[s] = x;
                    break;
                }
                if y & !IDX == h {
                    let i = (y & IDX) as usize - 1;
                    if get(i) == get(j) {
                        best = Some((j, i));
                        break 'part;
                    }
                }
                s = (s + 1) & mask;
            }
        }
    }
    best
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

    #[test]
    fn first_repeat_is_what_an_index_finds() {
        // The first repeat as a StrIndex filled in order finds it.
        fn by_index(words: &[String]) -> Option<(usize, usize)> {
            let mut ix = StrIndex::new();
            for (j, w) in words.iter().enumerate() {
                if let Some(i) = ix.find(w, |p| &words[p]) {
                    return Some((j, i));
                }
                ix.insert(w, j);
            }
            None
        }
        let mut seed = 7u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for case in 0..300 {
            let n = (next() % 3000) as usize;
            let range = 1 + next() % (if case % 3 == 0 { 50 } else { 1 << 40 });
            let words: Vec<String> = (0..n).map(|_| format!("w{}", next() % range)).collect();
            let got = first_repeat(words.len(), |p| &words[p]);
            assert_eq!(got, by_index(&words), "case {case}");
        }
        let same = vec!["x".to_string(); 100_000];
        assert_eq!(first_repeat(same.len(), |p| &same[p]), Some((1, 0)));
        let none: Vec<String> = (0..200_000).map(|i| format!("m{i}")).collect();
        assert_eq!(first_repeat(none.len(), |p| &none[p]), None);
    }
}
