//! The KRPC codec against hand-written and captured datagrams.
//!
//! - Every message kind round-trips through `encode` and `decode`, with and
//!   without the top-level extras (`v`, `ro`, `ip`).
//! - BEP 5's and BEP 44's example datagrams, written out byte for byte,
//!   decode to the fields the BEPs describe; the canonical ones re-encode to
//!   the very same bytes.
//! - Datagrams captured from the `mainline` crate (v8) talking to kadlab
//!   nodes decode, with the expected method and fields.
//! - Broken datagrams give the right [`DecodeError`], and only broken
//!   *queries* with a transaction id get a KRPC error reply.

use std::net::{Ipv4Addr, SocketAddrV4};

use kadlab::contact::Contact;
use kadlab::id::NodeId;
use kadlab::wire::bencode::{BencodeError, Value};
use kadlab::wire::krpc::{
    decode_nodes, encode_nodes, Body, DecodeError, KrpcError, Malformed, Message, Method, Query,
    ResponseBody, ERROR_GENERIC, ERROR_METHOD_UNKNOWN, ERROR_PROTOCOL, MAX_TRANSACTION_LEN,
};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// BEP 5's querying node id.
const ABC: NodeId = NodeId(*b"abcdefghij0123456789");
/// BEP 5's responding node id (and info-hash / target in the examples).
const MNO: NodeId = NodeId(*b"mnopqrstuvwxyz123456");

fn addr(a: u8, b: u8, c: u8, d: u8, port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(Ipv4Addr::new(a, b, c, d), port)
}

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

fn decode_ok(bytes: &[u8]) -> Message {
    Message::decode(bytes)
        .unwrap_or_else(|e| panic!("{} did not decode: {e:?}", bytes.escape_ascii()))
}

fn decode_err(bytes: &[u8]) -> DecodeError {
    match Message::decode(bytes) {
        Ok(m) => panic!("{} decoded to {m:?}", bytes.escape_ascii()),
        Err(e) => e,
    }
}

fn query(transaction: &[u8], id: NodeId, method: Method) -> Message {
    Message {
        transaction: transaction.to_vec(),
        version: None,
        read_only: false,
        requester: None,
        body: Body::Query(Query { id, method }),
    }
}

fn response(transaction: &[u8], body: ResponseBody) -> Message {
    Message {
        transaction: transaction.to_vec(),
        version: None,
        read_only: false,
        requester: None,
        body: Body::Response(body),
    }
}

fn as_query(m: &Message) -> &Query {
    match &m.body {
        Body::Query(q) => q,
        other => panic!("expected a query, got {other:?}"),
    }
}

fn as_response(m: &Message) -> &ResponseBody {
    match &m.body {
        Body::Response(r) => r,
        other => panic!("expected a response, got {other:?}"),
    }
}

fn as_error(m: &Message) -> &KrpcError {
    match &m.body {
        Body::Error(e) => e,
        other => panic!("expected an error, got {other:?}"),
    }
}

/// Encode, decode, compare; and the encoding is a fixed point.
fn assert_round_trip(message: &Message) {
    let bytes = message.encode();
    let back = Message::decode(&bytes)
        .unwrap_or_else(|e| panic!("{} did not decode: {e:?}", bytes.escape_ascii()));
    assert_eq!(&back, message, "{}", bytes.escape_ascii());
    assert_eq!(back.encode(), bytes, "re-encoding changed the bytes");
}

/// Every body, encoded with every combination of `v`, `ro` and `ip`.
fn assert_round_trip_with_extras(base: &Message) {
    for version in [None, Some(b"KL\x00\x01".to_vec()), Some(b"x".to_vec())] {
        for read_only in [false, true] {
            for requester in [None, Some(addr(203, 0, 113, 7, 6881))] {
                let mut m = base.clone();
                m.version = version.clone();
                m.read_only = read_only;
                m.requester = requester;
                assert_round_trip(&m);
            }
        }
    }
}

/// Checks the reply owed to a broken datagram: an error echoing the
/// transaction id with `code`, which itself round-trips.
fn assert_error_reply(err: &DecodeError, transaction: &[u8], code: i64) {
    let reply = err
        .reply()
        .unwrap_or_else(|| panic!("no reply for {err:?}"));
    assert_eq!(reply.transaction, transaction);
    assert_eq!(as_error(&reply).code, code);
    assert_eq!(as_error(&reply).message, err.reason.to_string());
    assert_round_trip(&reply);
}

// ---------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------

#[test]
fn every_query_round_trips() {
    let token = b"\x00\xfftoken".to_vec();
    let methods = [
        Method::Ping,
        Method::FindNode { target: MNO },
        Method::GetPeers { info_hash: MNO },
        Method::AnnouncePeer {
            info_hash: MNO,
            port: 6881,
            implied_port: false,
            token: token.clone(),
        },
        Method::AnnouncePeer {
            info_hash: MNO,
            port: 0,
            implied_port: true,
            token: token.clone(),
        },
        Method::AnnouncePeer {
            info_hash: MNO,
            port: u16::MAX,
            implied_port: false,
            token: Vec::new(),
        },
        Method::Get { target: MNO },
        Method::Put {
            value: b"Hello World!".to_vec(),
            token: token.clone(),
            target: Some(NodeId::of_immutable_value(b"Hello World!")),
        },
        Method::Put {
            value: b"Hello World!".to_vec(),
            token: token.clone(),
            target: None,
        },
        Method::Put {
            value: Vec::new(),
            token: Vec::new(),
            target: None,
        },
    ];
    for method in methods {
        for transaction in [
            &b"a"[..],
            b"aa",
            b"\x00\x00\x00\x01",
            &[0xff; MAX_TRANSACTION_LEN],
        ] {
            assert_round_trip_with_extras(&query(transaction, ABC, method.clone()));
        }
    }
}

#[test]
fn every_response_round_trips() {
    let nodes = vec![
        Contact::new(ABC, addr(1, 2, 3, 4, 6881)),
        Contact::new(MNO, addr(255, 255, 255, 255, 1)),
        Contact::new(NodeId::ZERO, addr(10, 0, 0, 1, 65535)),
    ];
    let values = vec![
        addr(97, 120, 106, 101, 11893),
        addr(105, 100, 104, 116, 28269),
    ];
    let bodies = [
        ResponseBody {
            id: MNO,
            ..ResponseBody::default()
        },
        ResponseBody {
            id: MNO,
            nodes: nodes.clone(),
            ..ResponseBody::default()
        },
        ResponseBody {
            id: MNO,
            values: values.clone(),
            token: Some(b"aoeusnth".to_vec()),
            ..ResponseBody::default()
        },
        ResponseBody {
            id: MNO,
            nodes: nodes.clone(),
            token: Some(b"aoeusnth".to_vec()),
            ..ResponseBody::default()
        },
        ResponseBody {
            id: MNO,
            token: Some(Vec::new()),
            ..ResponseBody::default()
        },
        ResponseBody {
            id: MNO,
            nodes: nodes.clone(),
            token: Some(b"tok".to_vec()),
            value: Some(b"Hello World!".to_vec()),
            ..ResponseBody::default()
        },
        ResponseBody {
            id: MNO,
            value: Some(Vec::new()),
            ..ResponseBody::default()
        },
        ResponseBody {
            id: MNO,
            nodes,
            values,
            token: Some(b"t".to_vec()),
            value: Some(b"v".to_vec()),
            mutable: None,
        },
    ];
    for body in bodies {
        assert_round_trip_with_extras(&response(b"aa", body));
    }
}

