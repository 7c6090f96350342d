//! One k-bucket: up to k contacts in least-recently-seen order, a pending
//! eviction, and a bounded replacement cache.

use crate::contact::Contact;
use crate::id::NodeId;
use crate::routing::book::{Book, Slot};
use crate::time::Time;

/// A contact in a bucket with what the table knows of its health.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The contact.
    pub contact: Contact,
    /// When the node was last heard from (an answer or a query), or
    /// inserted.
    pub last_seen: Time,
    /// Failed requests in a row since it was last heard from.
    pub failures: u8,
    /// Whether it has ever answered one of our requests. BEP 5 counts a
    /// node that only ever sent us queries as questionable: anyone can send
    /// a query, only a node that answers is known to be reachable.
    pub answered: bool,
}

/// An [`Entry`] as a bucket stores it: 16 bytes, the contact left in the
/// table's [`Book`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stored {
    pub(crate) slot: Slot,
    pub(crate) failures: u8,
    pub(crate) answered: bool,
    pub(crate) last_seen: Time,
}

impl Stored {
    /// The entry with its contact looked up in `book`.
    pub(crate) fn view(&self, book: &Book) -> Entry {
        Entry {
            contact: book.contact(self.slot),
            last_seen: self.last_seen,
            failures: self.failures,
            answered: self.answered,
        }
    }
}

/// A full bucket asked the driver to ping its oldest entry; the newcomer waits
/// here for the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PendingPing {
    /// By id, not slot: the entry may leave the bucket (a failure replaces
    /// it) while the ping is out, and the answer must still find the ping.
    pub(crate) oldest: NodeId,
    pub(crate) candidate: Slot,
    /// When the ping was asked for.
    pub(crate) asked_at: Time,
}

/// A k-bucket. Entries are ordered least-recently-seen first, as in the
/// Kademlia paper, so the head is the eviction candidate and long-lived nodes
/// (which the paper shows are the likeliest to stay up) are kept.
///
/// Entries and replacements are plain vectors that never hold more than
/// their bound (see [`KBucket::make_room`]): a remove in a vector of 20
/// 16-byte entries costs less than a deque's bookkeeping, and a million
/// tables cannot afford spare capacity.
#[derive(Clone, Debug, Default)]
pub(crate) struct KBucket {
    pub(crate) entries: Vec<Stored>,
    /// Newest candidates last; bounded by the table's `replacement_cache`.
    pub(crate) replacements: Vec<Slot>,
    /// Boxed: a ping is pending in few buckets at a time, and inline its
    /// 32 bytes would be a third of every bucket of a million tables.
    pub(crate) pending: Option<Box<PendingPing>>,
    /// Last time a contact was added or refreshed here, or a lookup
    /// targeted this bucket.
    pub(crate) last_touched: Time,
    /// The latest `last_seen` given to an entry that had answered: no entry
    /// of the bucket can be good once this is older than the questionable
    /// threshold, so a reply that only wants good contacts skips the bucket
    /// without reading its entries (the cache misses of a walk over a
    /// stale table). An upper bound: entries that left or failed since do
    /// not lower it. `Time::ZERO` until an answered entry arrives, which
    /// errs the safe way.
    pub(crate) newest_answer: Time,
}

impl KBucket {
    /// Position of the entry with `id`; `shared` is the id's shared slot
    /// when the caller knows it, which spares looking up every entry's id.
    pub(crate) fn position(&self, book: &Book, id: &NodeId, shared: Option<Slot>) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| book.holds(e.slot, id, shared))
    }

    /// Move entry `pos` to the tail (most recently seen) and mark it healthy;
    /// `answered` records that this time it answered one of our requests.
    pub(crate) fn refresh_at(&mut self, pos: usize, answered: bool, now: Time) {
        let mut entry = self.entries.remove(pos);
        entry.last_seen = now;
        entry.failures = 0;
        entry.answered |= answered;
        self.append(entry);
    }

    /// Append `slot` as the most recently seen entry. A contact in the
    /// bucket is no longer a replacement candidate: leaving it in the cache
    /// would let a later stale eviction store it twice.
    pub(crate) fn push(&mut self, book: &mut Book, slot: Slot, answered: bool, now: Time) {
        if let Some(pos) = self.replacements.iter().position(|&r| book.same(r, slot)) {
            book.release(self.replacements.remove(pos));
        }
        self.append(Stored {
            slot,
            last_seen: now,
            failures: 0,
            answered,
        });
    }

    /// Room for one more entry in a bucket of at most `k`: when the entries
    /// fill their allocation it grows exactly, to 5, then double, but never
    /// past k. A full bucket ends at exactly k slots (growth by doubling
    /// would leave 12 of 32 empty at k = 20), and the sparse buckets nearest
    /// a node's own id, which hold a few contacts each, no longer reserve k
    /// slots they never fill (about 1.5 KB a node at 10⁶ nodes).
    pub(crate) fn make_room(&mut self, k: usize) {
        /// The first allocation: most sparse buckets hold fewer.
        const FIRST: usize = 5;
        let len = self.entries.len();
        if len == self.entries.capacity() && len < k {
            let want = (2 * len).max(FIRST).min(k);
            self.entries.reserve_exact(want - len);
        }
    }

    /// Put `entry` at the most recently seen end, keeping
    /// [`KBucket::newest_answer`] an upper bound.
    pub(crate) fn append(&mut self, entry: Stored) {
        if entry.answered {
            self.newest_answer = self.newest_answer.max(entry.last_seen);
        }
        self.entries.push(entry);
    }

    /// Remember `slot` as a replacement, newest last, dropping the oldest
    /// candidate when the cache is full. A candidate already cached moves to
    /// the newest position instead of being stored twice; a contact already
    /// in the bucket is not cached. The bucket takes `slot` over either way.
    pub(crate) fn cache(&mut self, book: &mut Book, slot: Slot, capacity: usize) {
        if capacity == 0 || self.entries.iter().any(|e| book.same(e.slot, slot)) {
            book.release(slot);
            return;
        }
        if let Some(pos) = self.replacements.iter().position(|&r| book.same(r, slot)) {
            book.release(self.replacements.remove(pos));
        }
        if self.replacements.len() >= capacity {
            book.release(self.replacements.remove(0));
        }
        if self.replacements.capacity() == 0 {
            self.replacements.reserve_exact(capacity);
        }
        self.replacements.push(slot);
    }

    /// Take the newest replacement, which is the likeliest still to be up.
    pub(crate) fn take_replacement(&mut self) -> Option<Slot> {
        self.replacements.pop()
    }
}
