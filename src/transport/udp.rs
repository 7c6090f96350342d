//! KRPC over a tokio UDP socket: the client half of a real node.
//!
//! [`UdpRpc`] sends queries and matches answers to them. It does not read
//! the socket itself: the node's receive loop ([`crate::node`]) reads every
//! datagram, hands queries to the request handler and answers to
//! [`UdpRpc::on_answer`]. Keeping one reader means one place where malformed
//! input is counted and dropped.
//!
//! An answer is accepted only if its transaction id is outstanding **and**
//! it comes from the address the query went to; anything else is dropped
//! and counted, so a third party cannot inject contacts into a lookup
//! without seeing its traffic. Transaction ids are 4 bytes (the length
//! `mainline` insists on), start at a per-socket random value and are then
//! incremented, so they are unique per socket and not guessable from
//! outside.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;
use tokio::net::UdpSocket;
use tokio::sync::oneshot;

use crate::contact::Contact;
use crate::id::NodeId;
use crate::protocol::{Request, Response};
use crate::transport::{Transport, TransportError};
use crate::wire::krpc::{Body, Message, Method, Query, ResponseBody, CLIENT_VERSION};

/// Default time a query waits for its answer.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

type Answer = Result<ResponseBody, TransportError>;

struct Outstanding {
    to: SocketAddrV4,
    answer: oneshot::Sender<Answer>,
}

/// Counters of the client half, for `kadlab node` status lines and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RpcStats {
    /// Queries sent.
    pub sent: u64,
    /// Answers (responses or KRPC errors) matched to a query.
    pub answered: u64,
    /// Queries that got no answer in time.
    pub timeouts: u64,
    /// Queries whose datagram could not be sent.
    pub send_errors: u64,
    /// Answers with a transaction id that is not outstanding (late, forged
    /// or duplicate): dropped.
    pub unknown_transaction: u64,
    /// Answers with an outstanding transaction id from another address than
    /// the query went to (spoofing): dropped, the query stays outstanding.
    pub wrong_address: u64,
}

#[derive(Default)]
struct Counters {
    sent: AtomicU64,
    answered: AtomicU64,
    timeouts: AtomicU64,
    send_errors: AtomicU64,
    unknown_transaction: AtomicU64,
    wrong_address: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// The querying side of a KRPC node over one UDP socket.
pub struct UdpRpc {
    socket: Arc<UdpSocket>,
    local_addr: Option<SocketAddr>,
    local_id: NodeId,
    read_only: bool,
    timeout: Duration,
    next_transaction: AtomicU32,
    outstanding: Mutex<hashbrown::HashMap<u32, Outstanding>>,
    counters: Counters,
    /// Addresses answers said we have (their `ip` field), with how many
    /// answers said each.
    reported: Mutex<Vec<(Ipv4Addr, usize)>>,
}

/// Answers that must agree on our address before [`UdpRpc::external_ip`]
/// believes it: one node alone could lie.
pub const EXTERNAL_IP_VOTES: usize = 2;

/// Distinct addresses [`UdpRpc::external_ip`] counts votes for; more are
/// ignored, so forged `ip` fields cannot grow memory.
const MAX_REPORTED_IPS: usize = 16;

impl UdpRpc {
    /// A client sending from `socket` as `local_id`. `first_transaction`
    /// should be random (the node draws it from the OS); `read_only` sets
    /// BEP 43's `ro` on every query, for short-lived command-line nodes that
    /// should not enter other nodes' tables.
    pub fn new(
        socket: Arc<UdpSocket>,
        local_id: NodeId,
        first_transaction: u32,
        timeout: Duration,
        read_only: bool,
    ) -> UdpRpc {
        UdpRpc {
            local_addr: socket.local_addr().ok(),
            socket,
            local_id,
            read_only,
            timeout,
            next_transaction: AtomicU32::new(first_transaction),
            outstanding: Mutex::new(hashbrown::HashMap::new()),
            counters: Counters::default(),
            reported: Mutex::new(Vec::new()),
        }
    }

    /// Our IPv4 address as the nodes that answered see it: the `ip` field
    /// of their answers (BEP 42), the address most of them name, if at
    /// least [`EXTERNAL_IP_VOTES`] do (ties go to the lower address, so the
    /// answer does not depend on the order answers came in).
    pub fn external_ip(&self) -> Option<Ipv4Addr> {
        let reported = crate::driver::lock(&self.reported);
        let mut best: Option<(usize, Ipv4Addr)> = None;
        for &(ip, votes) in reported.iter() {
            let better = best.is_none_or(|(v, b)| votes > v || (votes == v && ip < b));
            if votes >= EXTERNAL_IP_VOTES && better {
                best = Some((votes, ip));
            }
        }
        best.map(|(_, ip)| ip)
    }

    /// Count `ip` as our address in one more answer.
    fn vote(&self, ip: Ipv4Addr) {
        let mut reported = crate::driver::lock(&self.reported);
        if let Some((_, votes)) = reported.iter_mut().find(|(known, _)| *known == ip) {
            *votes += 1;
        } else if reported.len() < MAX_REPORTED_IPS {
            reported.push((ip, 1));
        }
    }

    /// The id queries are sent with.
    pub fn local_id(&self) -> &NodeId {
        &self.local_id
    }

