//! KRPC messages (BEP 5, BEP 43, BEP 44 immutable items) and their codec.
//!
//! Decoding is strict about structure and lenient about extensions: unknown
//! keys are ignored (other clients add their own), but every field kadlab
//! uses must have the right type and length. A datagram that fails to decode
//! yields a [`DecodeError`] that says whether the sender deserves a KRPC
//! error reply (a query with a transaction id) or a silent drop.

use std::net::{Ipv4Addr, SocketAddrV4};

use crate::contact::Contact;
use crate::id::{NodeId, ID_LEN};
use crate::protocol::MutableItem;
use crate::wire::bencode::{BencodeError, Value};

/// Longest transaction id accepted. `mainline` sends 4 bytes, libtorrent 2;
/// a small bound keeps hostile ids from costing memory in the reply.
pub const MAX_TRANSACTION_LEN: usize = 16;
/// Bytes per IPv4 contact in compact node info: id, address, port.
pub const COMPACT_NODE_LEN: usize = ID_LEN + 6;
/// Bytes per IPv6 contact in `nodes6` (decoded for validation, then dropped:
/// kadlab's contacts are IPv4).
pub const COMPACT_NODE6_LEN: usize = ID_LEN + 18;

/// KRPC error code 201: generic error.
pub const ERROR_GENERIC: i64 = 201;
/// KRPC error code 202: server error.
pub const ERROR_SERVER: i64 = 202;
/// KRPC error code 203: protocol error (malformed packet, invalid arguments
/// or bad token).
pub const ERROR_PROTOCOL: i64 = 203;
/// KRPC error code 204: method unknown.
pub const ERROR_METHOD_UNKNOWN: i64 = 204;

/// kadlab's KRPC client version `v`: "KL" and two version bytes (BEP 20
/// style), so other implementations can tell who sent a message.
pub const CLIENT_VERSION: &[u8; 4] = b"KL\x00\x01";

/// One KRPC datagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Transaction id `t`, chosen by the querier and echoed by the answer.
    pub transaction: Vec<u8>,
    /// Client version `v` (top level), if the sender gave one.
    pub version: Option<Vec<u8>>,
    /// BEP 43 `ro`: the querier is read-only and must not be added to
    /// routing tables.
    pub read_only: bool,
    /// BEP 42 `ip`: the address the responder saw the querier at.
    pub requester: Option<SocketAddrV4>,
    /// Query, response or error.
    pub body: Body,
}

/// What a [`Message`] carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// `y = q`
    Query(Query),
    /// `y = r`
    Response(ResponseBody),
    /// `y = e`
    Error(KrpcError),
}

/// A query: the querier's id and the method with its arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    /// The querier's node id (`a.id`).
    pub id: NodeId,
    /// The method (`q`) and its arguments.
    pub method: Method,
}

/// The KRPC methods kadlab serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Method {
    /// `ping`
    Ping,
    /// `find_node`
    FindNode {
        /// The id whose closest nodes are wanted.
        target: NodeId,
    },
    /// `get_peers`
    GetPeers {
        /// The torrent's info-hash.
        info_hash: NodeId,
    },
    /// `announce_peer`
    AnnouncePeer {
        /// The torrent's info-hash.
        info_hash: NodeId,
        /// The port the peer downloads on.
        port: u16,
        /// BEP 5 `implied_port`: use the datagram's source port instead.
        implied_port: bool,
        /// The token from an earlier `get_peers`.
        token: Vec<u8>,
    },
    /// BEP 44 `get`
    Get {
        /// SHA-1 of the item (for immutable items, of the bencoded value).
        target: NodeId,
    },
    /// BEP 44 `put` of an immutable item.
    Put {
        /// The value (a bencoded byte string on the wire).
        value: Vec<u8>,
        /// The token from an earlier `get`.
        token: Vec<u8>,
        /// `target`: not in BEP 44, but `mainline` drops puts without it, so
        /// kadlab sends it; when serving it is optional and must match.
        target: Option<NodeId>,
    },
    /// BEP 44 `put` of a mutable item.
    PutMutable {
        /// The signed item (`k`, `sig`, `seq`, `salt`, `v`).
        item: MutableItem,
        /// The token from an earlier `get`.
        token: Vec<u8>,
        /// `cas`: store only if the stored item's `seq` is this one.
        cas: Option<i64>,
    },
}

impl Method {
    /// The KRPC method name (`q`).
    pub fn name(&self) -> &'static str {
        match self {
            Method::Ping => "ping",
            Method::FindNode { .. } => "find_node",
            Method::GetPeers { .. } => "get_peers",
            Method::AnnouncePeer { .. } => "announce_peer",
            Method::Get { .. } => "get",
            Method::Put { .. } | Method::PutMutable { .. } => "put",
        }
    }
}

