//! A real DHT node: the UDP shell around the sans-IO core.
//!
//! A [`Node`] owns one UDP socket, its routing table and its request
//! handler. One receive task reads every datagram: queries go to the
//! [`Server`], answers to the [`UdpRpc`] client that is waiting for them.
//! Lookups run the same [`run_lookup`] driver as the simulator, with the
//! `UdpRpc` as their transport.
//!
//! The node speaks KRPC (BEP 5, BEP 42 node ids, BEP 43, BEP 44 immutable
//! and mutable items), so it interoperates with other Mainline DHT software.

/// Log at info for a lone node, at debug for a swarm's nodes, whose shell
/// logs one line for them all ([`NodeConfig::log_maintenance`]). Tracing
/// takes its level as a constant, so the choice is written here, once.
macro_rules! node_info {
    ($config:expr, $($event:tt)+) => {
        if $config.log_maintenance {
            tracing::info!($($event)+)
        } else {
            tracing::debug!($($event)+)
        }
    };
}

mod bootstrap;
mod swarm;
mod values;

pub use bootstrap::{
    BootstrapPhase, BootstrapProgress, BootstrapReport, DEFAULT_BOOTSTRAP_DEADLINE,
};
pub use swarm::{Swarm, SwarmAddresses, MAX_IP_PER_NODE};
pub use values::{
    AnnounceReport, GetReport, MutableGetReport, MutablePutReport, PeersReport, PutError, PutReport,
};

use std::net::{SocketAddr, SocketAddrV4};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use tokio::net::UdpSocket;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::contact::Contact;
use crate::driver::{lock, run_lookup, Clock, DriverObserver};
use crate::id::NodeId;
use crate::lookup::{LookupConfig, LookupMode, LookupOutcome, StrategyName};
use crate::protocol::{Server, ServerConfig, ServerStats, StorageStats};
use crate::routing::{RoutingConfig, RoutingTable};
use crate::transport::udp::{RpcStats, UdpRpc, DEFAULT_REQUEST_TIMEOUT};
use crate::wire::krpc::{Body, Message, Method};

/// Largest datagram read; KRPC messages are far smaller, but reading the
/// whole datagram lets oversized ones be counted as malformed, not cut.
const MAX_DATAGRAM: usize = 65_536;

/// How often a running node refreshes stale buckets and expires storage.
pub const DEFAULT_MAINTENANCE_INTERVAL: Duration = Duration::from_secs(60);

/// Everything a node needs to start.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Where to bind. Tests and examples use 127.0.0.1; port 0 picks one.
    pub bind: SocketAddrV4,
    /// The node id; when `None`, a BEP 42 id for `external_ip` if that is
    /// known, else a random one.
    pub id: Option<NodeId>,
    /// The node's public IPv4 address, if the operator knows it: the node
    /// then picks an id that satisfies BEP 42 for it (see [`crate::bep42`]),
    /// so that nodes checking ids (libtorrent can prefer verified ones)
    /// take it as genuine.
    pub external_ip: Option<std::net::Ipv4Addr>,
    /// Seed for the node's id, token secrets and transaction ids. `None`
    /// draws them from the operating system, as a public node must (a
    /// predictable transaction id lets others forge answers).
    pub seed: Option<u64>,
    /// Routing-table tunables (k, replacement cache, refresh interval).
    pub routing: RoutingConfig,
    /// Storage bounds and rate limits.
    pub server: ServerConfig,
    /// The strategy and parameters of this node's own lookups.
    pub lookup: LookupConfig,
    /// How long a query waits for its answer.
    pub request_timeout: Duration,
    /// BEP 43 read-only: don't ask others to add this node to their tables
    /// (for short-lived command-line nodes).
    pub read_only: bool,
    /// Bootstrap gives up after this long, whatever the network does.
    pub bootstrap_deadline: Duration,
    /// How often maintenance runs (see [`Node::spawn_maintenance`]).
    pub maintenance_interval: Duration,
    /// Whether each maintenance pass and the end of bootstrap log their
    /// lines at info level (a lone node) or only at debug (a swarm's nodes,
    /// whose shell logs one line for them all instead of one per node).
    pub log_maintenance: bool,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            bind: SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, 0),
            id: None,
            external_ip: None,
            seed: None,
            routing: RoutingConfig::default(),
            server: ServerConfig::default(),
            lookup: LookupConfig::default(),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            read_only: false,
            bootstrap_deadline: DEFAULT_BOOTSTRAP_DEADLINE,
            maintenance_interval: DEFAULT_MAINTENANCE_INTERVAL,
            log_maintenance: true,
        }
    }
}