#[test]
fn errors_round_trip() {
    for (code, message) in [
        (ERROR_GENERIC, "A Generic Error Ocurred"),
        (ERROR_PROTOCOL, "invalid token"),
        (ERROR_METHOD_UNKNOWN, ""),
        (-1, "négatif ☃"),
        (i64::MAX, "max"),
        (i64::MIN, "min"),
    ] {
        let m = Message::error(
            b"aa".to_vec(),
            KrpcError {
                code,
                message: message.to_string(),
            },
        );
        assert_round_trip_with_extras(&m);
    }
}

#[test]
fn compact_nodes_round_trip_and_skip_unroutable_contacts() {
    let good = Contact::new(ABC, addr(1, 2, 3, 4, 5));
    let no_port = Contact::new(MNO, addr(1, 2, 3, 4, 0));
    let no_ip = Contact::new(MNO, addr(0, 0, 0, 0, 6881));
    let bytes = encode_nodes(&[good, no_port, no_ip, good]);
    assert_eq!(bytes.len(), 4 * 26);
    assert_eq!(
        &bytes[..26],
        b"abcdefghij0123456789\x01\x02\x03\x04\x00\x05"
    );
    assert_eq!(decode_nodes(&bytes), Ok(vec![good, good]));
    assert_eq!(decode_nodes(&[]), Ok(vec![]));
    assert_eq!(decode_nodes(&bytes[..25]), Err(Malformed::Invalid("nodes")));
}

// ---------------------------------------------------------------------------
// Exact bytes: keys are sorted
// ---------------------------------------------------------------------------

#[test]
fn ping_query_encodes_with_sorted_keys() {
    let mut m = query(b"aa", ABC, Method::Ping);
    assert_eq!(
        m.encode(),
        b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"
    );
    // Every optional top-level key lands at its sorted place:
    // a < ip < q < ro < t < v < y.
    m.version = Some(b"KL\x00\x01".to_vec());
    m.read_only = true;
    m.requester = Some(addr(1, 2, 3, 4, 0x1ae1));
    assert_eq!(
        m.encode().escape_ascii().to_string(),
        b"d1:ad2:id20:abcdefghij0123456789e2:ip6:\x01\x02\x03\x04\x1a\xe1\
          1:q4:ping2:roi1e1:t2:aa1:v4:KL\x00\x011:y1:qe"
            .escape_ascii()
            .to_string()
    );
}

#[test]
fn ping_response_encodes_with_sorted_keys() {
    let mut m = response(
        b"aa",
        ResponseBody {
            id: MNO,
            ..ResponseBody::default()
        },
    );
    assert_eq!(
        m.encode(),
        b"d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re"
    );
    m.version = Some(b"KL\x00\x01".to_vec());
    m.requester = Some(addr(127, 0, 0, 1, 0x99a5));
    assert_eq!(
        m.encode().escape_ascii().to_string(),
        b"d2:ip6:\x7f\x00\x00\x01\x99\xa51:rd2:id20:mnopqrstuvwxyz123456e\
          1:t2:aa1:v4:KL\x00\x011:y1:re"
            .escape_ascii()
            .to_string()
    );
}

#[test]
fn response_fields_encode_with_sorted_keys() {
    let m = response(
        b"aa",
        ResponseBody {
            id: ABC,
            nodes: vec![Contact::new(MNO, addr(1, 2, 3, 4, 0x0102))],
            values: vec![addr(97, 120, 106, 101, 0x2e75)],
            token: Some(b"aoeusnth".to_vec()),
            value: Some(b"Hello World!".to_vec()),
            mutable: None,
        },
    );
    // id < nodes < token < v < values.
    assert_eq!(
        m.encode().escape_ascii().to_string(),
        b"d1:rd2:id20:abcdefghij0123456789\
          5:nodes26:mnopqrstuvwxyz123456\x01\x02\x03\x04\x01\x02\
          5:token8:aoeusnth1:v12:Hello World!6:valuesl6:axje.uee\
          1:t2:aa1:y1:re"
            .escape_ascii()
            .to_string()
    );
}

// ---------------------------------------------------------------------------
// BEP 5 examples, byte for byte
// ---------------------------------------------------------------------------

/// Decodes `bytes` and checks that the codec writes it back identically
/// (all BEP 5 examples are canonical bencode).
fn decode_canonical(bytes: &[u8]) -> Message {
    let m = decode_ok(bytes);
    assert_eq!(
        m.encode().escape_ascii().to_string(),
        bytes.escape_ascii().to_string()
    );
    m
}

