//! Lookup strategies: sans-IO state machines that find the k closest nodes.
//!
//! Every strategy answers the same question — which k live nodes are closest
//! to a target? — and differs only in whom it asks next and when it stops.
//! The rules are written out in `docs/ALGORITHMS.md`; each module here says
//! which seed it follows and where (and why) it deviates.
//!
//! # Shape
//!
//! A strategy is driven like libp2p-kad's `ClosestPeersIter` or quinn-proto's
//! `Connection`: the caller tells it what happened and asks what to do.
//!
//! ```text
//!   loop {
//!       match lookup.poll(now) {
//!           LookupAction::Send(contacts) => send FIND_NODE (or GET) to each,
//!           LookupAction::Wait(deadline) => wait for a reply or the deadline,
//!           LookupAction::Finished(outcome) => break outcome,
//!       }
//!       // a reply:   lookup.on_response(&from, Reply::nodes(&contacts), now)
//!       // a failure: lookup.on_failure(&from, now)
//!   }
//! ```
//!
//! The state machine owns no socket, no task and no clock: `now` is passed
//! in, and a request that outlives its timeout is failed by the next `poll`
//! at or after its deadline. The same code therefore runs over UDP, inside
//! the simulator, and in scenario tests that script every reply.
//!
//! # Writing a strategy
//!
//! A strategy is a [`Rule`] — only the decisions — wrapped in [`Lookup`],
//! which does the bookkeeping every strategy shares and must get right:
//! filtering replies (the local node, duplicates, unsolicited replies),
//! per-request timeouts, never asking a node twice, statistics, value
//! verification, tracing, and returning a result that is sorted, distinct,
//! at most k long and free of the local node.
//!
//! [`crate::guide`] walks through writing one outside this crate, entering
//! it as a [`Contender`], comparing it with the built-in strategies and
//! having its lookups told by [`crate::narrate`].

mod config;
mod contender;
mod context;
pub mod contract;
pub mod delta;
pub mod disjoint;
pub mod gated;
pub mod k_active;
pub mod kademlia;
mod machine;
mod outcome;
pub mod query_rest;
mod queue;

pub use config::{
    Budget, ConfigError, LookupConfig, StrategyName, DEFAULT_BETA, DEFAULT_HEDGE_MS,
    DEFAULT_VOUCHES, MAX_K,
};
pub use contender::{Contender, Factory};
pub use context::{LookupContext, LookupSpec, DEFAULT_RPC_TIMEOUT};
pub use contract::Breach;
pub use machine::{Lookup, Rule, Step};
pub use outcome::{EndReason, LookupOutcome, LookupStats};

use crate::contact::Contact;
use crate::id::NodeId;
use crate::time::Time;

/// What a lookup asks for: the k closest nodes, or a value stored under the
/// target (BEP 44 `get`) with the closest nodes as a by-product.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LookupMode {
    /// FIND_NODE: finish when the strategy's stopping rule says so.
    FindNode,
    /// FIND_VALUE: the same walk, finishing early with
    /// [`EndReason::ValueFound`] once a reply carries a value that verifies.
    FindValue,
}

/// What a node answered to a lookup request.
#[derive(Clone, Copy, Debug, Default)]
pub struct Reply<'a> {
    /// Contacts it returned as closer to the target.
    pub contacts: &'a [Contact],
    /// A value it holds for the target, if asked for one.
    pub value: Option<&'a [u8]>,
}

impl<'a> Reply<'a> {
    /// A reply carrying only contacts (a FIND_NODE answer).
    pub fn nodes(contacts: &'a [Contact]) -> Reply<'a> {
        Reply {
            contacts,
            value: None,
        }
    }
}

/// What the driver should do next.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use = "a lookup makes progress only if its actions are carried out"]
pub enum LookupAction {
    /// Send a request to each of these contacts, now. None of them has been
    /// asked before in this lookup.
    Send(Vec<Contact>),
    /// Nothing to send: wait for a reply, a failure, or this deadline (when
    /// `Some`, always after now), then poll again. `None` means only a reply
    /// or failure can move the lookup on. A wait is only ever returned with
    /// a request in flight ([`contract`]).
    Wait(Option<Time>),
    /// The lookup is over. Polling again returns the same outcome.
    Finished(LookupOutcome),
}

/// A lookup in progress: one strategy's state machine for one target.
///
/// Inputs (`on_*`) return whether they were relevant: `false` for a reply or
/// failure from a node that has no request in flight (a late, duplicate or
/// unsolicited message), which changes nothing.
pub trait LookupStrategy: Send {
    /// The strategy's name as configured (`"k-active"`, …).
    fn name(&self) -> &'static str;

    /// The key being looked up.
    fn target(&self) -> &NodeId;

    /// A node answered a request of this lookup.
    fn on_response(&mut self, from: &NodeId, reply: Reply<'_>, now: Time) -> bool;

    /// A request failed: an error reply, an unreachable node, or a timeout
    /// the driver detected before the lookup's own deadline.
    fn on_failure(&mut self, from: &NodeId, now: Time) -> bool;

    /// What to do next. Call after every input and when a `Wait` deadline
    /// passes; it also fails requests whose deadline is at or before `now`.
    fn poll(&mut self, now: Time) -> LookupAction;

    /// Requests sent and not yet answered, failed or timed out.
    fn in_flight(&self) -> usize;

    /// The most requests this strategy allows in flight at this moment (α or
    /// δ; larger in the widening last round of `query-rest` and `kademlia`).
    fn parallelism(&self) -> usize;

    /// Statistics so far.
    fn stats(&self) -> LookupStats;

    /// Requests the strategy gave up on since the last call, without a reply
    /// or failure from the shell: timed out by its own deadlines, or
    /// abandoned by its rule (query-rest's round timer). The driver reports
    /// them as failures, so every request ends in exactly one event.
    fn take_gave_up(&mut self) -> Vec<Contact> {
        Vec::new()
    }

    /// Where the strategy stands, in words (its phase, round or widening),
    /// for narration. Strategies outside this crate may leave it empty.
    fn phase(&self) -> String {
        String::new()
    }

    /// Which of the strategy's paths node `id` belongs to, for a strategy
    /// that walks several separate paths (`disjoint`: the path that claimed
    /// it); `None` for a node no path holds, and always `None` (the default)
    /// for a single-path strategy, whose whole lookup is one path.
    ///
    /// Asked after a lookup, it tells which path sent each request: attack
    /// experiments judge a lookup by S/Kademlia's criterion, "some path
    /// never sent a request to an adversary", which needs exactly that.
    fn path_of(&self, _id: &NodeId) -> Option<usize> {
        None
    }
}
