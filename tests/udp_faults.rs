//! Real sockets behaving badly: bootstrap nodes that error or fall silent
//! mid-bootstrap, and forged answers from a hostile sender on 127.0.0.1.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::time::Duration;

use kadlab::contact::Contact;
use kadlab::id::NodeId;
use kadlab::lookup::{EndReason, LookupMode};
use kadlab::node::{BootstrapPhase, Node, NodeConfig};
use kadlab::wire::krpc::{Body, KrpcError, Message, Method, ResponseBody, ERROR_SERVER};
use tokio::net::UdpSocket;
use tokio::time::Instant;

fn config(timeout_ms: u64, deadline: Duration) -> NodeConfig {
    NodeConfig {
        seed: Some(5),
        request_timeout: Duration::from_millis(timeout_ms),
        bootstrap_deadline: deadline,
        lookup: kadlab::lookup::LookupConfig {
            rpc_timeout_ms: timeout_ms,
            ..Default::default()
        },
        ..NodeConfig::default()
    }
}

async fn socket() -> (Arc<UdpSocket>, SocketAddrV4) {
    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("binds");
    let SocketAddr::V4(addr) = socket.local_addr().expect("has an address") else {
        unreachable!("bound to IPv4")
    };
    (Arc::new(socket), addr)
}

fn id(n: u8) -> NodeId {
    NodeId::from_sha1(&[n])
}

fn answer(to: &Message, body: Body) -> Vec<u8> {
    Message {
        transaction: to.transaction.clone(),
        version: None,
        read_only: false,
        requester: None,
        body,
    }
    .encode()
}

/// Receive one query; `None` if the datagram is not one.
async fn next_query(socket: &UdpSocket) -> Option<(Message, SocketAddr)> {
    let mut buf = vec![0u8; 2048];
    let (len, from) = socket.recv_from(&mut buf).await.ok()?;
    let message = Message::decode(&buf[..len]).ok()?;
    matches!(message.body, Body::Query(_)).then_some((message, from))
}

/// A peer that answers every query with KRPC error 202.
fn spawn_erroring_peer(socket: Arc<UdpSocket>) {
    tokio::spawn(async move {
        while let Some((query, from)) = next_query(&socket).await {
            let error = KrpcError {
                code: ERROR_SERVER,
                message: "internal error".into(),
            };
            let _ = socket
                .send_to(&answer(&query, Body::Error(error)), from)
                .await;
        }
    });
}

