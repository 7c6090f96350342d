//! One k-bucket: up to k contacts in least-recently-seen order, a pending
//! eviction, and a bounded replacement cache.

use std::collections::VecDeque;

use crate::contact::Contact;
use crate::id::NodeId;
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

/// A full bucket asked the driver to ping its oldest entry; the newcomer waits
/// here for the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PendingPing {
    pub(crate) oldest: NodeId,
    pub(crate) candidate: Contact,
}

/// A k-bucket. Entries are ordered least-recently-seen first, as in the
/// Kademlia paper, so the head is the eviction candidate and long-lived nodes
/// (which the paper shows are the likeliest to stay up) are kept.
#[derive(Clone, Debug, Default)]
pub(crate) struct KBucket {
    pub(crate) entries: VecDeque<Entry>,
    /// Newest candidates last; bounded by the table's `replacement_cache`.
    pub(crate) replacements: VecDeque<Contact>,
    pub(crate) pending: Option<PendingPing>,
    /// When the pending ping was asked for.
    pub(crate) last_ping_at: Time,
    /// Last time a contact was added or refreshed here, or a lookup
    /// targeted this bucket.
    pub(crate) last_touched: Time,
}

impl KBucket {
    pub(crate) fn position(&self, id: &NodeId) -> Option<usize> {
        self.entries.iter().position(|e| e.contact.id == *id)
    }

    /// Move entry `pos` to the tail (most recently seen) and mark it healthy;
    /// `answered` records that this time it answered one of our requests.
    pub(crate) fn refresh_at(&mut self, pos: usize, contact: Contact, answered: bool, now: Time) {
        if let Some(mut entry) = self.entries.remove(pos) {
            entry.contact = contact;
            entry.last_seen = now;
            entry.failures = 0;
            entry.answered |= answered;
            self.entries.push_back(entry);
        }
    }

    /// Append `contact` as the most recently seen entry. A contact in the
    /// bucket is no longer a replacement candidate: leaving it in the cache
    /// would let a later stale eviction store it twice.
    pub(crate) fn push(&mut self, contact: Contact, answered: bool, now: Time) {
        self.replacements.retain(|c| c.id != contact.id);
        self.entries.push_back(Entry {
            contact,
            last_seen: now,
            failures: 0,
            answered,
        });
    }

    /// Remember `contact` as a replacement, newest last, dropping the oldest
    /// candidate when the cache is full. A candidate already cached moves to
    /// the newest position instead of being stored twice; a contact already
    /// in the bucket is not cached.
    pub(crate) fn cache(&mut self, contact: Contact, capacity: usize) {
        if capacity == 0 || self.position(&contact.id).is_some() {
            return;
        }
        if let Some(pos) = self.replacements.iter().position(|c| c.id == contact.id) {
            self.replacements.remove(pos);
        }
        if self.replacements.len() >= capacity {
            self.replacements.pop_front();
        }
        if self.replacements.capacity() == 0 {
            self.replacements.reserve_exact(capacity);
        }
        self.replacements.push_back(contact);
    }

    /// Take the newest replacement, which is the likeliest still to be up.
    pub(crate) fn take_replacement(&mut self) -> Option<Contact> {
        self.replacements.pop_back()
    }
}
