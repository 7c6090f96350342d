//! The one lookup driver, shared by the simulator and the UDP node.
//!
//! [`LookupDriver`] is the sans-IO core around a [`LookupStrategy`]: it
//! passes on what the strategy asks for, feeds replies and failures back,
//! checks the strategy's contract, keeps the node's routing table up to
//! date from every reply, and tells an observer. [`run_lookup`] is its
//! tokio shell, which the UDP node runs over a [`Transport`]; the
//! simulator's event loop is the other shell. Nothing here decides
//! anything: every decision is the strategy's, so a simulated lookup takes
//! exactly the steps of a real one.

use std::sync::Mutex;
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::time::Instant;

use hashbrown::HashSet;
use tracing::warn;

use crate::contact::Contact;
use crate::id::NodeId;
use crate::lookup::{
    contract, EndReason, LookupAction, LookupMode, LookupOutcome, LookupStrategy, Reply,
};
use crate::protocol::{Request, Response};
use crate::routing::{RoutingTable, UpdateOutcome};
use crate::time::Time;
use crate::transport::{Transport, TransportError};

/// Converts tokio's clock into the core's [`Time`].
///
/// Under a paused tokio runtime (the simulator) this is virtual time, and so
/// deterministic; on a normal runtime it is the monotonic clock.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    epoch: Instant,
}

impl Clock {
    /// A clock whose [`Time::ZERO`] is this instant.
    pub fn starting_now() -> Clock {
        Clock {
            epoch: Instant::now(),
        }
    }

    /// The current time.
    pub fn now(&self) -> Time {
        Time::from_epoch(Instant::now().saturating_duration_since(self.epoch))
    }

    /// The tokio instant of `t`, for sleeping until it.
    pub fn instant(&self, t: Time) -> Instant {
        self.epoch + t.since_epoch()
    }
}

/// Something the driver tells the caller about, for narration and traces.
/// Inputs and outputs of the strategy, in the order they happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DriverEvent {
    /// The strategy asked to send to these contacts.
    Sent(Time, Vec<Contact>),
    /// A reply arrived and was given to the strategy.
    Replied(Time, Contact, Vec<Contact>),
    /// A request failed: an error or timeout from the transport, or the
    /// lookup gave up on it (its own deadline, or a rule's round timer),
    /// reported as [`TransportError::Timeout`].
    Failed(Time, Contact, TransportError),
    /// The strategy's phase changed (see
    /// [`LookupStrategy::phase`]); only
    /// for observers that [want phases](DriverObserver::wants_phases).
    Phase(Time, String),
    /// The strategy finished.
    Finished(Time, LookupOutcome),
}

/// Where driver events go; `()` ignores them.
pub trait DriverObserver {
    /// Called for every event.
    fn event(&mut self, event: DriverEvent);

    /// Whether to describe the strategy's phase after every step: it costs
    /// a string per step, so bulk runs (the simulator) do without.
    fn wants_phases(&self) -> bool {
        false
    }
}

impl DriverObserver for () {
    fn event(&mut self, _event: DriverEvent) {}
}

impl<O: DriverObserver + ?Sized> DriverObserver for &mut O {
    fn event(&mut self, event: DriverEvent) {
        (**self).event(event);
    }

    fn wants_phases(&self) -> bool {
        (**self).wants_phases()
    }
}

/// An observer that may be absent: the simulator's lookups without one
/// ([`None`]) cost no events.
impl<O: DriverObserver> DriverObserver for Option<O> {
    fn event(&mut self, event: DriverEvent) {
        if let Some(o) = self {
            o.event(event);
        }
    }

    fn wants_phases(&self) -> bool {
        self.as_ref().is_some_and(DriverObserver::wants_phases)
    }
}

impl DriverObserver for Vec<DriverEvent> {
    fn event(&mut self, event: DriverEvent) {
        self.push(event);
    }

    fn wants_phases(&self) -> bool {
        true
    }
}

/// The driver's decisions for one lookup, without a socket, task or clock:
/// the sans-IO core both shells run. [`run_lookup`] drives it with tokio
/// over a [`Transport`]; the simulator's event loop drives it with virtual
/// time, so a simulated lookup goes through exactly the steps of a real one.
///
/// The shell asks [`LookupDriver::step`] what to do, sends
/// [`LookupDriver::request`] to each contact of a [`LookupAction::Send`]
/// (each bounded by its own timeout), and reports every request's end, exactly once, as
/// [`LookupDriver::on_reply`] or [`LookupDriver::on_failure`]. A reply may
/// ask for an eviction ping, whose answer goes to
/// [`LookupDriver::on_ping`]. The driver keeps the contract checks
/// ([`crate::lookup::contract`]), the routing table's updates and the
/// observer's events.
#[derive(Debug)]
pub struct LookupDriver {
    request: Request,
    local: NodeId,
    asked: HashSet<NodeId>,
    phase: String,
    pending: usize,
}

