//! What is checked on every lookup: the invariants ([`Violation`]), the
//! hangs ([`Hang`]), and the bookkeeping that detects them.

use std::time::Duration;

use super::event_loop::Session;
use super::report::Example;
use super::{Entrants, MAX_EXAMPLES};
use crate::contact::Contact;
use crate::id::{NodeId, ID_BITS};
use crate::lookup::{EndReason, LookupAction, LookupMode, LookupOutcome, LookupStrategy, Reply};
use crate::routing::RoutingTable;

/// Why a lookup counts as hung.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Hang {
    /// More than [`StressConfig::max_events`](super::StressConfig::max_events)
    /// polls and inputs.
    EventLimit,
    /// More than [`StressConfig::max_virtual_ms`](super::StressConfig::max_virtual_ms)
    /// of virtual time.
    TimeLimit,
    /// It waits, and nothing is left to come: no request in flight with a
    /// deadline, no reply or failure on its way.
    Stalled,
    /// The strategy panicked.
    Panic,
}

impl Hang {
    /// Every kind, in report order.
    pub const ALL: [Hang; 4] = [
        Hang::EventLimit,
        Hang::TimeLimit,
        Hang::Stalled,
        Hang::Panic,
    ];

    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Hang::EventLimit => "event_limit",
            Hang::TimeLimit => "time_limit",
            Hang::Stalled => "stalled",
            Hang::Panic => "panic",
        }
    }
}

/// An invariant a lookup broke. Each is counted once per lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Violation {
    /// `in_flight() > parallelism()` after a poll or an input.
    InFlightOverParallelism,
    /// `in_flight()` counts more requests than were sent and are neither
    /// answered, failed nor past their deadline.
    InFlightOverOpen,
    /// A node was sent a second request.
    SentTwice,
    /// The local node was sent a request.
    SentToLocal,
    /// A request to a contact the lookup was never told about.
    SentToUnknown,
    /// `Send` with no contact.
    EmptySend,
    /// An input (`true` returned) for a node never sent a request.
    AcceptedUnasked,
    /// An input accepted for a request already answered, failed or past
    /// its deadline (a duplicate, late or second reply).
    AcceptedClosed,
    /// An input accepted after the lookup finished.
    AcceptedAfterFinish,
    /// `Wait(None)` with requests in flight: each has a deadline, so the
    /// wait should have one.
    WaitNoneInFlight,
    /// `Wait(None)` with nothing in flight: a bug by the trait's contract.
    WaitNoneIdle,
    /// `Wait(Some(t))` with `t` not after now: a busy loop.
    WaitInPast,
    /// The result is not sorted by distance, or has a contact twice.
    ResultUnsorted,
    /// The result has more than k contacts.
    ResultTooLong,
    /// The result has the local node.
    ResultHasLocal,
    /// The result has a contact the lookup was never told about.
    ResultUnknown,
    /// `ValueFound` without a value that hashes to the target in a
    /// FIND_VALUE lookup, or a value without `ValueFound`.
    ValueMismatch,
    /// `NoContacts` with contacts to start from, or another reason without.
    NoContactsMismatch,
    /// The outcome's target, statistics or time disagree with what happened.
    OutcomeFields,
    /// Polling a finished lookup gave something else than the same outcome.
    NotSticky,
    /// The bootstrap's routing table is inconsistent (the local node in it,
    /// an overfull bucket, a wrong length).
    TableInconsistent,
}

impl Violation {
    /// Every kind, in report order.
    pub const ALL: [Violation; 21] = [
        Violation::InFlightOverParallelism,
        Violation::InFlightOverOpen,
        Violation::SentTwice,
        Violation::SentToLocal,
        Violation::SentToUnknown,
        Violation::EmptySend,
        Violation::AcceptedUnasked,
        Violation::AcceptedClosed,
        Violation::AcceptedAfterFinish,
        Violation::WaitNoneInFlight,
        Violation::WaitNoneIdle,
        Violation::WaitInPast,
        Violation::ResultUnsorted,
        Violation::ResultTooLong,
        Violation::ResultHasLocal,
        Violation::ResultUnknown,
        Violation::ValueMismatch,
        Violation::NoContactsMismatch,
        Violation::OutcomeFields,
        Violation::NotSticky,
        Violation::TableInconsistent,
    ];

    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Violation::InFlightOverParallelism => "in_flight_over_parallelism",
            Violation::InFlightOverOpen => "in_flight_over_open",
            Violation::SentTwice => "sent_twice",
            Violation::SentToLocal => "sent_to_local",
            Violation::SentToUnknown => "sent_to_unknown",
            Violation::EmptySend => "empty_send",
            Violation::AcceptedUnasked => "accepted_unasked",
            Violation::AcceptedClosed => "accepted_closed",
            Violation::AcceptedAfterFinish => "accepted_after_finish",
            Violation::WaitNoneInFlight => "wait_none_in_flight",
            Violation::WaitNoneIdle => "wait_none_idle",
            Violation::WaitInPast => "wait_in_past",
            Violation::ResultUnsorted => "result_unsorted",
            Violation::ResultTooLong => "result_too_long",
            Violation::ResultHasLocal => "result_has_local",
            Violation::ResultUnknown => "result_unknown",
            Violation::ValueMismatch => "value_mismatch",
            Violation::NoContactsMismatch => "no_contacts_mismatch",
            Violation::OutcomeFields => "outcome_fields",
            Violation::NotSticky => "not_sticky",
            Violation::TableInconsistent => "table_inconsistent",
        }
    }
}

