//! The simulator's event loop: lookups through the shared
//! [`LookupDriver`], datagrams through the network's models, in virtual
//! time.
//!
//! Every pending thing is one entry of a binary heap ordered by (time,
//! sequence number): a request reaching its node, an answer reaching its
//! sender, a timeout, a lookup's own deadline. Popping the earliest and
//! doing what it says is the whole loop: no task, future or timer per
//! request, and ties are broken by the order things were scheduled in, so
//! a seed fully determines a run.
//!
//! What moves a request, from sending it at `t` with timeout `T`:
//!
//! 1. nobody listens at the address, or the loss model drops it: the
//!    sender's timeout fires at `t + T`;
//! 2. otherwise it reaches its node after the pair's one-way delay `d`
//!    (if `d < T`; a slower request times out first, unseen); a lookup
//!    that has finished by then has dropped it, and its node never sees it;
//! 3. the node answers if it is up and reachable (an honest node learns the
//!    sender; an adversary lies), and the answer may be lost; without one
//!    the timeout fires at `t + T`;
//! 4. the answer arrives `d` later, unless the timeout came first.
//!
//! A full bucket's eviction ping travels the same way and its answer goes
//! to the origin's table, even after the lookup that caused it has ended.
//!
//! Things that start lookups on a schedule (the workload, refresh checks,
//! rejoins, background traffic, joins) are [`Process`]es; [`run`]
//! interleaves them with the queue, a process first when both are due at
//! the same time. A finished lookup comes back as [`Finished`], with the
//! tag it was started with, so its starter can carry on.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::time::Duration;

use crate::contact::Contact;
use crate::driver::{lock, DriverObserver, LookupDriver};
use crate::lookup::{Contender, LookupAction, LookupMode, LookupOutcome, LookupStrategy};
use crate::protocol::{Request, Response};
use crate::sim::network::{check_answer, SimNetwork};
use crate::time::Time;
use crate::transport::TransportError;

/// A lookup that ended, handed back to whoever started it.
pub(crate) struct Finished<T, W> {
    /// What the starter tagged it with.
    pub tag: T,
    /// The node that ran it.
    pub origin: u32,
    /// How it ended.
    pub outcome: LookupOutcome,
    /// The strategy, for questions asked afterwards (which path asked whom).
    pub lookup: Box<dyn LookupStrategy>,
    /// Its observer, if it had one.
    pub watch: Option<W>,
}

/// Something that starts lookups on a schedule of its own.
pub(crate) trait Process<T, W> {
    /// When it next wants to act; `None` once it has nothing left to do.
    fn next_at(&self) -> Option<Time>;

    /// Act, at [`Process::next_at`] (the engine's clock is there).
    fn fire(&mut self, engine: &mut Engine<'_, T, W>);
}

/// A running lookup.
struct Slot<T, W> {
    origin: u32,
    lookup: Box<dyn LookupStrategy>,
    driver: LookupDriver,
    timeout: Duration,
    /// The deadline a wake-up is queued for, so a stale one is ignored.
    wake_at: Option<Time>,
    tag: T,
    watch: Option<W>,
}

/// A request on its way to the node at its address: steps 2 to 4 of the
/// module's list, for lookup requests and eviction pings alike.
struct Flight {
    /// The sender.
    origin: u32,
    /// The node listening at the address.
    node: u32,
    /// The contact it was sent to.
    to: Contact,
    sent: Time,
    /// The pair's one-way delay.
    delay: Duration,
    timeout: Duration,
}

impl Flight {
    /// When the sender gives up on it.
    fn deadline(&self) -> Time {
        self.sent + self.timeout
    }
}

/// What a queued entry does when its time comes.
enum Event {
    /// A lookup's request reaches its node.
    Arrive { slot: u32, gen: u32, flight: Flight },
    /// An answer reaches the lookup that asked.
    Answer {
        slot: u32,
        gen: u32,
        from: Contact,
        response: Box<Response>,
    },
    /// A lookup's request ended without an answer.
    Fail {
        slot: u32,
        gen: u32,
        to: Contact,
        error: TransportError,
    },
    /// A lookup's own deadline.
    Wake { slot: u32, gen: u32 },
    /// An eviction ping reaches its node.
    PingArrive(Flight),
    /// An eviction ping ended, answered or not.
    PingEnd {
        origin: u32,
        oldest: Contact,
        answered: bool,
    },
}

struct Queued {
    at: Time,
    seq: u64,
    event: Event,
}

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for Queued {}

impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Queued {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// The lookups in flight on one network, and everything they wait for.
///
/// `T` tags a lookup for its starter; `W` is the observer type of lookups
/// that have one (a [`RequestLog`](crate::sim::routes::RequestLog), the
/// events of a narrated lookup).
pub(crate) struct Engine<'a, T, W> {
    net: &'a SimNetwork,
    now: Time,
    seq: u64,
    queue: BinaryHeap<Reverse<Queued>>,
    slots: Vec<Option<Slot<T, W>>>,
    /// Each slot's generation: bumped when its lookup ends, so entries
    /// queued for the old lookup are dropped.
    gens: Vec<u32>,
    free: Vec<u32>,
    /// Lookups that ended, for [`run`] to hand on.
    finished: VecDeque<Finished<T, W>>,
}

impl<'a, T, W: DriverObserver> Engine<'a, T, W> {
    /// An idle engine over `net`, its clock at `now`.
    pub(crate) fn new(net: &'a SimNetwork, now: Time) -> Self {
        Engine {
            net,
            now,
            seq: 0,
            queue: BinaryHeap::new(),
            slots: Vec::new(),
            gens: Vec::new(),
            free: Vec::new(),
            finished: VecDeque::new(),
        }
    }