impl LookupDriver {
    /// A driver for `lookup`, run in `mode` by the node `local`.
    pub fn new(lookup: &dyn LookupStrategy, mode: LookupMode, local: NodeId) -> LookupDriver {
        let target = *lookup.target();
        let request = match mode {
            LookupMode::FindNode => Request::FindNode { target },
            LookupMode::FindValue => Request::GetValue { target },
        };
        LookupDriver {
            request,
            local,
            asked: HashSet::new(),
            phase: String::new(),
            pending: 0,
        }
    }

    /// The request every contact of the lookup is sent.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// Poll the strategy at `now`, check what it asks for (a broken
    /// contract becomes [`LookupAction::Finished`]), and tell the observer.
    /// Requests still in flight when it finishes may be dropped.
    pub fn step<O>(
        &mut self,
        lookup: &mut dyn LookupStrategy,
        now: Time,
        observer: &mut O,
    ) -> LookupAction
    where
        O: DriverObserver + ?Sized,
    {
        let action = enforce(
            lookup.poll(now),
            &*lookup,
            &self.local,
            &mut self.asked,
            self.pending == 0,
            now,
        );
        for contact in lookup.take_gave_up() {
            observer.event(DriverEvent::Failed(now, contact, TransportError::Timeout));
        }
        if observer.wants_phases() {
            let current = lookup.phase();
            if current != self.phase {
                observer.event(DriverEvent::Phase(now, current.clone()));
                self.phase = current;
            }
        }
        match &action {
            LookupAction::Finished(outcome) => {
                observer.event(DriverEvent::Finished(now, outcome.clone()));
            }
            LookupAction::Send(contacts) => {
                observer.event(DriverEvent::Sent(now, contacts.clone()));
                self.pending += contacts.len();
            }
            LookupAction::Wait(_) => {}
        }
        action
    }

    /// `from` answered a lookup request with `response`: the strategy hears
    /// it, and `table` learns `from` by the Kademlia rule. Returns the
    /// contact a full bucket wants pinged, if any: send it a ping and report
    /// the answer with [`LookupDriver::on_ping`].
    pub fn on_reply<O>(
        &mut self,
        lookup: &mut dyn LookupStrategy,
        table: &mut RoutingTable,
        from: Contact,
        response: &Response,
        now: Time,
        observer: &mut O,
    ) -> Option<Contact>
    where
        O: DriverObserver + ?Sized,
    {
        self.pending = self.pending.saturating_sub(1);
        let reply = Reply {
            contacts: &response.contacts,
            value: response.value.as_deref(),
        };
        if lookup.on_response(&from.id, reply, now) {
            observer.event(DriverEvent::Replied(now, from, response.contacts.clone()));
        }
        match table.update(from, now) {
            UpdateOutcome::PingOldest { oldest } => Some(oldest),
            _ => None,
        }
    }

    /// A lookup request to `from` ended without a valid answer.
    pub fn on_failure<O>(
        &mut self,
        lookup: &mut dyn LookupStrategy,
        table: &mut RoutingTable,
        from: Contact,
        error: TransportError,
        now: Time,
        observer: &mut O,
    ) where
        O: DriverObserver + ?Sized,
    {
        self.pending = self.pending.saturating_sub(1);
        if lookup.on_failure(&from.id, now) {
            observer.event(DriverEvent::Failed(now, from, error));
        }
        let _ = table.on_failure(&from, now);
    }

    /// The eviction ping of `oldest` ended: answered or not.
    pub fn on_ping(table: &mut RoutingTable, oldest: &Contact, answered: bool, now: Time) {
        table.on_ping_result(oldest, answered, now);
    }
}

enum Done {
    Lookup(Contact, Result<Response, TransportError>),
    Ping(Contact, bool),
}