    /// Queries waiting for an answer now.
    pub fn in_flight(&self) -> usize {
        self.table().len()
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> RpcStats {
        let c = &self.counters;
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        RpcStats {
            sent: load(&c.sent),
            answered: load(&c.answered),
            timeouts: load(&c.timeouts),
            send_errors: load(&c.send_errors),
            unknown_transaction: load(&c.unknown_transaction),
            wrong_address: load(&c.wrong_address),
        }
    }

    fn table(&self) -> std::sync::MutexGuard<'_, hashbrown::HashMap<u32, Outstanding>> {
        crate::driver::lock(&self.outstanding)
    }

    /// Send `method` to `to` and wait for the answer, at most the timeout.
    /// For callers that do not know the node's id yet (bootstrap); lookups
    /// go through the [`Transport`] impl, which also checks the id.
    pub async fn query(&self, to: SocketAddrV4, method: Method) -> Answer {
        let transaction = self.next_transaction.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.table()
            .insert(transaction, Outstanding { to, answer: tx });
        // Removes the entry however this future ends: answered, timed out,
        // or dropped by a lookup that finished first.
        let _forget = Forget {
            rpc: self,
            transaction,
        };
        let message = Message {
            transaction: transaction.to_be_bytes().to_vec(),
            version: Some(CLIENT_VERSION.to_vec()),
            read_only: self.read_only,
            requester: None,
            body: Body::Query(Query {
                id: self.local_id,
                method,
            }),
        };
        bump(&self.counters.sent);
        if let Err(e) = self.socket.send_to(&message.encode(), to).await {
            bump(&self.counters.send_errors);
            tracing::debug!(%to, error = %e, "request not sent");
            return Err(TransportError::Unreachable(e.to_string()));
        }
        match tokio::time::timeout(self.timeout, rx).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) | Err(_) => {
                bump(&self.counters.timeouts);
                tracing::debug!(%to, transaction, timeout = ?self.timeout, "request timed out");
                Err(TransportError::Timeout)
            }
        }
    }

    /// Give a decoded response or error datagram from `from` to the query
    /// it answers; returns whether it matched one. Unmatched answers are
    /// counted and dropped.
    pub fn on_answer(&self, from: SocketAddr, message: Message) -> bool {
        let key = <[u8; 4]>::try_from(message.transaction.as_slice()).map(u32::from_be_bytes);
        let mut table = self.table();
        let Some(outstanding) = key.ok().and_then(|k| table.get(&k).map(|o| (k, o.to))) else {
            bump(&self.counters.unknown_transaction);
            tracing::debug!(%from, "answer dropped: no request waits for its transaction id (late or unsolicited)");
            return false;
        };
        let (key, to) = outstanding;
        if from != SocketAddr::V4(to) {
            bump(&self.counters.wrong_address);
            tracing::debug!(%from, expected = %to, "answer dropped: it came from another address than the request went to");
            return false;
        }
        let Some(waiting) = table.remove(&key) else {
            return false;
        };
        drop(table);
        if let Some(requester) = message.requester {
            self.vote(*requester.ip());
        }
        let answer = match message.body {
            Body::Response(response) => Ok(response),
            Body::Error(error) => Err(TransportError::Remote {
                code: error.code,
                message: error.message,
            }),
            Body::Query(_) => Err(TransportError::BadResponse("a query, not an answer".into())),
        };
        bump(&self.counters.answered);
        let _ = waiting.answer.send(answer);
        true
    }
}

struct Forget<'a> {
    rpc: &'a UdpRpc,
    transaction: u32,
}

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        self.rpc.table().remove(&self.transaction);
    }
}

/// The KRPC method that carries a lookup [`Request`]. Puts name their
/// target, which `mainline` requires.
pub fn method_of(request: Request) -> Method {
    match request {
        Request::Ping => Method::Ping,
        Request::FindNode { target } => Method::FindNode { target },
        Request::GetValue { target } => Method::Get { target },
        Request::PutValue { value, token } => Method::Put {
            target: Some(NodeId::of_immutable_value(&value)),
            value,
            token,
        },
    }
}

impl UdpRpc {
    /// Send `method` to `to` and return the answer's body, refused if it
    /// comes under another id than `to`'s: a node that answers under
    /// another id than the one the contact was learned with is a different
    /// node (restarted, or the address was reused), and a lookup must never
    /// credit one node's reply to another's id. The requester itself is
    /// taken out of the answer's nodes (`mainline` hands it back, even
    /// under another id), since asking ourselves would only waste a request.
    pub async fn request_method(
        &self,
        to: Contact,
        method: Method,
    ) -> Result<ResponseBody, TransportError> {
        let mut answer = self.query(to.addr, method).await?;
        if answer.id != to.id {
            return Err(TransportError::BadResponse(format!(
                "answered as {} instead of {}",
                answer.id, to.id
            )));
        }
        answer
            .nodes
            .retain(|c| Some(SocketAddr::V4(c.addr)) != self.local_addr);
        Ok(answer)
    }
}

#[async_trait]
impl Transport for UdpRpc {
    /// Sends over UDP ([`UdpRpc::request_method`]).
    async fn request(&self, to: Contact, request: Request) -> Result<Response, TransportError> {
        let answer = self.request_method(to, method_of(request)).await?;
        Ok(Response {
            id: answer.id,
            contacts: answer.nodes,
            value: answer.value,
            token: answer.token,
        })
    }
}
