//! Adversaries in the simulated network: colluding liars, droppers,
//! stale-contact flooders, forgers, and Sybils placed to eclipse one key.
//!
//! The model follows S/Kademlia's evaluation (Baumgart & Mies, 2007): a
//! fraction f of nodes, chosen by seed, collude. Asked for the closest
//! nodes to a key, an adversary answers only with other adversaries, the
//! ones closest to the key, so a lookup that meets one is pulled into the
//! adversaries' part of the network; asked for a value, it says "not
//! found"; it never stores anything. Adversaries are always up: an attacker
//! runs stable machines, and churn would only hide the attack.
//!
//! Requests are delivered by address (see
//! [`SimNetwork::outbound`](crate::sim::SimNetwork::outbound)): an adversary answers
//! whatever id the contact it was asked under claims, so it can hand out
//! contacts with any id at its own address and answer as that id when asked
//! there. Ids are not bound to addresses or keys in Kademlia (S/Kademlia
//! binds them with signatures; kadlab does not), so nothing tells such a
//! contact from a real one until the result is checked against the truth.

use std::fmt;
use std::str::FromStr;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::contact::Contact;
use crate::id::{NodeId, ID_LEN};
use crate::sim::SimNetwork;
use crate::time::Time;

/// How adversaries answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AdversaryMode {
    /// Answer FIND_NODE with the adversaries closest to the target, GET
    /// with "not found" (and the same contacts).
    #[default]
    Collude,
    /// Never answer (they look dead, but stay in tables until evicted).
    Drop,
    /// Answer with contacts that waste the lookup's requests: made-up ids
    /// close to the target at addresses where nobody listens, and nodes
    /// that are down.
    StaleFlood,
    /// Answer FIND_NODE and GET with k forged contacts: made-up ids sharing
    /// their first 2 to 11 bytes with the target (in a network of fewer
    /// than 2^16 nodes, closer than every honest node), each at the address
    /// of an adversary, which answers as that id when asked there. Every reply is drawn afresh (see
    /// [`SimNetwork::forge`]), so no two replies, and no two lookups, see
    /// the same lies, and claiming ids one reply at a time (as `disjoint`
    /// does) cannot use the attack up. Every contact leads to an
    /// adversary, as in S/Kademlia's evaluation, where adversaries point
    /// lookups at other adversaries.
    Forge,
}

impl fmt::Display for AdversaryMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AdversaryMode::Collude => "collude",
            AdversaryMode::Drop => "drop",
            AdversaryMode::StaleFlood => "stale-flood",
            AdversaryMode::Forge => "forge",
        })
    }
}

impl FromStr for AdversaryMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "collude" => Ok(AdversaryMode::Collude),
            "drop" => Ok(AdversaryMode::Drop),
            "stale-flood" => Ok(AdversaryMode::StaleFlood),
            "forge" => Ok(AdversaryMode::Forge),
            _ => Err(format!(
                "{s:?} is not an adversary mode; use collude, drop, stale-flood or forge"
            )),
        }
    }
}

/// Who the adversaries are and how they behave.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Adversaries {
    /// Fraction f of the `nodes` that are adversaries, 0 to 1.
    pub fraction: f64,
    /// How they answer.
    pub mode: AdversaryMode,
    /// Eclipse attack: the key the Sybils surround. FIND_NODE lookups then
    /// all look it up.
    pub eclipse: Option<NodeId>,
    /// Number of Sybils: extra adversaries (beyond `nodes`) whose ids share
    /// their first 64 bits with `eclipse`, closer to it than any honest
    /// node of a realistic network.
    pub sybils: usize,
}

impl Adversaries {
    /// Whether the network has any adversary.
    pub fn any(&self) -> bool {
        self.fraction > 0.0 || self.sybils > 0
    }
}

/// A Sybil id close to `target`: its first 8 bytes, then random bytes.
pub(crate) fn sybil_id<R: Rng + ?Sized>(target: &NodeId, rng: &mut R) -> NodeId {
    let mut id = NodeId::random(rng);
    id.0[..8].copy_from_slice(&target.0[..8]);
    if id == *target {
        id.0[ID_LEN - 1] ^= 1;
    }
    id
}