/// The libp2p-kad hang, replayed: the bootstrap node answers its first
/// query with three contacts (one that answers every query with an error,
/// one that never answers, one whose port is closed), then falls silent
/// for the rest of the bootstrap. kadlab must end on its own, well before
/// the overall deadline, and report what happened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_ends_when_peers_fail_mid_way() {
    let (bootstrap, bootstrap_addr) = socket().await;
    let (erroring, erroring_addr) = socket().await;
    let (_silent, silent_addr) = socket().await;
    let closed_addr = {
        let (closed, addr) = socket().await;
        drop(closed);
        addr
    };
    spawn_erroring_peer(erroring);
    tokio::spawn(async move {
        let Some((query, from)) = next_query(&bootstrap).await else {
            return;
        };
        let nodes = vec![
            Contact::new(id(2), erroring_addr),
            Contact::new(id(3), silent_addr),
            Contact::new(id(4), closed_addr),
        ];
        let response = ResponseBody {
            id: id(1),
            nodes,
            ..ResponseBody::default()
        };
        let _ = bootstrap
            .send_to(&answer(&query, Body::Response(response)), from)
            .await;
        // Silent from now on, but the socket stays open.
        while next_query(&bootstrap).await.is_some() {}
    });

    let node = Node::bind(config(300, Duration::from_secs(30)))
        .await
        .expect("binds");
    let progress = node.bootstrap_progress();
    let started = Instant::now();
    let report = node.bootstrap(&[bootstrap_addr]).await;
    let took = started.elapsed();

    assert!(!report.deadline_hit, "ended on its own: {report:?}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_eq!(report.answered, vec![Contact::new(id(1), bootstrap_addr)]);
    assert!(report.failed.is_empty());
    assert!(report.lookups >= 1);
    assert_eq!(progress.borrow().phase, BootstrapPhase::Done);
    // The receive loop survived the errors: the node still answers.
    let other = Node::bind(NodeConfig {
        seed: Some(6),
        ..config(300, Duration::from_secs(1))
    })
    .await
    .expect("binds");
    let pong = other
        .rpc()
        .query(node.contact().addr, Method::Ping)
        .await
        .expect("node still answers");
    assert_eq!(pong.id, node.contact().id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_bootstrap_node_is_reported_and_bootstrap_ends() {
    let (_silent, silent_addr) = socket().await;
    let (erroring, erroring_addr) = socket().await;
    spawn_erroring_peer(erroring);
    let node = Node::bind(config(200, Duration::from_secs(30)))
        .await
        .expect("binds");
    let report = node.bootstrap(&[silent_addr, erroring_addr]).await;
    assert!(!report.joined());
    assert!(!report.deadline_hit);
    let failed: Vec<SocketAddrV4> = report.failed.iter().map(|(a, _)| *a).collect();
    assert_eq!(failed, vec![silent_addr, erroring_addr]);
    assert_eq!(report.failed[0].1, "request timed out");
    assert!(report.failed[1].1.contains("202"), "{}", report.failed[1].1);
}

/// A bootstrap node that keeps the join busy longer than the deadline: the
/// deadline ends it, and the report says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deadline_ends_a_bootstrap_that_would_take_longer() {
    let (slow, slow_addr) = socket().await;
    tokio::spawn(async move {
        let mut n = 10u8;
        while let Some((query, from)) = next_query(&slow).await {
            // Answer with ever new silent contacts, each worth a timeout.
            let nodes = (0..8)
                .map(|i| {
                    n = n.wrapping_add(1);
                    Contact::new(id(n), SocketAddrV4::new(Ipv4Addr::new(127, 0, 0, 1), 9 + i))
                })
                .collect();
            let response = ResponseBody {
                id: id(1),
                nodes,
                ..ResponseBody::default()
            };
            let _ = slow
                .send_to(&answer(&query, Body::Response(response)), from)
                .await;
        }
    });
    let node = Node::bind(config(2_000, Duration::from_millis(500)))
        .await
        .expect("binds");
    let started = Instant::now();
    let report = node.bootstrap(&[slow_addr]).await;
    let took = started.elapsed();
    assert!(report.deadline_hit, "{report:?}");
    assert!(took < Duration::from_millis(1500), "took {took:?}");
    assert_eq!(report.answered.len(), 1);
}

/// A hostile sender on 127.0.0.1 learns each transaction id (as an on-path
/// attacker would) and answers first, with forged contacts, from its own
/// address; it also sends answers with made-up transaction ids. Every
/// forgery is dropped and counted, and the lookup sees only the real peer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_answers_are_dropped_and_counted() {
    let (peer, peer_addr) = socket().await;
    let (hostile, _) = socket().await;
    let real_contacts = vec![Contact::new(
        id(20),
        SocketAddrV4::new(Ipv4Addr::LOCALHOST, 1),
    )];
    let forged = vec![Contact::new(
        id(66),
        SocketAddrV4::new(Ipv4Addr::LOCALHOST, 2),
    )];
    let made_up = 9u32;
    let real = real_contacts.clone();
    tokio::spawn(async move {
        while let Some((query, from)) = next_query(&peer).await {
            let forged_body = Body::Response(ResponseBody {
                id: id(10),
                nodes: forged.clone(),
                ..ResponseBody::default()
            });
            // Right transaction id, wrong address.
            let _ = hostile
                .send_to(&answer(&query, forged_body.clone()), from)
                .await;
            // Made-up transaction ids.
            for t in 0..made_up {
                let mut fake = query.clone();
                fake.transaction = t.wrapping_mul(7919).to_be_bytes().to_vec();
                let _ = hostile
                    .send_to(&answer(&fake, forged_body.clone()), from)
                    .await;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            let real_body = Body::Response(ResponseBody {
                id: id(10),
                nodes: real.clone(),
                ..ResponseBody::default()
            });
            let _ = peer.send_to(&answer(&query, real_body), from).await;
        }
    });
    let node = Node::bind(config(300, Duration::from_secs(5)))
        .await
        .expect("binds");
    let _ =
        node.with_table(|t| t.update(Contact::new(id(10), peer_addr), kadlab::time::Time::ZERO));
    let target = id(20);
    let outcome = node.lookup(target, LookupMode::FindNode).await;
    let stats = node.stats().rpc;
    // One query to the peer, one to the real contact (which times out:
    // nobody listens at port 1); the forged contact was never asked.
    assert_eq!(outcome.result, vec![Contact::new(id(10), peer_addr)]);
    assert_eq!(outcome.stats.requests, 2);
    assert!(matches!(
        outcome.reason,
        EndReason::Converged | EndReason::Exhausted
    ));
    assert_eq!(stats.wrong_address, 1);
    assert_eq!(stats.unknown_transaction, u64::from(made_up), "{stats:?}");
    assert_eq!(stats.answered, 1);
}
