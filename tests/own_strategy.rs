//! A strategy written outside the crate, as a user's crate would write it,
//! runs through everything the built-in ones run through: the simulator,
//! the compare report, sweeps, traces, the stress harness and the accuracy
//! measurement. Only public items are used here, so this test fails to
//! compile if any of them goes private.

use std::collections::BTreeMap;
use std::time::Duration;

use kadlab::contact::Contact;
use kadlab::id::{Distance, NodeId};
use kadlab::lookup::{
    Contender, EndReason, Lookup, LookupConfig, LookupContext, Rule, Step, StrategyName,
};
use kadlab::report::Report;
use kadlab::sim::{self, SimConfig};
use kadlab::time::Time;

/// One request at a time to the closest contact not yet asked among the k
/// closest known; done when the k closest known that did not fail have all
/// answered. The paper's rule at α = 1, without its widening.
struct OneByOne {
    k: usize,
    shortlist: BTreeMap<Distance, (Contact, Option<bool>)>,
    waiting: bool,
}

impl OneByOne {
    fn new(k: usize, target: &NodeId, seeds: &[Contact]) -> OneByOne {
        OneByOne {
            k,
            shortlist: seeds
                .iter()
                .map(|c| (c.id.distance(target), (*c, None)))
                .collect(),
            waiting: false,
        }
    }

    /// The k closest that have not failed.
    fn window(&self) -> impl Iterator<Item = &(Contact, Option<bool>)> {
        self.shortlist
            .values()
            .filter(|(_, answered)| *answered != Some(false))
            .take(self.k)
    }
}

impl Rule for OneByOne {
    const NAME: &'static str = "one-by-one";

    fn on_response(&mut self, ctx: &LookupContext, from: Contact, contacts: &[Contact]) {
        self.waiting = false;
        if let Some(entry) = self.shortlist.get_mut(&ctx.distance(&from.id)) {
            entry.1 = Some(true);
        }
        for c in contacts {
            self.shortlist
                .entry(ctx.distance(&c.id))
                .or_insert((*c, None));
        }
    }

    fn on_failure(&mut self, ctx: &LookupContext, from: Contact) {
        self.waiting = false;
        if let Some(entry) = self.shortlist.get_mut(&ctx.distance(&from.id)) {
            entry.1 = Some(false);
        }
    }

    fn step(&mut self, ctx: &mut LookupContext, _now: Time) -> Step {
        if self.waiting {
            return Step::Wait(None);
        }
        if self.shortlist.is_empty() {
            return Step::Finish(EndReason::NoContacts);
        }
        let next = self
            .window()
            .find(|(c, answered)| answered.is_none() && !ctx.was_contacted(&c.id))
            .map(|(c, _)| *c);
        match next {
            Some(c) => {
                self.waiting = true;
                Step::Send(vec![c])
            }
            None if self.window().count() == self.k => Step::Finish(EndReason::Converged),
            None => Step::Finish(EndReason::Exhausted),
        }
    }

    fn result(&self, _ctx: &LookupContext) -> Vec<Contact> {
        self.window()
            .filter(|(_, answered)| *answered == Some(true))
            .map(|(c, _)| *c)
            .collect()
    }

    fn parallelism(&self) -> usize {
        1
    }

    fn phase(&self, _ctx: &LookupContext) -> String {
        "one request at a time, closest first".to_string()
    }
}

fn one_by_one(k: usize) -> Contender {
    Contender::new(
        "one-by-one",
        format!("k={k}"),
        move |table, target, mode| {
            let config = LookupConfig {
                k,
                ..LookupConfig::default()
            };
            let seeds = table.closest(&target, k);
            let spec = config.spec(*table.local_id(), target, mode);
            Box::new(Lookup::new(spec, &seeds, OneByOne::new(k, &target, &seeds)))
        },
    )
    .with_k(k)
}

fn small_network() -> SimConfig {
    SimConfig {
        nodes: 1_000,
        lookups: 100,
        value_lookups: 20,
        warmup_duration: Duration::from_secs(1_800),
        lookup_window: Duration::from_secs(1_800),
        ..SimConfig::default()
    }
}

#[test]
fn an_outside_rule_runs_beside_the_built_ins_in_the_simulator_and_the_report() {
    let config = small_network();
    let kademlia = Contender::from(LookupConfig::default().with_strategy(StrategyName::Kademlia));
    let contenders = vec![kademlia, one_by_one(config.k)];
    let records = sim::compare(&config, &contenders, &|| ());
    let [paper, ours] = &records[..] else {
        panic!("one record list per contender")
    };
    assert_eq!(paper.len(), ours.len());
    assert!(ours.iter().all(|r| r.strategy == "one-by-one"));
    // Every figure is filled in for the outside rule too.
    let mean = |rs: &[kadlab::sim::LookupRecord], f: fn(&kadlab::sim::LookupRecord) -> f64| {
        rs.iter().map(f).sum::<f64>() / rs.len() as f64
    };
    let recall = mean(ours, |r| r.recall);
    let rpcs = mean(ours, |r| f64::from(r.rpcs));
    assert!(recall > 0.8, "one-by-one recall {recall}");
    assert!(rpcs >= 20.0, "it asks at least the k it returns: {rpcs}");
    assert!(ours.iter().all(|r| r.rounds == 0 || r.latency_ms > 0));
    let exact = mean(ours, |r| f64::from(u8::from(r.exact)));
    assert!(exact > 0.8, "exact {exact}");
    let values: Vec<_> = ours.iter().filter_map(|r| r.value_found).collect();
    assert_eq!(values.len(), 20);
    assert!(values.iter().filter(|&&v| v).count() >= 18, "{values:?}");
    // One request at a time: the longest chain is its request count when
    // nothing overlaps.
    assert!(ours.iter().all(|r| r.rounds <= r.rpcs));
    assert!(mean(ours, |r| f64::from(r.rounds)) > mean(paper, |r| f64::from(r.rounds)));

    let report = Report::new(config.settings(), &contenders, &records);
    let table = report.to_table();
    assert!(table.contains("one-by-one"), "{table}");
    assert!(table.contains("k=20"), "{table}");
    let json = report.to_json();
    assert!(json.contains("\"name\": \"one-by-one\""), "{json}");
    assert_eq!(report.to_csv().lines().count(), 3);
}

