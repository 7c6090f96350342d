//! The request handler: what a node answers to each KRPC query.
//!
//! Sans-IO, like the rest of the core: [`Server::handle`] takes a decoded
//! query, where it came from, the routing table and the time, and returns
//! the reply to send plus the eviction ping the table asked for (if any).
//! The UDP shell sends both; tests call it directly.

use std::net::SocketAddrV4;
use std::time::Duration;

use serde::Serialize;

use crate::bep42::{self, Verdict};
use crate::contact::Contact;
use crate::id::NodeId;
use crate::protocol::mutable::{MutableItem, MAX_SALT_LEN};
use crate::protocol::rate_limit::{RateLimiter, RateLimits};
use crate::protocol::storage::{
    MutableRefusal, PutOutcome, Storage, StorageLimits, StorageStats, MAX_VALUE_LEN,
};
use crate::protocol::tokens::TokenIssuer;
use crate::routing::{Heard, RoutingTable, UpdateOutcome};
use crate::time::Time;
use crate::wire::krpc::{
    Body, DecodeError, KrpcError, Malformed, Message, Method, Query, ResponseBody, CLIENT_VERSION,
    ERROR_PROTOCOL,
};

/// BEP 44's error code for a value larger than 1000 bytes.
pub const ERROR_VALUE_TOO_BIG: i64 = 205;
/// BEP 44: a mutable item's signature does not verify.
pub const ERROR_INVALID_SIGNATURE: i64 = 206;
/// BEP 44: a mutable item's salt is over 64 bytes.
pub const ERROR_SALT_TOO_BIG: i64 = 207;
/// BEP 44: `cas` is not the stored item's `seq`.
pub const ERROR_CAS_MISMATCH: i64 = 301;
/// BEP 44: `seq` is lower than the stored item's.
pub const ERROR_SEQ_TOO_LOW: i64 = 302;

/// Peers returned per `get_peers` answer: about what fits a 1500-byte
/// datagram next to the nodes.
const MAX_PEERS_PER_REPLY: usize = 50;

/// Tunables of a [`Server`].
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Bounds on stored items and peers.
    pub storage: StorageLimits,
    /// Query rates per source address and per IP.
    pub rate: RateLimits,
    /// A full bucket's least-recently-seen contact is pinged (to evict it
    /// if it does not answer) only if it was last heard from at least this
    /// long ago; otherwise the newcomer waits, as the routing table's
    /// pending candidate, then in its replacement cache. See
    /// [`DEFAULT_EVICTION_PING_AFTER`].
    pub eviction_ping_after: Duration,
    /// BEP 42: a querier whose id does not match its (public) IP may join
    /// the routing table only where there is room; it never makes a full
    /// bucket ping its oldest contact to take that contact's place. Off by
    /// default, as in libtorrent (`dht_prefer_verified_node_ids`), because
    /// most of the deployed DHT's ids are not BEP 42 ids.
    pub prefer_verified_ids: bool,
}

/// Default of [`ServerConfig::eviction_ping_after`].
///
/// Without it a flood of queries under new ids makes a node ping its live
/// contacts as fast as they answer: k contacts per bucket, one ping per
/// round trip. Past their own rate limit (50 per second per address) they
/// stop answering, and the Kademlia rule then evicts them for the flood's
/// ids. A contact heard from within the last second is alive as far as
/// the rule is concerned, which caps eviction pings at one per second per
/// contact and changes nothing else.
pub const DEFAULT_EVICTION_PING_AFTER: Duration = Duration::from_secs(1);

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            storage: StorageLimits::default(),
            rate: RateLimits::default(),
            eviction_ping_after: DEFAULT_EVICTION_PING_AFTER,
            prefer_verified_ids: false,
        }
    }
}