#[test]
fn bep5_ping() {
    let q = decode_canonical(b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe");
    assert_eq!(q, query(b"aa", ABC, Method::Ping));

    let r = decode_canonical(b"d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re");
    assert_eq!(r.transaction, b"aa");
    assert_eq!(
        as_response(&r),
        &ResponseBody {
            id: MNO,
            ..ResponseBody::default()
        }
    );
}

#[test]
fn bep5_find_node() {
    let q = decode_canonical(
        b"d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e\
          1:q9:find_node1:t2:aa1:y1:qe",
    );
    assert_eq!(q, query(b"aa", ABC, Method::FindNode { target: MNO }));

    // BEP 5 abbreviates the nodes as "def456..." (9 bytes): not compact
    // node info, and the strict decoder says so.
    let literal = b"d1:rd2:id20:0123456789abcdefghij5:nodes9:def456...e1:t2:aa1:y1:re";
    let err = decode_err(literal);
    assert_eq!(err.reason, Malformed::Invalid("nodes"));
    assert_eq!(err.transaction.as_deref(), Some(&b"aa"[..]));
    assert!(!err.query);
    assert_eq!(err.reply(), None);

    // The same response with two real 26-byte contacts.
    let r = decode_canonical(
        b"d1:rd2:id20:0123456789abcdefghij5:nodes52:\
          abcdefghij0123456789\x7f\x00\x00\x01\x1a\xe1\
          mnopqrstuvwxyz123456\xc0\xa8\x01\x02\x1a\xe2\
          e1:t2:aa1:y1:re",
    );
    let body = as_response(&r);
    assert_eq!(body.id, NodeId(*b"0123456789abcdefghij"));
    assert_eq!(
        body.nodes,
        vec![
            Contact::new(ABC, addr(127, 0, 0, 1, 6881)),
            Contact::new(MNO, addr(192, 168, 1, 2, 6882)),
        ]
    );
    assert!(body.values.is_empty());
    assert_eq!(body.token, None);
}

#[test]
fn bep5_get_peers() {
    let q = decode_canonical(
        b"d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e\
          1:q9:get_peers1:t2:aa1:y1:qe",
    );
    assert_eq!(q, query(b"aa", ABC, Method::GetPeers { info_hash: MNO }));

    // Response with peers.
    let r = decode_canonical(
        b"d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee\
          1:t2:aa1:y1:re",
    );
    let body = as_response(&r);
    assert_eq!(body.id, ABC);
    assert_eq!(body.token.as_deref(), Some(&b"aoeusnth"[..]));
    // "axje.u" is 97.120.106.101, port 0x2e75; "idhtnm" 105.100.104.116,
    // port 0x6e6d.
    assert_eq!(
        body.values,
        vec![
            addr(97, 120, 106, 101, 0x2e75),
            addr(105, 100, 104, 116, 0x6e6d)
        ]
    );
    assert!(body.nodes.is_empty());

    // Response with closest nodes, literally (9 bytes of "nodes"): refused.
    let literal = b"d1:rd2:id20:abcdefghij01234567895:nodes9:def456...5:token8:aoeusnthe\
                    1:t2:aa1:y1:re";
    assert_eq!(decode_err(literal).reason, Malformed::Invalid("nodes"));

    // ... and with one real contact.
    let r = decode_canonical(
        b"d1:rd2:id20:abcdefghij01234567895:nodes26:mnopqrstuvwxyz123456def456\
          5:token8:aoeusnthe1:t2:aa1:y1:re",
    );
    let body = as_response(&r);
    assert_eq!(
        body.nodes,
        vec![Contact::new(MNO, addr(b'd', b'e', b'f', b'4', 0x3536))]
    );
    assert_eq!(body.token.as_deref(), Some(&b"aoeusnth"[..]));
    assert!(body.values.is_empty());
}

#[test]
fn bep5_announce_peer() {
    let q = decode_canonical(
        b"d1:ad2:id20:abcdefghij012345678912:implied_porti1e\
          9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe\
          1:q13:announce_peer1:t2:aa1:y1:qe",
    );
    assert_eq!(
        q,
        query(
            b"aa",
            ABC,
            Method::AnnouncePeer {
                info_hash: MNO,
                port: 6881,
                implied_port: true,
                token: b"aoeusnth".to_vec(),
            }
        )
    );

    // implied_port is optional; absent means 0.
    let q = decode_ok(
        b"d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456\
          4:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe",
    );
    assert!(matches!(
        as_query(&q).method,
        Method::AnnouncePeer {
            implied_port: false,
            port: 6881,
            ..
        }
    ));

    let r = decode_canonical(b"d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re");
    assert_eq!(as_response(&r).id, MNO);
}

#[test]
fn bep5_error() {
    let m = decode_canonical(b"d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee");
    assert_eq!(m.transaction, b"aa");
    assert_eq!(
        as_error(&m),
        &KrpcError {
            code: ERROR_GENERIC,
            message: "A Generic Error Ocurred".to_string(),
        }
    );
    // A code without a message is still an error.
    let m = decode_ok(b"d1:eli202ee1:t2:aa1:y1:ee");
    assert_eq!(as_error(&m).code, 202);
    assert_eq!(as_error(&m).message, "");
}

#[test]
fn bep5_extensions_are_tolerated() {
    // BEP 42 "ip", BEP 43 "ro", a client version, and keys kadlab does not
    // know ("want", "nodes6", "samples") are all accepted.
    let m = decode_ok(
        b"d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz1234564:wantl2:n42:n6ee\
          1:q9:find_node2:roi1e1:t2:aa1:v4:UT\xab\xcd1:y1:qe",
    );
    assert!(m.read_only);
    assert_eq!(m.version.as_deref(), Some(&b"UT\xab\xcd"[..]));
    assert_eq!(as_query(&m).method, Method::FindNode { target: MNO });

    let r = decode_ok(
        b"d2:ip6:\x01\x02\x03\x04\x1a\xe11:rd2:id20:mnopqrstuvwxyz1234566:nodes638:\
          abcdefghij0123456789\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x1a\xe1\
          7:samplesi3ee1:t2:aa1:y1:re",
    );
    assert_eq!(r.requester, Some(addr(1, 2, 3, 4, 6881)));
    assert!(as_response(&r).nodes.is_empty());

    // "ro" other than 1 is not read-only; "ip" that is not 6 routable bytes
    // is ignored.
    let m = decode_ok(
        b"d1:ad2:id20:abcdefghij0123456789e2:ip6:\x00\x00\x00\x00\x1a\xe1\
          1:q4:ping2:roi0e1:t2:aa1:y1:qe",
    );
    assert!(!m.read_only);
    assert_eq!(m.requester, None);
    let m = decode_ok(
        b"d1:ad2:id20:abcdefghij0123456789e2:ip4:\x01\x02\x03\x04\
          1:q4:ping2:ro1:11:t2:aa1:y1:qe",
    );
    assert!(!m.read_only);
    assert_eq!(m.requester, None);
}

#[test]
fn unsorted_keys_are_accepted_and_re_encoded_sorted() {
    let m = decode_ok(b"d1:y1:q1:t2:aa1:q4:ping1:ad2:id20:abcdefghij0123456789ee");
    assert_eq!(m, query(b"aa", ABC, Method::Ping));
    assert_eq!(
        m.encode(),
        b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"
    );
}

// ---------------------------------------------------------------------------
// BEP 44 immutable items
// ---------------------------------------------------------------------------

/// BEP 44's test vector for immutable items.
const HELLO_TARGET: &str = "e5f96f6f38320f0f33959cb4d3d656452117aadb";

#[test]
fn bep44_immutable_test_vector() {
    let target = NodeId::of_immutable_value(b"Hello World!");
    assert_eq!(target.to_string(), HELLO_TARGET);
    assert_eq!(target, NodeId::from_sha1(b"12:Hello World!"));
    assert_eq!(target, HELLO_TARGET.parse::<NodeId>().unwrap());
}

#[test]
fn bep44_get_and_put_shapes() {
    let target: NodeId = HELLO_TARGET.parse().unwrap();

    // get
    let q = decode_canonical(
        b"d1:ad2:id20:abcdefghij01234567896:target20:\
          \xe5\xf9\x6f\x6f\x38\x32\x0f\x0f\x33\x95\x9c\xb4\xd3\xd6\x56\x45\x21\x17\xaa\xdb\
          e1:q3:get1:t2:aa1:y1:qe",
    );
    assert_eq!(q, query(b"aa", ABC, Method::Get { target }));

    // get response: id, nodes, token, v.
    let r = decode_canonical(
        b"d1:rd2:id20:mnopqrstuvwxyz1234565:nodes26:abcdefghij0123456789\x7f\x00\x00\x01\x1a\xe1\
          5:token4:tok11:v12:Hello World!e1:t2:aa1:y1:re",
    );
    let body = as_response(&r);
    assert_eq!(body.id, MNO);
    assert_eq!(body.value.as_deref(), Some(&b"Hello World!"[..]));
    assert_eq!(body.token.as_deref(), Some(&b"tok1"[..]));
    assert_eq!(
        NodeId::of_immutable_value(body.value.as_ref().unwrap()),
        target
    );
    assert_eq!(body.nodes.len(), 1);

    // put, as BEP 44 writes it (no target) ...
    let q = decode_canonical(
        b"d1:ad2:id20:abcdefghij01234567895:token4:tok11:v12:Hello World!e\
          1:q3:put1:t2:aa1:y1:qe",
    );
    assert_eq!(
        as_query(&q).method,
        Method::Put {
            value: b"Hello World!".to_vec(),
            token: b"tok1".to_vec(),
            target: None,
        }
    );
    // ... and with the target `mainline` insists on.
    let q = decode_canonical(
        b"d1:ad2:id20:abcdefghij01234567896:target20:\
          \xe5\xf9\x6f\x6f\x38\x32\x0f\x0f\x33\x95\x9c\xb4\xd3\xd6\x56\x45\x21\x17\xaa\xdb\
          5:token4:tok11:v12:Hello World!e1:q3:put1:t2:aa1:y1:qe",
    );
    assert_eq!(
        as_query(&q).method,
        Method::Put {
            value: b"Hello World!".to_vec(),
            token: b"tok1".to_vec(),
            target: Some(target),
        }
    );

    // put response: just the id.
    let r = decode_canonical(b"d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re");
    assert_eq!(as_response(&r).value, None);
}

#[test]
fn bep44_non_string_values() {
    // A put of a list or dict value is valid BEP 44 that kadlab declines.
    for v in [&b"li1ei2ee"[..], b"d1:ai1ee", b"i42e"] {
        let datagram = [
            &b"d1:ad2:id20:abcdefghij01234567895:token4:tok11:v"[..],
            v,
            b"e1:q3:put1:t2:aa1:y1:qe",
        ]
        .concat();
        let err = decode_err(&datagram);
        assert_eq!(
            err.reason,
            Malformed::Unsupported("non-string immutable values")
        );
        assert!(err.query);
        assert_error_reply(&err, b"aa", ERROR_PROTOCOL);
    }
    // In a response, a non-string v is dropped rather than refused.
    let r = decode_ok(b"d1:rd2:id20:mnopqrstuvwxyz1234561:vli1eee1:t2:aa1:y1:re");
    assert_eq!(as_response(&r).value, None);
}

#[test]
fn bep44_mutable_put_decodes_every_field() {
    let k = [b'k'; 32];
    let sig = [b's'; 64];
    let datagram = [
        &b"d1:ad3:casi1e2:id20:abcdefghij01234567891:k32:"[..],
        &k,
        b"4:salt3:foo3:seqi4e3:sig64:",
        &sig,
        b"5:token4:tok11:v12:Hello World!e1:q3:put1:t2:aa1:y1:qe",
    ]
    .concat();
    let message = Message::decode(&datagram).expect("a mutable put");
    let Body::Query(Query {
        method: Method::PutMutable { item, token, cas },
        ..
    }) = message.body
    else {
        panic!("{message:?}");
    };
    assert_eq!((item.key, item.signature), (k, sig));
    assert_eq!((item.salt.as_slice(), item.seq), (&b"foo"[..], 4));
    assert_eq!(item.value, b"Hello World!");
    assert_eq!((token.as_slice(), cas), (&b"tok1"[..], Some(1)));
    // The signature is the server's to check, not the codec's.
    assert!(!item.verifies());

    // Either key alone marks the put as mutable, and the other is missing
    // or the wrong size.
    let only_k = b"d1:ad2:id20:abcdefghij01234567891:k1:x5:token1:t1:v1:xe1:q3:put1:t2:aa1:y1:qe";
    assert_eq!(decode_err(only_k).reason, Malformed::Invalid("k"));
    let only_sig =
        b"d1:ad2:id20:abcdefghij01234567893:sig1:x5:token1:t1:v1:xe1:q3:put1:t2:aa1:y1:qe";
    let err = decode_err(only_sig);
    assert_eq!(err.reason, Malformed::Missing("k"));
    assert_error_reply(&err, b"aa", ERROR_PROTOCOL);
}

// ---------------------------------------------------------------------------
// Datagrams captured from the `mainline` crate (v8.0.1)
// ---------------------------------------------------------------------------
//
// `mainline_*` were sent by mainline; `R_*` / `R2_*` by the capturing
// helper's kadlab nodes (ids 0x52.. / 0x53.., 127.0.0.1). mainline always
// writes `ro` = 0, a 4-byte transaction id and the version "RS\0\x05".

/// `mainline_query_to_R_ping`
const MAINLINE_QUERY_PING: &str = "64313a6164323a696432303af9ab7eedb00f03c12242c4d6f5fefd29fb790a8165313a71343a70696e67323a726f693065313a74343a00000001313a76343a52530005313a79313a7165";
/// `mainline_query_to_R_find_node`
const MAINLINE_QUERY_FIND_NODE: &str = "64313a6164323a696432303a47af7cf4b860da9e53e79dfe58ec37161a61b712363a74617267657432303a47af7cf4b860da9e53e79dfe58ec37161a61b71265313a71393a66696e645f6e6f6465323a726f693065313a74343a00000000313a76343a52530005313a79313a7165";
/// `mainline_query_to_R_get_peers`
const MAINLINE_QUERY_GET_PEERS: &str = "64313a6164323a696432303a47af7cf4b860da9e53e79dfe58ec37161a61b712393a696e666f5f6861736832303a0d47cbdc4858b07e6bd1ac5c39119d07690cca6a65313a71393a6765745f7065657273323a726f693065313a74343a0000000b313a76343a52530005313a79313a7165";
/// `mainline_query_to_R_announce_peer`
const MAINLINE_QUERY_ANNOUNCE_PEER: &str = "64313a6164323a696432303aa69b6ffaa34f91b873f45db4b178dbfb6e18ede431323a696d706c6965645f706f7274693065393a696e666f5f6861736832303a0d47cbdc4858b07e6bd1ac5c39119d07690cca6a343a706f7274693432343265353a746f6b656e343a746f6b3165313a7131333a616e6e6f756e63655f70656572323a726f693065313a74343a00000018313a76343a52530005313a79313a7165";
/// `mainline_query_to_R_get`
const MAINLINE_QUERY_GET: &str = "64313a6164323a696432303a47af7cf4b860da9e53e79dfe58ec37161a61b712363a74617267657432303ae5f96f6f38320f0f33959cb4d3d656452117aadb65313a71333a676574323a726f693065313a74343a0000000f313a76343a52530005313a79313a7165";
/// `mainline_query_to_R_put`
const MAINLINE_QUERY_PUT: &str = "64313a6164323a696432303acfd27d8dc73fdc63b62f235f740fde88aef13b3c363a74617267657432303ae5f96f6f38320f0f33959cb4d3d656452117aadb353a746f6b656e343a746f6b31313a7631323a48656c6c6f20576f726c642165313a71333a707574323a726f693065313a74343a00000012313a76343a52530005313a79313a7165";
/// `mainline_response_ping`
const MAINLINE_RESPONSE_PING: &str = "64323a6970363a7f00000199a5313a7264323a696432303a47af7cf4b860da9e53e79dfe58ec37161a61b71265323a726f693065313a74343a61610001313a76343a52530005313a79313a7265";
/// `mainline_response_find_node`
const MAINLINE_RESPONSE_FIND_NODE: &str = "64323a6970363a7f00000199a5313a7264323a696432303a47af7cf4b860da9e53e79dfe58ec37161a61b712353a6e6f64657335323a53535353535353535353535353535353535353537f000001b5a052525252525252525252525252525252525252527f00000199a565323a726f693065313a74343a61610002313a76343a52530005313a79313a7265";
/// `mainline_response_get_peers`
const MAINLINE_RESPONSE_GET_PEERS: &str = "64323a6970363a7f00000199a5313a7264323a696432303a47af7cf4b860da9e53e79dfe58ec37161a61b712353a6e6f64657335323a53535353535353535353535353535353535353537f000001b5a052525252525252525252525252525252525252527f00000199a5353a746f6b656e343a98a265c665323a726f693065313a74343a61610003313a76343a52530005313a79313a7265";
/// `mainline_response_get_after_put`
const MAINLINE_RESPONSE_GET_AFTER_PUT: &str = "64323a6970363a7f00000199a5313a7264323a696432303a47af7cf4b860da9e53e79dfe58ec37161a61b712353a6e6f64657335323a53535353535353535353535353535353535353537f000001b5a052525252525252525252525252525252525252527f00000199a5353a746f6b656e343a98a265c6313a7631323a48656c6c6f20576f726c642165323a726f693065313a74343a61610008313a76343a52530005313a79313a7265";
/// `mainline_response_put_with_bad_token`
const MAINLINE_RESPONSE_PUT_WITH_BAD_TOKEN: &str = "64313a656c6932303365393a42616420746f6b656e65323a6970363a7f00000199a5323a726f693065313a74343a61610006313a76343a52530005313a79313a6565";
/// `R_reply_to_mainline_find_node`
const R_REPLY_TO_MAINLINE_FIND_NODE: &str = "64323a6970363a7f000001b6e2313a7264323a696432303a5252525252525252525252525252525252525252353a6e6f64657332363a53535353535353535353535353535353535353537f000001b5a065313a74343a00000000313a79313a7265";
/// `R_reply_to_mainline_get`
const R_REPLY_TO_MAINLINE_GET: &str = "64323a6970363a7f000001b6e2313a7264323a696432303a5252525252525252525252525252525252525252353a6e6f64657332363a53535353535353535353535353535353535353537f000001b5a0353a746f6b656e343a746f6b3165313a74343a0000000f313a79313a7265";
/// `R2_reply_to_mainline_get` (after the put: carries the value)
const R2_REPLY_TO_MAINLINE_GET_AFTER_PUT: &str = "64313a7264323a696432303a5353535353535353535353535353535353535353353a6e6f64657332363a52525252525252525252525252525252525252527f00000199a5353a746f6b656e343a746f6b31313a7631323a48656c6c6f20576f726c642165313a74343a00000013313a79313a7265";
/// `R_sent_ping`
const R_SENT_PING: &str = "64313a6164323a696432303a525252525252525252525252525252525252525265313a71343a70696e67313a74343a61610001313a79313a7165";
/// `R_sent_find_node`
const R_SENT_FIND_NODE: &str = "64313a6164323a696432303a5252525252525252525252525252525252525252363a74617267657432303a47af7cf4b860da9e53e79dfe58ec37161a61b71265313a71393a66696e645f6e6f6465313a74343a61610002313a79313a7165";
/// `R_sent_get_peers`
const R_SENT_GET_PEERS: &str = "64313a6164323a696432303a5252525252525252525252525252525252525252393a696e666f5f6861736832303a0d47cbdc4858b07e6bd1ac5c39119d07690cca6a65313a71393a6765745f7065657273313a74343a61610003313a79313a7165";
/// `R_sent_get_before_put`
const R_SENT_GET: &str = "64313a6164323a696432303a5252525252525252525252525252525252525252363a74617267657432303ae5f96f6f38320f0f33959cb4d3d656452117aadb65313a71333a676574313a74343a61610004313a79313a7165";
/// `R_sent_put_without_target` (mainline never answered this one)
const R_SENT_PUT_WITHOUT_TARGET: &str = "64313a6164323a696432303a5252525252525252525252525252525252525252353a746f6b656e343a98a265c6313a7631323a48656c6c6f20576f726c642165313a71333a707574313a74343a61610005313a79313a7165";
/// `R_sent_put_with_target`
const R_SENT_PUT_WITH_TARGET: &str = "64313a6164323a696432303a5252525252525252525252525252525252525252363a74617267657432303ae5f96f6f38320f0f33959cb4d3d656452117aadb353a746f6b656e343a98a265c6313a7631323a48656c6c6f20576f726c642165313a71333a707574313a74343a61610007313a79313a7165";
/// `R_sent_ping_ro1`
const R_SENT_PING_RO1: &str = "64313a6164323a696432303a525252525252525252525252525252525252525265313a71343a70696e67323a726f693165313a74343a61610009313a79313a7165";
/// `R_sent_ping_v_4bytes`
const R_SENT_PING_V_4BYTES: &str = "64313a6164323a696432303a525252525252525252525252525252525252525265313a71343a70696e67313a74343a6161000b313a76343a4b440001313a79313a7165";
/// `R_sent_ping_id19` (a 19-byte id)
const R_SENT_PING_ID19: &str = "64313a6164323a696431393a5252525252525252525252525252525252525265313a71343a70696e67313a74343a6161000c313a79313a7165";
/// `R_sent_unknown_method_vote`
const R_SENT_UNKNOWN_METHOD_VOTE: &str = "64313a6164323a696432303a525252525252525252525252525252525252525265313a71343a766f7465313a74343a6161000d313a79313a7165";
/// `R_sent_sample_infohashes` (BEP 51, which kadlab does not serve)
const R_SENT_SAMPLE_INFOHASHES: &str = "64313a6164323a696432303a5252525252525252525252525252525252525252363a74617267657432303a47af7cf4b860da9e53e79dfe58ec37161a61b71265313a7131373a73616d706c655f696e666f686173686573313a74343a6161000e313a79313a7165";
/// `R_sent_get_with_seq0` (a BEP 44 get with `seq`, meant for mutable items)
const R_SENT_GET_WITH_SEQ0: &str = "64313a6164323a696432303a5252525252525252525252525252525252525252333a736571693065363a74617267657432303ae5f96f6f38320f0f33959cb4d3d656452117aadb65313a71333a676574313a74343a6161000f313a79313a7165";
/// `R_sent_ping_unsorted_keys` (keys in the order y, q, t, a)
const R_SENT_PING_UNSORTED_KEYS: &str = "64313a79313a71313a71343a70696e67313a74343a61610010313a6164323a696432303a52525252525252525252525252525252525252526565";

/// mainline's id in the `R_sent_*` exchanges.
const MAINLINE_ID: &str = "47af7cf4b860da9e53e79dfe58ec37161a61b712";
/// The info-hash mainline announced and looked up.
const INFO_HASH: &str = "0d47cbdc4858b07e6bd1ac5c39119d07690cca6a";
const R_ID: NodeId = NodeId([0x52; 20]);
const R2_ID: NodeId = NodeId([0x53; 20]);
/// The contacts mainline and the kadlab nodes handed out.
const R_ADDR: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0x99a5);
const R2_ADDR: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0xb5a0);

