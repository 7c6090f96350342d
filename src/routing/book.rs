//! Where a routing table keeps the contacts its buckets point to.
//!
//! A bucket entry holds a 4-byte [`Slot`] instead of a 26-byte contact. A
//! slot names either a node of a shared [`Directory`] (every simulated node:
//! its id is looked up by index, its address is derived from the index) or
//! a contact the table keeps itself (every contact of a UDP node, and in a
//! simulation the rare contact no directory node matches, such as a forged
//! one). The rules of the table never see the difference: they ask the
//! [`Book`] for a slot's id and contact.

use std::sync::Arc;

use crate::contact::Contact;
use crate::id::NodeId;

/// The ids of every node of a simulated network, by index, shared by all
/// of their routing tables.
///
/// A table built over a directory stores a contact made by
/// [`Contact::simulated`] from a directory node as that node's index: a
/// million tables of ~330 contacts each fit in memory that way, where
/// copied contacts would not.
#[derive(Clone, Debug, Default)]
pub struct Directory {
    ids: Arc<[NodeId]>,
    /// The first 8 bytes of each id ([`NodeId::head`]), by index: what a walk
    /// over a table orders contacts by. Eight heads share a cache line
    /// where about three ids do, so the random reads of a walk over a
    /// simulated table mostly hit the cache, and the ids themselves are
    /// read only for the contacts it returns.
    heads: Arc<[u64]>,
}

impl Directory {
    /// The directory of nodes `0..ids.len()`, node `i` having id `ids[i]`.
    ///
    /// Indices from 2³¹ up cannot be stored as shared slots; contacts of
    /// such nodes are kept by each table instead, which is correct but
    /// loses the saving.
    pub fn new(ids: Vec<NodeId>) -> Directory {
        let heads = ids.iter().map(NodeId::head).collect();
        Directory {
            ids: ids.into(),
            heads,
        }
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether it names no node.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The id of node `index`.
    pub fn id(&self, index: u32) -> Option<&NodeId> {
        self.ids.get(index as usize)
    }

    /// The directory index of `contact`: the node at its address, if that
    /// node has the contact's id.
    ///
    /// The address must be exactly the one [`Contact::simulated`] gives that
    /// index, for a shared slot gives its contact back from the index alone.
    pub fn index_of(&self, contact: &Contact) -> Option<u32> {
        let index = contact.simulated_index()?;
        let known = index < OWN && self.ids.get(index as usize) == Some(&contact.id);
        (known && Contact::simulated(contact.id, index) == *contact).then_some(index)
    }
}

/// Slots at or above this are the table's own contacts.
const OWN: u32 = 1 << 31;

/// A 4-byte reference to a contact in a [`Book`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Slot(u32);

impl Slot {
    fn is_own(self) -> bool {
        self.0 >= OWN
    }

    /// The slot itself if it is a shared one: a contact kept as its own
    /// slot has no shared slot, or [`Book::admit`] would have used it.
    pub(crate) fn shared(self) -> Option<Slot> {
        (!self.is_own()).then_some(self)
    }
}

/// A table's contacts: the shared directory, if any, and the contacts it
/// keeps itself in a slab whose free places are reused, so that a UDP node
/// seeing millions of ids over its life holds only what its buckets hold.
///
/// Every own slot belongs to exactly one place (an entry, a replacement, a
/// pending candidate); whoever drops it from that place calls
/// [`Book::release`].
#[derive(Clone, Debug, Default)]
pub(crate) struct Book {
    directory: Option<Directory>,
    own: Vec<Contact>,
    free: Vec<u32>,
}

impl Book {
    /// A book over `directory` (or none: every contact is kept here).
    pub(crate) fn new(directory: Option<Directory>) -> Book {
        Book {
            directory,
            own: Vec::new(),
            free: Vec::new(),
        }
    }

    /// The shared slot of `contact`, if the directory has it.
    pub(crate) fn shared(&self, contact: &Contact) -> Option<Slot> {
        self.directory
            .as_ref()
            .and_then(|d| d.index_of(contact))
            .map(Slot)
    }

    /// A slot for `contact`: its shared slot, or a new own one.
    pub(crate) fn admit(&mut self, contact: Contact) -> Slot {
        if let Some(slot) = self.shared(&contact) {
            return slot;
        }
        match self.free.pop() {
            Some(i) => {
                self.own[i as usize] = contact;
                Slot(OWN | i)
            }
            None => {
                let i = self.own.len() as u32;
                self.own.push(contact);
                Slot(OWN | i)
            }
        }
    }

    /// `slot` is no longer referred to: an own slot's place is reused.
    pub(crate) fn release(&mut self, slot: Slot) {
        if slot.is_own() {
            self.free.push(slot.0 & !OWN);
        }
    }

    /// The contact `slot` refers to.
    pub(crate) fn contact(&self, slot: Slot) -> Contact {
        if slot.is_own() {
            self.own[(slot.0 & !OWN) as usize]
        } else {
            let id = self.shared_id(slot);
            Contact::simulated(id, slot.0)
        }
    }

    /// The id of the contact `slot` refers to.
    pub(crate) fn id(&self, slot: Slot) -> NodeId {
        if slot.is_own() {
            self.own[(slot.0 & !OWN) as usize].id
        } else {
            self.shared_id(slot)
        }
    }

    /// The first 8 bytes of the id of the contact `slot` refers to
    /// ([`NodeId::head`]).
    pub(crate) fn head(&self, slot: Slot) -> u64 {
        if slot.is_own() {
            self.own[(slot.0 & !OWN) as usize].id.head()
        } else {
            // A shared slot is only ever made by `shared`, from this
            // directory.
            self.directory
                .as_ref()
                .and_then(|d| d.heads.get(slot.0 as usize))
                .copied()
                .unwrap_or(0)
        }
    }

    fn shared_id(&self, slot: Slot) -> NodeId {
        // A shared slot is only ever made by `shared`, from this directory.
        self.directory
            .as_ref()
            .and_then(|d| d.id(slot.0))
            .copied()
            .unwrap_or(NodeId::ZERO)
    }

    /// Whether `slot` refers to a contact with `id` and, when `shared` is
    /// the contact's own shared slot, the fast way: a shared slot other than
    /// it belongs to another node (directory ids are distinct), so only own
    /// slots need their id compared.
    pub(crate) fn holds(&self, slot: Slot, id: &NodeId, shared: Option<Slot>) -> bool {
        match shared {
            Some(s) if !slot.is_own() => slot == s,
            _ => self.id(slot) == *id,
        }
    }

    /// Whether slots `a` and `b` refer to contacts with the same id: for
    /// two shared slots, whether they are the same slot.
    pub(crate) fn same(&self, a: Slot, b: Slot) -> bool {
        if a.is_own() || b.is_own() {
            self.id(a) == self.id(b)
        } else {
            a == b
        }
    }

    /// Own slots in use: what the table's consistency checks count.
    #[cfg(test)]
    pub(crate) fn own_in_use(&self) -> usize {
        self.own.len() - self.free.len()
    }
}
