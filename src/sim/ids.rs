//! The global id set, sorted, so that "every id in this bucket" and "the k
//! closest ids to this target" are binary searches instead of scans.
//!
//! Ids sharing a prefix are contiguous in sorted order, and every id sharing
//! a longer prefix with a target is closer (XOR) than every id sharing a
//! shorter one. Both the oracle warm-up and the truth rely on that.

use std::ops::Range;

use crate::id::{NodeId, ID_BITS, ID_LEN};

/// A node's bucket ranges in the sorted id set
/// ([`SortedIds::buckets_of`]), bucket 159 first, each as its first and
/// past-the-end positions: 8 bytes a bucket, for every node of a million.
pub type BucketRanges = Box<[(u32, u32)]>;

/// All node ids of a simulated network, sorted, with their node index.
///
/// Ids and indices are kept apart: searches read only ids, and a caller
/// that needs a node by sorted position reads a 4-byte index (a million of
/// them fit in a cache), then the node's id from wherever it reads the node.
#[derive(Clone, Debug)]
pub struct SortedIds {
    sorted: Vec<NodeId>,
    nodes: Vec<u32>,
}

/// `id` with every bit from position `len` on (counted from the most
/// significant) set to `fill`.
fn with_suffix(id: &NodeId, len: usize, fill: bool) -> NodeId {
    let mut out = id.0;
    let fill_byte = if fill { 0xff } else { 0x00 };
    let first = len / 8;
    if first < ID_LEN {
        // Bits of byte `first` from position `len % 8` on belong to the suffix.
        let keep = !(0xffu8 >> (len % 8));
        out[first] = (out[first] & keep) | (fill_byte & !keep);
        for b in &mut out[first + 1..] {
            *b = fill_byte;
        }
    }
    NodeId(out)
}

