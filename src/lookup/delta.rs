//! `delta` — the delta-bounded best-effort lookup.
//!
//! Source: the seed's first example, cfromknecht/kademlia's
//! `IterativeFindNode(target, delta)` (Go). The rule
//! (docs/ALGORITHMS.md §1):
//!
//! 1. take the δ closest contacts from the routing table; they are *seen*,
//!    go in the result set and in the *frontier* (closest first);
//! 2. keep at most δ requests in flight, always asking the closest frontier
//!    contact;
//! 3. every contact in a reply not seen before is marked seen, added to the
//!    result set and pushed on the frontier;
//! 4. stop asking when the frontier is empty or `budget` requests were sent,
//!    then wait only for the requests already in flight;
//! 5. return the k closest of **everything seen**, answered or not.
//!
//! Rule 5 is why this lookup's accuracy collapses under churn: it happily
//! returns nodes that never answered, or were never even asked. kadlab keeps
//! that behaviour because it is the seed's, and reports it (stale results).
//!
//! Deliberate deviations from the seed code:
//! - the seed allocates `make(Contacts, BucketSize)` for the result and the
//!   frontier, so both start with k zero-id contacts; not reproduced;
//! - the seed blocks forever on a request that never returns; here every
//!   request has a timeout (kept by [`Lookup`](crate::lookup::Lookup));
//! - the seed has no budget: it asks until the frontier is empty. Its
//!   commentary reads δ as "ask about δ nodes, then give up", which
//!   docs/ALGORITHMS.md models as `budget` (default [`Budget::K`]: k
//!   requests, whatever k is);
//!   [`Budget::Unlimited`] is the literal code, with one safety stop: at most
//!   [`UNLIMITED_CEILING_PER_K`]·k requests. Without it a lookup never ends
//!   when nodes keep answering with ids nobody asked yet (a liar, or a
//!   network larger than the lookup can cover): the stress harness found
//!   such lookups sending 1.4 M requests. On the default simulated network
//!   the literal rule needs 93 requests on average (k = 20, 231 at p95), far
//!   below the 1,000 of the ceiling;
//! - the seed would add (and ask) the local node if a reply contained it;
//!   kadlab never asks or returns itself;
//! - the reply cap: the seed takes every contact of a reply; kadlab keeps
//!   the k closest of a reply that holds more (counted in
//!   `LookupStats::truncated_replies`).

use hashbrown::HashSet;

use crate::contact::Contact;
use crate::id::NodeId;
use crate::lookup::config::Budget;
use crate::lookup::context::LookupContext;
use crate::lookup::machine::{Rule, Step};
use crate::lookup::outcome::EndReason;
use crate::lookup::queue::ClosestQueue;
use crate::time::Time;

/// With [`Budget::Unlimited`], `delta` still stops after this many
/// requests per unit of k (see the module notes).
pub const UNLIMITED_CEILING_PER_K: usize = 50;

/// Parameters of `delta`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeltaParams {
    /// δ: requests in flight, and the number of routing-table contacts the
    /// lookup starts from.
    pub delta: usize,
    /// How many requests the lookup may send in all.
    pub budget: Budget,
}

/// The delta-bounded best-effort rule.
#[derive(Clone, Debug)]
pub struct Delta {
    params: DeltaParams,
    frontier: ClosestQueue,
    seen: HashSet<NodeId>,
    /// Everything seen, in the order it was seen (the seed's `ret`).
    seen_contacts: Vec<Contact>,
}

impl Delta {
    /// Start from `seeds`, the δ closest contacts of the routing table.
    pub fn new(params: DeltaParams, target: NodeId, seeds: &[Contact]) -> Delta {
        let mut rule = Delta {
            params,
            frontier: ClosestQueue::new(target),
            seen: HashSet::new(),
            seen_contacts: Vec::new(),
        };
        for &c in seeds {
            rule.see(c);
        }
        rule
    }

    fn see(&mut self, contact: Contact) {
        if self.seen.insert(contact.id) {
            self.seen_contacts.push(contact);
            self.frontier.push(contact);
        }
    }

    /// Contacts seen but not yet asked.
    pub fn frontier_len(&self) -> usize {
        self.frontier.len()
    }

    /// The most requests the lookup may send in all.
    fn limit(&self, ctx: &LookupContext) -> usize {
        match self.params.budget {
            Budget::K => ctx.k(),
            Budget::Requests(b) => b as usize,
            Budget::Unlimited => UNLIMITED_CEILING_PER_K * ctx.k(),
        }
    }

    fn budget_left(&self, ctx: &LookupContext) -> usize {
        self.limit(ctx)
            .saturating_sub(ctx.stats().requests as usize)
    }
}

impl Rule for Delta {
    const NAME: &'static str = "delta";

    fn on_response(&mut self, _ctx: &LookupContext, _from: Contact, contacts: &[Contact]) {
        for &c in contacts {
            self.see(c);
        }
    }

    fn on_failure(&mut self, _ctx: &LookupContext, _from: Contact) {
        // The seed's goroutine reports an empty answer: `pending` drops and
        // the failed node stays in the result set (rule 5).
    }

