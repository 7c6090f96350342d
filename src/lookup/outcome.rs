//! What a finished lookup reports.

use std::fmt;

use serde::Serialize;

use crate::contact::Contact;
use crate::id::NodeId;
use crate::lookup::contract::Breach;
use crate::time::Time;

/// Why a lookup stopped. Every lookup ends with exactly one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum EndReason {
    /// The strategy's stopping rule was met (nothing closer, k answered, …).
    Converged,
    /// No contact was left to ask before the rule was met.
    Exhausted,
    /// The strategy's request budget was used up.
    BudgetSpent,
    /// A FIND_VALUE lookup received a value that verifies against the target.
    ValueFound,
    /// The routing table had no contact to start from.
    NoContacts,
    /// The strategy broke the contract every strategy keeps (see
    /// [`crate::lookup::contract`]); the outcome's `breach` says how. Only
    /// a strategy written outside the crate, or a bug, ends this way.
    ContractBroken,
}

impl EndReason {
    /// Every reason, in report order.
    pub const ALL: [EndReason; 6] = [
        EndReason::Converged,
        EndReason::Exhausted,
        EndReason::BudgetSpent,
        EndReason::ValueFound,
        EndReason::NoContacts,
        EndReason::ContractBroken,
    ];
}

impl fmt::Display for EndReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Counters of one lookup: what it cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LookupStats {
    /// Requests sent, including those that failed or timed out.
    pub requests: u32,
    /// Valid replies received.
    pub responses: u32,
    /// Requests that got no valid reply: error, unreachable or timeout.
    pub failures: u32,
    /// Longest chain of request→reply (or timeout) the lookup waited on:
    /// a request to a routing-table contact is depth 1, a request to a
    /// contact first learned from a depth-d reply is depth d + 1.
    pub rounds: u32,
    /// Replies and failures for nodes with no request in flight (late,
    /// duplicate or unsolicited); they change nothing.
    pub ignored: u32,
    /// Replies that carried more than k contacts and were cut to the k
    /// closest.
    pub truncated_replies: u32,
    /// FIND_VALUE replies whose value did not hash to the target.
    pub bad_values: u32,
}

/// The result of a finished lookup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LookupOutcome {
    /// The key looked up.
    pub target: NodeId,
    /// The strategy's answer: sorted by distance to the target, distinct, at
    /// most k, never the local node. What it *contains* (responders only, or
    /// anything seen) is the strategy's rule.
    pub result: Vec<Contact>,
    /// Why the lookup stopped.
    pub reason: EndReason,
    /// What it cost.
    pub stats: LookupStats,
    /// The verified value, for [`EndReason::ValueFound`].
    pub value: Option<Vec<u8>>,
    /// When it finished (in the driver's time).
    pub finished_at: Time,
    /// For [`EndReason::ContractBroken`]: which promise was broken.
    pub breach: Option<Breach>,
}
