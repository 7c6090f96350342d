//! What a DHT node stores for others: BEP 44 immutable items and BEP 5 peer
//! announcements.
//!
//! Anyone on the internet can write to a DHT node, so everything here is
//! bounded (count and bytes) and expires. When a bound is hit the oldest
//! entry goes first: it is the one closest to expiring anyway, and its
//! writer, if still interested, re-stores it (BEP 44 asks writers to refresh
//! items, BEP 5 peers re-announce every 15–30 minutes).
//!
//! "Oldest" is by the time an entry was stored or last refreshed, ties broken
//! by a sequence number, so eviction never depends on hash-map order and a
//! simulation evicts the same entries on every run.

use std::collections::BTreeMap;
use std::net::SocketAddrV4;
use std::time::Duration;

use hashbrown::HashMap;

use crate::id::NodeId;
use crate::protocol::mutable::MutableItem;
use crate::time::Time;
use crate::wire::krpc::MutableFields;

/// Largest immutable value BEP 44 allows, in bytes (of the value itself,
/// before bencoding).
pub const MAX_VALUE_LEN: usize = 1000;

/// Bounds on what a [`Storage`] holds.
///
/// The defaults keep a node's storage around a megabyte plus bookkeeping,
/// which is fine for a lab node and small enough that a flood of writes
/// cannot hurt the machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageLimits {
    /// Most immutable items held at once.
    pub max_items: usize,
    /// Most bytes of item values held at once (sum of value lengths).
    pub max_bytes: usize,
    /// Most peers remembered per info-hash; BEP 5 replies carry only a few
    /// dozen anyway.
    pub max_peers_per_hash: usize,
    /// Most info-hashes with announced peers held at once.
    pub max_info_hashes: usize,
    /// How long an item or announcement lives after it was last stored. BEP
    /// 44 suggests two hours for items; BEP 5 peers re-announce well within
    /// that.
    pub ttl: Duration,
}

impl Default for StorageLimits {
    fn default() -> Self {
        StorageLimits {
            max_items: 1000,
            max_bytes: 1 << 20,
            max_peers_per_hash: 100,
            max_info_hashes: 1000,
            ttl: Duration::from_secs(2 * 60 * 60),
        }
    }
}

/// What [`Storage::put_item`] did with a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PutOutcome {
    /// The item is new and now stored (possibly after evicting older items).
    Stored,
    /// The item was already stored; its lifetime restarts now.
    Refreshed,
    /// Nothing stored: the value is longer than [`MAX_VALUE_LEN`], or than
    /// this storage could hold even empty (`max_bytes` below its length, or
    /// `max_items` zero).
    TooLarge,
}

/// Counters describing a [`Storage`], for reports and node status.
///
/// `Copy` because it is a handful of integers that status snapshots embed
/// by value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct StorageStats {
    /// Immutable items held (including expired ones not yet swept).
    pub items: usize,
    /// Bytes of item values held.
    pub bytes: usize,
    /// Info-hashes with at least one announced peer held.
    pub info_hashes: usize,
    /// Peer announcements held, over all info-hashes.
    pub peers: usize,
    /// Items and peer announcements dropped to respect a bound, since the
    /// storage was created (an evicted info-hash counts its peers).
    pub evicted: u64,
    /// Items and peer announcements dropped because they outlived the TTL,
    /// since the storage was created.
    pub expired: u64,
}

/// When an entry was stored or last refreshed, and a sequence number that
/// breaks ties; orders entries oldest first.
type Stamp = (Time, u64);

/// One immutable item.
#[derive(Debug)]
struct Item {
    value: Vec<u8>,
    stamp: Stamp,
    /// For a mutable item, what makes it checkable: key, signature, seq.
    signed: Option<MutableFields>,
}

/// Why [`Storage::put_mutable`] refused an item (BEP 44's errors).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MutableRefusal {
    /// The put named a `cas` that is not the stored item's `seq` (301).
    CasMismatch,
    /// The put's `seq` is below the stored one, or equal with another
    /// value (302).
    SeqTooLow,
}

