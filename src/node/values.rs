//! Storing and finding BEP 44 immutable items, and finding and announcing
//! a torrent's peers (BEP 5).
//!
//! `put` and `announce_peer` need a write token from each of the k nodes
//! closest to the target, and tokens only come with `get` (or `get_peers`)
//! answers. So a write runs a FIND_NODE-style lookup (to the k closest, not
//! stopping at a stored copy) whose requests are sent as `get`s or
//! `get_peers`; [`TokenTap`] does that translation and keeps the tokens
//! (and the peers listed), and the lookup itself is the unchanged strategy.

use std::net::SocketAddrV4;
use std::sync::Mutex;

use async_trait::async_trait;

use super::Node;
use crate::contact::Contact;
use crate::driver::{lock, run_lookup, DriverObserver};
use crate::id::NodeId;
use crate::lookup::{LookupConfig, LookupMode, LookupOutcome};
use crate::protocol::MAX_VALUE_LEN;
use crate::protocol::{Request, Response};
use crate::transport::udp::{method_of, UdpRpc};
use crate::transport::{Transport, TransportError};
use crate::wire::krpc::Method;

/// Why a put could not start.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PutError {
    /// BEP 44 caps values at 1000 bytes.
    #[error("the value is {0} bytes; BEP 44 allows at most {MAX_VALUE_LEN}: store a shorter value or a hash of it")]
    TooLarge(usize),
}

/// What a put did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PutReport {
    /// The item's key: SHA-1 of the bencoded value.
    pub target: NodeId,
    /// Nodes that confirmed storing it.
    pub stored_at: Vec<Contact>,
    /// Nodes among the closest that refused or did not answer, and why.
    pub failed: Vec<(Contact, String)>,
    /// RPCs of the lookup that found the closest nodes.
    pub lookup_requests: u32,
}

/// What a `get_peers` lookup found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeersReport {
    /// Every distinct peer the nodes of the lookup listed.
    pub peers: Vec<SocketAddrV4>,
    /// The lookup, to the k closest nodes.
    pub lookup: LookupOutcome,
}

/// What an announce did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnnounceReport {
    /// The torrent announced.
    pub info_hash: NodeId,
    /// Nodes that confirmed the announce.
    pub announced_at: Vec<Contact>,
    /// Nodes among the closest that refused or did not answer, and why.
    pub failed: Vec<(Contact, String)>,
    /// RPCs of the lookup that found the closest nodes.
    pub lookup_requests: u32,
}

/// What a get found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GetReport {
    /// The value, verified against the target.
    pub value: Option<Vec<u8>>,
    /// The lookup that looked for it (`None` when the node had it already).
    pub lookup: Option<LookupOutcome>,
}

/// Sends a lookup's FIND_NODE requests as another query that hands out
/// write tokens (BEP 44 `get`, BEP 5 `get_peers`), remembers each node's
/// token, and keeps the peers a `get_peers` answer lists. Values in the
/// answers are withheld from the lookup, so it runs to the k closest nodes.
struct TokenTap<'a> {
    rpc: &'a UdpRpc,
    ask: fn(NodeId) -> Method,
    tokens: Mutex<Vec<(NodeId, Vec<u8>)>>,
    peers: Mutex<Vec<SocketAddrV4>>,
}

#[async_trait]
impl Transport for TokenTap<'_> {
    async fn request(&self, to: Contact, request: Request) -> Result<Response, TransportError> {
        let Request::FindNode { target } = request else {
            return self.rpc.request(to, request).await;
        };
        let answer = self.rpc.request_method(to, (self.ask)(target)).await?;
        if let Some(token) = answer.token {
            lock(&self.tokens).push((to.id, token));
        }
        lock(&self.peers).extend(answer.values);
        Ok(Response {
            id: answer.id,
            contacts: answer.nodes,
            value: None,
            token: None,
        })
    }
}

/// What a lookup through a [`TokenTap`] found: the k closest nodes with
/// the tokens they handed out, and the peers they listed.
struct Tapped {
    outcome: LookupOutcome,
    tokens: Vec<(NodeId, Vec<u8>)>,
    peers: Vec<SocketAddrV4>,
}

/// What `mutex` holds, even if a thread panicked while holding it.
fn into_inner<T>(mutex: Mutex<T>) -> T {
    mutex.into_inner().unwrap_or_else(|p| p.into_inner())
}

/// Which nodes stored a write (`put`, `announce_peer`) and which did not.
type Writes = (Vec<Contact>, Vec<(Contact, String)>);