    /// The network.
    pub(crate) fn net(&self) -> &'a SimNetwork {
        self.net
    }

    /// The virtual time.
    pub(crate) fn now(&self) -> Time {
        self.now
    }

    /// When the next queued entry is due.
    fn next_at(&self) -> Option<Time> {
        self.queue.peek().map(|Reverse(q)| q.at)
    }

    fn schedule(&mut self, at: Time, event: Event) {
        self.seq += 1;
        self.queue.push(Reverse(Queued {
            at,
            seq: self.seq,
            event,
        }));
    }

    /// Node `origin` starts a lookup of `target` now with `contender`, from
    /// its routing table.
    pub(crate) fn start(
        &mut self,
        origin: u32,
        target: crate::id::NodeId,
        mode: LookupMode,
        contender: &Contender,
        tag: T,
        watch: Option<W>,
    ) {
        let lookup = {
            let table = lock(&self.net.nodes[origin as usize].table);
            contender.start(&table, target, mode)
        };
        self.run(origin, lookup, mode, contender.rpc_timeout(), tag, watch);
    }

    /// Node `origin` runs the already started `lookup` from now, each
    /// request bounded by `timeout`.
    pub(crate) fn run(
        &mut self,
        origin: u32,
        lookup: Box<dyn LookupStrategy>,
        mode: LookupMode,
        timeout: Duration,
        tag: T,
        watch: Option<W>,
    ) {
        let local = self.net.nodes[origin as usize].contact.id;
        let driver = LookupDriver::new(&*lookup, mode, local);
        let slot = Slot {
            origin,
            lookup,
            driver,
            timeout,
            wake_at: None,
            tag,
            watch,
        };
        let index = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = Some(slot);
                i
            }
            None => {
                self.slots.push(Some(slot));
                self.gens.push(0);
                (self.slots.len() - 1) as u32
            }
        };
        self.drive(index);
    }

    /// Step slot `index`'s driver until it waits or finishes, sending what
    /// it asks for.
    fn drive(&mut self, index: u32) {
        let now = self.now;
        let gen = self.gens[index as usize];
        loop {
            let Some(slot) = self.slots[index as usize].as_mut() else {
                return;
            };
            match slot.driver.step(&mut *slot.lookup, now, &mut slot.watch) {
                LookupAction::Send(contacts) => {
                    let (origin, timeout) = (slot.origin, slot.timeout);
                    for to in contacts {
                        self.send(index, gen, origin, to, timeout);
                    }
                }
                LookupAction::Wait(deadline) => {
                    if let Some(d) = deadline.filter(|&d| slot.wake_at != Some(d)) {
                        slot.wake_at = Some(d);
                        self.schedule(d, Event::Wake { slot: index, gen });
                    }
                    return;
                }
                LookupAction::Finished(outcome) => {
                    if let Some(slot) = self.slots[index as usize].take() {
                        self.gens[index as usize] = gen.wrapping_add(1);
                        self.free.push(index);
                        self.finished.push_back(Finished {
                            tag: slot.tag,
                            origin: slot.origin,
                            outcome,
                            lookup: slot.lookup,
                            watch: slot.watch,
                        });
                    }
                    return;
                }
            }
        }
    }

    /// A request from `origin` to `to` sent now, if it reaches the node at
    /// the address before `timeout` (steps 1 and 2).
    fn launch(&self, origin: u32, to: Contact, timeout: Duration) -> Option<Flight> {
        let (node, delay) = self.net.outbound(origin, &to)?;
        (delay < timeout).then_some(Flight {
            origin,
            node,
            to,
            sent: self.now,
            delay,
            timeout,
        })
    }

    /// The answer of `flight`'s node to `request`, now, if it reaches the
    /// sender before its deadline (steps 3 and 4).
    fn answer(&self, flight: &Flight, request: &Request) -> Option<Response> {
        let response =
            self.net
                .answer(flight.node, flight.origin, &flight.to, request, self.now)?;
        (self.now + flight.delay <= flight.deadline()).then_some(response)
    }

    /// Send a lookup request from `origin` to `to` now.
    fn send(&mut self, slot: u32, gen: u32, origin: u32, to: Contact, timeout: Duration) {
        match self.launch(origin, to, timeout) {
            Some(flight) => {
                let at = self.now + flight.delay;
                self.schedule(at, Event::Arrive { slot, gen, flight });
            }
            None => self.time_out(slot, gen, to, self.now + timeout),
        }
    }

    /// The request of slot `slot` to `to` times out at `at`.
    fn time_out(&mut self, slot: u32, gen: u32, to: Contact, at: Time) {
        let error = TransportError::Timeout;
        self.schedule(
            at,
            Event::Fail {
                slot,
                gen,
                to,
                error,
            },
        );
    }

    /// Send an eviction ping from `origin` to `oldest` now.
    fn ping(&mut self, origin: u32, oldest: Contact, timeout: Duration) {
        match self.launch(origin, oldest, timeout) {
            Some(flight) => self.schedule(self.now + flight.delay, Event::PingArrive(flight)),
            None => {
                let event = Event::PingEnd {
                    origin,
                    oldest,
                    answered: false,
                };
                self.schedule(self.now + timeout, event);
            }
        }
    }

    fn live(&self, slot: u32, gen: u32) -> bool {
        self.gens[slot as usize] == gen && self.slots[slot as usize].is_some()
    }

    /// Pop the earliest entry and carry it out.
    fn advance(&mut self) {
        let Some(Reverse(Queued { at, event, .. })) = self.queue.pop() else {
            return;
        };
        self.now = self.now.max(at);
        let now = self.now;
        match event {
            Event::Arrive { slot, gen, flight } => {
                if !self.live(slot, gen) {
                    return;
                }
                let Some(s) = self.slots[slot as usize].as_ref() else {
                    return;
                };
                match self.answer(&flight, s.driver.request()) {
                    Some(response) => {
                        let event = Event::Answer {
                            slot,
                            gen,
                            from: flight.to,
                            response: Box::new(response),
                        };
                        self.schedule(now + flight.delay, event);
                    }
                    None => self.time_out(slot, gen, flight.to, flight.deadline()),
                }
            }
            Event::Answer {
                slot,
                gen,
                from,
                response,
            } => {
                if !self.live(slot, gen) {
                    return;
                }
                if let Err(error) = check_answer(&from, &response) {
                    self.fail(slot, from, error);
                    return;
                }
                let net = self.net;
                let Some(s) = self.slots[slot as usize].as_mut() else {
                    return;
                };
                let mut table = lock(&net.nodes[s.origin as usize].table);
                let ping = s.driver.on_reply(
                    &mut *s.lookup,
                    &mut table,
                    from,
                    &response,
                    now,
                    &mut s.watch,
                );
                drop(table);
                let (origin, timeout) = (s.origin, s.timeout);
                if let Some(oldest) = ping {
                    self.ping(origin, oldest, timeout);
                }
                self.drive(slot);
            }
            Event::Fail {
                slot,
                gen,
                to,
                error,
            } => {
                if self.live(slot, gen) {
                    self.fail(slot, to, error);
                }
            }
            Event::Wake { slot, gen } => {
                if !self.live(slot, gen) {
                    return;
                }
                if let Some(s) = self.slots[slot as usize].as_mut() {
                    if s.wake_at != Some(now) {
                        return;
                    }
                    s.wake_at = None;
                }
                self.drive(slot);
            }
            Event::PingArrive(flight) => {
                let (at, answered) = match self.answer(&flight, &Request::Ping) {
                    Some(response) => (
                        now + flight.delay,
                        check_answer(&flight.to, &response).is_ok(),
                    ),
                    None => (flight.deadline(), false),
                };
                let event = Event::PingEnd {
                    origin: flight.origin,
                    oldest: flight.to,
                    answered,
                };
                self.schedule(at, event);
            }
            Event::PingEnd {
                origin,
                oldest,
                answered,
            } => {
                let mut table = lock(&self.net.nodes[origin as usize].table);
                LookupDriver::on_ping(&mut table, &oldest, answered, now);
            }
        }
    }

    /// A request of slot `slot`'s lookup to `to` failed now.
    fn fail(&mut self, slot: u32, to: Contact, error: TransportError) {
        let net = self.net;
        let now = self.now;
        let Some(s) = self.slots[slot as usize].as_mut() else {
            return;
        };
        let mut table = lock(&net.nodes[s.origin as usize].table);
        s.driver
            .on_failure(&mut *s.lookup, &mut table, to, error, now, &mut s.watch);
        drop(table);
        self.drive(slot);
    }
}

/// Run `engine` and `processes` until nothing is left to do, giving every
/// finished lookup to `on_finished` (which may start more).
pub(crate) fn run<T, W: DriverObserver>(
    engine: &mut Engine<'_, T, W>,
    processes: &mut [&mut dyn Process<T, W>],
    mut on_finished: impl FnMut(&mut Engine<'_, T, W>, Finished<T, W>),
) {
    let next_process = |processes: &[&mut dyn Process<T, W>]| {
        processes
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.next_at().map(|t| (t, i)))
            .min()
    };
    let mut due = next_process(processes);
    loop {
        match (due, engine.next_at()) {
            (Some((t, i)), queued) if queued.is_none_or(|q| t <= q) => {
                engine.now = engine.now.max(t);
                processes[i].fire(engine);
                due = next_process(processes);
            }
            (_, Some(_)) => engine.advance(),
            (Some(_), None) | (None, None) => break,
        }
        while let Some(done) = engine.finished.pop_front() {
            on_finished(engine, done);
        }
    }
}
