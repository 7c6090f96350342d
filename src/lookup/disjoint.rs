//! `disjoint` — S/Kademlia's lookup over d disjoint paths (Baumgart &
//! Mies, 2007), the reference for lookups under attack.
//!
//! The rule (docs/ALGORITHMS.md §5):
//! - the k closest routing-table contacts are dealt round-robin to d
//!   paths, closest first: contact i goes to path i mod d;
//! - each path runs the paper's rule ([`Path`], as in `kademlia`) with its
//!   own shortlist and its own α in flight;
//! - a node is used by at most one path, the first to claim it: a path
//!   claims a contact when it adds it to its shortlist (from the start, or
//!   from a reply), and ignores contacts another path has claimed; a path
//!   that has ended claims nothing more (a late reply to it is recorded,
//!   its contacts are not taken from the paths still running);
//! - the lookup ends when every path has ended; one path's failures never
//!   hold up the others. Result: the k closest nodes that answered, over
//!   all paths.
//!
//! Choices the paper leaves open, made here:
//! - claiming on learning (not on asking) keeps the paths disjoint in what
//!   they *know*, not only in whom they ask, which is what makes a path
//!   that meets an adversary unable to pass its lies to another path;
//! - the lookup ends `Converged` when the paths together found k answering
//!   nodes (no single path need: on a network whose k closest are already
//!   known, the seeds *are* the answer, dealt over d paths), `NoContacts`
//!   if no path had a contact, and `Exhausted` otherwise;
//! - with d larger than the number of starting contacts, the extra paths
//!   start empty and end at once;
//! - the reply cap, as in `kademlia`: a reply of more than k contacts
//!   breaks the protocol; kadlab keeps its k closest (counted in
//!   `LookupStats::truncated_replies`).

use hashbrown::HashMap;

use crate::contact::Contact;
use crate::id::NodeId;
use crate::lookup::context::LookupContext;
use crate::lookup::kademlia::Path;
use crate::lookup::machine::{Rule, Step};
use crate::lookup::outcome::EndReason;
use crate::time::Time;

/// Parameters of `disjoint`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DisjointParams {
    /// α: requests in flight per path while it makes progress.
    pub alpha: usize,
    /// d: number of disjoint paths.
    pub paths: usize,
}

/// S/Kademlia's disjoint-path rule.
#[derive(Clone, Debug)]
pub struct Disjoint {
    k: usize,
    paths: Vec<Path>,
    ended: Vec<Option<EndReason>>,
    owner: HashMap<NodeId, usize>,
}

impl Disjoint {
    /// Start from `seeds`, the k closest contacts of the routing table
    /// (closest first).
    pub fn new(params: DisjointParams, k: usize, target: NodeId, seeds: &[Contact]) -> Disjoint {
        let d = params.paths.max(1);
        let mut owner = HashMap::with_capacity(seeds.len() * 4);
        let mut dealt: Vec<Vec<Contact>> = vec![Vec::new(); d];
        for (i, &c) in seeds.iter().enumerate() {
            owner.insert(c.id, i % d);
            dealt[i % d].push(c);
        }
        Disjoint {
            k,
            paths: dealt
                .iter()
                .map(|seeds| Path::new(params.alpha, k, target, seeds))
                .collect(),
            ended: vec![None; d],
            owner,
        }
    }

    /// The paths, in order.
    pub fn paths(&self) -> &[Path] {
        &self.paths
    }

    /// Which path uses node `id`, if any.
    pub fn owner(&self, id: &NodeId) -> Option<usize> {
        self.owner.get(id).copied()
    }

    /// How each path ended so far (`None`: still running).
    pub fn ended(&self) -> &[Option<EndReason>] {
        &self.ended
    }
}

impl Rule for Disjoint {
    const NAME: &'static str = "disjoint";

    fn on_response(&mut self, ctx: &LookupContext, from: Contact, contacts: &[Contact]) {
        let Some(p) = self.owner(&from.id) else {
            return;
        };
        if self.ended[p].is_some() {
            // A late reply to a path that has ended (its request had left
            // the path's window): the path asks nobody again, so it claims
            // nothing, and leaves what the reply brings to the paths still
            // running, which learn of it only from their own replies.
            self.paths[p].on_response(ctx, &from, &[]);
            return;
        }
        let mut own = Vec::with_capacity(contacts.len());
        for &c in contacts {
            match self.owner.entry(c.id) {
                hashbrown::hash_map::Entry::Occupied(e) if *e.get() != p => continue,
                hashbrown::hash_map::Entry::Occupied(_) => {}
                hashbrown::hash_map::Entry::Vacant(e) => {
                    e.insert(p);
                }
            }
            own.push(c);
        }
        self.paths[p].on_response(ctx, &from, &own);
    }

    fn on_failure(&mut self, ctx: &LookupContext, from: Contact) {
        if let Some(p) = self.owner(&from.id) {
            self.paths[p].on_failure(ctx, &from);
        }
    }

    fn step(&mut self, _ctx: &mut LookupContext, _now: Time) -> Step {
        let mut batch = Vec::new();
        for (path, ended) in self.paths.iter_mut().zip(self.ended.iter_mut()) {
            if ended.is_some() {
                continue;
            }
            match path.step() {
                Step::Send(contacts) => batch.extend(contacts),
                Step::Finish(reason) => *ended = Some(reason),
                Step::Wait(_) => {}
            }
        }
        if !batch.is_empty() {
            return Step::Send(batch);
        }
        if self.ended.iter().any(Option::is_none) {
            return Step::Wait(None);
        }
        let reasons = || self.ended.iter().flatten();
        let answered: usize = self.paths.iter().map(|p| p.responders().count()).sum();
        Step::Finish(if answered >= self.k {
            EndReason::Converged
        } else if reasons().all(|r| *r == EndReason::NoContacts) {
            EndReason::NoContacts
        } else {
            EndReason::Exhausted
        })
    }

    fn result(&self, _ctx: &LookupContext) -> Vec<Contact> {
        // Lookup sorts the union by distance and cuts it to k.
        self.paths
            .iter()
            .flat_map(|p| p.responders().take(self.k))
            .collect()
    }

    fn parallelism(&self) -> usize {
        self.paths.iter().map(Path::parallelism).sum()
    }

    /// The path that claimed `id` ([`Disjoint::owner`]): claims are never
    /// given back, so after the lookup it still tells which path sent each
    /// request.
    fn path_of(&self, id: &NodeId) -> Option<usize> {
        self.owner(id)
    }

    fn phase(&self, _ctx: &LookupContext) -> String {
        let paths: Vec<String> = self
            .paths
            .iter()
            .zip(&self.ended)
            .enumerate()
            .map(|(i, (path, ended))| {
                // Counted from 1, for people.
                let n = i + 1;
                match ended {
                    Some(reason) => format!("path {n} ended {reason}"),
                    None if path.is_widened() => format!("path {n} widened"),
                    None => format!("path {n} running"),
                }
            })
            .collect();
        format!(
            "{} disjoint paths, each the paper's rule: {}",
            self.paths.len(),
            paths.join(", ")
        )
    }
}