fn id(s: &str) -> NodeId {
    s.parse().unwrap()
}

/// A mainline datagram: `v` = "RS\0\x05", `ro` = 0, 4-byte transaction.
fn assert_mainline_extras(m: &Message, transaction: [u8; 4]) {
    assert_eq!(m.transaction, transaction);
    assert_eq!(m.version.as_deref(), Some(&b"RS\x00\x05"[..]));
    assert!(!m.read_only);
}

#[test]
fn captured_mainline_queries_decode() {
    let m = decode_ok(&hex(MAINLINE_QUERY_PING));
    assert_mainline_extras(&m, [0, 0, 0, 1]);
    assert_eq!(as_query(&m).method, Method::Ping);
    assert_eq!(m.requester, None);

    let m = decode_ok(&hex(MAINLINE_QUERY_FIND_NODE));
    assert_mainline_extras(&m, [0, 0, 0, 0]);
    assert_eq!(as_query(&m).id, id(MAINLINE_ID));
    assert_eq!(
        as_query(&m).method,
        Method::FindNode {
            target: id(MAINLINE_ID)
        }
    );

    let m = decode_ok(&hex(MAINLINE_QUERY_GET_PEERS));
    assert_mainline_extras(&m, [0, 0, 0, 0x0b]);
    assert_eq!(
        as_query(&m).method,
        Method::GetPeers {
            info_hash: id(INFO_HASH)
        }
    );

    let m = decode_ok(&hex(MAINLINE_QUERY_ANNOUNCE_PEER));
    assert_mainline_extras(&m, [0, 0, 0, 0x18]);
    assert_eq!(
        as_query(&m).method,
        Method::AnnouncePeer {
            info_hash: id(INFO_HASH),
            port: 4242,
            implied_port: false,
            token: b"tok1".to_vec(),
        }
    );

    let m = decode_ok(&hex(MAINLINE_QUERY_GET));
    assert_mainline_extras(&m, [0, 0, 0, 0x0f]);
    assert_eq!(
        as_query(&m).method,
        Method::Get {
            target: id(HELLO_TARGET)
        }
    );

    let m = decode_ok(&hex(MAINLINE_QUERY_PUT));
    assert_mainline_extras(&m, [0, 0, 0, 0x12]);
    assert_eq!(
        as_query(&m).method,
        Method::Put {
            value: b"Hello World!".to_vec(),
            token: b"tok1".to_vec(),
            target: Some(id(HELLO_TARGET)),
        }
    );
}