/// Per-lookup bookkeeping of the checks.
pub(super) struct Checks {
    pub(super) local: NodeId,
    pub(super) target: NodeId,
    pub(super) mode: LookupMode,
    pub(super) k: usize,
    pub(super) rpc_timeout: Duration,
    pub(super) has_seeds: bool,
    pub(super) sent: u32,
    pub(super) accepted_replies: u32,
    pub(super) violated: u64,
}

impl Session<'_> {
    pub(super) fn violate(
        &mut self,
        checks: &mut Checks,
        v: Violation,
        detail: impl FnOnce() -> String,
    ) {
        let bit = 1u64 << (v as u32);
        if checks.violated & bit != 0 {
            return;
        }
        checks.violated |= bit;
        self.tally.violations[v as usize] += 1;
        if self.tally.examples.len() < MAX_EXAMPLES {
            let example = Example {
                scenario: self.scenario,
                index: self.index,
                strategy: self.entrant_name(),
                params: self.params(),
                kind: v.as_str().to_string(),
                detail: detail(),
            };
            self.tally.example(example);
        }
    }

    fn params(&self) -> String {
        let c = &self.lookup_config;
        match self.entrants {
            Entrants::BuiltIn(_) => format!(
                "{} {:?} rpc_timeout_ms={} chaos={:?}",
                c.describe(),
                self.mode,
                c.rpc_timeout_ms,
                self.chaos
            ),
            Entrants::Contenders(all) => format!(
                "{} {:?} chaos={:?}",
                all.get(self.entrant).map_or("", |e| e.params()),
                self.mode,
                self.chaos
            ),
        }
    }

    /// The name of the strategy (or contender) running, for examples.
    fn entrant_name(&self) -> String {
        match self.entrants {
            Entrants::BuiltIn(_) => self.strategy.as_str().to_string(),
            Entrants::Contenders(all) => all
                .get(self.entrant)
                .map_or_else(String::new, |c| c.name().to_string()),
        }
    }

    pub(super) fn check_input(
        &mut self,
        from: Contact,
        accepted: bool,
        checks: &mut Checks,
        what: &str,
    ) {
        let open = self.scratch.open.iter().position(|(id, _)| *id == from.id);
        if accepted {
            let now = self.now;
            let from_contact = from;
            let from = from.id;
            if !self.scratch.asked.contains(self.world, &from_contact) {
                self.violate(checks, Violation::AcceptedUnasked, || {
                    format!("{what} from {from}, never asked, accepted at {now}")
                });
            } else if open.is_none() {
                self.violate(checks, Violation::AcceptedClosed, || {
                    format!("{what} from {from} accepted at {now}, its request already closed")
                });
            }
        } else {
            self.tally.refused += 1;
        }
        if let Some(pos) = open {
            self.scratch.open.swap_remove(pos);
        }
    }

    pub(super) fn check_in_flight(
        &mut self,
        lookup: &dyn LookupStrategy,
        checks: &mut Checks,
        when: &str,
    ) {
        let in_flight = lookup.in_flight();
        let allowed = lookup.parallelism();
        let open = self.scratch.open.len();
        let now = self.now;
        if in_flight > allowed {
            self.violate(checks, Violation::InFlightOverParallelism, || {
                format!("{in_flight} in flight > parallelism() = {allowed} {when} at {now}")
            });
        }
        if in_flight > open {
            self.violate(checks, Violation::InFlightOverOpen, || {
                format!("{in_flight} in flight, only {open} requests open {when} at {now}")
            });
        }
    }

    pub(super) fn hung(&mut self, hang: Hang, detail: String) {
        self.tally.hung += 1;
        self.tally.hangs[hang as usize] += 1;
        let example = Example {
            scenario: self.scenario,
            index: self.index,
            strategy: self.entrant_name(),
            params: self.params(),
            kind: format!("hung:{}", hang.as_str()),
            detail,
        };
        self.tally.example(example);
    }

    pub(super) fn check_outcome(
        &mut self,
        lookup: &mut dyn LookupStrategy,
        outcome: &LookupOutcome,
        checks: &mut Checks,
    ) {
        let now = self.now;
        let result = &outcome.result;
        let (k, local, target) = (checks.k, checks.local, checks.target);
        if result.len() > k {
            let n = result.len();
            self.violate(checks, Violation::ResultTooLong, || {
                format!("{n} contacts > k = {k}")
            });
        }
        if result.iter().any(|c| c.id == local) {
            self.violate(checks, Violation::ResultHasLocal, || {
                format!("the local node {local} in the result")
            });
        }
        if !result
            .windows(2)
            .all(|w| w[0].id.distance(&target) < w[1].id.distance(&target))
        {
            self.violate(checks, Violation::ResultUnsorted, || {
                format!("result not strictly by distance: {result:?}")
            });
        }
        if let Some(c) = result
            .iter()
            .find(|c| !self.scratch.seen.contains(self.world, c))
        {
            let id = c.id;
            self.violate(checks, Violation::ResultUnknown, || {
                format!("{id} in the result, never heard of")
            });
        }
        let value_ok = match (outcome.reason, checks.mode) {
            (EndReason::ValueFound, LookupMode::FindValue) => outcome
                .value
                .as_deref()
                .is_some_and(|v| NodeId::of_immutable_value(v) == target),
            (EndReason::ValueFound, LookupMode::FindNode) => false,
            _ => outcome.value.is_none(),
        };
        if !value_ok {
            let (reason, mode, value) = (outcome.reason, checks.mode, outcome.value.clone());
            self.violate(checks, Violation::ValueMismatch, || {
                format!("{reason} in {mode:?} with value {value:?}")
            });
        }
        if (outcome.reason == EndReason::NoContacts) == checks.has_seeds {
            let (reason, has) = (outcome.reason, checks.has_seeds);
            self.violate(checks, Violation::NoContactsMismatch, || {
                format!("{reason} with starting contacts: {has}")
            });
        }
        let stats = outcome.stats;
        if outcome.target != target
            || stats.requests != checks.sent
            || stats.responses != checks.accepted_replies
            || stats.responses + stats.failures > stats.requests
            || outcome.finished_at > now
        {
            let (sent, accepted) = (checks.sent, checks.accepted_replies);
            let at = outcome.finished_at;
            self.violate(checks, Violation::OutcomeFields, || {
                format!(
                    "stats {stats:?} finished at {at}; the harness saw {sent} sent, \
                     {accepted} replies accepted, now {now}"
                )
            });
        }
        let later = now + Duration::from_secs(3600);
        match lookup.poll(later) {
            LookupAction::Finished(again) if again == *outcome => {}
            other => self.violate(checks, Violation::NotSticky, || {
                format!("polled again after finishing: {other:?}")
            }),
        }
        // Inputs after the end change nothing.
        if let Some(&c) = self.scratch.sent.last() {
            let late = lookup.on_response(&c.id, Reply::nodes(&[]), later)
                || lookup.on_failure(&c.id, later);
            if late {
                self.violate(checks, Violation::AcceptedAfterFinish, || {
                    format!("an input from {} accepted after the end", c.id)
                });
            }
        }
    }

    pub(super) fn check_table(&mut self, table: &RoutingTable) {
        let k = self.lookup_config.k;
        let local = self.local;
        let counted: usize = (0..ID_BITS).map(|i| table.bucket_len(i)).sum();
        let overfull = (0..ID_BITS).find(|&i| table.bucket_len(i) > k);
        let bad = table.contains(&local)
            || table.iter().any(|e| e.contact.id == local)
            || counted != table.len()
            || table.iter().count() != table.len()
            || overfull.is_some();
        if bad {
            let mut checks = Checks {
                local,
                target: local,
                mode: LookupMode::FindNode,
                k,
                rpc_timeout: Duration::ZERO,
                has_seeds: false,
                sent: 0,
                accepted_replies: 0,
                violated: 0,
            };
            let len = table.len();
            self.violate(&mut checks, Violation::TableInconsistent, || {
                format!("len {len}, buckets hold {counted}, overfull bucket {overfull:?}")
            });
        }
    }
}