/// The peers announced for one info-hash.
#[derive(Debug)]
struct Swarm {
    /// Each peer's latest announcement.
    peers: HashMap<SocketAddrV4, Stamp>,
    /// The same peers, oldest announcement first.
    order: BTreeMap<Stamp, SocketAddrV4>,
    /// The latest announcement to this swarm (the newest in `order`).
    stamp: Stamp,
}

/// Bounded, expiring storage for immutable items and peer announcements.
///
/// All methods take `now`; expired entries are swept lazily (on access, and
/// before a store that might otherwise evict something live) or all at once
/// by [`expire`](Storage::expire).
#[derive(Debug)]
pub struct Storage {
    limits: StorageLimits,
    items: HashMap<NodeId, Item>,
    /// Items by stamp, oldest first: eviction and expiry order.
    item_order: BTreeMap<Stamp, NodeId>,
    bytes: usize,
    swarms: HashMap<NodeId, Swarm>,
    /// Info-hashes by their latest announcement, oldest first.
    swarm_order: BTreeMap<Stamp, NodeId>,
    peers: usize,
    seq: u64,
    evicted: u64,
    expired: u64,
}

impl Storage {
    /// An empty storage with the given bounds.
    pub fn new(limits: StorageLimits) -> Self {
        Storage {
            limits,
            items: HashMap::new(),
            item_order: BTreeMap::new(),
            bytes: 0,
            swarms: HashMap::new(),
            swarm_order: BTreeMap::new(),
            peers: 0,
            seq: 0,
            evicted: 0,
            expired: 0,
        }
    }

    /// The bounds this storage enforces.
    pub fn limits(&self) -> &StorageLimits {
        &self.limits
    }

    /// Stores the immutable item `value` under `target`, evicting the oldest
    /// items until both `max_items` and `max_bytes` hold.
    ///
    /// The caller must already have checked that `target` is
    /// [`NodeId::of_immutable_value`] of `value`; that is what makes a second
    /// put of the same target a mere refresh.
    pub fn put_item(&mut self, target: NodeId, value: Vec<u8>, now: Time) -> PutOutcome {
        if !self.could_hold(&value) {
            return PutOutcome::TooLarge;
        }
        self.expire_items(now);
        if self.items.contains_key(&target) {
            self.refresh(target, now);
            return PutOutcome::Refreshed;
        }
        self.insert(target, value, None, now);
        PutOutcome::Stored
    }

    /// Whether `value` fits at all, with every other item evicted: within
    /// [`MAX_VALUE_LEN`] and `max_bytes`, and `max_items` above zero.
    fn could_hold(&self, value: &[u8]) -> bool {
        value.len() <= MAX_VALUE_LEN
            && value.len() <= self.limits.max_bytes
            && self.limits.max_items > 0
    }

    /// Restart the lifetime of the item under `target` (which is stored).
    fn refresh(&mut self, target: NodeId, now: Time) {
        let stamp = self.stamp(now);
        if let Some(item) = self.items.get_mut(&target) {
            self.item_order.remove(&item.stamp);
            item.stamp = stamp;
            self.item_order.insert(stamp, target);
        }
    }

    /// Store a new item under `target`, evicting the oldest items until
    /// both `max_items` and `max_bytes` hold (the caller has checked that
    /// the value fits at all).
    fn insert(&mut self, target: NodeId, value: Vec<u8>, signed: Option<MutableFields>, now: Time) {
        let stamp = self.stamp(now);
        while self.items.len() >= self.limits.max_items
            || self.bytes + value.len() > self.limits.max_bytes
        {
            let Some((_, oldest)) = self.item_order.pop_first() else {
                break;
            };
            self.remove_item(&oldest);
            self.evicted += 1;
        }
        self.bytes += value.len();
        self.items.insert(
            target,
            Item {
                value,
                stamp,
                signed,
            },
        );
        self.item_order.insert(stamp, target);
    }