impl Node {
    /// Run a FIND_NODE lookup of `target` with the node's strategy, each
    /// request sent as `ask(target)`.
    async fn tapped_lookup(&self, target: NodeId, ask: fn(NodeId) -> Method) -> Tapped {
        let inner = &self.inner;
        let config: &LookupConfig = &inner.config.lookup;
        let tap = TokenTap {
            rpc: &inner.rpc,
            ask,
            tokens: Mutex::new(Vec::new()),
            peers: Mutex::new(Vec::new()),
        };
        let mut strategy = {
            let table = lock(&inner.table);
            config.start(&table, target, LookupMode::FindNode)
        };
        let outcome = run_lookup(
            &mut *strategy,
            LookupMode::FindNode,
            &tap,
            &inner.table,
            &inner.clock,
            config.rpc_timeout(),
            &mut (),
        )
        .await;
        Tapped {
            outcome,
            tokens: into_inner(tap.tokens),
            peers: into_inner(tap.peers),
        }
    }

    /// Send `write(token)` to every node of the lookup's result, with the
    /// token that node handed out (its latest), all at once.
    async fn write_to_result(&self, tapped: &Tapped, write: impl Fn(Vec<u8>) -> Method) -> Writes {
        let rpc = &self.inner.rpc;
        let writes = tapped.outcome.result.iter().map(|&node| {
            let token = tapped.tokens.iter().rev().find(|(id, _)| *id == node.id);
            let method = token.map(|(_, token)| write(token.clone()));
            async move {
                let Some(method) = method else {
                    return (node, Err("gave no write token".to_string()));
                };
                let answer = rpc.request_method(node, method).await;
                (node, answer.map(|_| ()).map_err(|e| e.to_string()))
            }
        });
        let mut done = (Vec::new(), Vec::new());
        for (node, result) in futures_util::future::join_all(writes).await {
            match result {
                Ok(()) => done.0.push(node),
                Err(why) => done.1.push((node, why)),
            }
        }
        done
    }

    /// Store `value` as an immutable item on the k nodes closest to its
    /// target, found with the node's configured strategy.
    pub async fn put(&self, value: Vec<u8>) -> Result<PutReport, PutError> {
        if value.len() > MAX_VALUE_LEN {
            return Err(PutError::TooLarge(value.len()));
        }
        let target = NodeId::of_immutable_value(&value);
        let tapped = self
            .tapped_lookup(target, |target| Method::Get { target })
            .await;
        let (stored_at, failed) = self
            .write_to_result(&tapped, |token| {
                method_of(Request::PutValue {
                    value: value.clone(),
                    token,
                })
            })
            .await;
        let report = PutReport {
            target,
            stored_at,
            failed,
            lookup_requests: tapped.outcome.stats.requests,
        };
        tracing::info!(
            target = %target,
            stored = report.stored_at.len(),
            failed = report.failed.len(),
            "put finished"
        );
        Ok(report)
    }

    /// The peers the nodes closest to `info_hash` know of (BEP 5
    /// `get_peers`), found with the node's configured strategy: every
    /// distinct peer any node of the lookup listed, in the order heard.
    pub async fn get_peers(&self, info_hash: NodeId) -> PeersReport {
        let tapped = self
            .tapped_lookup(info_hash, |info_hash| Method::GetPeers { info_hash })
            .await;
        let mut peers = Vec::new();
        for peer in tapped.peers {
            if !peers.contains(&peer) {
                peers.push(peer);
            }
        }
        PeersReport {
            peers,
            lookup: tapped.outcome,
        }
    }

    /// Announce that this host serves `info_hash` on `port` (BEP 5
    /// `announce_peer`) to the k nodes closest to it, with the tokens their
    /// `get_peers` answers handed out.
    pub async fn announce(&self, info_hash: NodeId, port: u16) -> AnnounceReport {
        let tapped = self
            .tapped_lookup(info_hash, |info_hash| Method::GetPeers { info_hash })
            .await;
        let (announced_at, failed) = self
            .write_to_result(&tapped, |token| Method::AnnouncePeer {
                info_hash,
                port,
                implied_port: false,
                token,
            })
            .await;
        tracing::info!(
            info_hash = %info_hash,
            announced = announced_at.len(),
            failed = failed.len(),
            "announce finished"
        );
        AnnounceReport {
            info_hash,
            announced_at,
            failed,
            lookup_requests: tapped.outcome.stats.requests,
        }
    }

    /// Find the immutable item stored under `target`, with the node's
    /// configured strategy. Values are checked against the target before
    /// they are believed.
    pub async fn get(&self, target: NodeId) -> GetReport {
        self.get_observed(target, &mut ()).await
    }

    /// [`Node::get`], reporting every lookup step to `observer`.
    pub async fn get_observed<O: DriverObserver + ?Sized>(
        &self,
        target: NodeId,
        observer: &mut O,
    ) -> GetReport {
        let local = {
            let now = self.inner.clock.now();
            let mut server = crate::driver::lock(&self.inner.server);
            server.stored_item(target, now)
        };
        if let Some(value) = local {
            return GetReport {
                value: Some(value),
                lookup: None,
            };
        }
        let config = self.inner.config.lookup.clone();
        let outcome = self
            .inner
            .lookup(&config, target, LookupMode::FindValue, observer)
            .await;
        GetReport {
            value: outcome.value.clone(),
            lookup: Some(outcome),
        }
    }
}
