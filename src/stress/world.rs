//! The synthetic population: a sorted set of node ids, the ids sharing a
//! prefix with a target, and sets of ids seen by a lookup.

use std::ops::Range;

use hashbrown::HashSet;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::contact::Contact;
use crate::id::NodeId;

pub(super) fn common_bits(a: &NodeId, b: &NodeId) -> usize {
    a.distance(b).leading_zeros() as usize
}

/// The smallest and largest ids sharing the first `bits` bits of `target`.
fn prefix_bounds(target: &NodeId, bits: usize) -> (NodeId, NodeId) {
    let mut lo = target.0;
    let mut hi = target.0;
    for (i, (l, h)) in lo.iter_mut().zip(hi.iter_mut()).enumerate() {
        let keep = bits.saturating_sub(i * 8).min(8);
        let mask: u8 = if keep == 0 { 0 } else { 0xff << (8 - keep) };
        *l &= mask;
        *h |= !mask;
    }
    (NodeId(lo), NodeId(hi))
}

fn key_of(id: &NodeId) -> u64 {
    let mut first = [0; 8];
    first.copy_from_slice(&id.0[..8]);
    u64::from_be_bytes(first)
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// `amount` (at most `len`) distinct numbers of `0..len` into `out`: a walk
/// from a random start with a random step coprime to `len`. Cheaper than
/// drawing each one, and random enough for who a node knows.
pub(super) fn pick_distinct(rng: &mut ChaCha8Rng, len: usize, amount: usize, out: &mut Vec<usize>) {
    out.clear();
    if len == 0 {
        return;
    }
    let start = rng.gen_range(0..len);
    let mut step = rng.gen_range(1..=len);
    while gcd(step, len) != 1 {
        step = rng.gen_range(1..=len);
    }
    out.extend((0..amount.min(len)).map(|i| (start + i * step) % len));
}

/// A set of ids: a stamp per world member, a hash set for the others.
pub(super) struct IdSet {
    stamp: Vec<u32>,
    epoch: u32,
    others: HashSet<NodeId>,
    len: usize,
}

impl IdSet {
    pub(super) fn new() -> IdSet {
        IdSet {
            stamp: Vec::new(),
            epoch: 0,
            others: HashSet::new(),
            len: 0,
        }
    }

    pub(super) fn clear(&mut self, world: &World) {
        if self.stamp.len() != world.len() || self.epoch == u32::MAX {
            self.stamp = vec![0; world.len()];
            self.epoch = 0;
        }
        self.epoch += 1;
        self.others.clear();
        self.len = 0;
    }

    pub(super) fn insert(&mut self, world: &World, c: &Contact) -> bool {
        let new = match world.member_index(c) {
            Some(i) => std::mem::replace(&mut self.stamp[i], self.epoch) != self.epoch,
            None => self.others.insert(c.id),
        };
        self.len += usize::from(new);
        new
    }

    pub(super) fn contains(&self, world: &World, c: &Contact) -> bool {
        match world.member_index(c) {
            Some(i) => self.stamp[i] == self.epoch,
            None => self.others.contains(&c.id),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// A population of node ids, sorted, so that the ids sharing a prefix with
/// a target are one slice.
pub(super) struct World {
    pub(super) ids: Vec<NodeId>,
    /// The first 64 bits of each id, for fast prefix searches.
    keys: Vec<u64>,
    /// About log₂ of the population: how many leading bits the closest
    /// nodes share with a target.
    pub(super) depth: usize,
}

/// Where a request addressed to a contact goes.
pub(super) enum Resolved {
    /// The member with this index.
    Member(usize),
    /// The address of member `i`, but another id.
    OtherId(usize),
    /// Nobody in the population.
    Outsider,
}

impl World {
    pub(super) fn new(rng: &mut ChaCha8Rng) -> World {
        let n = rng.gen_range(200..=2000);
        let mut ids: Vec<NodeId> = (0..n).map(|_| NodeId::random(rng)).collect();
        ids.sort_unstable();
        ids.dedup();
        let depth = (usize::BITS - ids.len().leading_zeros()) as usize;
        let keys = ids.iter().map(key_of).collect();
        World { ids, keys, depth }
    }

    pub(super) fn len(&self) -> usize {
        self.ids.len()
    }

    pub(super) fn contact(&self, i: usize) -> Contact {
        Contact::simulated(self.ids[i], i as u32)
    }

    pub(super) fn random_member(&self, rng: &mut ChaCha8Rng) -> usize {
        rng.gen_range(0..self.len())
    }

    /// A contact outside the population: a random id at an address no
    /// member has.
    pub(super) fn outsider(&self, rng: &mut ChaCha8Rng) -> Contact {
        let index = self.len() as u32 + rng.gen_range(0..1 << 20);
        Contact::simulated(NodeId::random(rng), index)
    }

    /// Members sharing at least `bits` leading bits with `target`.
    pub(super) fn range(&self, target: &NodeId, bits: usize) -> Range<usize> {
        if bits <= 64 {
            let mask = u64::MAX.checked_shl(64 - bits as u32).unwrap_or(0);
            let lo = key_of(target) & mask;
            let hi = lo | !mask;
            let start = self.keys.partition_point(|k| *k < lo);
            let end = start + self.keys[start..].partition_point(|k| *k <= hi);
            return start..end;
        }
        let (lo, hi) = prefix_bounds(target, bits);
        let start = self.ids.partition_point(|id| *id < lo);
        let end = self.ids.partition_point(|id| *id <= hi);
        start..end
    }

    /// The index of the member with `c`'s id, whatever its address.
    fn member_index(&self, c: &Contact) -> Option<usize> {
        match c.simulated_index() {
            Some(i) if (i as usize) < self.len() && self.ids[i as usize] == c.id => {
                Some(i as usize)
            }
            _ => self.ids.binary_search(&c.id).ok(),
        }
    }

    pub(super) fn resolve(&self, c: &Contact) -> Resolved {
        match c.simulated_index() {
            Some(i) if (i as usize) < self.len() => {
                let i = i as usize;
                if self.ids[i] == c.id {
                    Resolved::Member(i)
                } else {
                    Resolved::OtherId(i)
                }
            }
            _ => Resolved::Outsider,
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn prefix_bounds_cover_exactly_the_ids_sharing_the_prefix() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let world = World::new(&mut rng);
        for _ in 0..50 {
            let target = NodeId::random(&mut rng);
            for bits in [0, 1, 3, 7, 8, 9, 12, 160] {
                let range = world.range(&target, bits);
                for (i, id) in world.ids.iter().enumerate() {
                    assert_eq!(
                        range.contains(&i),
                        common_bits(id, &target) >= bits,
                        "bits {bits}"
                    );
                }
            }
        }
        assert_eq!(world.range(&NodeId::ZERO, 0), 0..world.len());
    }
}
