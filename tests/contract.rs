//! Strategies that break the lookup contract end with
//! `EndReason::ContractBroken`, are counted, and never hang or spin: each
//! broken rule below is written outside the crate, as a user would, and
//! run through the sans-IO machine, the simulator and the shared driver.

use std::time::Duration;

use kadlab::contact::Contact;
use kadlab::id::NodeId;
use kadlab::lookup::{
    Breach, Contender, EndReason, Lookup, LookupAction, LookupConfig, LookupContext, LookupMode,
    LookupOutcome, LookupStats, LookupStrategy, Reply, Rule, Step,
};
use kadlab::routing::RoutingTable;
use kadlab::sim::{self, SimConfig};
use kadlab::time::Time;

/// How each broken rule breaks the contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    /// Sends its first seed, then sends it again.
    AsksTwice,
    /// Sends nothing at all: an empty batch.
    SendsNothing,
    /// Waits for nothing, with no request in flight.
    WaitsForNothing,
    /// Waits for a deadline that is already past.
    WaitsForThePast,
    /// Returns a contact it never heard of.
    InventsAResult,
}

/// A one-request rule that breaks the contract the way its `fault` says,
/// after asking its closest seed once (so the breach comes mid-lookup, not
/// at the first poll).
struct Broken {
    fault: Fault,
    seeds: Vec<Contact>,
    asked: bool,
}

impl Rule for Broken {
    const NAME: &'static str = "broken";

    fn on_response(&mut self, _ctx: &LookupContext, _from: Contact, _contacts: &[Contact]) {}

    fn on_failure(&mut self, _ctx: &LookupContext, _from: Contact) {}

    fn step(&mut self, ctx: &mut LookupContext, now: Time) -> Step {
        let Some(&first) = self.seeds.first() else {
            return Step::Finish(EndReason::NoContacts);
        };
        if !self.asked {
            self.asked = true;
            return Step::Send(vec![first]);
        }
        if ctx.in_flight() > 0 && self.fault != Fault::WaitsForThePast {
            return Step::Wait(None);
        }
        match self.fault {
            Fault::AsksTwice => Step::Send(vec![first]),
            Fault::SendsNothing => Step::Send(Vec::new()),
            Fault::WaitsForNothing => Step::Wait(None),
            Fault::WaitsForThePast => Step::Wait(Some(now)),
            Fault::InventsAResult => Step::Finish(EndReason::Converged),
        }
    }

    fn result(&self, _ctx: &LookupContext) -> Vec<Contact> {
        match self.fault {
            Fault::InventsAResult => vec![Contact::simulated(NodeId::from_sha1(b"made up"), 7)],
            _ => self.seeds.clone(),
        }
    }

    fn parallelism(&self) -> usize {
        1
    }

    fn phase(&self, _ctx: &LookupContext) -> String {
        format!("breaking the contract: {:?}", self.fault)
    }
}

fn broken(fault: Fault) -> Contender {
    Contender::new(
        format!("broken-{fault:?}"),
        "",
        move |table, target, mode| {
            let seeds = table.closest(&target, 3);
            let spec = LookupConfig::default().spec(*table.local_id(), target, mode);
            Box::new(Lookup::new(
                spec,
                &seeds,
                Broken {
                    fault,
                    seeds: seeds.clone(),
                    asked: false,
                },
            ))
        },
    )
}

const FAULTS: [(Fault, Breach); 5] = [
    (Fault::AsksTwice, Breach::AskedTwice),
    (Fault::SendsNothing, Breach::EmptySend),
    (Fault::WaitsForNothing, Breach::WaitedForNothing),
    (Fault::WaitsForThePast, Breach::WaitedForPast),
    (Fault::InventsAResult, Breach::UnknownResult),
];

fn contact(name: &str, n: u32) -> Contact {
    Contact::simulated(NodeId::from_sha1(name.as_bytes()), n)
}

/// Drive a lookup by hand: each request is answered, with no contacts, at
/// the lookup's next wait. Returns the outcome, or `None` if it did not
/// finish within a hundred polls (a spin).
fn drive(lookup: &mut dyn LookupStrategy) -> Option<LookupOutcome> {
    let mut now = Time::ZERO;
    let mut pending = Vec::new();
    for _ in 0..100 {
        match lookup.poll(now) {
            LookupAction::Finished(outcome) => return Some(outcome),
            LookupAction::Send(to) => pending.extend(to),
            LookupAction::Wait(_) => {
                now = now + Duration::from_millis(10);
                for c in pending.drain(..) {
                    lookup.on_response(&c.id, Reply::nodes(&[]), now);
                }
            }
        }
    }
    None
}

#[test]
fn each_broken_promise_ends_the_lookup_with_its_breach() {
    let local = NodeId::from_sha1(b"local");
    let target = NodeId::from_sha1(b"target");
    let seeds = [contact("a", 1), contact("b", 2)];
    for (fault, breach) in FAULTS {
        let mut table = RoutingTable::new(local, Default::default(), Time::ZERO);
        for s in seeds {
            let _ = table.update(s, Time::ZERO);
        }
        let mut lookup = broken(fault).start(&table, target, LookupMode::FindNode);
        let outcome = drive(&mut *lookup).unwrap_or_else(|| panic!("{fault:?} spun"));
        assert_eq!(outcome.reason, EndReason::ContractBroken, "{fault:?}");
        assert_eq!(outcome.breach, Some(breach), "{fault:?}");
        assert_eq!(
            outcome.stats.requests, 1,
            "{fault:?}: only the first send went out"
        );
        // Finished stays finished, with the same outcome.
        assert_eq!(
            lookup.poll(Time::from_millis(10_000)),
            LookupAction::Finished(outcome)
        );
    }
}

