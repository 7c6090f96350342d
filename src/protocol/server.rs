//! The request handler: what a node answers to each KRPC query.
//!
//! Sans-IO, like the rest of the core: [`Server::handle`] takes a decoded
//! query, where it came from, the routing table and the time, and returns
//! the reply to send plus the eviction ping the table asked for (if any).
//! The UDP shell sends both; tests call it directly.

use std::net::SocketAddrV4;

use serde::Serialize;

use crate::contact::Contact;
use crate::id::NodeId;
use crate::protocol::rate_limit::{RateLimiter, RateLimits};
use crate::protocol::storage::{PutOutcome, Storage, StorageLimits, StorageStats, MAX_VALUE_LEN};
use crate::protocol::tokens::TokenIssuer;
use crate::routing::{RoutingTable, UpdateOutcome};
use crate::time::Time;
use crate::transport::krpc::{
    Body, DecodeError, KrpcError, Malformed, Message, Method, Query, ResponseBody, ERROR_PROTOCOL,
};

/// BEP 44's error code for a value larger than 1000 bytes.
pub const ERROR_VALUE_TOO_BIG: i64 = 205;

/// Peers returned per `get_peers` answer: about what fits a 1500-byte
/// datagram next to the nodes.
const MAX_PEERS_PER_REPLY: usize = 50;

/// Tunables of a [`Server`].
#[derive(Clone, Debug, Default)]
pub struct ServerConfig {
    /// Bounds on stored items and peers.
    pub storage: StorageLimits,
    /// Per-source query rate.
    pub rate: RateLimits,
}

/// Counters of the serving half: every query is counted once, under the
/// way it was handled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ServerStats {
    /// Queries answered with a response.
    pub answered: u64,
    /// Datagrams that were not KRPC at all (dropped).
    pub malformed: u64,
    /// Queries with missing or invalid arguments (answered with 203).
    pub invalid_arguments: u64,
    /// Queries for methods kadlab does not serve (answered with 204).
    pub unknown_method: u64,
    /// `announce_peer` / `put` with a token kadlab did not issue to that
    /// address (answered with 203).
    pub bad_token: u64,
    /// `put`s over 1000 bytes (answered with 205).
    pub too_big: u64,
    /// Queries dropped because their source exceeded the rate limit.
    pub rate_limited: u64,
    /// Queries that carried kadlab's own id (dropped: nobody else has it).
    pub own_id: u64,
}

/// What to do after a query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handled {
    /// The datagram to send back, if any.
    pub reply: Option<Message>,
    /// The routing table's bucket for the querier was full: ping this
    /// oldest contact and report with [`RoutingTable::on_ping_result`].
    pub ping: Option<Contact>,
}

impl Handled {
    fn drop_it() -> Handled {
        Handled {
            reply: None,
            ping: None,
        }
    }
}

/// Answers KRPC queries for one node: tokens, storage and rate limits.
pub struct Server {
    local: NodeId,
    tokens: TokenIssuer,
    storage: Storage,
    limiter: RateLimiter,
    stats: ServerStats,
}