/// Counters of a running node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct NodeStats {
    /// Contacts in the routing table.
    pub contacts: usize,
    /// The client half: queries sent and answers matched or dropped.
    pub rpc: RpcStats,
    /// The serving half: queries answered, refused, dropped.
    pub server: ServerStats,
    /// Stored items and peers.
    pub storage: StorageStats,
    /// Source addresses (IP and port) the rate limiter tracks now, at most
    /// [`RateLimits::max_sources`](crate::protocol::RateLimits::max_sources).
    pub rate_limiter_sources: usize,
    /// IPs the rate limiter tracks now, at most
    /// [`RateLimits::max_ips`](crate::protocol::RateLimits::max_ips).
    pub rate_limiter_ips: usize,
    /// This node's queries waiting for an answer now (lookups, bootstrap,
    /// eviction pings): [`UdpRpc::in_flight`].
    pub in_flight: usize,
    /// Datagrams from IPv6 sources, which kadlab does not serve.
    pub ipv6_dropped: u64,
}

pub(crate) struct Inner {
    contact: Contact,
    socket: Arc<UdpSocket>,
    rpc: UdpRpc,
    table: Mutex<RoutingTable>,
    server: Mutex<Server>,
    clock: Clock,
    rng: Mutex<ChaCha8Rng>,
    config: NodeConfig,
    progress: watch::Sender<BootstrapProgress>,
    ipv6_dropped: std::sync::atomic::AtomicU64,
}

/// A running node. Dropping it stops its tasks and closes its socket.
pub struct Node {
    inner: Arc<Inner>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Drop for Node {
    fn drop(&mut self) {
        let tasks = self.tasks.get_mut().unwrap_or_else(|p| p.into_inner());
        tasks.iter().for_each(JoinHandle::abort);
    }
}

impl Node {
    /// Bind the socket and start answering queries. Must be called inside a
    /// tokio runtime.
    pub async fn bind(config: NodeConfig) -> std::io::Result<Node> {
        config
            .lookup
            .validate()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
        let socket = Arc::new(UdpSocket::bind(config.bind).await?);
        let SocketAddr::V4(addr) = socket.local_addr()? else {
            return Err(std::io::Error::other("bound to a non-IPv4 address"));
        };
        let mut rng = match config.seed {
            Some(seed) => ChaCha8Rng::seed_from_u64(seed),
            None => ChaCha8Rng::from_entropy(),
        };
        let id = match (config.id, config.external_ip) {
            (Some(id), _) => id,
            (None, Some(ip)) => crate::bep42::id_for(ip, &mut rng),
            (None, None) => NodeId::random(&mut rng),
        };
        let mut secret = [0u8; 32];
        rng.fill_bytes(&mut secret);
        let clock = Clock::starting_now();
        let now = clock.now();
        let rpc = UdpRpc::new(
            Arc::clone(&socket),
            id,
            rng.next_u32(),
            config.request_timeout,
            config.read_only,
        );
        let inner = Arc::new(Inner {
            contact: Contact::new(id, addr),
            socket,
            rpc,
            table: Mutex::new(RoutingTable::new(id, config.routing.clone(), now)),
            server: Mutex::new(Server::new(id, config.server.clone(), secret, now)),
            clock,
            rng: Mutex::new(rng),
            config,
            progress: watch::Sender::new(BootstrapProgress::default()),
            ipv6_dropped: Default::default(),
        });
        let receiver = tokio::spawn(receive_loop(Arc::clone(&inner)));
        Ok(Node {
            inner,
            tasks: Mutex::new(vec![receiver]),
        })
    }