#[test]
fn broken_contenders_run_through_the_simulator_and_every_lookup_is_counted() {
    let config = SimConfig {
        nodes: 300,
        lookups: 20,
        value_lookups: 5,
        warmup_duration: Duration::from_secs(60),
        lookup_window: Duration::from_secs(600),
        ..SimConfig::default()
    };
    let contenders: Vec<Contender> = FAULTS.iter().map(|&(f, _)| broken(f)).collect();
    let records = sim::compare(&config, &contenders, &|| ());
    for ((fault, _), records) in FAULTS.iter().zip(&records) {
        assert_eq!(records.len(), 25, "{fault:?}: every lookup has a record");
        // A FIND_VALUE lookup whose first reply carries the value ends
        // with it before the rule gets to break anything.
        let (values, nodes): (Vec<_>, Vec<_>) =
            records.iter().partition(|r| r.value_found.is_some());
        assert_eq!((nodes.len(), values.len()), (20, 5), "{fault:?}");
        assert!(
            nodes.iter().all(|r| r.reason == EndReason::ContractBroken),
            "{fault:?}: {:?}",
            nodes.iter().map(|r| r.reason).collect::<Vec<_>>()
        );
        assert!(
            values
                .iter()
                .all(|r| matches!(r.reason, EndReason::ContractBroken | EndReason::ValueFound)),
            "{fault:?}"
        );
    }
}

/// A strategy that implements `LookupStrategy` directly, without `Lookup`:
/// the shared driver holds it to the contract itself.
struct Raw {
    target: NodeId,
    seed: Contact,
    polls: u32,
    fault: Fault,
}

impl LookupStrategy for Raw {
    fn name(&self) -> &'static str {
        "raw"
    }
    fn target(&self) -> &NodeId {
        &self.target
    }
    fn on_response(&mut self, _from: &NodeId, _reply: Reply<'_>, _now: Time) -> bool {
        true
    }
    fn on_failure(&mut self, _from: &NodeId, _now: Time) -> bool {
        true
    }
    fn poll(&mut self, now: Time) -> LookupAction {
        self.polls += 1;
        match (self.polls, self.fault) {
            (1, _) => LookupAction::Send(vec![self.seed]),
            (_, Fault::AsksTwice) => LookupAction::Send(vec![self.seed]),
            (_, Fault::WaitsForThePast) => LookupAction::Wait(Some(now)),
            _ => LookupAction::Wait(None),
        }
    }
    fn in_flight(&self) -> usize {
        0
    }
    fn parallelism(&self) -> usize {
        1
    }
    fn stats(&self) -> LookupStats {
        LookupStats::default()
    }
}

#[test]
fn the_driver_holds_a_raw_strategy_to_the_contract() {
    let config = SimConfig {
        nodes: 200,
        lookups: 10,
        value_lookups: 0,
        warmup_duration: Duration::from_secs(60),
        lookup_window: Duration::from_secs(300),
        ..SimConfig::default()
    };
    for (fault, breach) in [
        (Fault::AsksTwice, Breach::AskedTwice),
        (Fault::WaitsForThePast, Breach::WaitedForPast),
        (Fault::WaitsForNothing, Breach::WaitedForNothing),
    ] {
        let raw = Contender::new("raw", format!("{fault:?}"), move |table, target, _mode| {
            let seed = table.closest(&target, 1)[0];
            Box::new(Raw {
                target,
                seed,
                polls: 0,
                fault,
            })
        });
        let net = std::sync::Arc::new(sim::build_network(&config));
        let tasks = sim::make_tasks(&net, &config);
        let outcome = tasks[0].run(&net, &raw, &mut ());
        assert_eq!(outcome.reason, EndReason::ContractBroken, "{fault:?}");
        assert_eq!(outcome.breach, Some(breach), "{fault:?}");
    }
}

#[test]
fn the_built_in_strategies_keep_the_contract_on_the_simulator() {
    let config = SimConfig {
        nodes: 500,
        lookups: 50,
        value_lookups: 10,
        loss: 0.1,
        warmup_duration: Duration::from_secs(600),
        ..SimConfig::default()
    };
    let contenders: Vec<Contender> = kadlab::lookup::StrategyName::ALL
        .iter()
        .map(|s| Contender::from(LookupConfig::default().with_strategy(*s)))
        .collect();
    let records = sim::compare(&config, &contenders, &|| ());
    for (c, records) in contenders.iter().zip(&records) {
        assert!(!records.is_empty());
        assert!(
            records
                .iter()
                .all(|r| r.reason != EndReason::ContractBroken),
            "{} broke the contract",
            c.name()
        );
    }
}

#[test]
fn the_stress_harness_reports_contenders_that_break_the_contract() {
    let config = kadlab::stress::StressConfig {
        lookups: 1_000,
        bootstraps: 20,
        threads: 1,
        ..kadlab::stress::StressConfig::default()
    };
    let contenders: Vec<Contender> = FAULTS.iter().map(|&(f, _)| broken(f)).collect();
    let report = kadlab::stress::run_contenders(&config, &contenders, &|_| {})
        .expect("a valid configuration");
    assert_eq!(report.hung, 0, "{}", report.to_json());
    // One row per contender, each with its share of the lookups; those
    // whose rule got to break the contract (not every lookup gets that
    // far: some find no seed or the value first) end ContractBroken.
    for (fault, _) in FAULTS {
        let row = &report.ended[&format!("broken-{fault:?}")];
        assert_eq!(row.values().sum::<u64>(), 200, "{fault:?}");
        let broken = row.get(&EndReason::ContractBroken).copied().unwrap_or(0);
        assert!(broken > 100, "{fault:?}: {row:?}");
    }
    assert!(
        kadlab::stress::run_contenders(&config, &[], &|_| {}).is_err(),
        "no contender is refused"
    );
}