    /// Stores the mutable `item` under its target, as BEP 44 says: a higher
    /// `seq` replaces the stored item, the same `seq` and value refresh it,
    /// and with `cas` only the stored `seq` it names may be replaced. The
    /// caller must already have checked the signature. Bounds and expiry
    /// are those of immutable items.
    pub fn put_mutable(
        &mut self,
        item: MutableItem,
        cas: Option<i64>,
        now: Time,
    ) -> Result<PutOutcome, MutableRefusal> {
        if !self.could_hold(&item.value) {
            return Ok(PutOutcome::TooLarge);
        }
        self.expire_items(now);
        let target = item.target();
        let stored = self
            .items
            .get(&target)
            .map(|i| (i.signed.as_ref().map(|m| m.seq), i.value == item.value));
        if let (Some(cas), Some((seq, _))) = (cas, stored) {
            if seq != Some(cas) {
                return Err(MutableRefusal::CasMismatch);
            }
        }
        let signed = MutableFields {
            key: item.key,
            signature: item.signature,
            seq: item.seq,
        };
        match stored {
            Some((Some(seq), same)) if item.seq < seq || (item.seq == seq && !same) => {
                Err(MutableRefusal::SeqTooLow)
            }
            Some((Some(seq), _)) if item.seq == seq => {
                self.refresh(target, now);
                Ok(PutOutcome::Refreshed)
            }
            Some(_) => {
                if let Some(old) = self.items.get(&target) {
                    self.item_order.remove(&old.stamp);
                }
                self.remove_item(&target);
                self.insert(target, item.value, Some(signed), now);
                Ok(PutOutcome::Stored)
            }
            None => {
                self.insert(target, item.value, Some(signed), now);
                Ok(PutOutcome::Stored)
            }
        }
    }

    /// The key, signature and seq of the mutable item under `target`, if
    /// it is one (call after [`Storage::get_item`], which expires it).
    pub fn mutable_fields(&self, target: &NodeId) -> Option<MutableFields> {
        self.items.get(target).and_then(|i| i.signed.clone())
    }

    /// The value stored under `target`, unless it is missing or expired
    /// (an expired item is removed on the way).
    pub fn get_item(&mut self, target: NodeId, now: Time) -> Option<&[u8]> {
        let stamp = self.items.get(&target)?.stamp;
        if self.is_expired(stamp, now) {
            self.item_order.remove(&stamp);
            self.remove_item(&target);
            self.expired += 1;
            return None;
        }
        self.items.get(&target).map(|item| item.value.as_slice())
    }

    /// Records that `peer` downloads `info_hash` (BEP 5 `announce_peer`).
    ///
    /// A peer announcing again replaces its earlier announcement. A full
    /// info-hash drops its oldest peer; a new info-hash when all
    /// `max_info_hashes` are taken drops the info-hash announced to least
    /// recently, with all its peers. With a zero bound nothing is stored.
    /// The caller has checked the announce's token.
    pub fn announce(&mut self, info_hash: NodeId, peer: SocketAddrV4, now: Time) {
        if self.limits.max_peers_per_hash == 0 || self.limits.max_info_hashes == 0 {
            return;
        }
        self.expire_swarms(now);
        let stamp = self.stamp(now);
        if !self.swarms.contains_key(&info_hash) {
            while self.swarms.len() >= self.limits.max_info_hashes {
                let Some((_, oldest)) = self.swarm_order.pop_first() else {
                    break;
                };
                if let Some(swarm) = self.swarms.remove(&oldest) {
                    self.peers -= swarm.peers.len();
                    self.evicted += swarm.peers.len() as u64;
                }
            }
            self.swarms.insert(
                info_hash,
                Swarm {
                    peers: HashMap::new(),
                    order: BTreeMap::new(),
                    stamp,
                },
            );
        }
        let ttl = self.limits.ttl;
        let max_peers = self.limits.max_peers_per_hash;
        let Some(swarm) = self.swarms.get_mut(&info_hash) else {
            return;
        };
        let dropped = expire_peers(swarm, ttl, now);
        self.peers -= dropped;
        self.expired += dropped as u64;
        if let Some(old) = swarm.peers.insert(peer, stamp) {
            swarm.order.remove(&old);
        } else {
            self.peers += 1;
            while swarm.peers.len() > max_peers {
                let Some((_, oldest)) = swarm.order.pop_first() else {
                    break;
                };
                swarm.peers.remove(&oldest);
                self.peers -= 1;
                self.evicted += 1;
            }
        }
        swarm.order.insert(stamp, peer);
        self.swarm_order.remove(&swarm.stamp);
        swarm.stamp = stamp;
        self.swarm_order.insert(stamp, info_hash);
    }