impl Server {
    /// A handler for the node `local`. `secret_seed` seeds the token
    /// secrets: real nodes pass OS randomness, tests a fixed value.
    pub fn new(local: NodeId, config: ServerConfig, secret_seed: [u8; 32], now: Time) -> Server {
        Server {
            local,
            tokens: TokenIssuer::new(secret_seed, now),
            storage: Storage::new(config.storage),
            limiter: RateLimiter::new(config.rate),
            stats: ServerStats::default(),
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> ServerStats {
        self.stats
    }

    /// What storage holds now.
    pub fn storage_stats(&self) -> StorageStats {
        self.storage.stats()
    }

    /// Sources the rate limiter tracks now.
    pub fn rate_limited_sources(&self) -> usize {
        self.limiter.len()
    }

    /// The item stored under `target`, if this node holds it.
    pub fn stored_item(&mut self, target: NodeId, now: Time) -> Option<Vec<u8>> {
        self.storage.get_item(target, now).map(<[u8]>::to_vec)
    }

    /// Drop expired items and peers; the shell calls it periodically.
    pub fn expire(&mut self, now: Time) {
        self.storage.expire(now);
    }

    /// A datagram that did not decode: count it, and answer it with a KRPC
    /// error if it was a query with a transaction id.
    pub fn on_malformed(&mut self, error: &DecodeError, from: SocketAddrV4, now: Time) -> Handled {
        let counter = match (&error.reason, error.query) {
            (Malformed::UnknownMethod, _) => &mut self.stats.unknown_method,
            (_, true) => &mut self.stats.invalid_arguments,
            (_, false) => &mut self.stats.malformed,
        };
        *counter += 1;
        if !self.limiter.allow(from, now) {
            self.stats.rate_limited += 1;
            return Handled::drop_it();
        }
        Handled {
            reply: error.reply(),
            ping: None,
        }
    }

    /// Answer `query`, received from `from` with transaction id
    /// `transaction`. Every query from a node that is not read-only (BEP 43)
    /// updates its bucket by the Kademlia rule.
    pub fn handle(
        &mut self,
        table: &mut RoutingTable,
        from: SocketAddrV4,
        transaction: Vec<u8>,
        read_only: bool,
        query: Query,
        now: Time,
    ) -> Handled {
        if !self.limiter.allow(from, now) {
            self.stats.rate_limited += 1;
            return Handled::drop_it();
        }
        if query.id == self.local {
            self.stats.own_id += 1;
            return Handled::drop_it();
        }
        let ping = if read_only {
            None
        } else {
            match table.update(Contact::new(query.id, from), now) {
                UpdateOutcome::PingOldest { oldest } => Some(oldest),
                _ => None,
            }
        };
        let k = table.config().k;
        let body = match query.method {
            Method::Ping => Ok(self.response()),
            Method::FindNode { target } => Ok(ResponseBody {
                nodes: table.closest(&target, k),
                ..self.response()
            }),
            Method::GetPeers { info_hash } => Ok(ResponseBody {
                nodes: table.closest(&info_hash, k),
                values: self.storage.peers(info_hash, now, MAX_PEERS_PER_REPLY),
                token: Some(self.tokens.issue(*from.ip(), now)),
                ..self.response()
            }),
            Method::AnnouncePeer {
                info_hash,
                port,
                implied_port,
                token,
            } => self.check_token(from, &token, now).map(|()| {
                let port = if implied_port { from.port() } else { port };
                self.storage
                    .announce(info_hash, SocketAddrV4::new(*from.ip(), port), now);
                self.response()
            }),
            Method::Get { target } => Ok(ResponseBody {
                nodes: table.closest(&target, k),
                value: self.storage.get_item(target, now).map(<[u8]>::to_vec),
                token: Some(self.tokens.issue(*from.ip(), now)),
                ..self.response()
            }),
            Method::Put {
                value,
                token,
                target,
            } => self.put(from, value, &token, target, now),
        };
        let body = match body {
            Ok(response) => {
                self.stats.answered += 1;
                Body::Response(response)
            }
            Err(error) => Body::Error(error),
        };
        Handled {
            reply: Some(Message {
                transaction,
                version: Some(crate::transport::udp::CLIENT_VERSION.to_vec()),
                read_only: false,
                requester: Some(from),
                body,
            }),
            ping,
        }
    }

    fn response(&self) -> ResponseBody {
        ResponseBody {
            id: self.local,
            ..ResponseBody::default()
        }
    }

    fn check_token(
        &mut self,
        from: SocketAddrV4,
        token: &[u8],
        now: Time,
    ) -> Result<(), KrpcError> {
        if self.tokens.check(*from.ip(), token, now) {
            return Ok(());
        }
        self.stats.bad_token += 1;
        Err(KrpcError {
            code: ERROR_PROTOCOL,
            message: "bad token".into(),
        })
    }

    fn put(
        &mut self,
        from: SocketAddrV4,
        value: Vec<u8>,
        token: &[u8],
        target: Option<NodeId>,
        now: Time,
    ) -> Result<ResponseBody, KrpcError> {
        self.check_token(from, token, now)?;
        if value.len() > MAX_VALUE_LEN {
            self.stats.too_big += 1;
            return Err(KrpcError {
                code: ERROR_VALUE_TOO_BIG,
                message: format!("value is {} bytes; at most {MAX_VALUE_LEN}", value.len()),
            });
        }
        let actual = NodeId::of_immutable_value(&value);
        if target.is_some_and(|t| t != actual) {
            self.stats.invalid_arguments += 1;
            return Err(KrpcError {
                code: ERROR_PROTOCOL,
                message: "target is not the SHA-1 of the bencoded value".into(),
            });
        }
        match self.storage.put_item(actual, value, now) {
            PutOutcome::TooLarge => {
                self.stats.too_big += 1;
                Err(KrpcError {
                    code: ERROR_VALUE_TOO_BIG,
                    message: format!("value too large; at most {MAX_VALUE_LEN} bytes"),
                })
            }
            PutOutcome::Stored | PutOutcome::Refreshed => Ok(self.response()),
        }
    }
}
