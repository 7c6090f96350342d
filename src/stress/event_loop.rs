//! The event loop that drives one lookup in virtual time: a queue of
//! replies, failures and eviction pings, delivered in time order between
//! polls, with the checks run after every poll and input.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use rand_chacha::ChaCha8Rng;

use super::chaos::Chaos;
use super::checks::{Checks, Hang, Violation};
use super::report::{Scenario, Tally};
use super::world::{IdSet, World};
use super::{Entrants, StressConfig};
use crate::contact::Contact;
use crate::id::NodeId;
use crate::lookup::{
    EndReason, LookupAction, LookupConfig, LookupMode, LookupSpec, LookupStrategy, Reply,
    StrategyName,
};
use crate::routing::RoutingTable;
use crate::time::Time;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ValueKind {
    None,
    Good,
    Bad,
}

#[derive(Clone, Copy, Debug)]
pub(super) enum Event {
    /// A reply from `from`, with `arena[start..start + len]`.
    Reply {
        from: Contact,
        start: u32,
        len: u32,
        value: ValueKind,
    },
    /// An error reply, an unreachable node, or the driver's own timeout.
    Failure { from: Contact },
    /// The answer to a routing table's eviction ping.
    Ping { oldest: Contact, answered: bool },
}

/// Buffers reused from one lookup to the next.
pub(super) struct Scratch {
    pub(super) fate_epoch: Vec<u32>,
    pub(super) fate: Vec<Time>,
    pub(super) epoch: u32,
    pub(super) queue: BinaryHeap<Reverse<(Time, u32)>>,
    pub(super) events: Vec<Event>,
    pub(super) arena: Vec<Contact>,
    /// Ids the lookup was told about: its seeds and accepted replies.
    pub(super) seen: IdSet,
    /// Ids sent a request.
    pub(super) asked: IdSet,
    /// Indices picked for a reply.
    pub(super) picks: Vec<usize>,
    /// Contacts sent a request, in order.
    pub(super) sent: Vec<Contact>,
    /// Requests the harness counts as open, with their deadlines.
    pub(super) open: Vec<(NodeId, Time)>,
}

impl Scratch {
    pub(super) fn new() -> Scratch {
        Scratch {
            fate_epoch: Vec::new(),
            fate: Vec::new(),
            epoch: 0,
            queue: BinaryHeap::new(),
            events: Vec::new(),
            arena: Vec::new(),
            seen: IdSet::new(),
            asked: IdSet::new(),
            picks: Vec::new(),
            sent: Vec::new(),
            open: Vec::new(),
        }
    }

    /// A new session on a world of `n` nodes: every node's fate redrawn.
    pub(super) fn new_session(&mut self, n: usize) {
        if self.fate.len() != n || self.epoch == u32::MAX {
            self.fate = vec![Time::ZERO; n];
            self.fate_epoch = vec![0; n];
            self.epoch = 0;
        }
        self.epoch += 1;
    }

    pub(super) fn clear_lookup(&mut self, world: &World) {
        self.queue.clear();
        self.events.clear();
        self.arena.clear();
        self.seen.clear(world);
        self.asked.clear(world);
        self.sent.clear();
        self.open.clear();
    }
}

/// One chaos lookup or one bootstrap: a world, a generator, the chaos, and
/// the clock.
pub(super) struct Session<'a> {
    pub(super) config: &'a StressConfig,
    pub(super) entrants: Entrants<'a>,
    pub(super) world: &'a World,
    pub(super) scratch: &'a mut Scratch,
    pub(super) tally: &'a mut Tally,
    pub(super) rng: ChaCha8Rng,
    pub(super) chaos: Chaos,
    pub(super) scenario: Scenario,
    pub(super) index: u64,
    /// The built-in strategy whose parameters are drawn (for contenders,
    /// the draw only shapes the chaos: how many seeds, which timeouts).
    pub(super) strategy: StrategyName,
    /// Which of the entrants runs this lookup: its row in the report.
    pub(super) entrant: usize,
    pub(super) started: Time,
    pub(super) now: Time,
    /// The node doing the lookups.
    pub(super) local: NodeId,
    /// The parameters of the lookup running, for examples.
    pub(super) lookup_config: LookupConfig,
    /// Its mode.
    pub(super) mode: LookupMode,
    pub(super) value: Vec<u8>,
    pub(super) bad_value: Vec<u8>,
}