    /// Up to `max` unexpired peers announced for `info_hash`, most recent
    /// announcement first (the likeliest to still be online). Expired peers
    /// of this info-hash are removed on the way.
    pub fn peers(&mut self, info_hash: NodeId, now: Time, max: usize) -> Vec<SocketAddrV4> {
        let ttl = self.limits.ttl;
        let Some(swarm) = self.swarms.get_mut(&info_hash) else {
            return Vec::new();
        };
        let dropped = expire_peers(swarm, ttl, now);
        self.peers -= dropped;
        self.expired += dropped as u64;
        if swarm.peers.is_empty() {
            self.swarm_order.remove(&swarm.stamp);
            self.swarms.remove(&info_hash);
            return Vec::new();
        }
        swarm.order.values().rev().take(max).copied().collect()
    }

    /// Removes every expired item and announcement.
    ///
    /// Lazy sweeping already keeps answers correct; a shell calls this now
    /// and then so that memory and [`stats`](Storage::stats) reflect only
    /// live entries.
    pub fn expire(&mut self, now: Time) {
        self.expire_items(now);
        self.expire_swarms(now);
        let ttl = self.limits.ttl;
        let hashes: Vec<NodeId> = self.swarm_order.values().copied().collect();
        for info_hash in hashes {
            if let Some(swarm) = self.swarms.get_mut(&info_hash) {
                let dropped = expire_peers(swarm, ttl, now);
                self.peers -= dropped;
                self.expired += dropped as u64;
            }
        }
    }

    /// Number of immutable items held (expired ones count until swept).
    pub fn len_items(&self) -> usize {
        self.items.len()
    }

    /// Bytes of item values held (expired ones count until swept).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Number of info-hashes with announced peers held (expired ones count
    /// until swept).
    pub fn len_info_hashes(&self) -> usize {
        self.swarms.len()
    }

    /// Current counters. Call [`expire`](Storage::expire) first for counts
    /// of live entries only.
    pub fn stats(&self) -> StorageStats {
        StorageStats {
            items: self.items.len(),
            bytes: self.bytes,
            info_hashes: self.swarms.len(),
            peers: self.peers,
            evicted: self.evicted,
            expired: self.expired,
        }
    }

    /// A fresh stamp for an entry stored at `now`.
    fn stamp(&mut self, now: Time) -> Stamp {
        self.seq += 1;
        (now, self.seq)
    }

    fn is_expired(&self, stamp: Stamp, now: Time) -> bool {
        stamp.0 + self.limits.ttl <= now
    }

    /// Removes `target` from the item map (not from `item_order`).
    fn remove_item(&mut self, target: &NodeId) {
        if let Some(item) = self.items.remove(target) {
            self.bytes -= item.value.len();
        }
    }

    /// Drops expired items, oldest first, stopping at the first live one.
    fn expire_items(&mut self, now: Time) {
        while let Some((&stamp, &target)) = self.item_order.first_key_value() {
            if !self.is_expired(stamp, now) {
                break;
            }
            self.item_order.remove(&stamp);
            self.remove_item(&target);
            self.expired += 1;
        }
    }

    /// Drops info-hashes whose latest announcement expired: all their peers
    /// are expired too.
    fn expire_swarms(&mut self, now: Time) {
        while let Some((&stamp, &info_hash)) = self.swarm_order.first_key_value() {
            if !self.is_expired(stamp, now) {
                break;
            }
            self.swarm_order.remove(&stamp);
            if let Some(swarm) = self.swarms.remove(&info_hash) {
                self.peers -= swarm.peers.len();
                self.expired += swarm.peers.len() as u64;
            }
        }
    }
}