#[test]
fn captured_mainline_responses_decode() {
    let nodes = vec![Contact::new(R2_ID, R2_ADDR), Contact::new(R_ID, R_ADDR)];

    let m = decode_ok(&hex(MAINLINE_RESPONSE_PING));
    assert_mainline_extras(&m, *b"aa\x00\x01");
    assert_eq!(m.requester, Some(R_ADDR));
    assert_eq!(
        as_response(&m),
        &ResponseBody {
            id: id(MAINLINE_ID),
            ..ResponseBody::default()
        }
    );

    let m = decode_ok(&hex(MAINLINE_RESPONSE_FIND_NODE));
    assert_mainline_extras(&m, *b"aa\x00\x02");
    assert_eq!(as_response(&m).nodes, nodes);
    assert_eq!(as_response(&m).token, None);

    let m = decode_ok(&hex(MAINLINE_RESPONSE_GET_PEERS));
    assert_mainline_extras(&m, *b"aa\x00\x03");
    let body = as_response(&m);
    assert_eq!(body.nodes, nodes);
    assert!(body.values.is_empty());
    assert_eq!(body.token.as_deref(), Some(&b"\x98\xa2\x65\xc6"[..]));

    let m = decode_ok(&hex(MAINLINE_RESPONSE_GET_AFTER_PUT));
    let body = as_response(&m);
    assert_eq!(body.nodes, nodes);
    assert_eq!(body.value.as_deref(), Some(&b"Hello World!"[..]));
    assert_eq!(
        NodeId::of_immutable_value(body.value.as_ref().unwrap()),
        id(HELLO_TARGET)
    );

    let m = decode_ok(&hex(MAINLINE_RESPONSE_PUT_WITH_BAD_TOKEN));
    assert_mainline_extras(&m, *b"aa\x00\x06");
    assert_eq!(m.requester, Some(R_ADDR));
    assert_eq!(
        as_error(&m),
        &KrpcError {
            code: ERROR_PROTOCOL,
            message: "Bad token".to_string(),
        }
    );

    // mainline writes ro = 0, which kadlab does not write: the re-encoding
    // drops exactly that key.
    let bytes = hex(MAINLINE_RESPONSE_PING);
    let without_ro: Vec<u8> = bytes
        .windows(7)
        .position(|w| w == b"2:roi0e")
        .map(|at| [&bytes[..at], &bytes[at + 7..]].concat())
        .unwrap();
    assert_eq!(decode_ok(&bytes).encode(), without_ro);
}

