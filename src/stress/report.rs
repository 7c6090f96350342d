//! What a stress run reports, and the per-thread counts it is made from.

use std::collections::BTreeMap;

use serde::Serialize;

use super::chaos::Inject;
use super::checks::{Hang, Violation};
use super::{StressConfig, MAX_EXAMPLES};
use crate::lookup::EndReason;

/// Which kind of run an [`Example`] comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// A chaos lookup.
    Lookup,
    /// A bootstrap (one of its lookups, or its routing table).
    Bootstrap,
}

/// One broken invariant or hang, to reproduce: run the same config with
/// [`run_range`](super::run_range) over `index..index + 1` (for the
/// scenario).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Example {
    /// Chaos lookup or bootstrap.
    pub scenario: Scenario,
    /// Its index.
    pub index: u64,
    /// The strategy.
    pub strategy: String,
    /// The lookup's parameters and mode as drawn.
    pub params: String,
    /// The violation ([`Violation::as_str`]) or `hung:` and the
    /// [`Hang::as_str`].
    pub kind: String,
    /// What was seen.
    pub detail: String,
}

/// Counts per end reason, keyed by strategy name.
pub type EndedCounts = BTreeMap<String, BTreeMap<EndReason, u64>>;

/// What a stress run saw. The same config gives the same report, whatever
/// the number of threads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StressReport {
    /// The seed.
    pub seed: u64,
    /// The configured k (lookups draw theirs up to it).
    pub k: usize,
    /// The configured α (lookups draw theirs up to twice it).
    pub alpha: usize,
    /// The strategies (or contenders), in round-robin order: lookup `i`
    /// ran with `strategies[i % len]`.
    pub strategies: Vec<String>,
    /// Chaos lookups run.
    pub lookups: u64,
    /// Of them, FIND_VALUE lookups.
    pub find_value_lookups: u64,
    /// Bootstraps run.
    pub bootstraps: u64,
    /// Lookups run by the bootstraps (self-lookups and refreshes).
    pub bootstrap_lookups: u64,
    /// Bootstraps that ended with a non-empty routing table.
    pub bootstraps_joined: u64,
    /// Lookups (chaos and bootstrap) that did not end: must be 0.
    pub hung: u64,
    /// Hung lookups by [`Hang`] kind.
    pub hangs: BTreeMap<String, u64>,
    /// Lookups (or bootstrap tables) that broke each [`Violation`]; only
    /// kinds seen at least once.
    pub violations: BTreeMap<String, u64>,
    /// How the chaos lookups ended, per strategy.
    pub ended: EndedCounts,
    /// How the bootstraps' lookups ended, per strategy.
    pub bootstrap_ended: EndedCounts,
    /// Events: polls and inputs, in all.
    pub events: u64,
    /// Requests the strategies sent.
    pub requests: u64,
    /// Inputs the strategies rightly refused (late, duplicate, unsolicited).
    pub inputs_refused: u64,
    /// Chaos injected, by kind.
    pub injected: BTreeMap<String, u64>,
    /// Most events one lookup took.
    pub max_events_per_lookup: u64,
    /// Longest lookup, in virtual milliseconds.
    pub max_lookup_ms: u64,
    /// The first violations and hangs, by scenario and index.
    pub examples: Vec<Example>,
}

impl StressReport {
    /// Whether nothing hung and no invariant was broken.
    pub fn passed(&self) -> bool {
        self.hung == 0 && self.violations.is_empty()
    }

    /// Total violations, all kinds.
    pub fn violation_count(&self) -> u64 {
        self.violations.values().sum()
    }

    /// The report as pretty JSON, ending in a newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{e}"));
        s.push('\n');
        s
    }
}

#[derive(Clone, Debug)]
pub(super) struct Tally {
    pub(super) lookups: u64,
    pub(super) find_value: u64,
    pub(super) bootstraps: u64,
    pub(super) bootstrap_lookups: u64,
    pub(super) joined: u64,
    pub(super) hung: u64,
    pub(super) hangs: [u64; 4],
    pub(super) violations: [u64; 21],
    pub(super) injected: [u64; Inject::COUNT],
    pub(super) ended: Vec<Vec<u64>>,
    pub(super) bootstrap_ended: Vec<Vec<u64>>,
    pub(super) events: u64,
    pub(super) requests: u64,
    pub(super) refused: u64,
    pub(super) max_events: u64,
    pub(super) max_lookup_us: u64,
    pub(super) examples: Vec<Example>,
}

