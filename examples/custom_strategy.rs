//! `custom_strategy` — bring your own strategy: a lookup rule written
//! outside kadlab, compared with the built-in ones and told step by step.
//!
//! ```sh
//! cargo run --release --example custom_strategy
//! ```
//!
//! This file uses kadlab's public API only, as a crate of your own would
//! (`kadlab::…` paths, nothing crate-private), and walks through the four
//! steps of "Your own strategy" in the README:
//!
//! 1. **a rule** ([`GreedyFallback`], a `kadlab::lookup::Rule`): only the
//!    decisions — whom to ask next, when to stop, what to return.
//!    `kadlab::lookup::Lookup` wraps it and does the bookkeeping every
//!    strategy shares: cleaning replies, per-request timeouts, never asking
//!    a node twice, statistics, and the lookup contract
//!    (`kadlab::lookup::contract`), which ends a rule that breaks it with
//!    `EndReason::ContractBroken` instead of letting it spin or hang;
//! 2. **a contender** ([`greedy_fallback`]): the rule under a name and a
//!    parameter string, with a factory that starts one lookup from a
//!    node's routing table;
//! 3. **a comparison**: the contender and the five built-in strategies on
//!    the same simulated network and lookups (`kadlab::sim::compare`),
//!    summed up in `kadlab compare`'s table (`kadlab::report::Report`);
//! 4. **a narration**: one lookup of the rule told step by step by
//!    `kadlab::narrate`, on the small network of the other examples.
//!
//! The rule, *greedy α = 1 with a fallback*: start from the k closest
//! contacts of the routing table; send one request at a time, to the
//! closest contact not asked yet among the k closest known (failed ones
//! left out). The first failure, or the first reply that brings nothing
//! closer than what was already known, ends the greedy walk: from then on,
//! keep α = 3 requests in flight. Finish when the k closest known contacts
//! (failed ones left out) have all answered, and return them — every
//! returned node answered. A greedy walk is cheap while every hop gets
//! closer, and slow when it meets an offline node (a whole timeout with
//! nothing else in flight); the fallback bounds that cost.
//!
//! The comparison runs on the default network of `kadlab compare` shrunk to
//! 2,000 nodes, 200 FIND_NODE and 50 FIND_VALUE lookups ([`network`]),
//! which runs in seconds in release (the 10,000-node default takes
//! minutes), so its figures are not those of the README's other tables.

use std::collections::BTreeMap;
use std::io::{self, Write};

use kadlab::contact::Contact;
use kadlab::id::{Distance, NodeId};
use kadlab::lookup::{
    Contender, EndReason, Lookup, LookupConfig, LookupContext, LookupSpec, Rule, Step,
    StrategyName, DEFAULT_RPC_TIMEOUT,
};
use kadlab::narrate;
use kadlab::report::Report;
use kadlab::sim::{self, SimConfig};
use kadlab::time::Time;

/// Requests in flight once the greedy walk has ended: the α of the paper.
const FALLBACK_ALPHA: usize = 3;

/// Where a contact stands in the rule's shortlist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Unasked,
    Asked,
    Answered,
    Failed,
}

/// Greedy α = 1 with a fallback to α = 3 (see the top of this file).
pub struct GreedyFallback {
    k: usize,
    /// Every contact heard of, closest first, and where it stands.
    known: BTreeMap<Distance, (Contact, Status)>,
    /// Why the greedy walk ended, once it has.
    fell_back: Option<&'static str>,
}

impl GreedyFallback {
    /// Start from `seeds`, the routing table's closest contacts to the
    /// target of `spec`.
    pub fn new(spec: &LookupSpec, seeds: &[Contact]) -> GreedyFallback {
        let known = seeds
            .iter()
            .map(|c| (c.id.distance(&spec.target), (*c, Status::Unasked)))
            .collect();
        GreedyFallback {
            k: spec.k,
            known,
            fell_back: None,
        }
    }

    /// The k closest contacts known, failed ones left out: the contacts
    /// the rule asks, waits for and returns.
    fn window(&self) -> impl Iterator<Item = &(Contact, Status)> + '_ {
        self.known
            .values()
            .filter(|(_, s)| *s != Status::Failed)
            .take(self.k)
    }

    fn set(&mut self, ctx: &LookupContext, id: &NodeId, status: Status) {
        if let Some(entry) = self.known.get_mut(&ctx.distance(id)) {
            entry.1 = status;
        }
    }

    fn fall_back(&mut self, why: &'static str) {
        self.fell_back.get_or_insert(why);
    }
}

impl Rule for GreedyFallback {
    const NAME: &'static str = "greedy-fallback";

