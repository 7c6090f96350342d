//! How the synthetic network treats a request: latency, loss, nodes dead
//! or dying, error replies, late and duplicate replies, the answers of
//! members and outsiders, and the garbage the chaos adds to them.

use std::time::Duration;

use rand::Rng;

use super::chaos::{chance, Inject};
use super::checks::Checks;
use super::event_loop::{Event, Session, ValueKind};
use super::world::{common_bits, pick_distinct, Resolved};
use crate::contact::Contact;
use crate::id::{NodeId, ID_BITS};
use crate::lookup::LookupMode;
use crate::routing::UpdateOutcome;
use crate::time::Time;

const NEVER: Time = Time::from_millis(u64::MAX);

impl Session<'_> {
    pub(super) fn latency(&mut self) -> Duration {
        let base = self.chaos.latency_us;
        let mut us = base / 4 + self.rng.gen_range(0..=base * 3 / 2);
        if chance(&mut self.rng, 0.03) {
            us *= 5;
        }
        Duration::from_micros(us)
    }

    fn dead_at(&mut self, i: usize) -> Time {
        let s = &mut *self.scratch;
        if s.fate_epoch[i] != s.epoch {
            s.fate_epoch[i] = s.epoch;
            s.fate[i] = if chance(&mut self.rng, self.chaos.dead) {
                Time::ZERO
            } else if chance(&mut self.rng, self.chaos.dying) {
                self.started + Duration::from_micros(self.rng.gen_range(0..20_000_000))
            } else {
                NEVER
            };
        }
        s.fate[i]
    }

    pub(super) fn is_alive(&mut self, i: usize, at: Time) -> bool {
        let dead_at = self.dead_at(i);
        if dead_at > at {
            return true;
        }
        self.tally.inject(if dead_at <= self.started {
            Inject::DeadNode
        } else {
            Inject::DiedDuring
        });
        false
    }

    /// Member `i`'s answer for `target`, in the arena: k members sharing
    /// more leading bits with the target than `i` does, topped up with
    /// farther ones; then the garbage of the chaos.
    fn reply_contacts(&mut self, i: usize, target: &NodeId) -> (u32, u32) {
        let world = self.world;
        let k = self.lookup_config.k;
        let start = self.scratch.arena.len();
        let bits = (common_bits(&world.ids[i], target) + 1).min(ID_BITS);
        let near = world.range(target, bits);
        if near.len() >= k {
            pick_distinct(&mut self.rng, near.len(), k, &mut self.scratch.picks);
            for &j in &self.scratch.picks {
                self.scratch.arena.push(world.contact(near.start + j));
            }
        } else {
            for j in near.clone().filter(|&j| j != i) {
                self.scratch.arena.push(world.contact(j));
            }
            let need = k - (self.scratch.arena.len() - start);
            let mut b = bits;
            let mut wide = near.clone();
            while b > 0 && wide.len() < need + near.len() + 1 {
                b -= 1;
                wide = world.range(target, b);
            }
            let amount = (need + near.len() + 1).min(wide.len());
            let mut added = 0;
            pick_distinct(&mut self.rng, wide.len(), amount, &mut self.scratch.picks);
            for &j in &self.scratch.picks {
                let j = wide.start + j;
                if added == need {
                    break;
                }
                if near.contains(&j) || j == i {
                    continue;
                }
                self.scratch.arena.push(world.contact(j));
                added += 1;
            }
        }
        self.garble(start, target);
        (start as u32, (self.scratch.arena.len() - start) as u32)
    }

    /// The garbage of the chaos, in the reply at `arena[start..]`.
    fn garble(&mut self, start: usize, target: &NodeId) {
        let world = self.world;
        if chance(&mut self.rng, self.chaos.garbage) {
            for _ in 0..self.rng.gen_range(1..=4) {
                let len = self.scratch.arena.len() - start;
                let kind = self.rng.gen_range(0..6);
                let c = match kind {
                    0 => {
                        self.tally.inject(Inject::RandomContact);
                        world.outsider(&mut self.rng)
                    }
                    1 => {
                        self.tally.inject(Inject::LocalInReply);
                        Contact::simulated(self.local, self.rng.gen())
                    }
                    2 => {
                        self.tally.inject(Inject::TargetInReply);
                        Contact::simulated(*target, self.rng.gen())
                    }
                    3 if len > 0 => {
                        self.tally.inject(Inject::DuplicateContact);
                        self.scratch.arena[start + self.rng.gen_range(0..len)]
                    }
                    4 if len > 0 => {
                        // A contact of this reply again, at another address.
                        self.tally.inject(Inject::OtherAddress);
                        let c = self.scratch.arena[start + self.rng.gen_range(0..len)];
                        Contact::simulated(c.id, self.rng.gen())
                    }
                    _ => {
                        // A member's id at another member's address.
                        self.tally.inject(Inject::OtherAddress);
                        let a = world.random_member(&mut self.rng);
                        let b = world.random_member(&mut self.rng);
                        Contact::simulated(world.ids[a], b as u32)
                    }
                };
                let at = start + self.rng.gen_range(0..=len);
                self.scratch.arena.insert(at, c);
            }
        }
        if chance(&mut self.rng, self.chaos.oversized) {
            self.tally.inject(Inject::OversizedReply);
            for _ in 0..self.rng.gen_range(1..=2 * self.lookup_config.k) {
                let c = if chance(&mut self.rng, 0.8) {
                    world.contact(world.random_member(&mut self.rng))
                } else {
                    world.outsider(&mut self.rng)
                };
                self.scratch.arena.push(c);
            }
        }
        if chance(&mut self.rng, self.chaos.empty) {
            self.tally.inject(Inject::EmptyReply);
            self.scratch.arena.truncate(start);
        }
    }

    /// What the network does with a request sent to `to` now.
    pub(super) fn request(&mut self, to: Contact, checks: &Checks) {
        let now = self.now;
        let deadline = now + checks.rpc_timeout;
        let closed = match self.world.resolve(&to) {
            Resolved::Member(i) => self.member_answers(i, to, checks),
            Resolved::OtherId(i) => {
                // The datagram reaches member `i`, which answers as itself:
                // a reply from an address nobody asked.
                self.tally.inject(Inject::Misaddressed);
                let rtt = self.latency();
                if !chance(&mut self.rng, self.chaos.loss) && self.is_alive(i, now + rtt / 2) {
                    let (start, len) = self.reply_contacts(i, &checks.target);
                    let from = self.world.contact(i);
                    let value = ValueKind::None;
                    self.schedule(
                        now + rtt,
                        Event::Reply {
                            from,
                            start,
                            len,
                            value,
                        },
                    );
                }
                false
            }
            Resolved::Outsider => {
                if chance(&mut self.rng, self.chaos.outsider_answers) {
                    // A node the population does not know answers, with
                    // whatever it likes.
                    self.tally.inject(Inject::OutsiderAnswer);
                    let rtt = self.latency();
                    let start = self.scratch.arena.len();
                    for _ in 0..self.rng.gen_range(0..=self.lookup_config.k) {
                        let c = if chance(&mut self.rng, 0.5) {
                            self.world.contact(self.world.random_member(&mut self.rng))
                        } else {
                            self.world.outsider(&mut self.rng)
                        };
                        self.scratch.arena.push(c);
                    }
                    self.garble(start, &checks.target);
                    let len = (self.scratch.arena.len() - start) as u32;
                    let start = start as u32;
                    let value = ValueKind::None;
                    self.schedule(
                        now + rtt,
                        Event::Reply {
                            from: to,
                            start,
                            len,
                            value,
                        },
                    );
                    true
                } else {
                    false
                }
            }
        };
        if !closed && chance(&mut self.rng, self.chaos.driver_timeout) {
            // The driver's own timer, as `driver::run_lookup` has one.
            self.tally.inject(Inject::DriverTimeout);
            self.schedule(deadline, Event::Failure { from: to });
        }
    }

    /// Member `i` gets a request: loss, death, error or a reply (maybe
    /// late, twice, or with a failure around it). Returns whether an input
    /// before the deadline will close the request.
    fn member_answers(&mut self, i: usize, to: Contact, checks: &Checks) -> bool {
        let now = self.now;
        let timeout = checks.rpc_timeout;
        let rtt = self.latency();
        if chance(&mut self.rng, self.chaos.loss) {
            self.tally.inject(Inject::Lost);
            return false;
        }
        if !self.is_alive(i, now + rtt / 2) {
            if chance(&mut self.rng, self.chaos.unreachable) {
                self.tally.inject(Inject::Unreachable);
                self.schedule(now + rtt / 2, Event::Failure { from: to });
                return true;
            }
            return false;
        }
        if chance(&mut self.rng, self.chaos.error) {
            self.tally.inject(Inject::ErrorReply);
            self.schedule(now + rtt, Event::Failure { from: to });
            return true;
        }
        let late = chance(&mut self.rng, self.chaos.late);
        let at = if late {
            self.tally.inject(Inject::LateReply);
            let extra = self.rng.gen_range(0..=timeout.as_micros() as u64);
            now + timeout + Duration::from_micros(extra)
        } else {
            now + rtt
        };
        let (start, len) = self.reply_contacts(i, &checks.target);
        let value = self.value_of(i, checks);
        let reply = Event::Reply {
            from: to,
            start,
            len,
            value,
        };
        self.schedule(at, reply);
        if chance(&mut self.rng, self.chaos.duplicate) {
            self.tally.inject(Inject::DuplicateReply);
            let again = self.rng.gen_range(0..=2 * timeout.as_micros() as u64);
            self.schedule(at + Duration::from_micros(again), reply);
        }
        if chance(&mut self.rng, self.chaos.failure_then_reply) {
            self.tally.inject(Inject::FailureThenReply);
            self.schedule(now + rtt / 2, Event::Failure { from: to });
        }
        if chance(&mut self.rng, self.chaos.reply_then_failure) {
            self.tally.inject(Inject::ReplyThenFailure);
            let after = self.latency();
            self.schedule(at + after, Event::Failure { from: to });
        }
        !late && at < now + timeout
    }

    /// The value member `i` sends along, if any.
    fn value_of(&mut self, i: usize, checks: &Checks) -> ValueKind {
        match checks.mode {
            LookupMode::FindValue => {
                let near = common_bits(&self.world.ids[i], &checks.target) + 3 >= self.world.depth;
                if near && chance(&mut self.rng, self.chaos.hold) {
                    self.tally.inject(Inject::GoodValue);
                    ValueKind::Good
                } else if chance(&mut self.rng, self.chaos.bad_value) {
                    self.tally.inject(Inject::BadValue);
                    ValueKind::Bad
                } else {
                    ValueKind::None
                }
            }
            LookupMode::FindNode => {
                if chance(&mut self.rng, self.chaos.hold * 0.02) {
                    self.tally.inject(Inject::ValueInFindNode);
                    ValueKind::Good
                } else {
                    ValueKind::None
                }
            }
        }
    }

    /// Replies and failures nobody asked for: from members (asked or not),
    /// outsiders, the local node, the target.
    pub(super) fn unsolicited(&mut self, checks: &Checks) {
        if !chance(&mut self.rng, self.chaos.unsolicited) {
            return;
        }
        for _ in 0..self.rng.gen_range(1..=2) {
            let member = self.world.random_member(&mut self.rng);
            let from = match self.rng.gen_range(0..6) {
                0 | 1 => self.world.contact(member),
                2 => self.world.outsider(&mut self.rng),
                3 => Contact::simulated(self.local, self.rng.gen()),
                4 => Contact::simulated(checks.target, self.rng.gen()),
                _ => match self.scratch.sent.len() {
                    0 => self.world.contact(member),
                    n => self.scratch.sent[self.rng.gen_range(0..n)],
                },
            };
            let at = self.now
                + Duration::from_micros(
                    self.rng
                        .gen_range(0..=checks.rpc_timeout.as_micros() as u64),
                );
            if chance(&mut self.rng, 0.7) {
                self.tally.inject(Inject::UnsolicitedReply);
                let (start, len) = self.reply_contacts(member, &checks.target);
                let value = self.value_of(member, checks);
                self.schedule(
                    at,
                    Event::Reply {
                        from,
                        start,
                        len,
                        value,
                    },
                );
            } else {
                self.tally.inject(Inject::UnsolicitedFailure);
                self.schedule(at, Event::Failure { from });
            }
        }
    }

    /// A table update asked for an eviction ping: the oldest answers if it
    /// is a live member and neither datagram is lost.
    pub(super) fn on_update(&mut self, outcome: UpdateOutcome, timeout: Duration) {
        let UpdateOutcome::PingOldest { oldest } = outcome else {
            return;
        };
        let rtt = self.latency();
        let answered = match self.world.resolve(&oldest) {
            Resolved::Member(i) => {
                !chance(&mut self.rng, self.chaos.loss) && self.is_alive(i, self.now + rtt / 2)
            }
            _ => false,
        };
        let at = if answered {
            self.tally.inject(Inject::PingAnswered);
            self.now + rtt
        } else {
            self.tally.inject(Inject::PingUnanswered);
            self.now + timeout
        };
        self.schedule(at, Event::Ping { oldest, answered });
    }
}