pub(super) fn reason_index(reason: EndReason) -> usize {
    EndReason::ALL
        .iter()
        .position(|r| *r == reason)
        .unwrap_or(EndReason::ALL.len())
}

impl Tally {
    /// An empty tally for `entrants` strategies (the report's rows).
    pub(super) fn new(entrants: usize) -> Tally {
        let per_strategy = vec![vec![0; EndReason::ALL.len() + 1]; entrants];
        Tally {
            lookups: 0,
            find_value: 0,
            bootstraps: 0,
            bootstrap_lookups: 0,
            joined: 0,
            hung: 0,
            hangs: [0; 4],
            violations: [0; 21],
            injected: [0; Inject::COUNT],
            ended: per_strategy.clone(),
            bootstrap_ended: per_strategy,
            events: 0,
            requests: 0,
            refused: 0,
            max_events: 0,
            max_lookup_us: 0,
            examples: Vec::new(),
        }
    }

    pub(super) fn inject(&mut self, kind: Inject) {
        self.injected[kind as usize] += 1;
    }

    pub(super) fn example(&mut self, example: Example) {
        if self.examples.len() < MAX_EXAMPLES {
            self.examples.push(example);
        }
    }

    pub(super) fn merge(&mut self, other: Tally) {
        self.lookups += other.lookups;
        self.find_value += other.find_value;
        self.bootstraps += other.bootstraps;
        self.bootstrap_lookups += other.bootstrap_lookups;
        self.joined += other.joined;
        self.hung += other.hung;
        for (a, b) in self.hangs.iter_mut().zip(other.hangs) {
            *a += b;
        }
        for (a, b) in self.violations.iter_mut().zip(other.violations) {
            *a += b;
        }
        for (a, b) in self.injected.iter_mut().zip(other.injected) {
            *a += b;
        }
        for (mine, theirs) in [
            (&mut self.ended, &other.ended),
            (&mut self.bootstrap_ended, &other.bootstrap_ended),
        ] {
            for (a, b) in mine.iter_mut().zip(theirs) {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y;
                }
            }
        }
        self.events += other.events;
        self.requests += other.requests;
        self.refused += other.refused;
        self.max_events = self.max_events.max(other.max_events);
        self.max_lookup_us = self.max_lookup_us.max(other.max_lookup_us);
        self.examples.extend(other.examples);
        self.examples.sort();
        self.examples.truncate(MAX_EXAMPLES);
    }

    /// The report, with `names` for the rows of `ended`.
    pub(super) fn into_report(mut self, config: &StressConfig, names: &[String]) -> StressReport {
        // Rows of entrants that share a name are added up.
        let ended = |counts: &[Vec<u64>]| -> EndedCounts {
            let mut out = EndedCounts::new();
            for (name, c) in names.iter().zip(counts) {
                let row = out.entry(name.clone()).or_default();
                for (r, n) in EndReason::ALL.iter().zip(c).filter(|(_, n)| **n > 0) {
                    *row.entry(*r).or_default() += *n;
                }
            }
            out
        };
        self.examples.sort();
        StressReport {
            seed: config.seed,
            k: config.k,
            alpha: config.alpha,
            strategies: names.to_vec(),
            lookups: self.lookups,
            find_value_lookups: self.find_value,
            bootstraps: self.bootstraps,
            bootstrap_lookups: self.bootstrap_lookups,
            bootstraps_joined: self.joined,
            hung: self.hung,
            hangs: Hang::ALL
                .iter()
                .zip(self.hangs)
                .filter(|(_, n)| *n > 0)
                .map(|(h, n)| (h.as_str().to_string(), n))
                .collect(),
            violations: Violation::ALL
                .iter()
                .zip(self.violations)
                .filter(|(_, n)| *n > 0)
                .map(|(v, n)| (v.as_str().to_string(), n))
                .collect(),
            ended: ended(&self.ended),
            bootstrap_ended: ended(&self.bootstrap_ended),
            events: self.events,
            requests: self.requests,
            inputs_refused: self.refused,
            injected: Inject::NAMES
                .iter()
                .zip(self.injected)
                .map(|(name, n)| (name.to_string(), n))
                .collect(),
            max_events_per_lookup: self.max_events,
            max_lookup_ms: self.max_lookup_us / 1000,
            examples: self.examples,
        }
    }
}
