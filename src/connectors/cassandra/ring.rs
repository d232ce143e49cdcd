//! The token ring, split into the ranges a table scan reads in parallel.
//!
//! A ring token `t_i` owns `(t_{i-1}, t_i]`; the first range wraps: `(t_last, MAX] ∪
//! (MIN, t_0]`. Murmur3 never yields `i64::MIN` (the driver maps it to `MAX`), so
//! `(MIN, MAX]` is the whole ring and every range can be queried as
//! `token(pk) > start AND token(pk) <= end`.
//!
//! Splitting follows DSBulk's `TokenRangeSplitter`: each ring range is cut into
//! `max(1, round(fraction × splits))` equal pieces, so pieces are about the same share of the
//! ring whatever the vnode layout, and there are never fewer pieces than ring ranges.
//! [`interleave`] then orders pieces round-robin over their primary replicas, so that however
//! many partitions run at once, each node gets work.

use std::collections::BTreeMap;

/// A token range `(start, end]`.
pub type Range = (i64, i64);

/// The ring's ranges, from its sorted, distinct tokens; the wrap-around range is split in two
/// at `MIN`/`MAX`. An empty ring is one range, the whole ring.
pub fn ring_ranges(tokens: &[i64]) -> Vec<Range> {
    let mut tokens: Vec<i64> = tokens.to_vec();
    tokens.sort_unstable();
    tokens.dedup();
    let Some((&first, _)) = tokens.split_first() else {
        return vec![(i64::MIN, i64::MAX)];
    };
    let mut out = Vec::with_capacity(tokens.len() + 1);
    if first != i64::MIN {
        out.push((i64::MIN, first));
    }
    for w in tokens.windows(2) {
        out.push((w[0], w[1]));
    }
    let last = *tokens.last().unwrap_or(&first);
    if last != i64::MAX {
        out.push((last, i64::MAX));
    }
    out
}

/// Splits each range into about `fraction × splits` equal pieces (at least one).
pub fn split(ranges: &[Range], splits: usize) -> Vec<Range> {
    const RING: f64 = 18_446_744_073_709_551_615.0; // 2^64 - 1 tokens in (MIN, MAX]
    let mut out = Vec::new();
    for &(start, end) in ranges {
        let width = i128::from(end) - i128::from(start);
        let pieces = ((width as f64 / RING) * splits as f64).round().max(1.0) as i128;
        let pieces = pieces.min(width.max(1));
        let mut lo = i128::from(start);
        for i in 1..=pieces {
            let hi = if i == pieces {
                i128::from(end)
            } else {
                i128::from(start) + width * i / pieces
            };
            out.push((lo as i64, hi as i64));
            lo = hi;
        }
    }
    out
}

/// Orders ranges round-robin over their replica keys (e.g. the primary replica's address),
/// keeping each key's ranges in ring order.
pub fn interleave<K: Ord>(ranges: Vec<(K, Range)>) -> Vec<Range> {
    let mut groups: BTreeMap<K, std::collections::VecDeque<Range>> = BTreeMap::new();
    for (k, r) in ranges {
        groups.entry(k).or_default().push_back(r);
    }
    let mut out = Vec::new();
    while groups.values().any(|g| !g.is_empty()) {
        for g in groups.values_mut() {
            if let Some(r) = g.pop_front() {
                out.push(r);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn covers_the_ring(ranges: &[Range]) {
        let mut sorted = ranges.to_vec();
        sorted.sort();
        assert_eq!(sorted.first().unwrap().0, i64::MIN);
        assert_eq!(sorted.last().unwrap().1, i64::MAX);
        for w in sorted.windows(2) {
            assert_eq!(w[0].1, w[1].0, "ranges must neither overlap nor leave gaps");
        }
        assert!(sorted.iter().all(|(s, e)| s < e));
    }

    #[test]
    fn ring_ranges_cover_every_token_once() {
        let r = ring_ranges(&[100, -5, 7_000]);
        assert_eq!(
            r,
            vec![(i64::MIN, -5), (-5, 100), (100, 7_000), (7_000, i64::MAX)]
        );
        covers_the_ring(&r);
        assert_eq!(ring_ranges(&[]), vec![(i64::MIN, i64::MAX)]);
        covers_the_ring(&ring_ranges(&[i64::MAX]));
    }

    #[test]
    fn splits_follow_ring_fractions_and_never_drop_a_range() {
        let ranges = ring_ranges(&[0]);
        let pieces = split(&ranges, 8);
        assert_eq!(pieces.len(), 8);
        covers_the_ring(&pieces);
        // A tiny range still gets its own piece.
        let ranges = ring_ranges(&[0, 1]);
        let pieces = split(&ranges, 4);
        assert!(pieces.contains(&(0, 1)));
        covers_the_ring(&pieces);
    }

    #[test]
    fn interleaving_alternates_replicas() {
        let r = interleave(vec![
            ("a", (1, 2)),
            ("a", (2, 3)),
            ("b", (3, 4)),
            ("b", (4, 5)),
        ]);
        assert_eq!(r, vec![(1, 2), (3, 4), (2, 3), (4, 5)]);
    }
}