impl SortedIds {
    /// Index `ids` (position in the slice = node index).
    pub fn new(ids: &[NodeId]) -> SortedIds {
        let mut sorted: Vec<(NodeId, u32)> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (*id, i as u32))
            .collect();
        sorted.sort_unstable();
        let (sorted, nodes) = sorted.into_iter().unzip();
        SortedIds { sorted, nodes }
    }

    /// Number of ids.
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// Node index of the `i`-th id in sorted order.
    pub fn node_at(&self, i: usize) -> u32 {
        self.nodes[i]
    }

    /// The `i`-th id in sorted order and its node index.
    pub fn entry_at(&self, i: usize) -> (NodeId, u32) {
        (self.sorted[i], self.nodes[i])
    }

    /// Node index of `id`, if it belongs to the network.
    pub fn find(&self, id: &NodeId) -> Option<u32> {
        self.sorted.binary_search(id).ok().map(|i| self.nodes[i])
    }

    /// Sorted positions of the ids sharing the first `len` bits of `prefix`.
    pub fn prefix_range(&self, prefix: &NodeId, len: usize) -> Range<usize> {
        let lo = with_suffix(prefix, len, false);
        let hi = with_suffix(prefix, len, true);
        let start = self.sorted.partition_point(|id| *id < lo);
        let end = self.sorted.partition_point(|id| *id <= hi);
        start..end
    }

    /// [`SortedIds::prefix_range`] for a prefix length at most one shorter
    /// than that of `inner`, a range of the same prefix: the wider range
    /// holds `inner`, so its ends are found by galloping outwards from
    /// `inner`'s, in the memory around it, at a cost that grows with the
    /// log of the widening rather than of the whole set.
    fn widen(&self, prefix: &NodeId, len: usize, inner: Range<usize>) -> Range<usize> {
        let lo = with_suffix(prefix, len, false);
        let hi = with_suffix(prefix, len, true);
        let start = gallop_down(&self.sorted, inner.start, |id| *id < lo);
        let end = gallop_up(&self.sorted, inner.end, |id| *id <= hi);
        start..end
    }

    /// The ranges of the buckets of a table owned by `owner`, farthest
    /// first (bucket 159, 158, …), while more ids than the owner's share
    /// its prefix; every nearer bucket is empty. Each
    /// bucket's range is the half of its prefix range that does not hold
    /// the owner. A walk inwards, each prefix range found by a binary
    /// search within the previous one, instead of two searches of the
    /// whole set per bucket.
    pub fn buckets_of(&self, owner: &NodeId) -> Vec<(usize, Range<usize>)> {
        let (mut walk, mut ranges) = (Vec::new(), Vec::new());
        self.walk_from(owner, 0, 0..self.len(), &mut walk, &mut ranges);
        walk.into_iter()
            .enumerate()
            .map(|(shared, (start, end))| (ID_BITS - 1 - shared, start as usize..end as usize))
            .collect()
    }

    /// The walk inwards of [`SortedIds::buckets_of`] from the step that
    /// shares `from` bits, starting from `range`: pushes each step's bucket
    /// to `walk` and the range it started from to `ranges`.
    fn walk_from(
        &self,
        owner: &NodeId,
        from: usize,
        mut range: Range<usize>,
        walk: &mut Vec<(u32, u32)>,
        ranges: &mut Vec<Range<usize>>,
    ) {
        for shared in from..ID_BITS {
            ranges.push(range.clone());
            if range.len() <= 1 {
                break;
            }
            let (bucket, inner) = self.step(owner, shared, range);
            walk.push((bucket.start as u32, bucket.end as u32));
            range = inner;
        }
    }

    /// [`SortedIds::buckets_of`] for every id of the set, as first and
    /// past-the-end positions, by node index.
    ///
    /// Done in sorted order, a run of ids at a time: ids next to each
    /// other share a prefix, and for each bit of it their walks inwards
    /// take the same step, so each id starts where the previous one's walk
    /// leaves their common prefix. The binary searches of the wide outer
    /// ranges, which miss the cache at a million ids, are done once a run
    /// instead of once an id.
    pub fn all_buckets(&self) -> Vec<BucketRanges> {
        use rayon::prelude::*;
        /// Ids walked one after another; each run starts afresh.
        const RUN: usize = 4096;
        let runs: Vec<Vec<BucketRanges>> = (0..self.len())
            .step_by(RUN)
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|start| {
                let end = (start + RUN).min(self.len());
                let mut out = Vec::with_capacity(end - start);
                // `walk[s]`: the bucket of the step that shares `s` bits;
                // `ranges[s]`: the range of ids that step starts from.
                let mut walk: Vec<(u32, u32)> = Vec::new();
                let mut ranges: Vec<Range<usize>> = Vec::new();
                for p in start..end {
                    let owner = &self.sorted[p];
                    let shared_with_previous = if p > start {
                        self.sorted[p - 1].distance(owner).leading_zeros() as usize
                    } else {
                        0
                    };
                    let keep = shared_with_previous.min(walk.len());
                    let range = match keep {
                        0 => 0..self.len(),
                        _ => ranges.get(keep).cloned().unwrap_or(0..0),
                    };
                    walk.truncate(keep);
                    ranges.truncate(keep);
                    self.walk_from(owner, keep, range, &mut walk, &mut ranges);
                    out.push(walk.clone().into_boxed_slice());
                }
                out
            })
            .collect();
        let mut by_node: Vec<BucketRanges> = vec![Box::default(); self.len()];
        for (p, ranges) in runs.into_iter().flatten().enumerate() {
            by_node[self.nodes[p] as usize] = ranges;
        }
        by_node
    }

    /// One step of the walk inwards of [`SortedIds::buckets_of`]: within
    /// `range`, the ids sharing `shared` bits with `owner`, the bucket of
    /// those that differ at the next bit, and the range of those that do
    /// not.
    fn step(
        &self,
        owner: &NodeId,
        shared: usize,
        range: Range<usize>,
    ) -> (Range<usize>, Range<usize>) {
        let inner = self.narrow(owner, shared + 1, range.clone());
        let bucket = if inner.is_empty() {
            range
        } else if inner.start > range.start {
            range.start..inner.start
        } else {
            inner.end..range.end
        };
        (bucket, inner)
    }

    /// [`SortedIds::prefix_range`] of `prefix` and `len` within `outer`,
    /// the range of the same prefix one bit shorter.
    fn narrow(&self, prefix: &NodeId, len: usize, outer: Range<usize>) -> Range<usize> {
        let lo = with_suffix(prefix, len, false);
        let hi = with_suffix(prefix, len, true);
        let within = &self.sorted[outer.clone()];
        let start = outer.start + within.partition_point(|id| *id < lo);
        let end = outer.start + within.partition_point(|id| *id <= hi);
        start..end
    }

    /// Sorted positions of the ids in bucket `index` of a table owned by
    /// `owner`: they share `159 - index` bits with it and differ in the next.
    pub fn bucket_range(&self, owner: &NodeId, index: usize) -> Range<usize> {
        let shared = ID_BITS - 1 - index;
        let mut prefix = owner.0;
        prefix[shared / 8] ^= 0x80 >> (shared % 8);
        self.prefix_range(&NodeId(prefix), shared + 1)
    }

    /// The `k` ids closest to `target` among those `eligible`, closest first.
    ///
    /// Widens the shared prefix one bit at a time until the range holds `k`
    /// eligible ids; all of them are closer than anything outside it.
    pub fn closest_where(
        &self,
        target: &NodeId,
        k: usize,
        mut eligible: impl FnMut(u32) -> bool,
    ) -> Vec<u32> {
        let mut len = ID_BITS;
        let mut range = self.prefix_range(target, len);
        let mut count = range.clone().filter(|&i| eligible(self.nodes[i])).count();
        while count < k && len > 0 {
            len -= 1;
            let wider = self.widen(target, len, range.clone());
            // Only the newly covered half needs checking.
            count += wider
                .clone()
                .filter(|i| !range.contains(i))
                .filter(|&i| eligible(self.nodes[i]))
                .count();
            range = wider;
        }
        let mut found: Vec<(crate::id::Distance, u32)> = range
            .filter(|&i| eligible(self.nodes[i]))
            .map(|i| (self.sorted[i].distance(target), self.nodes[i]))
            .collect();
        found.sort_unstable();
        found.truncate(k);
        found.into_iter().map(|(_, n)| n).collect()
    }
}