    /// This node's id and address.
    pub fn contact(&self) -> Contact {
        self.inner.contact
    }

    /// The configuration the node was started with.
    pub fn config(&self) -> &NodeConfig {
        &self.inner.config
    }

    /// The client half, for sending single queries (pings, benchmarks).
    pub fn rpc(&self) -> &UdpRpc {
        &self.inner.rpc
    }

    /// Run `f` on the routing table.
    pub fn with_table<T>(&self, f: impl FnOnce(&mut RoutingTable) -> T) -> T {
        f(&mut lock(&self.inner.table))
    }

    /// The node's public IPv4 address: the configured one
    /// ([`NodeConfig::external_ip`]), else what the `ip` field of enough
    /// answers says ([`UdpRpc::external_ip`]); `None` if neither knows.
    pub fn external_ip(&self) -> Option<std::net::Ipv4Addr> {
        self.inner
            .config
            .external_ip
            .or_else(|| self.inner.rpc.external_ip())
    }

    /// Counters of everything the node did so far.
    pub fn stats(&self) -> NodeStats {
        // The table's lock is released before the server's is taken: the
        // receive loop holds the table while it locks the server, so holding
        // the server while locking the table could deadlock with it.
        let contacts = lock(&self.inner.table).len();
        let server = lock(&self.inner.server);
        NodeStats {
            contacts,
            rpc: self.inner.rpc.stats(),
            server: server.stats(),
            storage: server.storage_stats(),
            rate_limiter_sources: server.rate_limited_sources(),
            rate_limiter_ips: server.rate_limited_ips(),
            in_flight: self.inner.rpc.in_flight(),
            ipv6_dropped: self
                .inner
                .ipv6_dropped
                .load(std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// Watch bootstrap progress (phase, contacts known) while it runs.
    pub fn bootstrap_progress(&self) -> watch::Receiver<BootstrapProgress> {
        self.inner.progress.subscribe()
    }

    /// A lookup of `target` with the node's configured strategy.
    pub async fn lookup(&self, target: NodeId, mode: LookupMode) -> LookupOutcome {
        let config = self.inner.config.lookup.clone();
        self.lookup_with(&config, target, mode, &mut ()).await
    }

    /// A lookup with an explicit configuration, reporting every step to
    /// `observer` (the CLI narrates with it).
    pub async fn lookup_with<O: DriverObserver + ?Sized>(
        &self,
        config: &LookupConfig,
        target: NodeId,
        mode: LookupMode,
        observer: &mut O,
    ) -> LookupOutcome {
        self.inner.lookup(config, target, mode, observer).await
    }

    /// Start periodic maintenance: every
    /// [`NodeConfig::maintenance_interval`], refresh buckets nobody looked
    /// into for [`RoutingConfig::refresh_interval`] (a lookup of a random id
    /// in each, which also replaces stale contacts as they fail), and
    /// expire stored items.
    pub fn spawn_maintenance(&self) {
        let inner = Arc::clone(&self.inner);
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(inner.config.maintenance_interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let now = inner.clock.now();
                lock(&inner.server).expire(now);
                let (buckets, contacts) = {
                    let table = lock(&inner.table);
                    (table.buckets_to_refresh(now), table.len())
                };
                let served = lock(&inner.server).stats();
                node_info!(
                    inner.config,
                    contacts,
                    refreshing = buckets.len(),
                    answered = served.answered,
                    rate_limited = served.rate_limited,
                    malformed = served.malformed,
                    "maintenance"
                );
                inner.refresh(&buckets).await;
            }
        });
        lock(&self.tasks).push(task);
    }
}

impl Inner {
    async fn lookup<O: DriverObserver + ?Sized>(
        &self,
        config: &LookupConfig,
        target: NodeId,
        mode: LookupMode,
        observer: &mut O,
    ) -> LookupOutcome {
        let mut strategy = {
            let mut table = lock(&self.table);
            if let Some(bucket) = self.contact.id.bucket_index(&target) {
                table.touch_bucket(bucket, self.clock.now());
            }
            config.start(&table, target, mode)
        };
        let outcome = run_lookup(
            &mut *strategy,
            mode,
            &self.rpc,
            &self.table,
            &self.clock,
            config.rpc_timeout(),
            observer,
        )
        .await;
        tracing::debug!(
            target = %target,
            strategy = config.strategy.as_str(),
            reason = %outcome.reason,
            found = outcome.result.len(),
            requests = outcome.stats.requests,
            "lookup finished"
        );
        outcome
    }

