//! Adversaries in the simulated network: colluding liars, droppers,
//! stale-contact flooders, and Sybils placed to eclipse one key.
//!
//! The model follows S/Kademlia's evaluation (Baumgart & Mies, 2007): a
//! fraction f of nodes, chosen by seed, collude. Asked for the closest
//! nodes to a key, an adversary answers only with other adversaries, the
//! ones closest to the key, so a lookup that meets one is pulled into the
//! adversaries' part of the network; asked for a value, it says "not
//! found"; it never stores anything. Adversaries are always up: an attacker
//! runs stable machines, and churn would only hide the attack.

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
}

impl fmt::Display for AdversaryMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AdversaryMode::Collude => "collude",
            AdversaryMode::Drop => "drop",
            AdversaryMode::StaleFlood => "stale-flood",
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
            _ => Err(format!(
                "{s:?} is not an adversary mode; use collude, drop or stale-flood"
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
            let mut id = NodeId::random(&mut rng);
            let shared = rng.gen_range(2..12);
            id.0[..shared].copy_from_slice(&target.0[..shared]);
            out.push(Contact::simulated(id, (nodes + i) as u32));
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
}