/// The end of the prefix of `items` where `below` holds, known to be at
/// or before `from`: an exponential search down from `from`, then a binary
/// one.
fn gallop_down<T>(items: &[T], from: usize, below: impl Fn(&T) -> bool) -> usize {
    let mut hi = from;
    let mut step = 1;
    loop {
        if hi == 0 {
            return 0;
        }
        let probe = hi.saturating_sub(step);
        if below(&items[probe]) {
            return probe + 1 + items[probe + 1..hi].partition_point(&below);
        }
        hi = probe;
        step *= 2;
    }
}

/// The end of the prefix of `items` where `keep` holds, known to be at or
/// after `from`: an exponential search up from `from`, then a binary one.
fn gallop_up<T>(items: &[T], from: usize, keep: impl Fn(&T) -> bool) -> usize {
    let mut lo = from;
    let mut step = 1;
    loop {
        if lo >= items.len() {
            return items.len();
        }
        let probe = (lo + step - 1).min(items.len() - 1);
        if !keep(&items[probe]) {
            return lo + items[lo..probe].partition_point(&keep);
        }
        lo = probe + 1;
        step *= 2;
    }
}

const _: () = assert!(ID_LEN * 8 == ID_BITS);

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn closest_where_matches_brute_force() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let ids: Vec<NodeId> = (0..3000).map(|_| NodeId::random(&mut rng)).collect();
        let alive: Vec<bool> = (0..ids.len()).map(|_| rng.gen_bool(0.6)).collect();
        let index = SortedIds::new(&ids);
        for round in 0..200 {
            let target = if round % 10 == 0 {
                ids[round]
            } else {
                NodeId::random(&mut rng)
            };
            let k = 1 + round % 25;
            let got = index.closest_where(&target, k, |n| alive[n as usize]);
            let mut brute: Vec<u32> = (0..ids.len() as u32)
                .filter(|&n| alive[n as usize])
                .collect();
            brute.sort_by_key(|&n| ids[n as usize].distance(&target));
            brute.truncate(k);
            assert_eq!(got, brute, "target {target} k {k}");
        }
    }

    #[test]
    fn all_buckets_walk_as_each_id_alone_would() {
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        // More than a run of ids, some of them close together (a shared
        // prefix of 40 bits), and the smallest sets.
        let mut ids: Vec<NodeId> = (0..9000).map(|_| NodeId::random(&mut rng)).collect();
        let base = ids[0];
        for i in 0..300 {
            let mut near = NodeId::random(&mut rng);
            near.0[..5].copy_from_slice(&base.0[..5]);
            ids[1 + i] = near;
        }
        for set in [&ids[..], &ids[..1], &ids[..2]] {
            let index = SortedIds::new(set);
            let all = index.all_buckets();
            assert_eq!(all.len(), set.len());
            for (n, id) in set.iter().enumerate() {
                let alone: Vec<(u32, u32)> = index
                    .buckets_of(id)
                    .into_iter()
                    .map(|(_, r)| (r.start as u32, r.end as u32))
                    .collect();
                assert_eq!(&all[n][..], &alone[..], "node {n} of {}", set.len());
            }
        }
    }

    #[test]
    fn bucket_range_holds_exactly_that_bucket() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let ids: Vec<NodeId> = (0..2000).map(|_| NodeId::random(&mut rng)).collect();
        let index = SortedIds::new(&ids);
        let owner = ids[17];
        for b in [159, 158, 155, 150, 140] {
            let range = index.bucket_range(&owner, b);
            let inside: Vec<u32> = range.map(|i| index.node_at(i)).collect();
            let expected = ids
                .iter()
                .filter(|id| owner.bucket_index(id) == Some(b))
                .count();
            assert_eq!(inside.len(), expected);
            for n in inside {
                assert_eq!(owner.bucket_index(&ids[n as usize]), Some(b));
            }
        }
        let walked = index.buckets_of(&owner);
        assert!(walked.len() > 8);
        for (b, range) in walked {
            // Empty ranges may sit at different positions.
            let searched = index.bucket_range(&owner, b);
            assert!(
                range == searched || range.is_empty() && searched.is_empty(),
                "bucket {b}"
            );
        }
        assert_eq!(index.find(&ids[3]), Some(3));
        assert_eq!(index.find(&NodeId::ZERO), None);
    }
}
