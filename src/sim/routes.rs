//! Which requests each path of a lookup sent, judged by S/Kademlia's
//! success criterion.
//!
//! S/Kademlia (Baumgart & Mies, 2007) counts a lookup over d disjoint paths
//! as successful when at least one path never sent a request to an
//! adversary, and models it as 1 − (1 − (1 − f)^h)^d: a path is a route of
//! h hops to the target, lost at its first adversary. A kadlab path runs the
//! paper's rule to its end: after its greedy phase it widens and asks every
//! unasked contact among its k closest, about k + h requests in all, so the
//! literal "never asked an adversary" would need some (1 − f)^(k+h) and says
//! more about k than about routing. [`PathRoute`] therefore tells both:
//!
//! - the **route** of a path is the requests it sent before its first reply
//!   that brought nothing closer than what the path already knew — the
//!   reply that makes it widen. With α = 1 that is exactly its greedy hop
//!   chain, the h hops of the model, ending at the node that knows nothing
//!   closer to the target; the paper criterion is "some path's route sent
//!   no request to an adversary" ([`PathRoute::route_clean`]);
//! - the strict figure is "some path sent no request at all to an
//!   adversary" ([`PathRoute::clean`]), reported beside it so nothing is
//!   hidden.
//!
//! "Closer" is judged as the path judges it: only contacts that belong to
//! the path count ([`LookupStrategy::path_of`]; a `disjoint` path ignores
//! contacts another path claimed), compared with the closest contact the
//! path knew, starting from the closest of its first requests (its closest
//! starting contact). A request "to an adversary" is one sent to an
//! adversary's address, whatever id the contact claims.
//!
//! [`LookupStrategy::path_of`]: crate::lookup::LookupStrategy::path_of

use std::collections::BTreeMap;

use hashbrown::HashMap;

use crate::contact::Contact;
use crate::driver::{DriverEvent, DriverObserver};
use crate::id::{Distance, NodeId};

/// A lookup's requests and replies in the order they happened: the
/// [`DriverObserver`] the attack experiments run each lookup with, judged
/// afterwards with [`RequestLog::paths`] (which path sent a request is only
/// known from the strategy, and the driver holds the strategy while it
/// runs).
#[derive(Clone, Debug, Default)]
pub struct RequestLog {
    entries: Vec<Entry>,
}

#[derive(Clone, Debug)]
enum Entry {
    Sent(Vec<Contact>),
    Replied(Contact, Vec<Contact>),
}

impl DriverObserver for RequestLog {
    fn event(&mut self, event: DriverEvent) {
        match event {
            DriverEvent::Sent(_, contacts) => self.entries.push(Entry::Sent(contacts)),
            DriverEvent::Replied(_, from, contacts) => {
                self.entries.push(Entry::Replied(from, contacts));
            }
            DriverEvent::Failed(..) | DriverEvent::Phase(..) | DriverEvent::Finished(..) => {}
        }
    }
}

/// What one path of a lookup sent, as the attack experiments judge it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PathRoute {
    /// Requests the path sent.
    pub requests: u32,
    /// Requests of the path that went to an adversary's address.
    pub to_adversaries: u32,
    /// Requests of its route: those sent before its first reply that
    /// brought nothing closer (all of them if no such reply came).
    pub route: u32,
    /// Requests of the route that went to an adversary's address.
    pub route_to_adversaries: u32,
    /// Hops of the route: its longest request→reply chain from a starting
    /// contact (the h of S/Kademlia's model); with α = 1, `route` itself.
    pub hops: u32,
}

impl PathRoute {
    /// The paper's criterion for this path: it has a route, and no request
    /// of the route went to an adversary.
    pub fn route_clean(&self) -> bool {
        self.route > 0 && self.route_to_adversaries == 0
    }

    /// The strict criterion: the path sent requests, none to an adversary.
    pub fn clean(&self) -> bool {
        self.requests > 0 && self.to_adversaries == 0
    }
}

/// A path while the log is replayed.
#[derive(Default)]
struct Replay {
    path: PathRoute,
    /// Closest contact the path knew (`None` before its first request).
    best: Option<Distance>,
    /// Its first reply without progress has come: its route is over.
    widened: bool,
}

impl RequestLog {
    /// Replay the log of a lookup of `target` by `local`: one
    /// [`PathRoute`] per path, in path order (a single-path strategy has
    /// one). `path_of` is the finished strategy's
    /// [`path_of`](crate::lookup::LookupStrategy::path_of); `adversary`
    /// tells whether a request to a contact reaches an adversary.
    pub fn paths(
        &self,
        target: &NodeId,
        local: &NodeId,
        path_of: impl Fn(&NodeId) -> Option<usize>,
        adversary: impl Fn(&Contact) -> bool,
    ) -> Vec<PathRoute> {
        let mut paths: BTreeMap<Option<usize>, Replay> = BTreeMap::new();
        // Chain length that led to each contact, as the lookup counts its
        // rounds (0: a contact sent to before any reply named it, which is
        // a starting contact).
        let mut depth: HashMap<NodeId, u32> = HashMap::new();
        for entry in &self.entries {
            match entry {
                Entry::Sent(contacts) => {
                    for c in contacts {
                        let replay = paths.entry(path_of(&c.id)).or_default();
                        let d = c.id.distance(target);
                        // A path's first requests go to its closest
                        // starting contacts, closest first.
                        replay.best = Some(replay.best.map_or(d, |b| b.min(d)));
                        let hit = u32::from(adversary(c));
                        replay.path.requests += 1;
                        replay.path.to_adversaries += hit;
                        if !replay.widened {
                            let hops = depth.get(&c.id).copied().unwrap_or(0) + 1;
                            replay.path.route += 1;
                            replay.path.route_to_adversaries += hit;
                            replay.path.hops = replay.path.hops.max(hops);
                        }
                    }
                }
                Entry::Replied(from, contacts) => {
                    let key = path_of(&from.id);
                    let next = depth.get(&from.id).copied().unwrap_or(0) + 1;
                    let replay = paths.entry(key).or_default();
                    let mut progress = false;
                    for c in contacts.iter().filter(|c| c.id != *local) {
                        depth.entry(c.id).or_insert(next);
                        let d = c.id.distance(target);
                        if path_of(&c.id) == key && replay.best.is_none_or(|b| d < b) {
                            replay.best = Some(d);
                            progress = true;
                        }
                    }
                    replay.widened |= !progress;
                }
            }
        }
        paths.into_values().map(|r| r.path).collect()
    }
}