    fn step(&mut self, ctx: &mut LookupContext, _now: Time) -> Step {
        if self.seen_contacts.is_empty() {
            return Step::Finish(EndReason::NoContacts);
        }
        let room = self
            .params
            .delta
            .saturating_sub(ctx.in_flight())
            .min(self.budget_left(ctx));
        let batch = self.frontier.take(room);
        if !batch.is_empty() {
            return Step::Send(batch);
        }
        if ctx.in_flight() > 0 {
            return Step::Wait(None);
        }
        if self.frontier.is_empty() {
            Step::Finish(EndReason::Exhausted)
        } else {
            Step::Finish(EndReason::BudgetSpent)
        }
    }

    fn result(&self, _ctx: &LookupContext) -> Vec<Contact> {
        self.seen_contacts.clone()
    }

    fn parallelism(&self) -> usize {
        self.params.delta
    }

    fn phase(&self, ctx: &LookupContext) -> String {
        let budget = match self.params.budget {
            Budget::Unlimited => format!(
                "nothing is left to ask (or, as a safety stop, after {} requests)",
                self.limit(ctx)
            ),
            Budget::K | Budget::Requests(_) => format!(
                "its budget of {} requests is spent or nothing is left to ask",
                self.limit(ctx)
            ),
        };
        format!(
            "up to δ={} in flight, always the closest contact not yet asked; stops when {budget}, and returns the k closest of everything seen, answered or not",
            self.params.delta
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lookup::{
        LookupAction, LookupConfig, LookupMode, LookupOutcome, Reply, StrategyName,
    };

    /// Run a `delta` lookup of `config` where every reply names three ids
    /// nobody has named before, so only the budget can end it.
    fn flood(config: &LookupConfig) -> LookupOutcome {
        let id = |n: u32| NodeId::from_sha1(&n.to_be_bytes());
        let spec = config.spec(id(0), id(1), LookupMode::FindNode);
        let mut lookup = config.start_from(spec, &[Contact::simulated(id(2), 2)]);
        let mut next = 3;
        let now = Time::ZERO;
        loop {
            match lookup.poll(now) {
                LookupAction::Send(to) => {
                    for c in to {
                        let fresh: Vec<Contact> = (0..3)
                            .map(|i| Contact::simulated(id(next + i), next + i))
                            .collect();
                        next += 3;
                        lookup.on_response(&c.id, Reply::nodes(&fresh), now);
                    }
                }
                LookupAction::Wait(_) => panic!("every request was answered"),
                LookupAction::Finished(outcome) => break outcome,
            }
        }
    }

    /// Nodes that keep naming ids nobody has asked yet would keep the
    /// literal rule going for ever; the safety stop ends it.
    #[test]
    fn without_a_budget_a_lookup_still_stops_at_the_ceiling() {
        let config = LookupConfig {
            strategy: StrategyName::Delta,
            k: 4,
            budget: Budget::Unlimited,
            ..LookupConfig::default()
        };
        let outcome = flood(&config);
        assert_eq!(outcome.reason, EndReason::BudgetSpent);
        assert_eq!(outcome.stats.requests as usize, UNLIMITED_CEILING_PER_K * 4);
    }

    /// The default budget is k requests, whatever k is: with k = 16 (the
    /// eclipse presets) a lookup that would go on stops at 16, and reports
    /// print `budget=16`.
    #[test]
    fn the_default_budget_follows_k() {
        for k in [1, 16, 20, 40] {
            let config = LookupConfig {
                strategy: StrategyName::Delta,
                k,
                ..LookupConfig::default()
            };
            let outcome = flood(&config);
            assert_eq!(outcome.reason, EndReason::BudgetSpent, "k = {k}");
            assert_eq!(outcome.stats.requests as usize, k);
            assert_eq!(
                config.describe(),
                format!("delta=3 budget={k} seeds=3 k={k}")
            );
        }
        // A budget given explicitly does not follow k.
        let config = LookupConfig {
            strategy: StrategyName::Delta,
            k: 16,
            budget: Budget::Requests(20),
            ..LookupConfig::default()
        };
        assert_eq!(flood(&config).stats.requests, 20);
    }

    #[test]
    fn budgets_parse_from_numbers_k_and_none() {
        let parse = |text: &str| {
            crate::config::ConfigFile::parse(&format!("[lookup]\n{text}\n"))
                .map(|f| f.lookup.budget)
        };
        assert_eq!(parse("").unwrap(), Budget::K);
        assert_eq!(parse("budget = 40").unwrap(), Budget::Requests(40));
        assert_eq!(parse("budget = \"k\"").unwrap(), Budget::K);
        assert_eq!(parse("budget = \"none\"").unwrap(), Budget::Unlimited);
        for bad in ["budget = 0", "budget = \"K\"", "budget = -3"] {
            let error = parse(bad).unwrap_err().to_string();
            assert!(error.contains("\"k\" (as many as k"), "{bad}: {error}");
        }
        assert_eq!("k".parse::<Budget>().unwrap(), Budget::K);
        assert_eq!(Budget::K.to_string(), "k");
        assert_eq!(Budget::K.for_k(16), Budget::Requests(16));
        assert_eq!(Budget::Unlimited.for_k(16), Budget::Unlimited);
    }
}