/// A response's `r` dictionary. KRPC responses do not name their method, so
/// every optional field is decoded and the requester picks what it asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResponseBody {
    /// The responder's node id.
    pub id: NodeId,
    /// `nodes`: IPv4 contacts (unroutable ones, port 0 or 0.0.0.0, dropped).
    pub nodes: Vec<Contact>,
    /// `values`: peers of a `get_peers` (malformed entries dropped).
    pub values: Vec<SocketAddrV4>,
    /// `token`, from `get_peers` and `get`.
    pub token: Option<Vec<u8>>,
    /// BEP 44 `v`, when it is a byte string (see [`Malformed::Unsupported`]
    /// for other bencoded values).
    pub value: Option<Vec<u8>>,
    /// BEP 44 mutable items: the public key `k`, signature `sig` and
    /// sequence number `seq` that go with `v`. The salt is not sent back:
    /// the getter knows it.
    pub mutable: Option<MutableFields>,
}

/// The fields a `get` answer adds to `v` for a mutable item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MutableFields {
    /// `k`: the ed25519 public key.
    pub key: [u8; 32],
    /// `sig`: the signature.
    pub signature: [u8; 64],
    /// `seq`: the sequence number.
    pub seq: i64,
}

/// A KRPC error: `e = [code, message]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KrpcError {
    /// 201 generic, 202 server, 203 protocol, 204 method unknown.
    pub code: i64,
    /// Human-readable reason.
    pub message: String,
}