    fn on_response(&mut self, ctx: &LookupContext, from: Contact, contacts: &[Contact]) {
        self.set(ctx, &from.id, Status::Answered);
        let best_before = self.window().next().map(|(c, _)| ctx.distance(&c.id));
        for c in contacts {
            self.known
                .entry(ctx.distance(&c.id))
                .or_insert((*c, Status::Unasked));
        }
        let best_after = self.window().next().map(|(c, _)| ctx.distance(&c.id));
        if best_after >= best_before {
            self.fall_back("a reply brought nothing closer");
        }
    }

    fn on_failure(&mut self, ctx: &LookupContext, from: Contact) {
        self.set(ctx, &from.id, Status::Failed);
        self.fall_back("a request failed");
    }

    fn step(&mut self, ctx: &mut LookupContext, _now: Time) -> Step {
        if self.known.is_empty() {
            return Step::Finish(EndReason::NoContacts);
        }
        if self.window().all(|(_, s)| *s == Status::Answered) {
            // Every failed contact was left out, so an empty window means
            // there was nobody left to ask.
            return Step::Finish(if self.window().next().is_some() {
                EndReason::Converged
            } else {
                EndReason::Exhausted
            });
        }
        let room = self.parallelism().saturating_sub(ctx.in_flight());
        let batch: Vec<Contact> = self
            .window()
            .filter(|(_, s)| *s == Status::Unasked)
            .map(|(c, _)| *c)
            .take(room)
            .collect();
        if !batch.is_empty() {
            for c in &batch {
                self.set(ctx, &c.id, Status::Asked);
            }
            return Step::Send(batch);
        }
        // The contract: a wait needs a request in flight. With none, every
        // contact of the window has answered or been asked and ended, which
        // the check above has caught; this keeps the rule safe regardless.
        if ctx.in_flight() > 0 {
            Step::Wait(None)
        } else {
            Step::Finish(EndReason::Exhausted)
        }
    }

    fn result(&self, _ctx: &LookupContext) -> Vec<Contact> {
        self.window()
            .filter(|(_, s)| *s == Status::Answered)
            .map(|(c, _)| *c)
            .collect()
    }

    fn parallelism(&self) -> usize {
        if self.fell_back.is_some() {
            FALLBACK_ALPHA
        } else {
            1
        }
    }

    fn phase(&self, _ctx: &LookupContext) -> String {
        match self.fell_back {
            None => format!(
                "greedy: one request at a time, to the closest unasked of the k={} closest known",
                self.k
            ),
            Some(why) => format!(
                "fallback ({why}): α={FALLBACK_ALPHA} in flight until the k={} closest known have all answered",
                self.k
            ),
        }
    }
}

/// The rule as a contender for lookups of `k` nodes: its name and
/// parameters for the reports, and the factory that starts a lookup from
/// a node's routing table.
pub fn greedy_fallback(k: usize) -> Contender {
    let params = format!("alpha=1→{FALLBACK_ALPHA} seeds={k} k={k}");
    Contender::new(GreedyFallback::NAME, params, move |table, target, mode| {
        let spec = LookupSpec {
            local: *table.local_id(),
            target,
            mode,
            k,
            rpc_timeout: DEFAULT_RPC_TIMEOUT,
        };
        let seeds = table.closest(&target, k);
        let rule = GreedyFallback::new(&spec, &seeds);
        Box::new(Lookup::new(spec, &seeds, rule))
    })
    .with_k(k)
}

/// The comparison's network: `kadlab compare`'s default, shrunk to 2,000
/// nodes and 250 lookups so that the example runs in seconds.
pub fn network() -> SimConfig {
    SimConfig {
        nodes: 2_000,
        lookups: 200,
        value_lookups: 50,
        ..SimConfig::default()
    }
}

/// Compare the rule with the built-in strategies on `config` and print the
/// table, then tell one of its lookups on the examples' small network.
pub fn story(out: &mut impl Write, config: &SimConfig) -> io::Result<()> {
    let mut contenders: Vec<Contender> = StrategyName::ALL
        .into_iter()
        .map(|s| Contender::from(LookupConfig::default().with_strategy(s)))
        .collect();
    contenders.push(greedy_fallback(config.k));
    let records = sim::compare(config, &contenders, &|| ());
    let report = Report::new(config.settings(), &contenders, &records);
    writeln!(out, "{}", report.to_table())?;
    narrate::tell(out, &greedy_fallback(narrate::network().k))?;
    Ok(())
}

fn main() -> io::Result<()> {
    story(&mut io::stdout().lock(), &network())
}