/// The same rule with a parameter of its own: how many of the closest
/// contacts it starts from.
fn one_by_one_from(seeds: usize) -> Contender {
    Contender::new(
        "one-by-one",
        format!("seeds={seeds}"),
        move |table, target, mode| {
            let seeds = table.closest(&target, seeds);
            let spec = LookupConfig::default().spec(*table.local_id(), target, mode);
            Box::new(Lookup::new(
                spec,
                &seeds,
                OneByOne::new(20, &target, &seeds),
            ))
        },
    )
}

#[test]
fn an_outside_rule_is_swept_over_a_parameter_of_its_own() {
    let config = SimConfig {
        lookups: 60,
        value_lookups: 0,
        ..small_network()
    };
    let values = [1, 5, 20];
    let points = sim::sweep(&config, &values, one_by_one_from, &|| ());
    assert_eq!(points.len(), values.len());
    let recall: Vec<f64> = points
        .iter()
        .map(|rs| rs.iter().map(|r| r.recall).sum::<f64>() / rs.len() as f64)
        .collect();
    // Starting from one contact, a dead seed ends a lookup with nothing;
    // from twenty, some seed is always alive.
    assert!(recall[0] < recall[2], "{recall:?}");
    let empty =
        |rs: &[kadlab::sim::LookupRecord]| rs.iter().filter(|r| r.result.is_empty()).count();
    assert!(empty(&points[0]) > empty(&points[2]), "{recall:?}");
}

#[test]
fn an_outside_rule_is_traced() {
    let config = SimConfig {
        nodes: 500,
        lookups: 1,
        value_lookups: 0,
        ..small_network()
    };
    let net = std::sync::Arc::new(sim::build_network(&config));
    let tasks = sim::make_tasks(&net, &config);
    let trace = kadlab::trace::trace_lookup(&net, &tasks[0], &one_by_one(config.k));
    assert_eq!(trace.strategy, "one-by-one");
    assert!(!trace.requests.is_empty());
    assert_eq!(trace.requests.len() as u32, trace.outcome.stats.requests);
    let sent: Vec<Time> = trace.requests.iter().map(|r| r.sent).collect();
    assert!(
        sent.windows(2).all(|w| w[0] < w[1]),
        "one at a time: {sent:?}"
    );
}

#[test]
fn an_outside_rule_goes_through_the_stress_harness() {
    let config = kadlab::stress::StressConfig {
        lookups: 2_000,
        bootstraps: 40,
        threads: 1,
        ..kadlab::stress::StressConfig::default()
    };
    let kademlia = Contender::from(LookupConfig::default().with_strategy(StrategyName::Kademlia));
    let report = kadlab::stress::run_contenders(&config, &[one_by_one(20), kademlia], &|_| {})
        .expect("a valid configuration");
    assert!(report.passed(), "{}", report.to_json());
    assert_eq!(report.strategies, ["one-by-one", "kademlia"]);
    let ended: u64 = report.ended["one-by-one"].values().sum();
    assert_eq!(ended, 1_000, "every other lookup is ours");
    assert!(!report.ended["one-by-one"].contains_key(&EndReason::ContractBroken));
    assert!(report.bootstrap_ended["one-by-one"].values().sum::<u64>() > 0);
}

#[test]
fn an_outside_rule_is_measured_by_the_accuracy_bench_functions() {
    use kadlab::accuracy::{Cycle, Setting};
    let setting = Setting::new(
        "small",
        SimConfig {
            nodes: 500,
            lookups: 30,
            value_lookups: 0,
            ..small_network()
        },
    );
    let mut cycle = Cycle::new(&setting, one_by_one(20));
    let costs = cycle.run(10);
    assert_eq!(costs.len(), 10);
    assert_eq!(
        costs.iter().map(|c| c.position).collect::<Vec<_>>(),
        (0..10).collect::<Vec<_>>()
    );
    // It asks at least the k it returns, one by one, and misses little on a
    // small churned network.
    assert!(costs.iter().all(|c| c.rpcs >= 20), "{costs:?}");
    let misses: u64 = costs.iter().map(|c| c.misses).sum();
    assert!(misses < 10 * 20 / 5, "{misses} misses in 10 lookups");
    // The same lookups from a fresh copy cost the same.
    let again = Cycle::new(&setting, one_by_one(20)).run(10);
    assert_eq!(
        again.iter().map(|c| (c.rpcs, c.misses)).collect::<Vec<_>>(),
        costs.iter().map(|c| (c.rpcs, c.misses)).collect::<Vec<_>>()
    );
}