#[cfg(test)]
mod tests {
    use hashbrown::HashSet;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::lookup::StrategyName;
    use crate::stress::chaos::Chaos;
    use crate::stress::event_loop::Scratch;
    use crate::stress::report::Tally;
    use crate::stress::scenarios::Shared;
    use crate::stress::world::World;
    use crate::stress::{standard_factory, Entrants, Scenario, StressConfig};

    #[test]
    fn replies_bring_closer_nodes() {
        let config = StressConfig::default();
        let mut shared = Shared {
            config: &config,
            entrants: Entrants::BuiltIn(&standard_factory),
            scratch: Scratch::new(),
            tally: Tally::new(StrategyName::ALL.len()),
        };
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let world = World::new(&mut rng);
        let mut s = shared.session(&world, Scenario::Lookup, 0, rng);
        s.chaos = Chaos::default();
        let target = NodeId::random(&mut s.rng);
        for i in [0, 17, world.len() - 1] {
            let (start, len) = s.reply_contacts(i, &target);
            let reply = &s.scratch.arena[start as usize..(start + len) as usize];
            assert_eq!(reply.len(), config.k);
            let mine = common_bits(&world.ids[i], &target);
            let closer = reply
                .iter()
                .filter(|c| common_bits(&c.id, &target) > mine)
                .count();
            let available = world.range(&target, mine + 1).len();
            assert_eq!(closer, available.min(config.k));
            let distinct: HashSet<NodeId> = reply.iter().map(|c| c.id).collect();
            assert_eq!(distinct.len(), reply.len());
        }
    }
}