/// Why a datagram is not a usable KRPC message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    /// Not bencode at all.
    #[error("not bencode: {0}")]
    Bencode(#[from] BencodeError),
    /// Bencode, but not a dictionary.
    #[error("not a dictionary")]
    NotADict,
    /// A required key is absent.
    #[error("missing {0}")]
    Missing(&'static str),
    /// A key has the wrong type or length.
    #[error("invalid {0}")]
    Invalid(&'static str),
    /// A query for a method kadlab does not serve.
    #[error("unknown method")]
    UnknownMethod,
    /// Valid KRPC that kadlab chooses not to support (mutable items,
    /// non-string immutable values).
    #[error("unsupported: {0}")]
    Unsupported(&'static str),
}

/// A datagram that did not decode, with what is known about its sender's
/// intent, so the caller can answer a broken *query* with a KRPC error.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct DecodeError {
    /// The transaction id, when one was readable.
    pub transaction: Option<Vec<u8>>,
    /// Whether the datagram said it was a query (`y = q`).
    pub query: bool,
    /// What was wrong.
    pub reason: Malformed,
}

impl DecodeError {
    /// The KRPC error to send back: only for queries with a transaction id
    /// (204 for unknown methods, 203 otherwise). Anything else is dropped,
    /// since replying to a broken response could start an error ping-pong.
    pub fn reply(&self) -> Option<Message> {
        let transaction = self.transaction.clone().filter(|_| self.query)?;
        let code = match self.reason {
            Malformed::UnknownMethod => ERROR_METHOD_UNKNOWN,
            _ => ERROR_PROTOCOL,
        };
        Some(Message::error(
            transaction,
            KrpcError {
                code,
                message: self.reason.to_string(),
            },
        ))
    }
}

impl Message {
    /// An error reply.
    pub fn error(transaction: Vec<u8>, error: KrpcError) -> Message {
        Message {
            transaction,
            version: None,
            read_only: false,
            requester: None,
            body: Body::Error(error),
        }
    }

    /// Decode one datagram.
    pub fn decode(datagram: &[u8]) -> Result<Message, DecodeError> {
        let fail = |transaction: Option<&[u8]>, query: bool, reason: Malformed| DecodeError {
            transaction: transaction.map(<[u8]>::to_vec),
            query,
            reason,
        };
        let root = Value::decode(datagram).map_err(|e| fail(None, false, e.into()))?;
        if !matches!(root, Value::Dict(_)) {
            return Err(fail(None, false, Malformed::NotADict));
        }
        let transaction = root
            .get(b"t")
            .and_then(Value::as_bytes)
            .filter(|t| !t.is_empty() && t.len() <= MAX_TRANSACTION_LEN);
        let kind = root.get(b"y").and_then(Value::as_bytes);
        let query = kind == Some(b"q");
        let Some(transaction) = transaction else {
            return Err(fail(None, query, Malformed::Missing("t")));
        };
        let body = match kind {
            Some(b"q") => decode_query(&root).map(Body::Query),
            Some(b"r") => decode_response(&root).map(Body::Response),
            Some(b"e") => decode_error(&root).map(Body::Error),
            _ => Err(Malformed::Invalid("y")),
        }
        .map_err(|reason| fail(Some(transaction), query, reason))?;
        Ok(Message {
            transaction: transaction.to_vec(),
            version: root.get(b"v").and_then(Value::as_bytes).map(<[u8]>::to_vec),
            read_only: root.get(b"ro").and_then(Value::as_int) == Some(1),
            requester: root
                .get(b"ip")
                .and_then(Value::as_bytes)
                .and_then(decode_address),
            body,
        })
    }

    /// Encode as one datagram.
    pub fn encode(&self) -> Vec<u8> {
        let mut scratch = Scratch::default();
        if let Body::Query(Query {
            method: Method::PutMutable { item, .. },
            ..
        }) = &self.body
        {
            scratch.target = item.target().0;
        }
        let mut top: Vec<(&[u8], Value)> = vec![(b"t", Value::Bytes(&self.transaction))];
        if let Some(version) = &self.version {
            top.push((b"v", Value::Bytes(version)));
        }
        if self.read_only {
            top.push((b"ro", Value::Int(1)));
        }
        if let Some(requester) = self.requester {
            scratch.requester = encode_address(requester).to_vec();
            top.push((b"ip", Value::Bytes(&scratch.requester)));
        }
        match &self.body {
            Body::Query(query) => {
                top.push((b"y", Value::Bytes(b"q")));
                top.push((b"q", Value::Bytes(query.method.name().as_bytes())));
                top.push((b"a", encode_arguments(query, &scratch)));
            }
            Body::Response(response) => {
                scratch.nodes = encode_nodes(&response.nodes);
                scratch.values = response.values.iter().map(|a| encode_address(*a)).collect();
                top.push((b"y", Value::Bytes(b"r")));
                top.push((b"r", encode_response(response, &scratch)));
            }
            Body::Error(error) => {
                top.push((b"y", Value::Bytes(b"e")));
                top.push((
                    b"e",
                    Value::List(vec![
                        Value::Int(error.code),
                        Value::Bytes(error.message.as_bytes()),
                    ]),
                ));
            }
        }
        Value::Dict(top).to_bytes()
    }
}

/// Buffers that encoded values borrow while a message is being written.
#[derive(Default)]
struct Scratch {
    requester: Vec<u8>,
    /// A mutable put's target, SHA-1 of its key and salt.
    target: [u8; ID_LEN],
    nodes: Vec<u8>,
    values: Vec<[u8; 6]>,
}

fn encode_arguments<'a>(query: &'a Query, scratch: &'a Scratch) -> Value<'a> {
    let mut args: Vec<(&[u8], Value)> = vec![(b"id", Value::Bytes(&query.id.0))];
    match &query.method {
        Method::Ping => {}
        Method::FindNode { target } => args.push((b"target", Value::Bytes(&target.0))),
        Method::GetPeers { info_hash } => args.push((b"info_hash", Value::Bytes(&info_hash.0))),
        Method::AnnouncePeer {
            info_hash,
            port,
            implied_port,
            token,
        } => {
            args.push((b"info_hash", Value::Bytes(&info_hash.0)));
            args.push((b"port", Value::Int(i64::from(*port))));
            args.push((b"implied_port", Value::Int(i64::from(*implied_port))));
            args.push((b"token", Value::Bytes(token)));
        }
        Method::Get { target } => args.push((b"target", Value::Bytes(&target.0))),
        Method::Put {
            value,
            token,
            target,
        } => {
            args.push((b"v", Value::Bytes(value)));
            args.push((b"token", Value::Bytes(token)));
            if let Some(target) = target {
                args.push((b"target", Value::Bytes(&target.0)));
            }
        }
        Method::PutMutable { item, token, cas } => {
            args.push((b"k", Value::Bytes(&item.key)));
            args.push((b"sig", Value::Bytes(&item.signature)));
            args.push((b"seq", Value::Int(item.seq)));
            if !item.salt.is_empty() {
                args.push((b"salt", Value::Bytes(&item.salt)));
            }
            args.push((b"v", Value::Bytes(&item.value)));
            args.push((b"token", Value::Bytes(token)));
            // As for immutable puts: `mainline` drops a put without it.
            args.push((b"target", Value::Bytes(&scratch.target)));
            if let Some(cas) = cas {
                args.push((b"cas", Value::Int(*cas)));
            }
        }
    }
    Value::Dict(args)
}

fn encode_response<'a>(response: &'a ResponseBody, scratch: &'a Scratch) -> Value<'a> {
    let mut fields: Vec<(&[u8], Value)> = vec![(b"id", Value::Bytes(&response.id.0))];
    if !response.nodes.is_empty() {
        fields.push((b"nodes", Value::Bytes(&scratch.nodes)));
    }
    if !response.values.is_empty() {
        let peers = scratch.values.iter().map(|p| Value::Bytes(p)).collect();
        fields.push((b"values", Value::List(peers)));
    }
    if let Some(token) = &response.token {
        fields.push((b"token", Value::Bytes(token)));
    }
    if let Some(value) = &response.value {
        fields.push((b"v", Value::Bytes(value)));
    }
    if let Some(m) = &response.mutable {
        fields.push((b"k", Value::Bytes(&m.key)));
        fields.push((b"sig", Value::Bytes(&m.signature)));
        fields.push((b"seq", Value::Int(m.seq)));
    }
    Value::Dict(fields)
}

const KNOWN_METHODS: [&[u8]; 6] = [
    b"ping",
    b"find_node",
    b"get_peers",
    b"announce_peer",
    b"get",
    b"put",
];

fn decode_query(root: &Value) -> Result<Query, Malformed> {
    let method = bytes_field(root, "q")?;
    // An unknown method is told apart first: its arguments may be anything.
    if !KNOWN_METHODS.contains(&method) {
        return Err(Malformed::UnknownMethod);
    }
    let args = root.get(b"a").ok_or(Malformed::Missing("a"))?;
    if !matches!(args, Value::Dict(_)) {
        return Err(Malformed::Invalid("a"));
    }
    let id = id_field(args, "id")?;
    let method = match method {
        b"ping" => Method::Ping,
        b"find_node" => Method::FindNode {
            target: id_field(args, "target")?,
        },
        b"get_peers" => Method::GetPeers {
            info_hash: id_field(args, "info_hash")?,
        },
        b"announce_peer" => Method::AnnouncePeer {
            info_hash: id_field(args, "info_hash")?,
            port: int_field(args, "port")
                .and_then(|p| u16::try_from(p).map_err(|_| Malformed::Invalid("port")))?,
            implied_port: args.get(b"implied_port").and_then(Value::as_int) == Some(1),
            token: bytes_field(args, "token")?.to_vec(),
        },
        b"get" => Method::Get {
            target: id_field(args, "target")?,
        },
        b"put" if args.get(b"k").is_some() || args.get(b"sig").is_some() => {
            let salt = match args.get(b"salt") {
                None => Vec::new(),
                Some(v) => v.as_bytes().ok_or(Malformed::Invalid("salt"))?.to_vec(),
            };
            let value = match args.get(b"v") {
                None => return Err(Malformed::Missing("v")),
                Some(Value::Bytes(v)) => v.to_vec(),
                Some(_) => return Err(Malformed::Unsupported("non-string mutable values")),
            };
            let cas = match args.get(b"cas") {
                None => None,
                Some(_) => Some(int_field(args, "cas")?),
            };
            let item = MutableItem {
                key: array_field(args, "k")?,
                salt,
                seq: int_field(args, "seq")?,
                value,
                signature: array_field(args, "sig")?,
            };
            // `target` is not BEP 44's; when sent, it must be the item's.
            if args.get(b"target").is_some() && id_field(args, "target")? != item.target() {
                return Err(Malformed::Invalid("target"));
            }
            Method::PutMutable {
                item,
                token: bytes_field(args, "token")?.to_vec(),
                cas,
            }
        }
        b"put" => {
            let value = match args.get(b"v") {
                None => return Err(Malformed::Missing("v")),
                Some(Value::Bytes(v)) => v.to_vec(),
                Some(_) => return Err(Malformed::Unsupported("non-string immutable values")),
            };
            let target = match args.get(b"target") {
                None => None,
                Some(_) => Some(id_field(args, "target")?),
            };
            Method::Put {
                value,
                token: bytes_field(args, "token")?.to_vec(),
                target,
            }
        }
        _ => return Err(Malformed::UnknownMethod),
    };
    Ok(Query { id, method })
}

fn decode_response(root: &Value) -> Result<ResponseBody, Malformed> {
    let r = root.get(b"r").ok_or(Malformed::Missing("r"))?;
    if !matches!(r, Value::Dict(_)) {
        return Err(Malformed::Invalid("r"));
    }
    let nodes = match r.get(b"nodes") {
        None => Vec::new(),
        Some(v) => decode_nodes(v.as_bytes().ok_or(Malformed::Invalid("nodes"))?)?,
    };
    if let Some(nodes6) = r.get(b"nodes6") {
        let ok = nodes6
            .as_bytes()
            .is_some_and(|b| b.len() % COMPACT_NODE6_LEN == 0);
        if !ok {
            return Err(Malformed::Invalid("nodes6"));
        }
    }
    let values = match r.get(b"values") {
        Some(Value::List(items)) => items
            .iter()
            .filter_map(|v| v.as_bytes().and_then(decode_address))
            .collect(),
        _ => Vec::new(),
    };
    Ok(ResponseBody {
        id: id_field(r, "id")?,
        nodes,
        values,
        token: r
            .get(b"token")
            .and_then(Value::as_bytes)
            .map(<[u8]>::to_vec),
        value: r.get(b"v").and_then(Value::as_bytes).map(<[u8]>::to_vec),
        mutable: match (r.get(b"k"), r.get(b"sig"), r.get(b"seq")) {
            (Some(_), Some(_), Some(_)) => Some(MutableFields {
                key: array_field(r, "k")?,
                signature: array_field(r, "sig")?,
                seq: int_field(r, "seq")?,
            }),
            _ => None,
        },
    })
}

fn decode_error(root: &Value) -> Result<KrpcError, Malformed> {
    let Some(Value::List(items)) = root.get(b"e") else {
        return Err(Malformed::Invalid("e"));
    };
    let code = items
        .first()
        .and_then(Value::as_int)
        .ok_or(Malformed::Invalid("e"))?;
    let message = items
        .get(1)
        .and_then(Value::as_bytes)
        .map(|m| String::from_utf8_lossy(m).into_owned())
        .unwrap_or_default();
    Ok(KrpcError { code, message })
}

fn bytes_field<'a>(dict: &Value<'a>, key: &'static str) -> Result<&'a [u8], Malformed> {
    match dict.get(key.as_bytes()) {
        None => Err(Malformed::Missing(key)),
        Some(v) => v.as_bytes().ok_or(Malformed::Invalid(key)),
    }
}

fn int_field(dict: &Value, key: &'static str) -> Result<i64, Malformed> {
    match dict.get(key.as_bytes()) {
        None => Err(Malformed::Missing(key)),
        Some(v) => v.as_int().ok_or(Malformed::Invalid(key)),
    }
}

fn id_field(dict: &Value, key: &'static str) -> Result<NodeId, Malformed> {
    array_field(dict, key).map(NodeId)
}

/// A byte string of exactly `N` bytes.
fn array_field<const N: usize>(dict: &Value, key: &'static str) -> Result<[u8; N], Malformed> {
    let bytes = bytes_field(dict, key)?;
    <[u8; N]>::try_from(bytes).map_err(|_| Malformed::Invalid(key))
}

/// Compact node info of IPv4 contacts, 26 bytes each.
pub fn encode_nodes(contacts: &[Contact]) -> Vec<u8> {
    let mut out = Vec::with_capacity(contacts.len() * COMPACT_NODE_LEN);
    for contact in contacts {
        out.extend_from_slice(&contact.id.0);
        out.extend_from_slice(&encode_address(contact.addr));
    }
    out
}

/// Contacts from compact node info; its length must be a multiple of 26.
/// Unroutable entries (port 0, address 0.0.0.0) are skipped.
pub fn decode_nodes(bytes: &[u8]) -> Result<Vec<Contact>, Malformed> {
    if bytes.len() % COMPACT_NODE_LEN != 0 {
        return Err(Malformed::Invalid("nodes"));
    }
    Ok(bytes
        .chunks_exact(COMPACT_NODE_LEN)
        .filter_map(|chunk| {
            let (id, addr) = chunk.split_at(ID_LEN);
            let id = NodeId(<[u8; ID_LEN]>::try_from(id).ok()?);
            Some(Contact::new(id, decode_address(addr)?))
        })
        .collect())
}

/// Compact peer info: 4 address bytes and the port, big-endian.
pub fn encode_address(addr: SocketAddrV4) -> [u8; 6] {
    let [a, b, c, d] = addr.ip().octets();
    let [p, q] = addr.port().to_be_bytes();
    [a, b, c, d, p, q]
}

/// Address from compact peer info; `None` unless 6 bytes of a routable
/// address (port 0 and 0.0.0.0 are not).
pub fn decode_address(bytes: &[u8]) -> Option<SocketAddrV4> {
    let [a, b, c, d, p, q] = <[u8; 6]>::try_from(bytes).ok()?;
    let addr = SocketAddrV4::new(Ipv4Addr::new(a, b, c, d), u16::from_be_bytes([p, q]));
    (addr.port() != 0 && !addr.ip().is_unspecified()).then_some(addr)
}