impl SimNetwork {
    /// Contacts a stale-flooding adversary `n` hands out at `now` for
    /// `target`: half made-up ids sharing a long prefix with the target
    /// (attractive to every strategy) at addresses beyond the network, half
    /// random nodes that are down. Drawn from a generator seeded by (seed,
    /// n, now), so the same run floods the same way.
    pub(crate) fn stale_flood(&self, n: u32, now: Time, target: &NodeId) -> Vec<Contact> {
        let (k, nodes) = (self.k, self.nodes.len());
        let mut rng = ChaCha8Rng::seed_from_u64(
            self.seed ^ (u64::from(n) << 32) ^ now.since_epoch().as_micros() as u64,
        );
        let mut out = Vec::with_capacity(k);
        for i in 0..k / 2 {
            out.push(Contact::simulated(
                made_up_id(target, &mut rng),
                (nodes + i) as u32,
            ));
        }
        for _ in 0..k * 8 {
            if out.len() == k {
                break;
            }
            let m = rng.gen_range(0..nodes as u32);
            if !self.answers(m, now) {
                out.push(self.nodes[m as usize].contact);
            }
        }
        out
    }

    /// Contacts a forging adversary `n` hands out at `now` for `target` when
    /// asked under the id `claimed` (see [`AdversaryMode::Forge`]): k
    /// made-up contacts, closest first, each at the address of an adversary
    /// drawn at random. Drawn from a generator seeded by (seed, n, now, claimed ⊕
    /// target), so a run is reproducible while two requests of a lookup —
    /// which never go to the same id twice — and two lookups get different
    /// lies.
    pub fn forge(&self, n: u32, claimed: &NodeId, now: Time, target: &NodeId) -> Vec<Contact> {
        let k = self.k;
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&self.seed.to_le_bytes());
        seed[8..12].copy_from_slice(&n.to_le_bytes());
        let micros = now.since_epoch().as_micros() as u64;
        seed[12..20].copy_from_slice(&micros.to_le_bytes());
        for (s, (c, t)) in seed[20..].iter_mut().zip(claimed.0.iter().zip(&target.0)) {
            *s = c ^ t;
        }
        let mut rng = ChaCha8Rng::from_seed(seed);
        let mut ids: Vec<NodeId> = (0..k).map(|_| made_up_id(target, &mut rng)).collect();
        ids.sort_by_key(|id| id.distance(target));
        ids.into_iter()
            .map(|id| {
                let at = self.some_adversary(n, &mut rng);
                Contact::new(id, self.nodes[at as usize].contact.addr)
            })
            .collect()
    }

    /// A random adversary, found by drawing nodes until one is (64 draws at
    /// most, then adversary `n` itself): cheap for any f worth studying, and
    /// needs no list of adversaries.
    fn some_adversary<R: Rng + ?Sized>(&self, n: u32, rng: &mut R) -> u32 {
        (0..64)
            .map(|_| rng.gen_range(0..self.nodes.len() as u32))
            .find(|&m| self.nodes[m as usize].adversary)
            .unwrap_or(n)
    }

    /// Whether a request to `contact` reaches an adversary: the node
    /// listening at its address is one, whatever id the contact claims.
    pub fn is_adversary_at(&self, contact: &Contact) -> bool {
        self.listener(contact)
            .is_some_and(|n| self.nodes[n as usize].adversary)
    }
}

/// A made-up id sharing its first 2 to 11 bytes with `target` (never the
/// target itself): in a network of fewer than 2^16 nodes, almost always
/// closer than every honest node, and, the shared length varying, not all
/// equally close.
fn made_up_id<R: Rng + ?Sized>(target: &NodeId, rng: &mut R) -> NodeId {
    let mut id = NodeId::random(rng);
    let shared = rng.gen_range(2..12);
    id.0[..shared].copy_from_slice(&target.0[..shared]);
    if id == *target {
        id.0[ID_LEN - 1] ^= 1;
    }
    id
}
