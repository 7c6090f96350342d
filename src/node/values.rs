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
use crate::protocol::mutable::{public_key, target_of, MAX_SALT_LEN};
use crate::protocol::{MutableItem, MAX_VALUE_LEN};
use crate::protocol::{Request, Response};
use crate::transport::udp::{method_of, UdpRpc};
use crate::transport::{Transport, TransportError};
use crate::wire::krpc::{Method, MutableFields};

/// Why a put could not start.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PutError {
    /// BEP 44 caps values at 1000 bytes.
    #[error("the value is {0} bytes; BEP 44 allows at most {MAX_VALUE_LEN}: store a shorter value or a hash of it")]
    TooLarge(usize),
    /// BEP 44 caps salts at 64 bytes.
    #[error("the salt is {0} bytes; BEP 44 allows at most {MAX_SALT_LEN}: use a shorter salt")]
    SaltTooLong(usize),
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

/// What a mutable put did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MutablePutReport {
    /// Where it went, as for an immutable put.
    pub put: PutReport,
    /// The public key it is signed with.
    pub key: [u8; 32],
    /// The sequence number it was stored with.
    pub seq: i64,
}

/// What a mutable get found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MutableGetReport {
    /// The newest verified item, if any node held one.
    pub item: Option<MutableItem>,
    /// Answers whose item did not verify for the key and salt.
    pub rejected: usize,
    /// The lookup, to the k closest nodes.
    pub lookup: LookupOutcome,
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
    signed: Mutex<Vec<(Vec<u8>, MutableFields)>>,
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
        if let (Some(value), Some(fields)) = (answer.value, answer.mutable) {
            lock(&self.signed).push((value, fields));
        }
        Ok(Response {
            id: answer.id,
            contacts: answer.nodes,
            value: None,
            token: None,
        })
    }
}

/// What a lookup through a [`TokenTap`] found: the k closest nodes with
/// the tokens they handed out, the peers they listed, and the signed
/// values (mutable items, not yet checked) they hold.
struct Tapped {
    outcome: LookupOutcome,
    tokens: Vec<(NodeId, Vec<u8>)>,
    peers: Vec<SocketAddrV4>,
    signed: Vec<(Vec<u8>, MutableFields)>,
}

impl Tapped {
    /// The verified mutable item of `key` and `salt` with the highest seq
    /// among the answers, and how many answers failed the check (a wrong
    /// key or signature).
    fn newest_item(&self, key: &[u8; 32], salt: &[u8]) -> (Option<MutableItem>, usize) {
        let mut newest: Option<MutableItem> = None;
        let mut rejected = 0;
        for (value, fields) in &self.signed {
            let item = MutableItem {
                key: fields.key,
                salt: salt.to_vec(),
                seq: fields.seq,
                value: value.clone(),
                signature: fields.signature,
            };
            if item.key != *key || !item.verifies() {
                rejected += 1;
            } else if newest.as_ref().is_none_or(|n| item.seq > n.seq) {
                newest = Some(item);
            }
        }
        (newest, rejected)
    }
}

/// What `mutex` holds, even if a thread panicked while holding it.
fn into_inner<T>(mutex: Mutex<T>) -> T {
    mutex.into_inner().unwrap_or_else(|p| p.into_inner())
}

/// Which nodes stored a write (`put`, `announce_peer`) and which did not.
type Writes = (Vec<Contact>, Vec<(Contact, String)>);

impl PutReport {
    /// The report of a put of `target`: its lookup, and its writes.
    fn of(target: NodeId, tapped: &Tapped, (stored_at, failed): Writes) -> PutReport {
        PutReport {
            target,
            stored_at,
            failed,
            lookup_requests: tapped.outcome.stats.requests,
        }
    }
}

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
            signed: Mutex::new(Vec::new()),
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
            signed: into_inner(tap.signed),
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
        let writes = self
            .write_to_result(&tapped, |token| {
                method_of(Request::PutValue {
                    value: value.clone(),
                    token,
                })
            })
            .await;
        let report = PutReport::of(target, &tapped, writes);
        tracing::info!(
            target = %target,
            stored = report.stored_at.len(),
            failed = report.failed.len(),
            "put finished"
        );
        Ok(report)
    }

    /// Store `value` as the BEP 44 mutable item of the ed25519 key whose
    /// secret seed is `seed`, under `salt`, on the k nodes closest to its
    /// target. Its `seq` is one more than the highest verified one the
    /// lookup saw (1 for a new item), unless `seq` says otherwise.
    pub async fn put_mutable(
        &self,
        seed: &[u8; 32],
        salt: &[u8],
        value: Vec<u8>,
        seq: Option<i64>,
    ) -> Result<MutablePutReport, PutError> {
        if value.len() > MAX_VALUE_LEN {
            return Err(PutError::TooLarge(value.len()));
        }
        if salt.len() > MAX_SALT_LEN {
            return Err(PutError::SaltTooLong(salt.len()));
        }
        let key = public_key(seed);
        let target = target_of(&key, salt);
        let tapped = self
            .tapped_lookup(target, |target| Method::Get { target })
            .await;
        let (stored, _) = tapped.newest_item(&key, salt);
        let seq = seq.unwrap_or_else(|| stored.map_or(1, |s| s.seq.saturating_add(1)));
        let item = MutableItem::sign(seed, salt, seq, &value);
        let writes = self
            .write_to_result(&tapped, |token| Method::PutMutable {
                item: item.clone(),
                token,
                cas: None,
            })
            .await;
        let put = PutReport::of(target, &tapped, writes);
        tracing::info!(
            target = %target,
            seq,
            stored = put.stored_at.len(),
            failed = put.failed.len(),
            "mutable put finished"
        );
        Ok(MutablePutReport { put, key, seq })
    }

    /// Find the newest mutable item of public key `key` under `salt`: the
    /// lookup asks the k nodes closest to SHA-1(key + salt), and of their
    /// answers keeps those signed by `key` for that salt, the highest
    /// `seq` first.
    pub async fn get_mutable(&self, key: &[u8; 32], salt: &[u8]) -> MutableGetReport {
        let target = target_of(key, salt);
        let tapped = self
            .tapped_lookup(target, |target| Method::Get { target })
            .await;
        let (item, rejected) = tapped.newest_item(key, salt);
        MutableGetReport {
            item,
            rejected,
            lookup: tapped.outcome,
        }
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
