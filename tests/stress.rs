//! Termination under chaos: every strategy and the bootstrap, through loss,
//! deaths, garbage, duplicate, late and unsolicited replies, must end every
//! lookup with a reason and keep the lookup invariants. `kadlab stress`
//! runs a million of these lookups; CI runs a smaller count here.
//!
//! The big run uses k = 8 (BEP 5's bucket size): a lookup's cost grows
//! about as k², and the test must stay quick in a debug build. A smaller run
//! keeps the paper's k = 20.
//!
//! The last tests feed the harness broken strategies, to show it catches
//! hangs and broken invariants instead of passing whatever it drives.

use std::time::Duration;

use kadlab::contact::Contact;
use kadlab::id::NodeId;
use kadlab::lookup::{
    EndReason, LookupAction, LookupConfig, LookupOutcome, LookupSpec, LookupStats, LookupStrategy,
    Reply, StrategyName,
};
use kadlab::stress::{self, StressConfig, StressReport};
use kadlab::time::Time;

fn config(lookups: u64, bootstraps: u64, seed: u64) -> StressConfig {
    StressConfig {
        lookups,
        bootstraps,
        seed,
        k: 8,
        ..StressConfig::default()
    }
}

fn run(config: &StressConfig) -> StressReport {
    stress::run(config, &|_| {}).expect("a valid configuration")
}

fn ended_total(ended: &stress::EndedCounts, strategy: &str) -> u64 {
    ended.get(strategy).map_or(0, |r| r.values().sum())
}

#[test]
fn every_lookup_ends_under_chaos() {
    let lookups = 20_000;
    let report = run(&config(lookups, 200, 7));
    let json = report.to_json();
    assert_eq!(report.hung, 0, "lookups hung:\n{json}");
    assert!(report.violations.is_empty(), "invariants broken:\n{json}");
    assert!(report.passed());
    assert_eq!(report.lookups, lookups);
    assert_eq!(report.bootstraps, 200);
    assert!(report.bootstrap_lookups > 200, "{json}");
    assert!(report.bootstraps_joined > 0, "{json}");
    assert!(report.find_value_lookups > 0);

    // Round-robin: every strategy ran its share, and every one of its
    // lookups ended with a reason; bootstraps used every strategy too.
    let per_strategy = lookups / StrategyName::ALL.len() as u64;
    let mut all = 0;
    for s in StrategyName::ALL {
        let total = ended_total(&report.ended, s.as_str());
        assert!(
            (per_strategy..=per_strategy + 1).contains(&total),
            "{s}: {total} lookups ended\n{json}"
        );
        all += total;
        assert!(
            ended_total(&report.bootstrap_ended, s.as_str()) > 0,
            "{s}: no bootstrap lookup\n{json}"
        );
        // Under this much chaos a strategy ends in more than one way.
        let reasons = report.ended.get(s.as_str()).map_or(0, |r| r.len());
        assert!(reasons >= 2, "{s} ended only one way\n{json}");
    }
    assert_eq!(all, lookups);
    let bootstrap_all: u64 = report
        .bootstrap_ended
        .values()
        .flat_map(|r| r.values())
        .sum();
    assert_eq!(bootstrap_all, report.bootstrap_lookups);

    // The chaos happened: every kind was injected at least once.
    for (kind, n) in &report.injected {
        assert!(*n > 0, "{kind} was never injected\n{json}");
    }
    // Strategies saw, and refused, late, duplicate and unsolicited inputs.
    assert!(report.inputs_refused > 0);
    for reason in [
        EndReason::Converged,
        EndReason::Exhausted,
        EndReason::ValueFound,
        EndReason::NoContacts,
    ] {
        assert!(
            report.ended.values().any(|r| r.contains_key(&reason)),
            "no lookup ended {reason}"
        );
    }
}

#[test]
fn every_lookup_ends_under_chaos_with_k_20() {
    let report = run(&StressConfig {
        k: 20,
        ..config(1_000, 10, 8)
    });
    assert!(report.passed(), "{}", report.to_json());
    assert_eq!(report.k, 20);
    for s in StrategyName::ALL {
        assert!(ended_total(&report.ended, s.as_str()) > 0, "{s}");
    }
}

#[test]
fn the_same_seed_gives_the_same_report_whatever_the_threads() {
    let one = StressConfig {
        threads: 1,
        ..config(600, 10, 11)
    };
    let three = StressConfig {
        threads: 3,
        ..one.clone()
    };
    let a = run(&one);
    let b = run(&three);
    assert_eq!(a, b);
    assert_eq!(a.to_json(), b.to_json());
    assert!(a.passed(), "{}", a.to_json());
    let other = run(&StressConfig { seed: 12, ..one });
    assert_ne!(a.events, other.events, "the seed changes nothing");
}

#[test]
fn one_lookup_replays_alone() {
    let config = config(30, 0, 5);
    let whole = run(&config);
    let mut ended = stress::EndedCounts::new();
    for i in 0..30 {
        let one = stress::run_range(&config, i..i + 1, 0..0, &stress::standard_factory)
            .expect("a valid configuration");
        assert_eq!(one.lookups, 1);
        for (strategy, reasons) in one.ended {
            for (reason, n) in reasons {
                *ended
                    .entry(strategy.clone())
                    .or_default()
                    .entry(reason)
                    .or_default() += n;
            }
        }
    }
    assert_eq!(ended, whole.ended);
    let boot = stress::run_range(&config, 0..0, 3..4, &stress::standard_factory)
        .expect("a valid configuration");
    assert_eq!(boot.bootstraps, 1);
}

