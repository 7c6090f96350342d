//! At debug level a node logs every datagram it drops or refuses, and every
//! request of its own that times out, each with its reason: what a user
//! reads when two DHTs will not talk to each other.

use std::io::Write;
use std::net::{SocketAddr, SocketAddrV4};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kadlab::node::{Node, NodeConfig};
use kadlab::wire::krpc::{Body, Message, Method, Query, ResponseBody};
use tokio::net::UdpSocket;

/// Log lines written by the subscriber, kept for the test to read.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn message(transaction: &[u8], body: Body) -> Vec<u8> {
    Message {
        transaction: transaction.to_vec(),
        version: None,
        read_only: false,
        requester: None,
        body,
    }
    .encode()
}

#[tokio::test]
async fn every_drop_refusal_and_timeout_is_logged_with_its_reason() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("kadlab=debug")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let node = Node::bind(NodeConfig {
        seed: Some(9),
        request_timeout: Duration::from_millis(200),
        ..NodeConfig::default()
    })
    .await
    .expect("binds");
    let to = node.contact().addr;
    let peer = UdpSocket::bind("127.0.0.1:0").await.expect("binds");
    // Not bencode; an answer nobody asked for; a query under the node's
    // own id; an announce with a token the node never issued.
    peer.send_to(b"garbage", to).await.unwrap();
    let unsolicited = message(
        b"zzzz",
        Body::Response(ResponseBody {
            id: kadlab::id::NodeId::from_sha1(b"peer"),
            ..ResponseBody::default()
        }),
    );
    peer.send_to(&unsolicited, to).await.unwrap();
    let own = message(
        b"aa",
        Body::Query(Query {
            id: node.contact().id,
            method: Method::Ping,
        }),
    );
    peer.send_to(&own, to).await.unwrap();
    let announce = message(
        b"bb",
        Body::Query(Query {
            id: kadlab::id::NodeId::from_sha1(b"peer"),
            method: Method::AnnouncePeer {
                info_hash: kadlab::id::NodeId::from_sha1(b"file"),
                port: 6881,
                implied_port: false,
                token: b"forged".to_vec(),
            },
        }),
    );
    peer.send_to(&announce, to).await.unwrap();
    // A request of the node's own to an address where nobody answers.
    let silent = UdpSocket::bind("127.0.0.1:0").await.expect("binds");
    let SocketAddr::V4(silent_addr) = silent.local_addr().unwrap() else {
        unreachable!("bound to IPv4")
    };
    let answer = node.rpc().query(silent_addr, Method::Ping).await;
    assert!(answer.is_err());
    tokio::time::sleep(Duration::from_millis(300)).await;

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let peer_addr: SocketAddrV4 = match peer.local_addr().unwrap() {
        SocketAddr::V4(a) => a,
        SocketAddr::V6(_) => unreachable!("bound to IPv4"),
    };
    for needle in [
        "malformed datagram",
        "answer dropped: no request waits for its transaction id",
        "query dropped: it carries this node's own id",
        "query refused with an error reply",
        "bad token",
        "request timed out",
    ] {
        assert!(log.contains(needle), "no {needle:?} in:\n{log}");
    }
    assert!(log.contains(&peer_addr.to_string()), "{log}");
    assert!(log.contains(&silent_addr.to_string()), "{log}");
    assert!(!log.contains('\u{1b}'), "no colour codes: {log}");
}