#[test]
fn captured_kadlab_datagrams_decode_and_re_encode_identically() {
    let hello = || b"Hello World!".to_vec();
    let token = || b"\x98\xa2\x65\xc6".to_vec();
    let cases: &[(&str, Method)] = &[
        (R_SENT_PING, Method::Ping),
        (
            R_SENT_FIND_NODE,
            Method::FindNode {
                target: id(MAINLINE_ID),
            },
        ),
        (
            R_SENT_GET_PEERS,
            Method::GetPeers {
                info_hash: id(INFO_HASH),
            },
        ),
        (
            R_SENT_GET,
            Method::Get {
                target: id(HELLO_TARGET),
            },
        ),
        (
            R_SENT_PUT_WITHOUT_TARGET,
            Method::Put {
                value: hello(),
                token: token(),
                target: None,
            },
        ),
        (
            R_SENT_PUT_WITH_TARGET,
            Method::Put {
                value: hello(),
                token: token(),
                target: Some(id(HELLO_TARGET)),
            },
        ),
        (R_SENT_PING_RO1, Method::Ping),
        (R_SENT_PING_V_4BYTES, Method::Ping),
    ];
    for (datagram, method) in cases {
        let bytes = hex(datagram);
        let m = decode_canonical(&bytes);
        assert_eq!(as_query(&m).id, R_ID);
        assert_eq!(&as_query(&m).method, method);
        assert_eq!(&m.transaction[..2], b"aa");
    }
    assert!(decode_ok(&hex(R_SENT_PING_RO1)).read_only);
    assert_eq!(
        decode_ok(&hex(R_SENT_PING_V_4BYTES)).version.as_deref(),
        Some(&b"KD\x00\x01"[..])
    );

    // Replies kadlab nodes sent to mainline.
    let m = decode_canonical(&hex(R_REPLY_TO_MAINLINE_FIND_NODE));
    assert_eq!(m.transaction, [0, 0, 0, 0]);
    assert_eq!(
        m.requester,
        Some(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0xb6e2))
    );
    assert_eq!(as_response(&m).id, R_ID);
    assert_eq!(as_response(&m).nodes, vec![Contact::new(R2_ID, R2_ADDR)]);

    let m = decode_canonical(&hex(R_REPLY_TO_MAINLINE_GET));
    assert_eq!(as_response(&m).token.as_deref(), Some(&b"tok1"[..]));
    assert_eq!(as_response(&m).value, None);

    let m = decode_canonical(&hex(R2_REPLY_TO_MAINLINE_GET_AFTER_PUT));
    assert_eq!(m.requester, None);
    assert_eq!(as_response(&m).id, R2_ID);
    assert_eq!(as_response(&m).nodes, vec![Contact::new(R_ID, R_ADDR)]);
    assert_eq!(as_response(&m).value.as_deref(), Some(&b"Hello World!"[..]));
}

