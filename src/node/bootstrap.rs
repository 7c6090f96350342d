//! Joining the network: bootstrap contacts, a self-lookup, bucket refresh.
//!
//! Bootstrap always ends. Every query has its own timeout, every lookup
//! ends by its strategy's rules, and the whole join is bounded by
//! [`NodeConfig::bootstrap_deadline`](super::NodeConfig::bootstrap_deadline)
//! on top. libp2p-kad has had a bootstrap that waited forever on a peer
//! that errored mid-way; kadlab's test `bootstrap_ends_when_peers_fail`
//! reproduces that situation.

use std::net::SocketAddrV4;
use std::time::Duration;

use serde::Serialize;

use super::Node;
use crate::contact::Contact;
use crate::driver::lock;
use crate::lookup::LookupMode;
use crate::wire::krpc::Method;

/// Default bound on a whole bootstrap.
pub const DEFAULT_BOOTSTRAP_DEADLINE: Duration = Duration::from_secs(60);

/// Where a bootstrap is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum BootstrapPhase {
    /// Not started.
    #[default]
    Idle,
    /// Asking the bootstrap nodes for contacts near our id.
    Contacting,
    /// Looking up our own id, which fills the nearest buckets.
    SelfLookup,
    /// Looking up a random id in each bucket that is not full.
    Refreshing,
    /// Finished (see [`BootstrapReport`] for how well).
    Done,
}

/// Progress of a bootstrap, published while it runs
/// ([`Node::bootstrap_progress`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BootstrapProgress {
    /// The current phase.
    pub phase: BootstrapPhase,
    /// Contacts in the routing table.
    pub contacts: usize,
}

/// How a bootstrap ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BootstrapReport {
    /// Contacts in the routing table at the end.
    pub contacts: usize,
    /// Bootstrap nodes that answered, with the ids they gave.
    pub answered: Vec<Contact>,
    /// Bootstrap nodes that did not, and why.
    pub failed: Vec<(SocketAddrV4, String)>,
    /// Lookups run (the self-lookup and the refreshes).
    pub lookups: usize,
    /// Whether the overall deadline cut the bootstrap short.
    pub deadline_hit: bool,
    /// Time taken, in milliseconds.
    pub elapsed_ms: u64,
}

impl BootstrapReport {
    /// Whether the node knows anyone: the one thing a caller must check
    /// before doing lookups.
    pub fn joined(&self) -> bool {
        self.contacts > 0
    }
}

impl Node {
    /// Join through `bootstrap`: ask each for nodes near our id, look up our
    /// own id, then refresh every bucket from the nearest non-empty one
    /// outwards that is not full. Ends within the configured deadline
    /// whatever the bootstrap nodes do.
    pub async fn bootstrap(&self, bootstrap: &[SocketAddrV4]) -> BootstrapReport {
        let started = self.inner.clock.now();
        let mut report = BootstrapReport::default();
        let deadline = self.inner.config.bootstrap_deadline;
        let finished = tokio::time::timeout(deadline, self.join(bootstrap, &mut report)).await;
        report.deadline_hit = finished.is_err();
        report.contacts = lock(&self.inner.table).len();
        report.elapsed_ms = self.inner.clock.now().saturating_since(started).as_millis() as u64;
        self.publish(BootstrapPhase::Done);
        node_info!(
            self.inner.config,
            contacts = report.contacts,
            answered = report.answered.len(),
            failed = report.failed.len(),
            lookups = report.lookups,
            deadline_hit = report.deadline_hit,
            "bootstrap finished"
        );
        report
    }

    async fn join(&self, bootstrap: &[SocketAddrV4], report: &mut BootstrapReport) {
        let inner = &self.inner;
        let own = inner.contact.id;
        self.publish(BootstrapPhase::Contacting);
        let asks = bootstrap.iter().map(|&addr| async move {
            (
                addr,
                inner
                    .rpc
                    .query(addr, Method::FindNode { target: own })
                    .await,
            )
        });
        for (addr, answer) in futures_util::future::join_all(asks).await {
            match answer {
                Ok(response) if response.id != own => {
                    let contact = Contact::new(response.id, addr);
                    let _ = lock(&inner.table).update(contact, inner.clock.now());
                    report.answered.push(contact);
                }
                Ok(_) => report
                    .failed
                    .push((addr, "answered with our own id".into())),
                Err(error) => {
                    tracing::debug!(%addr, %error, "bootstrap node did not answer");
                    report.failed.push((addr, error.to_string()));
                }
            }
        }
        self.publish(BootstrapPhase::SelfLookup);
        let config = inner.upkeep_config();
        inner
            .lookup(&config, own, LookupMode::FindNode, &mut ())
            .await;
        report.lookups += 1;
        self.publish(BootstrapPhase::Refreshing);
        let buckets = lock(&inner.table).buckets_to_fill();
        report.lookups += buckets.len();
        inner.refresh(&buckets).await;
    }

    fn publish(&self, phase: BootstrapPhase) {
        let contacts = lock(&self.inner.table).len();
        tracing::debug!(?phase, contacts, "bootstrap progress");
        self.inner
            .progress
            .send_replace(BootstrapProgress { phase, contacts });
    }
}
