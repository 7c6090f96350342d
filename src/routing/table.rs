//! The routing table: 160 k-buckets, updated by the Kademlia rule.

use std::time::Duration;

use crate::contact::Contact;
use crate::id::{NodeId, ID_BITS};
use crate::routing::bucket::{Entry, KBucket, PendingPing};
use crate::time::Time;

/// Tunables of a [`RoutingTable`]. The defaults are the paper's and BEP 5's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoutingConfig {
    /// Bucket size k: contacts kept per bucket (the paper's replication
    /// parameter; 20 in the paper, 8 in BEP 5).
    pub k: usize,
    /// Replacement candidates remembered per bucket. Bounded so a flood of
    /// new ids costs a fixed amount of memory.
    pub replacement_cache: usize,
    /// Failed requests in a row after which a contact is stale and is
    /// swapped for a replacement when one is cached.
    pub stale_after: u8,
    /// A bucket nobody touched for this long should be refreshed by a lookup
    /// of a random id in it.
    pub refresh_interval: Duration,
    /// How long a full bucket waits for the answer to its eviction ping
    /// before asking again; keeps a bucket usable if the driver never reports.
    pub ping_timeout: Duration,
}

impl Default for RoutingConfig {
    fn default() -> Self {
        RoutingConfig {
            k: 20,
            replacement_cache: 8,
            stale_after: 5,
            refresh_interval: Duration::from_secs(3600),
            ping_timeout: Duration::from_secs(10),
        }
    }
}

/// What the table did with a contact it was told about, and what (if
/// anything) the caller must do next. The table never sends anything itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "a full bucket asks the caller to ping its oldest contact"]
pub enum UpdateOutcome {
    /// Already known: moved to the tail (most recently seen).
    Refreshed,
    /// New, and its bucket had room: inserted at the tail.
    Inserted,
    /// New, its bucket is full: ping `oldest` and report the answer with
    /// [`RoutingTable::on_ping_result`]. The newcomer waits for that answer.
    PingOldest {
        /// The least-recently-seen contact of the full bucket.
        oldest: Contact,
    },
    /// New, its bucket is full and already waiting on a ping: the newcomer
    /// went to the replacement cache.
    Cached,
    /// The id is known under another address. Kept as it was: letting any
    /// datagram move a contact to a new address would let anyone hijack it.
    AddressConflict,
    /// The local node's own id: never stored.
    Ignored,
}

/// What a reported failure did to the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureOutcome {
    /// The id is not in the table.
    Unknown,
    /// Counted; the contact has failed this many times in a row.
    Counted(u8),
    /// The contact was stale and was replaced by this cached candidate.
    Replaced(Contact),
    /// The contact is stale but no replacement is cached, so it stays:
    /// the paper keeps unresponsive contacts rather than empty a bucket.
    Stale,
}

/// A Kademlia routing table owned by one node.
///
/// A fixed array of 160 buckets (bucket `i` holds ids at distance
/// `[2^i, 2^(i+1))` from the local id) rather than the split-bucket tree: it
/// is simpler, as fast for lookups, and for uniformly random ids the
/// far buckets hold exactly what the tree would.
#[derive(Clone, Debug)]
pub struct RoutingTable {
    local: NodeId,
    config: RoutingConfig,
    buckets: Vec<KBucket>,
    len: usize,
}

impl RoutingTable {
    /// An empty table for `local`; every bucket counts as touched at `now`.
    pub fn new(local: NodeId, config: RoutingConfig, now: Time) -> RoutingTable {
        let bucket = KBucket {
            last_touched: now,
            ..KBucket::default()
        };
        RoutingTable {
            local,
            config,
            buckets: vec![bucket; ID_BITS],
            len: 0,
        }
    }

    /// The id this table is centred on.
    pub fn local_id(&self) -> &NodeId {
        &self.local
    }

    /// The table's tunables.
    pub fn config(&self) -> &RoutingConfig {
        &self.config
    }

    /// Number of contacts in all buckets (replacements not included).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the table holds no contact at all.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of contacts in bucket `index`.
    pub fn bucket_len(&self, index: usize) -> usize {
        self.buckets.get(index).map_or(0, |b| b.entries.len())
    }