/// Run `lookup` to its end: the tokio shell of a [`LookupDriver`].
///
/// Every request goes through `transport`, bounded by `rpc_timeout` even if
/// the transport itself never gives up, so the loop always ends. Every reply
/// updates `table` by the Kademlia rule; a full bucket's eviction ping is
/// sent from here and its answer reported back. Failures are reported to the
/// table too. Requests still in flight when the strategy finishes are
/// dropped; eviction pings are awaited (each is bounded by `rpc_timeout`).
pub async fn run_lookup<T, O>(
    lookup: &mut dyn LookupStrategy,
    mode: LookupMode,
    transport: &T,
    table: &Mutex<RoutingTable>,
    clock: &Clock,
    rpc_timeout: Duration,
    observer: &mut O,
) -> LookupOutcome
where
    T: Transport + ?Sized,
    O: DriverObserver + ?Sized,
{
    let mut pending = FuturesUnordered::new();
    let mut pings = FuturesUnordered::new();
    let send = |to: Contact, request: Request| async move {
        match tokio::time::timeout(rpc_timeout, transport.request(to, request)).await {
            Ok(result) => result,
            Err(_) => Err(TransportError::Timeout),
        }
    };
    let local = *lock(table).local_id();
    let mut driver = LookupDriver::new(&*lookup, mode, local);
    let outcome = loop {
        match driver.step(lookup, clock.now(), observer) {
            LookupAction::Finished(outcome) => break outcome,
            LookupAction::Send(contacts) => {
                for to in contacts {
                    let fut = send(to, driver.request().clone());
                    pending.push(async move { Done::Lookup(to, fut.await) });
                }
            }
            LookupAction::Wait(deadline) => {
                let sleep_until = deadline.map(|d| clock.instant(d));
                let done = tokio::select! {
                    biased;
                    Some(done) = pending.next() => Some(done),
                    Some(done) = pings.next() => Some(done),
                    _ = sleep_or_forever(sleep_until) => None,
                };
                let Some(done) = done else { continue };
                let now = clock.now();
                match done {
                    Done::Lookup(from, Ok(response)) => {
                        let mut table = lock(table);
                        let ping =
                            driver.on_reply(lookup, &mut table, from, &response, now, observer);
                        if let Some(oldest) = ping {
                            let fut = send(oldest, Request::Ping);
                            pings.push(async move { Done::Ping(oldest, fut.await.is_ok()) });
                        }
                    }
                    Done::Lookup(from, Err(error)) => {
                        let mut table = lock(table);
                        driver.on_failure(lookup, &mut table, from, error, now, observer);
                    }
                    Done::Ping(oldest, answered) => {
                        LookupDriver::on_ping(&mut lock(table), &oldest, answered, now);
                    }
                }
            }
        }
    };
    while let Some(done) = pings.next().await {
        if let Done::Ping(oldest, answered) = done {
            LookupDriver::on_ping(&mut lock(table), &oldest, answered, clock.now());
        }
    }
    outcome
}

/// The driver's own check of the strategy's contract
/// ([`crate::lookup::contract`]), for strategies that implement
/// [`LookupStrategy`] directly rather than through
/// [`Lookup`](crate::lookup::Lookup) (which checks it itself): an action that
/// would make the loop spin or hang ends the lookup instead.
fn enforce(
    action: LookupAction,
    lookup: &dyn LookupStrategy,
    local: &NodeId,
    asked: &mut HashSet<NodeId>,
    idle: bool,
    now: Time,
) -> LookupAction {
    let checked = match &action {
        LookupAction::Send(to) => {
            contract::check_send(to, local, |id| asked.contains(id)).map(|()| {
                asked.extend(to.iter().map(|c| c.id));
            })
        }
        LookupAction::Wait(deadline) => contract::check_wait(*deadline, usize::from(!idle), now),
        LookupAction::Finished(outcome) => {
            contract::check_result(&outcome.result, &outcome.target, local, |_| true)
        }
    };
    match checked {
        Ok(()) => action,
        Err(breach) => {
            warn!(strategy = lookup.name(), target = %lookup.target(), %breach, "strategy broke the lookup contract");
            let (result, value) = match action {
                LookupAction::Finished(outcome) => (outcome.result, outcome.value),
                _ => (Vec::new(), None),
            };
            LookupAction::Finished(LookupOutcome {
                target: *lookup.target(),
                result,
                reason: EndReason::ContractBroken,
                stats: lookup.stats(),
                value,
                finished_at: now,
                breach: Some(breach),
            })
        }
    }
}

async fn sleep_or_forever(until: Option<Instant>) {
    match until {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Lock a mutex, recovering it if a panicking thread poisoned the lock.
/// Everything kadlab keeps behind a mutex (routing table, request handler,
/// outstanding queries) keeps its invariants between calls, so its data is
/// still usable, and one panicked task must not take the node down.
pub fn lock<T: ?Sized>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