#[test]
fn captured_probes_decode_as_expected() {
    // A 19-byte id: protocol error.
    let err = decode_err(&hex(R_SENT_PING_ID19));
    assert_eq!(err.reason, Malformed::Invalid("id"));
    assert_error_reply(&err, b"aa\x00\x0c", ERROR_PROTOCOL);

    // Methods kadlab does not serve: 204.
    let err = decode_err(&hex(R_SENT_UNKNOWN_METHOD_VOTE));
    assert_eq!(err.reason, Malformed::UnknownMethod);
    assert_error_reply(&err, b"aa\x00\x0d", ERROR_METHOD_UNKNOWN);
    let err = decode_err(&hex(R_SENT_SAMPLE_INFOHASHES));
    assert_eq!(err.reason, Malformed::UnknownMethod);
    assert_error_reply(&err, b"aa\x00\x0e", ERROR_METHOD_UNKNOWN);

    // A get with `seq` (a mutable-item get) is served as a plain get.
    let m = decode_ok(&hex(R_SENT_GET_WITH_SEQ0));
    assert_eq!(
        as_query(&m).method,
        Method::Get {
            target: id(HELLO_TARGET)
        }
    );

    // Unsorted keys decode; the re-encoding sorts them.
    let m = decode_ok(&hex(R_SENT_PING_UNSORTED_KEYS));
    assert_eq!(m, query(b"aa\x00\x10", R_ID, Method::Ping));
    assert_eq!(
        m.encode(),
        query(b"aa\x00\x10", R_ID, Method::Ping).encode()
    );
}

// ---------------------------------------------------------------------------
// Error paths
// ---------------------------------------------------------------------------

#[test]
fn unknown_method_gets_204() {
    let err = decode_err(b"d1:ad2:id20:abcdefghij0123456789e1:q4:vote1:t2:aa1:y1:qe");
    assert_eq!(err.reason, Malformed::UnknownMethod);
    assert!(err.query);
    assert_eq!(err.transaction.as_deref(), Some(&b"aa"[..]));
    assert_error_reply(&err, b"aa", ERROR_METHOD_UNKNOWN);
    let reply = err.reply().unwrap();
    assert_eq!(
        reply.encode(),
        b"d1:eli204e14:unknown methode1:t2:aa1:y1:ee"
    );
    assert_eq!(reply.version, None);
    assert!(!reply.read_only);
}

#[test]
fn invalid_or_missing_arguments_get_203() {
    let cases: &[(&[u8], Malformed)] = &[
        // no "a"
        (b"d1:q4:ping1:t2:aa1:y1:qe", Malformed::Missing("a")),
        // "a" not a dict
        (
            b"d1:al2:ide1:q4:ping1:t2:aa1:y1:qe",
            Malformed::Invalid("a"),
        ),
        // no "q"
        (
            b"d1:ad2:id20:abcdefghij0123456789e1:t2:aa1:y1:qe",
            Malformed::Missing("q"),
        ),
        // "q" not a string
        (
            b"d1:ad2:id20:abcdefghij0123456789e1:qi1e1:t2:aa1:y1:qe",
            Malformed::Invalid("q"),
        ),
        // no id
        (b"d1:ade1:q4:ping1:t2:aa1:y1:qe", Malformed::Missing("id")),
        // id of 19 and 21 bytes, id not a string
        (
            b"d1:ad2:id19:abcdefghij012345678e1:q4:ping1:t2:aa1:y1:qe",
            Malformed::Invalid("id"),
        ),
        (
            b"d1:ad2:id21:abcdefghij0123456789Xe1:q4:ping1:t2:aa1:y1:qe",
            Malformed::Invalid("id"),
        ),
        (
            b"d1:ad2:idi1ee1:q4:ping1:t2:aa1:y1:qe",
            Malformed::Invalid("id"),
        ),
        // find_node without target, with a short target
        (
            b"d1:ad2:id20:abcdefghij0123456789e1:q9:find_node1:t2:aa1:y1:qe",
            Malformed::Missing("target"),
        ),
        (
            b"d1:ad2:id20:abcdefghij01234567896:target3:abce1:q9:find_node1:t2:aa1:y1:qe",
            Malformed::Invalid("target"),
        ),
        // get_peers without info_hash
        (
            b"d1:ad2:id20:abcdefghij0123456789e1:q9:get_peers1:t2:aa1:y1:qe",
            Malformed::Missing("info_hash"),
        ),
        // announce_peer: no port, port out of range, negative, not an int,
        // no token
        (
            b"d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234565:token1:xe\
              1:q13:announce_peer1:t2:aa1:y1:qe",
            Malformed::Missing("port"),
        ),
        (
            b"d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti65536e\
              5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe",
            Malformed::Invalid("port"),
        ),
        (
            b"d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti-1e\
              5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe",
            Malformed::Invalid("port"),
        ),
        (
            b"d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:port4:6881\
              5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe",
            Malformed::Invalid("port"),
        ),
        (
            b"d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti6881ee\
              1:q13:announce_peer1:t2:aa1:y1:qe",
            Malformed::Missing("token"),
        ),
        // get without target
        (
            b"d1:ad2:id20:abcdefghij0123456789e1:q3:get1:t2:aa1:y1:qe",
            Malformed::Missing("target"),
        ),
        // put: no v, no token, bad target
        (
            b"d1:ad2:id20:abcdefghij01234567895:token1:xe1:q3:put1:t2:aa1:y1:qe",
            Malformed::Missing("v"),
        ),
        (
            b"d1:ad2:id20:abcdefghij01234567891:v1:xe1:q3:put1:t2:aa1:y1:qe",
            Malformed::Missing("token"),
        ),
        (
            b"d1:ad2:id20:abcdefghij01234567896:target1:x5:token1:x1:v1:xe\
              1:q3:put1:t2:aa1:y1:qe",
            Malformed::Invalid("target"),
        ),
    ];
    for (datagram, reason) in cases {
        let err = decode_err(datagram);
        assert_eq!(&err.reason, reason, "{}", datagram.escape_ascii());
        assert!(err.query, "{}", datagram.escape_ascii());
        assert_error_reply(&err, b"aa", ERROR_PROTOCOL);
    }
}