    /// Replacement candidates cached for bucket `index`, oldest first.
    pub fn replacements(&self, index: usize) -> Vec<Contact> {
        self.buckets
            .get(index)
            .map(|b| b.replacements.iter().copied().collect())
            .unwrap_or_default()
    }

    /// The entry for `id`, if the table holds it.
    pub fn get(&self, id: &NodeId) -> Option<&Entry> {
        let bucket = &self.buckets[self.local.bucket_index(id)?];
        bucket.entries.iter().find(|e| e.contact.id == *id)
    }

    /// Whether the table holds `id`.
    pub fn contains(&self, id: &NodeId) -> bool {
        self.get(id).is_some()
    }

    /// All entries, nearest bucket first and least-recently-seen first
    /// within a bucket: a deterministic order for dumps and warm-up.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.buckets.iter().flat_map(|b| b.entries.iter())
    }

    /// The Kademlia update rule, applied whenever a node is heard from.
    ///
    /// Known → tail; room → insert at tail; full → ask the caller to ping the
    /// least-recently-seen contact (see [`UpdateOutcome::PingOldest`]).
    pub fn update(&mut self, contact: Contact, now: Time) -> UpdateOutcome {
        let Some(index) = self.local.bucket_index(&contact.id) else {
            return UpdateOutcome::Ignored;
        };
        let k = self.config.k;
        let cache_capacity = self.config.replacement_cache;
        let ping_timeout = self.config.ping_timeout;
        let bucket = &mut self.buckets[index];
        bucket.last_touched = now;
        if let Some(pos) = bucket.position(&contact.id) {
            if bucket.entries[pos].contact.addr != contact.addr {
                return UpdateOutcome::AddressConflict;
            }
            bucket.refresh_at(pos, contact, now);
            return UpdateOutcome::Refreshed;
        }
        if bucket.entries.len() < k {
            bucket.push(contact, now);
            self.len += 1;
            return UpdateOutcome::Inserted;
        }
        let Some(oldest) = bucket.entries.front().map(|e| e.contact) else {
            // k == 0: a table that keeps nothing.
            return UpdateOutcome::Cached;
        };
        match bucket.pending {
            Some(pending)
                if pending.candidate.id != contact.id
                    && now.saturating_since(bucket.last_ping_at) < ping_timeout =>
            {
                bucket.cache(contact, cache_capacity);
                UpdateOutcome::Cached
            }
            Some(pending) if pending.candidate.id == contact.id => UpdateOutcome::Cached,
            _ => {
                // No ping outstanding, or the last one was never answered
                // within `ping_timeout`: ask again for this newcomer, keeping
                // any previous candidate as a replacement.
                if let Some(previous) = bucket.pending.take() {
                    bucket.cache(previous.candidate, cache_capacity);
                }
                bucket.pending = Some(PendingPing {
                    oldest: oldest.id,
                    candidate: contact,
                });
                bucket.last_ping_at = now;
                UpdateOutcome::PingOldest { oldest }
            }
        }
    }

    /// The answer to a [`UpdateOutcome::PingOldest`] request.
    ///
    /// Answered: the old contact is kept (moved to the tail) and the
    /// newcomer goes to the replacement cache — old, live nodes win, which is
    /// what makes Kademlia resist floods of new ids. Not answered: the old
    /// contact is evicted and the newcomer takes its place.
    pub fn on_ping_result(&mut self, oldest: &NodeId, answered: bool, now: Time) {
        let Some(index) = self.local.bucket_index(oldest) else {
            return;
        };
        let k = self.config.k;
        let cache_capacity = self.config.replacement_cache;
        let bucket = &mut self.buckets[index];
        let pending = match bucket.pending {
            Some(p) if p.oldest == *oldest => bucket.pending.take(),
            _ => None,
        };
        let pos = bucket.position(oldest);
        if answered {
            if let Some(pos) = pos {
                let contact = bucket.entries[pos].contact;
                bucket.refresh_at(pos, contact, now);
            }
            if let Some(p) = pending {
                bucket.cache(p.candidate, cache_capacity);
            }
            return;
        }
        if let Some(pos) = pos {
            bucket.entries.remove(pos);
            self.len -= 1;
        }
        if let Some(p) = pending {
            if bucket.entries.len() < k && bucket.position(&p.candidate.id).is_none() {
                bucket.push(p.candidate, now);
                self.len += 1;
            }
        }
    }

    /// A request to `id` failed (error or timeout). After
    /// [`RoutingConfig::stale_after`] failures in a row the contact is
    /// replaced by the newest cached candidate, if there is one.
    pub fn on_failure(&mut self, id: &NodeId, now: Time) -> FailureOutcome {
        let Some(index) = self.local.bucket_index(id) else {
            return FailureOutcome::Unknown;
        };
        let stale_after = self.config.stale_after;
        let bucket = &mut self.buckets[index];
        let Some(pos) = bucket.position(id) else {
            return FailureOutcome::Unknown;
        };
        let entry = &mut bucket.entries[pos];
        entry.failures = entry.failures.saturating_add(1);
        if entry.failures < stale_after {
            return FailureOutcome::Counted(entry.failures);
        }
        match bucket.take_replacement() {
            Some(replacement) => {
                bucket.entries.remove(pos);
                bucket.push(replacement, now);
                FailureOutcome::Replaced(replacement)
            }
            None => FailureOutcome::Stale,
        }
    }

    /// Remove `id` outright (for example when it proved to be hostile).
    pub fn remove(&mut self, id: &NodeId) -> Option<Entry> {
        let index = self.local.bucket_index(id)?;
        let bucket = &mut self.buckets[index];
        let pos = bucket.position(id)?;
        let entry = bucket.entries.remove(pos)?;
        self.len -= 1;
        Some(entry)
    }

    /// The `n` contacts closest to `target`, closest first, never the local
    /// node.
    ///
    /// Buckets are visited in distance order instead of sorting the whole
    /// table: with `b` the bucket `target` falls in, bucket `b` holds every
    /// contact closer than `2^b`, the buckets below `b` hold those in
    /// `[2^b, 2^(b+1))`, and each bucket above is a farther band of its own.
    pub fn closest(&self, target: &NodeId, n: usize) -> Vec<Contact> {
        let mut out = Vec::with_capacity(n.min(self.len));
        if n == 0 {
            return out;
        }
        let take_group = |range: std::ops::Range<usize>, out: &mut Vec<Contact>| {
            let start = out.len();
            for bucket in &self.buckets[range] {
                out.extend(bucket.entries.iter().map(|e| e.contact));
            }
            out[start..].sort_unstable_by_key(|c| c.id.distance(target));
            out.len() >= n
        };
        // Each group is sorted on its own; `any` stops at the first group that
        // brings the count to `n`.
        let farther_from = match self.local.bucket_index(target) {
            Some(b) if take_group(b..b + 1, &mut out) || take_group(0..b, &mut out) => ID_BITS,
            Some(b) => b + 1,
            None => 0,
        };
        let _filled = (farther_from..ID_BITS).any(|i| take_group(i..i + 1, &mut out));
        out.truncate(n);
        out
    }

    /// Record that a lookup targeted bucket `index`, which refreshes it.
    pub fn touch_bucket(&mut self, index: usize, now: Time) {
        if let Some(bucket) = self.buckets.get_mut(index) {
            bucket.last_touched = now;
        }
    }

    /// Buckets that need a refresh lookup at `now`: those untouched for
    /// [`RoutingConfig::refresh_interval`], from the nearest non-empty bucket
    /// outwards.
    ///
    /// Buckets nearer than every contact stay empty in any network much
    /// smaller than 2^160 and are not reported: refreshing them would only
    /// repeat the self-lookup.
    pub fn buckets_to_refresh(&self, now: Time) -> Vec<usize> {
        let nearest = self.buckets.iter().position(|b| !b.entries.is_empty());
        let Some(nearest) = nearest else {
            return Vec::new();
        };
        (nearest..ID_BITS)
            .filter(|&i| {
                now.saturating_since(self.buckets[i].last_touched) >= self.config.refresh_interval
            })
            .collect()
    }
}