impl Session<'_> {
    pub(super) fn schedule(&mut self, at: Time, event: Event) {
        let seq = self.scratch.events.len() as u32;
        self.scratch.events.push(event);
        self.scratch.queue.push(Reverse((at, seq)));
    }

    /// Drive `lookup` to its end (or a hang), checking as it goes. With a
    /// `table`, every reply and failure updates it, as the driver does.
    pub(super) fn drive(
        &mut self,
        lookup: &mut dyn LookupStrategy,
        spec: &LookupSpec,
        seeds: &[Contact],
        mut table: Option<&mut RoutingTable>,
    ) -> Result<EndReason, Hang> {
        self.scratch.clear_lookup(self.world);
        for s in seeds {
            if s.id != spec.local {
                self.scratch.seen.insert(self.world, s);
            }
        }
        let mut checks = Checks {
            local: spec.local,
            target: spec.target,
            mode: spec.mode,
            k: spec.k,
            rpc_timeout: spec.rpc_timeout,
            has_seeds: !self.scratch.seen.is_empty(),
            sent: 0,
            accepted_replies: 0,
            violated: 0,
        };
        let start = self.now;
        let max_virtual = Duration::from_millis(self.config.max_virtual_ms);
        let mut events = 0u64;
        let result = loop {
            events += 1;
            if events > self.config.max_events {
                break Err((Hang::EventLimit, format!("{events} events")));
            }
            if self.now.saturating_since(start) > max_virtual {
                break Err((Hang::TimeLimit, format!("still running at {}", self.now)));
            }
            let action = lookup.poll(self.now);
            let now = self.now;
            // Requests past their deadline were failed by that poll.
            self.scratch.open.retain(|(_, deadline)| *deadline > now);
            let deadline = match action {
                LookupAction::Finished(outcome) => {
                    self.check_outcome(lookup, &outcome, &mut checks);
                    break Ok(outcome.reason);
                }
                LookupAction::Send(contacts) => {
                    self.on_send(&contacts, &mut checks);
                    self.check_in_flight(lookup, &mut checks, "after a poll");
                    continue;
                }
                LookupAction::Wait(deadline) => deadline,
            };
            self.check_in_flight(lookup, &mut checks, "after a poll");
            let in_flight = lookup.in_flight();
            let wake = match deadline {
                None if in_flight > 0 => {
                    self.violate(&mut checks, Violation::WaitNoneInFlight, || {
                        format!("Wait(None) at {now} with {in_flight} in flight")
                    });
                    None
                }
                None => {
                    self.violate(&mut checks, Violation::WaitNoneIdle, || {
                        format!("Wait(None) at {now} with nothing in flight")
                    });
                    None
                }
                Some(d) if d <= now => {
                    self.violate(&mut checks, Violation::WaitInPast, || {
                        format!("Wait({d}) at {now}")
                    });
                    // A busy loop in a real driver: time still passes.
                    Some(now + Duration::from_millis(1))
                }
                Some(d) => Some(d),
            };
            let next = self.scratch.queue.peek().map(|Reverse((at, _))| *at);
            if next.is_some_and(|at| wake.is_none_or(|w| at <= w)) {
                let Some(Reverse((at, seq))) = self.scratch.queue.pop() else {
                    continue;
                };
                self.now = now.max(at);
                let event = self.scratch.events[seq as usize];
                events += 1;
                self.deliver(lookup, event, &mut checks, table.as_deref_mut());
                self.check_in_flight(lookup, &mut checks, "after an input");
            } else if let Some(wake) = wake {
                self.now = wake;
            } else {
                break Err((
                    Hang::Stalled,
                    format!(
                        "Wait(None) at {now}, {in_flight} in flight, nothing left to come \
                         ({} requests sent)",
                        checks.sent
                    ),
                ));
            }
        };
        self.tally.events += events;
        self.tally.requests += u64::from(checks.sent);
        self.tally.max_events = self.tally.max_events.max(events);
        let took = self.now.saturating_since(start).as_micros() as u64;
        self.tally.max_lookup_us = self.tally.max_lookup_us.max(took);
        // What is still on its way: the driver waits for eviction pings and
        // drops the rest.
        self.drain_pings(table);
        result.map_err(|(hang, detail)| {
            self.hung(hang, detail);
            hang
        })
    }

    /// Give `event` to the lookup (and the table), and check the answer.
    fn deliver(
        &mut self,
        lookup: &mut dyn LookupStrategy,
        event: Event,
        checks: &mut Checks,
        table: Option<&mut RoutingTable>,
    ) {
        let now = self.now;
        match event {
            Event::Reply {
                from,
                start,
                len,
                value,
            } => {
                let s = &mut *self.scratch;
                let contacts = &s.arena[start as usize..(start + len) as usize];
                let value = match value {
                    ValueKind::None => None,
                    ValueKind::Good => Some(self.value.as_slice()),
                    ValueKind::Bad => Some(self.bad_value.as_slice()),
                };
                let accepted = lookup.on_response(&from.id, Reply { contacts, value }, now);
                if accepted {
                    checks.accepted_replies += 1;
                    for c in contacts {
                        s.seen.insert(self.world, c);
                    }
                }
                self.check_input(from, accepted, checks, "reply");
                if let Some(table) = table {
                    let outcome = table.update(from, now);
                    self.on_update(outcome, checks.rpc_timeout);
                }
            }
            Event::Failure { from } => {
                let accepted = lookup.on_failure(&from.id, now);
                self.check_input(from, accepted, checks, "failure");
                if let Some(table) = table {
                    let _ = table.on_failure(&from, now);
                }
            }
            Event::Ping { oldest, answered } => {
                if let Some(table) = table {
                    table.on_ping_result(&oldest, answered, now);
                }
            }
        }
    }

    fn on_send(&mut self, contacts: &[Contact], checks: &mut Checks) {
        let now = self.now;
        if contacts.is_empty() {
            self.violate(checks, Violation::EmptySend, || {
                format!("Send([]) at {now}")
            });
        }
        for &c in contacts {
            if c.id == checks.local {
                self.violate(checks, Violation::SentToLocal, || {
                    format!("request to the local node {} at {now}", c.id)
                });
            }
            if !self.scratch.asked.insert(self.world, &c) {
                self.violate(checks, Violation::SentTwice, || {
                    format!("second request to {} at {now}", c.id)
                });
            } else if !self.scratch.seen.contains(self.world, &c) {
                self.violate(checks, Violation::SentToUnknown, || {
                    format!("request to {}, never heard of, at {now}", c.id)
                });
            }
            checks.sent += 1;
            self.scratch.sent.push(c);
            self.scratch.open.push((c.id, now + checks.rpc_timeout));
            self.request(c, checks);
        }
        self.unsolicited(checks);
    }

    pub(super) fn drain_pings(&mut self, table: Option<&mut RoutingTable>) {
        let Some(table) = table else {
            return;
        };
        while let Some(Reverse((at, seq))) = self.scratch.queue.pop() {
            if let Event::Ping { oldest, answered } = self.scratch.events[seq as usize] {
                self.now = self.now.max(at);
                table.on_ping_result(&oldest, answered, self.now);
            }
        }
    }
}