#[test]
fn garbage_non_dicts_and_missing_transactions_get_no_reply() {
    let cases: &[(&[u8], Malformed)] = &[
        (b"", Malformed::Bencode(BencodeError::Truncated)),
        (
            b"GET / HTTP/1.1\r\n",
            Malformed::Bencode(BencodeError::Unexpected { byte: b'G', at: 0 }),
        ),
        // A valid query with trailing garbage is not bencode.
        (
            b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qeXX",
            Malformed::Bencode(BencodeError::Trailing(2)),
        ),
        // A duplicate key.
        (
            b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:t2:bb1:y1:qe",
            Malformed::Bencode(BencodeError::BadKey(49)),
        ),
        (b"li1ee", Malformed::NotADict),
        (b"4:spam", Malformed::NotADict),
        (b"i42e", Malformed::NotADict),
        (b"de", Malformed::Missing("t")),
        // Queries without a usable transaction id: absent, empty, not a
        // string, longer than MAX_TRANSACTION_LEN.
        (
            b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:y1:qe",
            Malformed::Missing("t"),
        ),
        (
            b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t0:1:y1:qe",
            Malformed::Missing("t"),
        ),
        (
            b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:ti1e1:y1:qe",
            Malformed::Missing("t"),
        ),
        (
            b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t17:0123456789abcdefg1:y1:qe",
            Malformed::Missing("t"),
        ),
    ];
    for (datagram, reason) in cases {
        let err = decode_err(datagram);
        assert_eq!(&err.reason, reason, "{}", datagram.escape_ascii());
        assert_eq!(err.transaction, None, "{}", datagram.escape_ascii());
        assert_eq!(err.reply(), None, "{}", datagram.escape_ascii());
    }
    // The transaction-less queries are still known to be queries.
    assert!(decode_err(b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:y1:qe").query);
    assert!(!decode_err(b"li1ee").query);
}

#[test]
fn transaction_length_limit() {
    let with_t = |t: &[u8]| {
        [
            &b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t"[..],
            t.len().to_string().as_bytes(),
            b":",
            t,
            b"1:y1:qe",
        ]
        .concat()
    };
    let longest = [b'x'; MAX_TRANSACTION_LEN];
    assert_eq!(MAX_TRANSACTION_LEN, 16);
    assert_eq!(decode_ok(&with_t(&longest)).transaction, longest);
    let too_long = [b'x'; MAX_TRANSACTION_LEN + 1];
    let err = decode_err(&with_t(&too_long));
    assert_eq!(err.reason, Malformed::Missing("t"));
    assert_eq!(err.transaction, None);
    assert!(err.query);
    assert_eq!(err.reply(), None);
}

#[test]
fn broken_responses_and_errors_get_no_reply() {
    let cases: &[(&[u8], Malformed)] = &[
        // nodes not a multiple of 26 (25 and 27 bytes)
        (
            b"d1:rd2:id20:mnopqrstuvwxyz1234565:nodes25:abcdefghij0123456789\x01\x02\x03\x04\x05\
              e1:t2:aa1:y1:re",
            Malformed::Invalid("nodes"),
        ),
        (
            b"d1:rd2:id20:mnopqrstuvwxyz1234565:nodes27:abcdefghij0123456789\x01\x02\x03\x04\x05\x06\x07\
              e1:t2:aa1:y1:re",
            Malformed::Invalid("nodes"),
        ),
        // nodes not a string
        (
            b"d1:rd2:id20:mnopqrstuvwxyz1234565:nodesi0ee1:t2:aa1:y1:re",
            Malformed::Invalid("nodes"),
        ),
        // nodes6 not a multiple of 38
        (
            b"d1:rd2:id20:mnopqrstuvwxyz1234566:nodes63:abce1:t2:aa1:y1:re",
            Malformed::Invalid("nodes6"),
        ),
        // no r, r not a dict, no id in r
        (b"d1:t2:aa1:y1:re", Malformed::Missing("r")),
        (b"d1:rle1:t2:aa1:y1:re", Malformed::Invalid("r")),
        (b"d1:rde1:t2:aa1:y1:re", Malformed::Missing("id")),
        // error without a list, with a list not starting with a code
        (b"d1:e3:abc1:t2:aa1:y1:ee", Malformed::Invalid("e")),
        (b"d1:ele1:t2:aa1:y1:ee", Malformed::Invalid("e")),
        (b"d1:el3:abce1:t2:aa1:y1:ee", Malformed::Invalid("e")),
        // unknown or missing y
        (b"d1:t2:aa1:y1:xe", Malformed::Invalid("y")),
        (b"d1:t2:aae", Malformed::Invalid("y")),
    ];
    for (datagram, reason) in cases {
        let err = decode_err(datagram);
        assert_eq!(&err.reason, reason, "{}", datagram.escape_ascii());
        assert!(!err.query);
        assert_eq!(err.transaction.as_deref(), Some(&b"aa"[..]));
        assert_eq!(err.reply(), None, "{}", datagram.escape_ascii());
    }
}

#[test]
fn malformed_peer_values_are_dropped_not_refused() {
    // "values" entries that are not 6 routable bytes are skipped; a
    // "values" that is not a list is ignored.
    let r = decode_ok(
        b"d1:rd2:id20:mnopqrstuvwxyz1234566:valuesl6:axje.u5:short6:\x00\x00\x00\x00\x1a\xe1\
          6:\x01\x02\x03\x04\x00\x00i1e6:idhtnmee1:t2:aa1:y1:re",
    );
    assert_eq!(
        as_response(&r).values,
        vec![
            addr(97, 120, 106, 101, 0x2e75),
            addr(105, 100, 104, 116, 0x6e6d)
        ]
    );
    let r = decode_ok(b"d1:rd2:id20:mnopqrstuvwxyz1234566:values6:axje.ue1:t2:aa1:y1:re");
    assert!(as_response(&r).values.is_empty());
}

#[test]
fn value_display_escapes_bytes() {
    let v = Value::decode(b"d1:t2:\x00\xff1:y1:qe").unwrap();
    assert_eq!(v.to_string(), "d1:t2:\\x00\\xff1:y1:qe");
}