/// Drops a swarm's expired peers, oldest first; returns how many. The swarm
/// itself stays, even if empty: its caller decides.
fn expire_peers(swarm: &mut Swarm, ttl: Duration, now: Time) -> usize {
    let mut dropped = 0;
    while let Some((&stamp, &peer)) = swarm.order.first_key_value() {
        if stamp.0 + ttl > now {
            break;
        }
        swarm.order.remove(&stamp);
        swarm.peers.remove(&peer);
        dropped += 1;
    }
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(n: u32, len: usize) -> (NodeId, Vec<u8>) {
        let mut value = n.to_be_bytes().to_vec();
        value.resize(len.max(4), b'x');
        (NodeId::of_immutable_value(&value), value)
    }

    fn peer(n: u16) -> SocketAddrV4 {
        SocketAddrV4::new(std::net::Ipv4Addr::new(192, 0, 2, 1), n)
    }

    fn hash(n: u32) -> NodeId {
        NodeId::from_sha1(&n.to_be_bytes())
    }

    fn ms(n: u64) -> Time {
        Time::from_millis(n)
    }

    fn limits() -> StorageLimits {
        StorageLimits {
            max_items: 3,
            max_bytes: 100,
            max_peers_per_hash: 3,
            max_info_hashes: 2,
            ttl: Duration::from_secs(10),
        }
    }

    #[test]
    fn default_limits_are_as_documented() {
        let l = StorageLimits::default();
        assert_eq!(
            (
                l.max_items,
                l.max_bytes,
                l.max_peers_per_hash,
                l.max_info_hashes
            ),
            (1000, 1 << 20, 100, 1000)
        );
        assert_eq!(l.ttl, Duration::from_secs(7200));
    }

    #[test]
    fn put_then_get() {
        let mut s = Storage::new(limits());
        let (t, v) = item(1, 10);
        assert_eq!(s.put_item(t, v.clone(), ms(0)), PutOutcome::Stored);
        assert_eq!(s.get_item(t, ms(1)), Some(v.as_slice()));
        assert_eq!(s.get_item(hash(9), ms(1)), None);
        assert_eq!((s.len_items(), s.bytes()), (1, 10));
    }

    #[test]
    fn oversized_values_are_refused() {
        let mut s = Storage::new(StorageLimits::default());
        let (t, v) = item(1, MAX_VALUE_LEN + 1);
        assert_eq!(s.put_item(t, v, ms(0)), PutOutcome::TooLarge);
        let (t, v) = item(2, MAX_VALUE_LEN);
        assert_eq!(s.put_item(t, v, ms(0)), PutOutcome::Stored);
        // Larger than the whole byte budget.
        let mut s = Storage::new(limits());
        let (t, v) = item(3, 101);
        assert_eq!(s.put_item(t, v, ms(0)), PutOutcome::TooLarge);
        assert_eq!(s.len_items(), 0);
        // No room at all.
        let mut s = Storage::new(StorageLimits {
            max_items: 0,
            ..limits()
        });
        let (t, v) = item(4, 4);
        assert_eq!(s.put_item(t, v, ms(0)), PutOutcome::TooLarge);
    }

    #[test]
    fn item_count_bound_evicts_oldest_first() {
        let mut s = Storage::new(limits());
        let items: Vec<_> = (0..5).map(|n| item(n, 4)).collect();
        for (i, (t, v)) in items.iter().enumerate() {
            assert_eq!(s.put_item(*t, v.clone(), ms(i as u64)), PutOutcome::Stored);
            assert!(s.len_items() <= 3);
        }
        assert_eq!(s.get_item(items[0].0, ms(5)), None);
        assert_eq!(s.get_item(items[1].0, ms(5)), None);
        for (t, _) in &items[2..] {
            assert!(s.get_item(*t, ms(5)).is_some());
        }
        assert_eq!(s.stats().evicted, 2);
    }

    #[test]
    fn same_time_evicts_in_insertion_order() {
        let mut s = Storage::new(limits());
        let items: Vec<_> = (0..4).map(|n| item(n, 4)).collect();
        for (t, v) in &items {
            s.put_item(*t, v.clone(), ms(0));
        }
        assert_eq!(s.get_item(items[0].0, ms(0)), None);
        for (t, _) in &items[1..] {
            assert!(s.get_item(*t, ms(0)).is_some());
        }
    }

    #[test]
    fn byte_bound_evicts_oldest_until_it_fits() {
        let mut s = Storage::new(limits());
        let a = item(1, 40);
        let b = item(2, 40);
        let c = item(3, 70);
        s.put_item(a.0, a.1, ms(0));
        s.put_item(b.0, b.1, ms(1));
        assert_eq!(s.bytes(), 80);
        // 70 more needs both older items gone.
        assert_eq!(s.put_item(c.0, c.1, ms(2)), PutOutcome::Stored);
        assert_eq!((s.len_items(), s.bytes()), (1, 70));
        assert_eq!(s.stats().evicted, 2);
        let d = item(4, 30);
        assert_eq!(s.put_item(d.0, d.1, ms(3)), PutOutcome::Stored);
        assert_eq!((s.len_items(), s.bytes()), (2, 100));
    }

    #[test]
    fn refresh_restarts_lifetime_and_eviction_age() {
        let mut s = Storage::new(limits());
        let items: Vec<_> = (0..4).map(|n| item(n, 4)).collect();
        for (i, (t, v)) in items[..3].iter().enumerate() {
            s.put_item(*t, v.clone(), ms(i as u64));
        }
        // Refreshing the oldest makes item 1 the oldest.
        assert_eq!(
            s.put_item(items[0].0, items[0].1.clone(), ms(9_000)),
            PutOutcome::Refreshed
        );
        assert_eq!((s.len_items(), s.bytes()), (3, 12));
        s.put_item(items[3].0, items[3].1.clone(), ms(9_001));
        assert_eq!(s.get_item(items[1].0, ms(9_001)), None);
        assert!(s.get_item(items[0].0, ms(9_001)).is_some());
        // Item 0 lives 10 s from its refresh, not from its first store.
        assert!(s.get_item(items[0].0, ms(18_999)).is_some());
        assert_eq!(s.get_item(items[0].0, ms(19_000)), None);
    }

    #[test]
    fn items_expire_after_ttl() {
        let mut s = Storage::new(limits());
        let (t, v) = item(1, 10);
        s.put_item(t, v, ms(0));
        assert!(s.get_item(t, ms(9_999)).is_some());
        assert_eq!(s.get_item(t, ms(10_000)), None);
        assert_eq!((s.len_items(), s.bytes()), (0, 0));
        assert_eq!(s.stats().expired, 1);
        // Putting it again after expiry stores it anew.
        let (t, v) = item(1, 10);
        s.put_item(t, v.clone(), ms(20_000));
        assert_eq!(s.put_item(t, v.clone(), ms(30_000)), PutOutcome::Stored);
    }

    #[test]
    fn expired_items_are_swept_before_evicting_live_ones() {
        let mut s = Storage::new(limits());
        let items: Vec<_> = (0..4).map(|n| item(n, 4)).collect();
        s.put_item(items[0].0, items[0].1.clone(), ms(0));
        s.put_item(items[1].0, items[1].1.clone(), ms(5_000));
        s.put_item(items[2].0, items[2].1.clone(), ms(6_000));
        s.put_item(items[3].0, items[3].1.clone(), ms(10_000));
        let stats = s.stats();
        assert_eq!((stats.expired, stats.evicted, stats.items), (1, 0, 3));
    }

    #[test]
    fn expire_sweeps_everything() {
        let mut s = Storage::new(limits());
        let (t, v) = item(1, 10);
        s.put_item(t, v, ms(0));
        s.announce(hash(1), peer(1), ms(0));
        s.announce(hash(1), peer(2), ms(5_000));
        s.announce(hash(2), peer(1), ms(1_000));
        s.expire(ms(11_500));
        assert_eq!(
            s.stats(),
            StorageStats {
                items: 0,
                bytes: 0,
                info_hashes: 1,
                peers: 1,
                evicted: 0,
                expired: 3,
            }
        );
        s.expire(ms(15_000));
        assert_eq!((s.len_info_hashes(), s.stats().peers), (0, 0));
    }

    #[test]
    fn peers_most_recent_first_and_reannounce_replaces() {
        let mut s = Storage::new(limits());
        let h = hash(1);
        s.announce(h, peer(1), ms(0));
        s.announce(h, peer(2), ms(1));
        s.announce(h, peer(3), ms(2));
        assert_eq!(s.peers(h, ms(3), 10), vec![peer(3), peer(2), peer(1)]);
        assert_eq!(s.peers(h, ms(3), 2), vec![peer(3), peer(2)]);
        s.announce(h, peer(1), ms(4));
        assert_eq!(s.peers(h, ms(5), 10), vec![peer(1), peer(3), peer(2)]);
        assert_eq!(s.stats().peers, 3);
        assert_eq!(s.peers(hash(2), ms(5), 10), vec![]);
    }

    #[test]
    fn peers_per_hash_bound_evicts_oldest_peer() {
        let mut s = Storage::new(limits());
        let h = hash(1);
        for n in 1..=5 {
            s.announce(h, peer(n), ms(u64::from(n)));
            assert!(s.stats().peers <= 3);
        }
        assert_eq!(s.peers(h, ms(6), 10), vec![peer(5), peer(4), peer(3)]);
        assert_eq!(s.stats().evicted, 2);
    }

    #[test]
    fn info_hash_bound_evicts_least_recently_announced() {
        let mut s = Storage::new(limits());
        s.announce(hash(1), peer(1), ms(0));
        s.announce(hash(1), peer(2), ms(1));
        s.announce(hash(2), peer(1), ms(2));
        // hash 1 announced to again: hash 2 is now the oldest.
        s.announce(hash(1), peer(3), ms(3));
        s.announce(hash(3), peer(1), ms(4));
        assert_eq!(s.len_info_hashes(), 2);
        assert_eq!(s.peers(hash(2), ms(5), 10), vec![]);
        assert_eq!(s.peers(hash(1), ms(5), 10).len(), 3);
        assert_eq!(s.peers(hash(3), ms(5), 10), vec![peer(1)]);
        let stats = s.stats();
        assert_eq!((stats.peers, stats.evicted), (4, 1));
    }

    #[test]
    fn peers_expire_after_ttl() {
        let mut s = Storage::new(limits());
        let h = hash(1);
        s.announce(h, peer(1), ms(0));
        s.announce(h, peer(2), ms(5_000));
        assert_eq!(s.peers(h, ms(9_999), 10), vec![peer(2), peer(1)]);
        assert_eq!(s.peers(h, ms(10_000), 10), vec![peer(2)]);
        assert_eq!(s.stats().expired, 1);
        assert_eq!(s.peers(h, ms(15_000), 10), vec![]);
        assert_eq!((s.len_info_hashes(), s.stats().peers), (0, 0));
        // An expired swarm frees its slot before anything live is evicted.
        s.announce(hash(2), peer(1), ms(20_000));
        s.announce(hash(3), peer(1), ms(31_000));
        s.announce(hash(4), peer(1), ms(31_000));
        assert_eq!(s.stats().evicted, 0);
        assert_eq!(s.len_info_hashes(), 2);
    }

    #[test]
    fn zero_peer_bounds_store_nothing() {
        let mut s = Storage::new(StorageLimits {
            max_peers_per_hash: 0,
            ..limits()
        });
        s.announce(hash(1), peer(1), ms(0));
        assert_eq!(s.len_info_hashes(), 0);
        assert_eq!(s.peers(hash(1), ms(0), 10), vec![]);
    }

    #[test]
    fn eviction_is_deterministic() {
        let run = || {
            let mut s = Storage::new(StorageLimits {
                max_items: 50,
                max_info_hashes: 20,
                ..limits()
            });
            let mut kept = Vec::new();
            for n in 0..500u32 {
                let (t, v) = item(n, 4 + (n as usize % 7));
                s.put_item(t, v, ms(u64::from(n / 10)));
                s.announce(hash(n % 37), peer((n % 11) as u16), ms(u64::from(n / 10)));
            }
            for n in 0..500u32 {
                let (t, _) = item(n, 4 + (n as usize % 7));
                kept.push(s.get_item(t, ms(60)).is_some());
            }
            let peers: Vec<_> = (0..37).map(|n| s.peers(hash(n), ms(60), 100)).collect();
            (kept, peers, s.stats())
        };
        assert_eq!(run(), run());
    }
}