/// Counters of the serving half: every query is counted once, under the
/// way it was handled (`rate_limited` is the sum of its two per-level
/// counters, not a third way).
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
    /// Mutable `put`s whose signature did not verify (answered with 206).
    pub bad_signature: u64,
    /// Mutable `put`s whose `cas` was not the stored `seq` (301).
    pub cas_mismatch: u64,
    /// Mutable `put`s whose `seq` was below the stored one (302).
    pub seq_too_low: u64,
    /// Queries dropped because of a rate limit, at either level.
    pub rate_limited: u64,
    /// Of `rate_limited`: queries whose source address (IP and port) was
    /// over its own limit.
    pub rate_limited_source: u64,
    /// Of `rate_limited`: queries whose source address was within its limit
    /// but whose IP, over all its ports, was not.
    pub rate_limited_ip: u64,
    /// Queries that carried kadlab's own id (dropped: nobody else has it).
    pub own_id: u64,
    /// Not queries: eviction pings asked of the shell, one per querier
    /// that found its bucket full and whose oldest contact was last heard
    /// from [`ServerConfig::eviction_ping_after`] ago or more.
    pub eviction_pings: u64,
    /// Not queries: eviction pings not asked for because the oldest contact
    /// of the full bucket was heard from more recently than that.
    pub eviction_pings_skipped: u64,
    /// Not a way of handling: queries past the rate limit and the own-id
    /// check whose sender's id satisfies BEP 42 for its IP.
    pub bep42_verified: u64,
    /// Of the same queries: ids that do not satisfy BEP 42 for their
    /// (public) IP.
    pub bep42_unverified: u64,
    /// Of the same queries: senders on loopback, link-local or private
    /// addresses, which BEP 42 exempts from the check.
    pub bep42_exempt: u64,
    /// Not queries: eviction pings not asked for because the newcomer's id
    /// is not verified and [`ServerConfig::prefer_verified_ids`] is on.
    pub eviction_pings_unverified: u64,
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

impl ServerStats {
    /// Datagrams handled in any way: every query (and every malformed
    /// datagram) is counted under exactly one of the other fields, so this
    /// is what a sender can pace itself on.
    pub fn handled(&self) -> u64 {
        self.answered
            + self.rate_limited
            + self.invalid_arguments
            + self.unknown_method
            + self.bad_token
            + self.too_big
            + self.bad_signature
            + self.cas_mismatch
            + self.seq_too_low
            + self.own_id
            + self.malformed
    }
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
    eviction_ping_after: Duration,
    prefer_verified_ids: bool,
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
            eviction_ping_after: config.eviction_ping_after,
            prefer_verified_ids: config.prefer_verified_ids,
            tokens: TokenIssuer::new(secret_seed, now),
            storage: Storage::new(config.storage),
            limiter: RateLimiter::new(config.rate),
            stats: ServerStats::default(),
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> ServerStats {
        ServerStats {
            rate_limited: self.limiter.limited(),
            rate_limited_source: self.limiter.limited_source(),
            rate_limited_ip: self.limiter.limited_ip(),
            ..self.stats
        }
    }

    /// What storage holds now.
    pub fn storage_stats(&self) -> StorageStats {
        self.storage.stats()
    }

    /// Source addresses the rate limiter tracks now (at most
    /// [`RateLimits::max_sources`]).
    pub fn rate_limited_sources(&self) -> usize {
        self.limiter.len()
    }