    /// The configuration of maintenance lookups: the paper's rule with the
    /// node's α and k, whatever strategy the user studies, so that table
    /// upkeep does not change with the strategy under test.
    fn upkeep_config(&self) -> LookupConfig {
        self.config.lookup.with_strategy(StrategyName::Kademlia)
    }

    /// One lookup of a random id in each bucket, all at once.
    async fn refresh(&self, buckets: &[usize]) {
        let config = self.upkeep_config();
        let targets: Vec<NodeId> = {
            let mut rng = lock(&self.rng);
            buckets
                .iter()
                .map(|&b| self.contact.id.random_in_bucket(b, &mut *rng))
                .collect()
        };
        let config = &config;
        let lookups = targets.into_iter().map(|target| async move {
            self.lookup(config, target, LookupMode::FindNode, &mut ())
                .await
        });
        futures_util::future::join_all(lookups).await;
    }

    async fn send(&self, to: SocketAddrV4, message: &Message) {
        if let Err(e) = self.socket.send_to(&message.encode(), to).await {
            tracing::debug!(%to, error = %e, "reply not sent");
        }
    }
}

/// Read every datagram: answers go to the waiting query, queries to the
/// handler, whose reply is sent back; a full bucket's eviction ping is sent
/// from a task of its own so the loop never waits on the network.
async fn receive_loop(inner: Arc<Inner>) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let (len, from) = match inner.socket.recv_from(&mut buf).await {
            Ok(received) => received,
            Err(e) => {
                // Linux reports an earlier send's ICMP error here; the
                // socket itself is fine.
                tracing::trace!(error = %e, "receive error");
                continue;
            }
        };
        let SocketAddr::V4(from4) = from else {
            inner
                .ipv6_dropped
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            continue;
        };
        let now = inner.clock.now();
        let handled = match Message::decode(&buf[..len]) {
            Err(error) => {
                tracing::debug!(%from, %error, "malformed datagram");
                lock(&inner.server).on_malformed(&error, from4, now)
            }
            Ok(message) => match message.body {
                Body::Query(query) => {
                    let mut table = lock(&inner.table);
                    lock(&inner.server).handle(
                        &mut table,
                        from4,
                        message.transaction,
                        message.read_only,
                        query,
                        now,
                    )
                }
                Body::Response(_) | Body::Error(_) => {
                    // An answer no request waits for is logged, with why,
                    // by `on_answer`.
                    let _ = inner.rpc.on_answer(from, message);
                    continue;
                }
            },
        };
        if let Some(reply) = handled.reply {
            inner.send(from4, &reply).await;
        }
        if let Some(oldest) = handled.ping {
            let inner = Arc::clone(&inner);
            tokio::spawn(async move {
                let answer = inner.rpc.query(oldest.addr, Method::Ping).await;
                let alive = answer.is_ok_and(|r| r.id == oldest.id);
                lock(&inner.table).on_ping_result(&oldest, alive, inner.clock.now());
            });
        }
    }
}