#[test]
fn bad_configurations_are_refused() {
    for bad in [
        StressConfig {
            k: 0,
            ..StressConfig::default()
        },
        StressConfig {
            alpha: 65,
            ..StressConfig::default()
        },
        StressConfig {
            max_events: 0,
            ..StressConfig::default()
        },
    ] {
        assert!(stress::run(&bad, &|_| {}).is_err(), "{bad:?}");
    }
}

// ---- the harness catches broken strategies ---------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Broken {
    /// `Wait(None)` forever, nothing in flight.
    WaitsForNothing,
    /// `Wait(now + 1 s)` forever: never finishes, never asks.
    NeverFinishes,
    /// Asks its first contact twice, claims too many requests in flight,
    /// takes every input, and returns itself in an unsorted result.
    BreaksInvariants,
    /// Panics on its first poll.
    Panics,
}

struct Fake {
    broken: Broken,
    spec: LookupSpec,
    seeds: Vec<Contact>,
    polls: u32,
}

impl LookupStrategy for Fake {
    fn name(&self) -> &'static str {
        "fake"
    }

    fn target(&self) -> &NodeId {
        &self.spec.target
    }

    fn on_response(&mut self, _from: &NodeId, _reply: Reply<'_>, _now: Time) -> bool {
        self.broken == Broken::BreaksInvariants
    }

    fn on_failure(&mut self, _from: &NodeId, _now: Time) -> bool {
        self.broken == Broken::BreaksInvariants
    }

    fn poll(&mut self, now: Time) -> LookupAction {
        self.polls += 1;
        match self.broken {
            Broken::WaitsForNothing => LookupAction::Wait(None),
            Broken::NeverFinishes => LookupAction::Wait(Some(now + Duration::from_secs(1))),
            Broken::Panics => panic!("a broken strategy panicked (expected by this test)"),
            Broken::BreaksInvariants => match (self.polls, self.seeds.first()) {
                (1 | 2, Some(&first)) => LookupAction::Send(vec![first]),
                (1..=4, _) => LookupAction::Wait(Some(now + Duration::from_secs(1))),
                _ => {
                    let mut result = self.seeds.clone();
                    result.reverse();
                    result.push(Contact::simulated(self.spec.local, 0));
                    LookupAction::Finished(LookupOutcome {
                        target: self.spec.target,
                        result,
                        reason: EndReason::Converged,
                        stats: LookupStats::default(),
                        value: None,
                        finished_at: now,
                        breach: None,
                    })
                }
            },
        }
    }

    fn in_flight(&self) -> usize {
        match self.broken {
            Broken::BreaksInvariants => 100,
            _ => 0,
        }
    }

    fn parallelism(&self) -> usize {
        1
    }

    fn stats(&self) -> LookupStats {
        LookupStats::default()
    }
}

fn run_broken(broken: Broken, lookups: u64, bootstraps: u64) -> StressReport {
    // One thread: the harness then runs on the test's own thread, whose
    // output (the expected panic messages) the test runner captures.
    let config = StressConfig {
        max_virtual_ms: 120_000,
        threads: 1,
        ..config(lookups, bootstraps, 3)
    };
    let factory = move |_: &LookupConfig, spec: LookupSpec, seeds: &[Contact]| {
        Box::new(Fake {
            broken,
            spec,
            seeds: seeds.to_vec(),
            polls: 0,
        }) as Box<dyn LookupStrategy>
    };
    stress::run_with(&config, &factory, &|_| {}).expect("a valid configuration")
}

#[test]
fn a_strategy_waiting_for_nothing_is_hung() {
    let report = run_broken(Broken::WaitsForNothing, 40, 4);
    assert!(!report.passed());
    assert_eq!(report.hung, 40 + report.bootstrap_lookups);
    assert_eq!(report.hangs.get("stalled"), Some(&report.hung));
    assert_eq!(report.violations.get("wait_none_idle"), Some(&report.hung));
    assert!(report.ended.values().all(|r| r.is_empty()));
    assert!(!report.examples.is_empty());
    assert!(report.examples[0].kind.starts_with("hung:stalled"));
}

#[test]
fn a_strategy_that_never_finishes_is_hung() {
    let report = run_broken(Broken::NeverFinishes, 10, 0);
    assert_eq!(report.hung, 10);
    assert_eq!(report.hangs.get("time_limit"), Some(&10));
    let tight = StressConfig {
        max_events: 50,
        ..config(10, 0, 3)
    };
    let factory = |_: &LookupConfig, spec: LookupSpec, seeds: &[Contact]| {
        Box::new(Fake {
            broken: Broken::NeverFinishes,
            spec,
            seeds: seeds.to_vec(),
            polls: 0,
        }) as Box<dyn LookupStrategy>
    };
    let report = stress::run_with(&tight, &factory, &|_| {}).expect("a valid configuration");
    assert_eq!(report.hangs.get("event_limit"), Some(&10));
}

#[test]
fn broken_invariants_are_counted_not_panicked_on() {
    let report = run_broken(Broken::BreaksInvariants, 100, 0);
    assert_eq!(report.hung, 0, "{}", report.to_json());
    for kind in [
        "sent_twice",
        "in_flight_over_parallelism",
        "in_flight_over_open",
        "result_has_local",
        "result_unsorted",
        "outcome_fields",
        "not_sticky",
        "accepted_after_finish",
    ] {
        assert!(
            report.violations.get(kind).is_some_and(|n| *n > 0),
            "{kind} not caught: {}",
            report.to_json()
        );
    }
    assert!(!report.passed());
}

#[test]
fn a_panicking_strategy_is_hung_not_fatal() {
    let report = run_broken(Broken::Panics, 5, 0);
    assert_eq!(report.hung, 5);
    assert_eq!(report.hangs.get("panic"), Some(&5));
    assert!(report.examples[0].detail.contains("expected by this test"));
}