    /// IPs the rate limiter tracks now (at most [`RateLimits::max_ips`]).
    pub fn rate_limited_ips(&self) -> usize {
        self.limiter.ips()
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
            return Handled::drop_it();
        }
        if query.id == self.local {
            self.stats.own_id += 1;
            tracing::debug!(%from, "query dropped: it carries this node's own id");
            return Handled::drop_it();
        }
        let verdict = bep42::verdict(&query.id, *from.ip());
        match verdict {
            Verdict::Verified => self.stats.bep42_verified += 1,
            Verdict::Unverified => {
                self.stats.bep42_unverified += 1;
                tracing::debug!(%from, id = %query.id, "query's id does not satisfy BEP 42 for its IP");
            }
            Verdict::Exempt => self.stats.bep42_exempt += 1,
        }
        let ping = if read_only {
            None
        } else {
            self.learn(
                table,
                Contact::new(query.id, from),
                &query.method,
                verdict,
                now,
            )
        };
        let k = table.config().k;
        let body = match query.method {
            Method::Ping => Ok(self.response()),
            Method::FindNode { target } => Ok(ResponseBody {
                nodes: table.closest_for_reply(&target, k, now),
                ..self.response()
            }),
            Method::GetPeers { info_hash } => Ok(ResponseBody {
                nodes: table.closest_for_reply(&info_hash, k, now),
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
                nodes: table.closest_for_reply(&target, k, now),
                value: self.storage.get_item(target, now).map(<[u8]>::to_vec),
                mutable: self.storage.mutable_fields(&target),
                token: Some(self.tokens.issue(*from.ip(), now)),
                ..self.response()
            }),
            Method::PutMutable { item, token, cas } => {
                self.put_mutable(from, item, &token, cas, now)
            }
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
            Err(error) => {
                tracing::debug!(%from, code = error.code, message = %error.message, "query refused with an error reply");
                Body::Error(error)
            }
        };
        Handled {
            reply: Some(Message {
                transaction,
                version: Some(CLIENT_VERSION.to_vec()),
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
        self.check_value_len(&value)?;
        let actual = NodeId::of_immutable_value(&value);
        if target.is_some_and(|t| t != actual) {
            self.stats.invalid_arguments += 1;
            return Err(KrpcError {
                code: ERROR_PROTOCOL,
                message: "target is not the SHA-1 of the bencoded value".into(),
            });
        }
        let outcome = self.storage.put_item(actual, value, now);
        self.answer_stored(outcome)
    }

    /// BEP 44's cap on values, for either kind of put: 205 over it.
    fn check_value_len(&mut self, value: &[u8]) -> Result<(), KrpcError> {
        if value.len() > MAX_VALUE_LEN {
            return Err(self.too_big(format!(
                "value is {} bytes; at most {MAX_VALUE_LEN}",
                value.len()
            )));
        }
        Ok(())
    }

    /// The answer to a put the storage handled: 205 if it could not hold
    /// the value at all, else an empty response.
    fn answer_stored(&mut self, outcome: PutOutcome) -> Result<ResponseBody, KrpcError> {
        match outcome {
            PutOutcome::TooLarge => {
                Err(self.too_big(format!("value too large; at most {MAX_VALUE_LEN} bytes")))
            }
            PutOutcome::Stored | PutOutcome::Refreshed => Ok(self.response()),
        }
    }

    /// Count a value refused for its size, and the 205 that says so.
    fn too_big(&mut self, message: String) -> KrpcError {
        self.stats.too_big += 1;
        KrpcError {
            code: ERROR_VALUE_TOO_BIG,
            message,
        }
    }
}

impl Server {
    /// A BEP 44 mutable put: the token, then the item's own checks (salt
    /// length, signature), then the storage's rules on `seq` and `cas`.
    fn put_mutable(
        &mut self,
        from: SocketAddrV4,
        item: MutableItem,
        token: &[u8],
        cas: Option<i64>,
        now: Time,
    ) -> Result<ResponseBody, KrpcError> {
        self.check_token(from, token, now)?;
        let refuse = |code: i64, message: String| Err(KrpcError { code, message });
        if item.salt.len() > MAX_SALT_LEN {
            self.stats.invalid_arguments += 1;
            return refuse(
                ERROR_SALT_TOO_BIG,
                format!("salt is {} bytes; at most {MAX_SALT_LEN}", item.salt.len()),
            );
        }
        self.check_value_len(&item.value)?;
        if !item.verifies() {
            self.stats.bad_signature += 1;
            return refuse(ERROR_INVALID_SIGNATURE, "invalid signature".into());
        }
        match self.storage.put_mutable(item, cas, now) {
            Ok(outcome) => self.answer_stored(outcome),
            Err(MutableRefusal::CasMismatch) => {
                self.stats.cas_mismatch += 1;
                refuse(
                    ERROR_CAS_MISMATCH,
                    "cas does not match the stored seq".into(),
                )
            }
            Err(MutableRefusal::SeqTooLow) => {
                self.stats.seq_too_low += 1;
                refuse(
                    ERROR_SEQ_TOO_LOW,
                    "seq is lower than the stored one (or equal, with another value)".into(),
                )
            }
        }
    }

    /// Update the querier's bucket; returns the contact to ping if its
    /// bucket is full and its least-recently-seen contact was not heard
    /// from for [`ServerConfig::eviction_ping_after`].
    ///
    /// Deviation from "every message updates its bucket": `ping`, `put` and
    /// `announce_peer` only refresh a contact already known under that id
    /// and address; they never insert one. `mainline` (the most common Rust
    /// DHT) sends these with a fresh random id each time, so inserting them
    /// would fill tables with ids nobody answers to. Lookup queries
    /// (`find_node`, `get_peers`, `get`) carry the sender's real id
    /// everywhere and insert as the rule says.
    ///
    /// A skipped ping counts as answered: the oldest contact was heard from
    /// within [`ServerConfig::eviction_ping_after`], so it is alive.
    fn learn(
        &mut self,
        table: &mut RoutingTable,
        querier: Contact,
        method: &Method,
        verdict: Verdict,
        now: Time,
    ) -> Option<Contact> {
        let inserts = matches!(
            method,
            Method::FindNode { .. } | Method::GetPeers { .. } | Method::Get { .. }
        );
        let known = table.get(&querier.id).is_some_and(|e| e.contact == querier);
        if !inserts && !known {
            return None;
        }
        let UpdateOutcome::PingOldest { oldest } = table.update_heard(querier, Heard::Queried, now)
        else {
            return None;
        };
        let heard_lately = table
            .get(&oldest.id)
            .is_some_and(|e| now.saturating_since(e.last_seen) < self.eviction_ping_after);
        if heard_lately {
            // Heard from within the last moment: it is alive, which is all
            // the ping would have told. The newcomer loses, as the rule says.
            table.on_ping_result(&oldest, true, now);
            self.stats.eviction_pings_skipped += 1;
            return None;
        }
        if self.prefer_verified_ids && verdict == Verdict::Unverified {
            // An unverified id does not get to push a contact out: the
            // oldest stays, as if it had answered, and the newcomer waits
            // in the replacement cache.
            table.on_ping_result(&oldest, true, now);
            self.stats.eviction_pings_unverified += 1;
            return None;
        }
        self.stats.eviction_pings += 1;
        Some(oldest)
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::routing::RoutingConfig;
    use crate::wire::krpc::{KrpcError, ERROR_METHOD_UNKNOWN};

    const ME: u8 = 0;

    fn id(n: u8) -> NodeId {
        NodeId::from_sha1(&[n])
    }

    fn addr(port: u16) -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)
    }

    fn ms(t: u64) -> Time {
        Time::from_millis(t)
    }

    struct Fixture {
        server: Server,
        table: RoutingTable,
    }

    impl Fixture {
        fn new() -> Fixture {
            Fixture {
                server: Server::new(id(ME), ServerConfig::default(), [7; 32], Time::ZERO),
                table: RoutingTable::new(id(ME), RoutingConfig::default(), Time::ZERO),
            }
        }

        fn ask(&mut self, from: u16, sender: u8, method: Method, now: Time) -> Handled {
            let query = Query {
                id: id(sender),
                method,
            };
            self.server.handle(
                &mut self.table,
                addr(from),
                b"tx".to_vec(),
                false,
                query,
                now,
            )
        }

        fn response(&mut self, from: u16, sender: u8, method: Method) -> ResponseBody {
            match self.ask(from, sender, method, ms(1)).reply.map(|m| m.body) {
                Some(Body::Response(r)) => r,
                other => panic!("expected a response, got {other:?}"),
            }
        }

        fn error(&mut self, from: u16, sender: u8, method: Method) -> KrpcError {
            match self.ask(from, sender, method, ms(1)).reply.map(|m| m.body) {
                Some(Body::Error(e)) => e,
                other => panic!("expected an error, got {other:?}"),
            }
        }

        fn token(&mut self, from: u16) -> Vec<u8> {
            let get = Method::Get { target: id(99) };
            self.response(from, 1, get)
                .token
                .expect("get hands out a token")
        }
    }

    /// Node ids in this node's farthest bucket (their first bit differs
    /// from its id's), where `fill` puts k = 2 contacts heard long ago.
    fn far_bucket_server(prefer_verified_ids: bool) -> (Server, RoutingTable, NodeId) {
        let config = ServerConfig {
            prefer_verified_ids,
            ..ServerConfig::default()
        };
        let routing = RoutingConfig {
            k: 2,
            ..RoutingConfig::default()
        };
        let server = Server::new(id(ME), config, [7; 32], Time::ZERO);
        let mut table = RoutingTable::new(id(ME), routing, Time::ZERO);
        let mut far = id(ME);
        far.0[0] ^= 0x80;
        for n in 1..=2u8 {
            far.0[19] = n;
            let _ = table.update(Contact::new(far, addr(5000 + u16::from(n))), ms(0));
        }
        (server, table, far)
    }

    /// A BEP 42 id for `ip` that falls in the far bucket.
    fn verified_far_id(ip: Ipv4Addr) -> NodeId {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        (0..1000)
            .map(|_| bep42::id_for(ip, &mut rng))
            .find(|c| (c.0[0] ^ id(ME).0[0]) & 0x80 != 0)
            .expect("one of the eight prefixes of an IP falls in the far bucket")
    }

    #[test]
    fn bep42_ids_are_counted_and_with_preference_only_verified_ones_push_a_contact_out() {
        let public = SocketAddrV4::new(Ipv4Addr::new(124, 31, 75, 21), 6881);
        let find = || Method::FindNode { target: id(9) };
        let ask = |server: &mut Server, table: &mut RoutingTable, from, sender| {
            let query = Query {
                id: sender,
                method: find(),
            };
            // Twenty minutes on: the bucket's contacts are questionable.
            server.handle(table, from, b"tx".to_vec(), false, query, ms(20 * 60_000))
        };
        // Each case on a fresh server whose far bucket is full of
        // questionable contacts: (prefer verified ids, from, id, whether a
        // ping is asked, the counters it leaves).
        let (_, _, far) = far_bucket_server(false);
        let mut unverified = far;
        unverified.0[19] = 3;
        assert!(!bep42::is_valid(&unverified, *public.ip()));
        let verified = verified_far_id(*public.ip());
        let cases = [
            (true, public, unverified, false, (0, 1, 0, 1)),
            (true, public, verified, true, (1, 0, 0, 0)),
            (true, addr(4000), unverified, true, (0, 0, 1, 0)),
            (false, public, unverified, true, (0, 1, 0, 0)),
        ];
        for (prefer, from, sender, pings, counts) in cases {
            let (mut server, mut table, _) = far_bucket_server(prefer);
            let handled = ask(&mut server, &mut table, from, sender);
            assert_eq!(handled.ping.is_some(), pings, "{prefer} {from} {sender}");
            let s = server.stats();
            assert_eq!(
                (
                    s.bep42_verified,
                    s.bep42_unverified,
                    s.bep42_exempt,
                    s.eviction_pings_unverified
                ),
                counts,
                "{prefer} {from} {sender}"
            );
        }
    }

    #[test]
    fn replies_echo_the_transaction_and_tell_the_querier_its_address() {
        let mut f = Fixture::new();
        let reply = f.ask(4000, 1, Method::Ping, ms(1)).reply.expect("answered");
        assert_eq!(reply.transaction, b"tx");
        assert_eq!(reply.requester, Some(addr(4000)));
        assert_eq!(
            reply.body,
            Body::Response(ResponseBody {
                id: id(ME),
                ..ResponseBody::default()
            })
        );
    }

    #[test]
    fn find_node_and_get_replies_list_good_nodes_first_and_never_bad_ones() {
        let mut f = Fixture::new();
        let contact = |n: u8| Contact::new(id(n), addr(5000 + u16::from(n)));
        for n in 10..16 {
            let _ = f.table.update(contact(n), ms(0));
        }
        for _ in 0..3 {
            let _ = f.table.on_failure(&contact(10), ms(1));
            let _ = f.table.on_failure(&contact(11), ms(1));
        }
        // Only ever queried us: questionable, listed after the good ones.
        let _ = f.table.update_heard(contact(16), Heard::Queried, ms(1));
        for method in [
            Method::FindNode { target: id(12) },
            Method::Get { target: id(12) },
        ] {
            let nodes = f.response(4000, 1, method).nodes;
            let ids: Vec<NodeId> = nodes.iter().map(|c| c.id).collect();
            assert!(!ids.contains(&id(10)) && !ids.contains(&id(11)), "{ids:?}");
            assert!(ids.contains(&id(16)));
            // The querier itself (id 1) was inserted as questionable too.
            let good = ids.iter().take_while(|i| (12..16).any(|n| id(n) == **i));
            assert_eq!(good.count(), 4, "the four good nodes come first: {ids:?}");
        }
    }

    #[test]
    fn lookup_queries_insert_the_querier_and_pings_only_refresh() {
        let mut f = Fixture::new();
        let _ = f.ask(4001, 1, Method::Ping, ms(1));
        assert!(
            !f.table.contains(&id(1)),
            "a ping from a stranger inserts nothing"
        );
        let nodes = f
            .response(4002, 2, Method::FindNode { target: id(50) })
            .nodes;
        assert!(f.table.contains(&id(2)));
        assert_eq!(nodes, vec![Contact::new(id(2), addr(4002))]);
        let _ = f.ask(4002, 2, Method::Ping, ms(9));
        assert_eq!(f.table.get(&id(2)).map(|e| e.last_seen), Some(ms(9)));
    }

    #[test]
    fn read_only_queriers_and_our_own_id_stay_out_of_the_table() {
        let mut f = Fixture::new();
        let query = Query {
            id: id(3),
            method: Method::FindNode { target: id(3) },
        };
        let handled = f
            .server
            .handle(&mut f.table, addr(4003), b"t".to_vec(), true, query, ms(1));
        assert!(handled.reply.is_some());
        assert!(f.table.is_empty());
        let own = f.ask(4004, ME, Method::Ping, ms(1));
        assert_eq!(own.reply, None);
        assert_eq!(f.server.stats().own_id, 1);
    }

    /// BEP 44's rules for mutable items, in order: a signed item is stored
    /// and served with its key, signature and seq; a bad signature is 206,
    /// a salt over 64 bytes 207, a lower seq (or the same with another
    /// value) 302, a `cas` that is not the stored seq 301; a higher seq
    /// replaces the item, and the same item again only refreshes it.
    #[test]
    fn mutable_puts_keep_bep44s_rules() {
        let mut f = Fixture::new();
        let seed = [3u8; 32];
        let item = |seq: i64, value: &[u8]| MutableItem::sign(&seed, b"salt", seq, value);
        let put = |f: &mut Fixture, item: MutableItem, cas: Option<i64>| {
            let token = f.token(4100);
            let method = Method::PutMutable { item, token, cas };
            match f.ask(4100, 1, method, ms(1)).reply.map(|m| m.body) {
                Some(Body::Response(_)) => Ok(()),
                Some(Body::Error(e)) => Err(e.code),
                other => panic!("{other:?}"),
            }
        };
        let target = item(1, b"one").target();
        let get = |f: &mut Fixture| f.response(4101, 2, Method::Get { target });

        assert_eq!(put(&mut f, item(5, b"five"), None), Ok(()));
        let got = get(&mut f);
        let fields = got.mutable.expect("k, sig and seq come with v");
        assert_eq!(got.value.as_deref(), Some(&b"five"[..]));
        assert_eq!((fields.key, fields.seq), (item(5, b"five").key, 5));
        assert_eq!(fields.signature, item(5, b"five").signature);

        let mut forged = item(6, b"six");
        forged.value = b"not what was signed".to_vec();
        assert_eq!(put(&mut f, forged, None), Err(ERROR_INVALID_SIGNATURE));
        let salty = MutableItem::sign(&seed, &[b'x'; 65], 6, b"six");
        assert_eq!(put(&mut f, salty, None), Err(ERROR_SALT_TOO_BIG));
        assert_eq!(put(&mut f, item(4, b"four"), None), Err(ERROR_SEQ_TOO_LOW));
        assert_eq!(put(&mut f, item(5, b"other"), None), Err(ERROR_SEQ_TOO_LOW));
        assert_eq!(
            put(&mut f, item(6, b"six"), Some(4)),
            Err(ERROR_CAS_MISMATCH)
        );
        assert_eq!(get(&mut f).value.as_deref(), Some(&b"five"[..]));

        assert_eq!(put(&mut f, item(5, b"five"), None), Ok(()), "a refresh");
        assert_eq!(put(&mut f, item(6, b"six"), Some(5)), Ok(()));
        let got = get(&mut f);
        assert_eq!(got.value.as_deref(), Some(&b"six"[..]));
        assert_eq!(got.mutable.map(|m| m.seq), Some(6));
        let stats = f.server.stats();
        assert_eq!(
            (stats.bad_signature, stats.seq_too_low, stats.cas_mismatch),
            (1, 2, 1)
        );
        assert_eq!(f.server.storage.stats().items, 1, "one item, replaced");
    }

    #[test]
    fn put_with_a_token_stores_and_get_returns_the_value() {
        let mut f = Fixture::new();
        let value = b"Hello World!".to_vec();
        let target = NodeId::of_immutable_value(&value);
        let token = f.token(4005);
        let put = Method::Put {
            value: value.clone(),
            token,
            target: Some(target),
        };
        assert_eq!(f.response(4005, 1, put).id, id(ME));
        let got = f.response(4006, 2, Method::Get { target });
        assert_eq!(got.value, Some(value));
        assert_eq!(f.server.storage_stats().items, 1);
    }

    #[test]
    fn bad_puts_get_the_bep_44_errors() {
        let mut f = Fixture::new();
        let token = f.token(4007);
        let wrong_token = Method::Put {
            value: b"x".to_vec(),
            token: b"forged".to_vec(),
            target: None,
        };
        assert_eq!(f.error(4007, 1, wrong_token).code, ERROR_PROTOCOL);
        // A token is bound to the IP it was given to, not to the port.
        let other_port = Method::Put {
            value: b"x".to_vec(),
            token: token.clone(),
            target: None,
        };
        assert_eq!(f.response(4999, 1, other_port).id, id(ME));
        let wrong_target = Method::Put {
            value: b"x".to_vec(),
            token: token.clone(),
            target: Some(id(42)),
        };
        assert_eq!(f.error(4007, 1, wrong_target).code, ERROR_PROTOCOL);
        let too_big = Method::Put {
            value: vec![0; MAX_VALUE_LEN + 1],
            token,
            target: None,
        };
        assert_eq!(f.error(4007, 1, too_big).code, ERROR_VALUE_TOO_BIG);
        let stats = f.server.stats();
        assert_eq!(
            (stats.bad_token, stats.invalid_arguments, stats.too_big),
            (1, 1, 1)
        );
        assert_eq!(f.server.storage_stats().items, 1);
    }

    #[test]
    fn announced_peers_come_back_from_get_peers() {
        let mut f = Fixture::new();
        let info_hash = id(77);
        let token = f
            .response(4008, 1, Method::GetPeers { info_hash })
            .token
            .expect("token");
        let announce = |implied_port, token: &Vec<u8>| Method::AnnouncePeer {
            info_hash,
            port: 6881,
            implied_port,
            token: token.clone(),
        };
        let _ = f.response(4008, 1, announce(false, &token));
        let _ = f.response(4008, 1, announce(true, &token));
        let peers = f.response(4009, 2, Method::GetPeers { info_hash }).values;
        assert_eq!(peers, vec![addr(4008), addr(6881)]);
        assert_eq!(
            f.error(4008, 1, announce(false, &b"no".to_vec())).code,
            ERROR_PROTOCOL
        );
    }

    #[test]
    fn a_flooding_source_is_cut_off_and_others_are_not() {
        let mut f = Fixture::new();
        let burst = f.server.limiter.limits().burst as usize;
        let answered = (0..burst + 50)
            .filter(|_| f.ask(4010, 1, Method::Ping, ms(1)).reply.is_some())
            .count();
        assert_eq!(answered, burst);
        let stats = f.server.stats();
        assert_eq!(
            (
                stats.rate_limited,
                stats.rate_limited_source,
                stats.rate_limited_ip
            ),
            (50, 50, 0)
        );
        assert!(f.ask(4011, 2, Method::Ping, ms(1)).reply.is_some());
    }

    #[test]
    fn a_flood_from_many_ports_of_one_ip_is_cut_off_by_the_ip_limit() {
        let mut f = Fixture::new();
        let limits = f.server.limiter.limits().clone();
        let ip_burst = limits.ip_burst as usize;
        // One query per port: no address is over its own limit.
        let answered = (0..ip_burst + 300)
            .filter(|&i| {
                let port = 10_000 + u16::try_from(i).expect("fits");
                f.ask(port, 1, Method::Ping, ms(1)).reply.is_some()
            })
            .count();
        assert_eq!(answered, ip_burst);
        let stats = f.server.stats();
        assert_eq!(
            (
                stats.rate_limited,
                stats.rate_limited_source,
                stats.rate_limited_ip
            ),
            (300, 0, 300)
        );
        assert_eq!(f.server.rate_limited_ips(), 1);
        assert_eq!(f.server.rate_limited_sources(), ip_burst + 300);
        // Another IP is served.
        let query = Query {
            id: id(2),
            method: Method::Ping,
        };
        let elsewhere = SocketAddrV4::new(Ipv4Addr::new(127, 0, 0, 2), 4000);
        let handled = f
            .server
            .handle(&mut f.table, elsewhere, b"t".to_vec(), false, query, ms(1));
        assert!(handled.reply.is_some());
    }

    #[test]
    fn a_full_bucket_pings_its_oldest_contact_only_if_not_heard_from_lately() {
        use rand::SeedableRng;
        let local = id(ME);
        let mut f = Fixture::new();
        f.table = RoutingTable::new(
            local,
            RoutingConfig {
                k: 2,
                ..RoutingConfig::default()
            },
            Time::ZERO,
        );
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut port = 5000;
        let mut newcomer = |f: &mut Fixture, t: u64| {
            port += 1;
            let query = Query {
                id: local.random_in_bucket(159, &mut rng),
                method: Method::FindNode { target: local },
            };
            let from = addr(port);
            f.server
                .handle(&mut f.table, from, b"t".to_vec(), false, query, ms(t))
                .ping
        };
        // Two contacts fill the bucket at 0 and 100 ms.
        assert_eq!(newcomer(&mut f, 0), None);
        assert_eq!(newcomer(&mut f, 100), None);
        let first = f.table.iter().next().expect("filled").contact;
        // The oldest was heard from 900 ms ago: it is alive, no ping; it
        // moves to the tail and the newcomer is turned away.
        assert_eq!(newcomer(&mut f, 900), None);
        assert_eq!(f.table.iter().last().map(|e| e.contact), Some(first));
        // Now the oldest is the one heard at 100 ms, quiet for long enough.
        let second = f.table.iter().next().expect("filled").contact;
        assert_ne!(second, first);
        assert_eq!(newcomer(&mut f, 5_000), Some(second));
        let stats = f.server.stats();
        assert_eq!((stats.eviction_pings, stats.eviction_pings_skipped), (1, 1));
        assert_eq!(f.table.len(), 2);
    }

    #[test]
    fn broken_queries_get_protocol_or_method_errors_and_garbage_gets_nothing() {
        let mut f = Fixture::new();
        let unknown = Message::decode(b"d1:ad2:id20:abcdefghij0123456789e1:q4:vote1:t2:aa1:y1:qe")
            .expect_err("unknown method");
        let reply = f.server.on_malformed(&unknown, addr(4012), ms(1)).reply;
        let Some(Message {
            body: Body::Error(error),
            transaction,
            ..
        }) = reply
        else {
            panic!("expected an error reply, got {reply:?}");
        };
        assert_eq!(
            (error.code, transaction),
            (ERROR_METHOD_UNKNOWN, b"aa".to_vec())
        );
        let bad_args =
            Message::decode(b"d1:ad2:id3:abce1:q4:ping1:t2:aa1:y1:qe").expect_err("short id");
        let reply = f.server.on_malformed(&bad_args, addr(4012), ms(1)).reply;
        assert!(matches!(reply.map(|m| m.body), Some(Body::Error(e)) if e.code == ERROR_PROTOCOL));
        let garbage = Message::decode(b"\x00\xffnot bencode").expect_err("garbage");
        assert_eq!(
            f.server.on_malformed(&garbage, addr(4012), ms(1)).reply,
            None
        );
        let stats = f.server.stats();
        assert_eq!(
            (
                stats.unknown_method,
                stats.invalid_arguments,
                stats.malformed
            ),
            (1, 1, 1)
        );
    }
}
