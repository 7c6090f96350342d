//! A min-heap of contacts by distance to the target: the "frontier" of
//! `delta` and the "queue" of `k-active`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::contact::Contact;
use crate::id::{Distance, NodeId};

/// Contacts waiting to be asked, closest to the target first.
#[derive(Clone, Debug)]
pub(crate) struct ClosestQueue {
    target: NodeId,
    heap: BinaryHeap<Reverse<(Distance, Contact)>>,
}

impl ClosestQueue {
    pub(crate) fn new(target: NodeId) -> ClosestQueue {
        ClosestQueue {
            target,
            heap: BinaryHeap::new(),
        }
    }

    pub(crate) fn push(&mut self, contact: Contact) {
        self.heap
            .push(Reverse((contact.id.distance(&self.target), contact)));
    }

    pub(crate) fn pop(&mut self) -> Option<Contact> {
        self.heap.pop().map(|Reverse((_, c))| c)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }

    /// Pop contacts until `room` are taken or the queue is empty.
    pub(crate) fn take(&mut self, room: usize) -> Vec<Contact> {
        std::iter::from_fn(|| self.pop()).take(room).collect()
    }
}
