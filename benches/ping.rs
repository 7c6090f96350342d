//! KRPC ping round trips over 127.0.0.1, kadlab against `mainline` (v8).
//! Run with `cargo bench --bench ping`; criterion prints pings/s.
//!
//! Each iteration is a batch of [`BATCH`] pings, sent either one after the
//! other (`sequential_64`) or with [`WINDOW`] in flight at once
//! (`window_16`). Three pairs:
//!
//! - `kadlab_rpc_to_kadlab`: a kadlab node's own client
//!   (`node.rpc().query(addr, Method::Ping)`) to another kadlab node;
//! - `raw_to_mainline`: hand-written pings on a tokio `UdpSocket` to a
//!   `mainline` server node (`mainline` has no ping API);
//! - `raw_to_kadlab`: the same hand-written pings to a kadlab node, so the
//!   two servers are compared with the same client.
//!
//! Each server has one thread: `mainline` runs one actor thread, and the
//! kadlab server gets a tokio runtime with one worker. The clients share a
//! second one-worker runtime, and the timed loop runs as a task on it. The
//! kadlab server's per-source rate limit (50/s by default) is lifted, or it
//! would be what is measured. kadlab's windowed client runs 16 lanes of 4
//! sequential queries; the raw client keeps a sliding window of 16.
//!
//! Sequential figures measure thread wake-up as much as KRPC: each ping
//! waits for an idle thread (and, on a VM, an idle vCPU) to wake twice. On
//! a 2-vCPU Firecracker VM that is ~100 µs per ping when the machine is
//! otherwise idle and ~20–25 µs when another process keeps a vCPU busy, so
//! compare the three pairs within one run, not across machines or loads.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kadlab::node::{Node, NodeConfig};
use kadlab::protocol::{RateLimits, ServerConfig};
use kadlab::wire::krpc::Method;
use mainline::async_dht::AsyncDht;
use mainline::Dht;
use tokio::net::UdpSocket;
use tokio::runtime::Runtime;

/// Pings per iteration.
const BATCH: u32 = 64;
/// Pings in flight at once in the windowed runs.
const WINDOW: u32 = 16;
/// A reply that takes this long is lost: the bench stops rather than hang.
const LOST: Duration = Duration::from_secs(2);

fn kadlab_config(seed: u64) -> NodeConfig {
    NodeConfig {
        seed: Some(seed),
        request_timeout: LOST,
        server: ServerConfig {
            rate: RateLimits {
                per_source_per_sec: u32::MAX,
                burst: u32::MAX,
                per_ip_per_sec: u32::MAX,
                ip_burst: u32::MAX,
                ..RateLimits::default()
            },
            ..ServerConfig::default()
        },
        ..NodeConfig::default()
    }
}

fn mainline_server() -> AsyncDht {
    let mut builder = Dht::builder();
    builder
        .server_mode()
        .bind_address(Ipv4Addr::LOCALHOST)
        .port(0)
        .no_bootstrap()
        .request_timeout(LOST);
    builder
        .build()
        .expect("mainline binds 127.0.0.1:0")
        .as_async()
}

/// A bare KRPC client: one socket, 4-byte transaction ids (the only length
/// `mainline` answers), no parsing beyond finding the echoed id.
struct RawClient {
    socket: UdpSocket,
    id: [u8; 20],
    next: AtomicU32,
}

impl RawClient {
    async fn new() -> RawClient {
        RawClient {
            socket: UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
                .await
                .expect("client binds 127.0.0.1:0"),
            id: *b"raw-bench-client-id!",
            next: AtomicU32::new(0),
        }
    }

    async fn send(&self, to: SocketAddrV4) -> u32 {
        let tid = self.next.fetch_add(1, Ordering::Relaxed);
        let mut m = Vec::with_capacity(64);
        m.extend_from_slice(b"d1:ad2:id20:");
        m.extend_from_slice(&self.id);
        m.extend_from_slice(b"e1:q4:ping1:t4:");
        m.extend_from_slice(&tid.to_be_bytes());
        m.extend_from_slice(b"1:y1:qe");
        self.socket.send_to(&m, to).await.expect("ping sent");
        tid
    }

    /// The transaction id of the next answer that carries one.
    async fn receive(&self) -> u32 {
        let mut buf = [0u8; 1500];
        loop {
            let (n, _) = tokio::time::timeout(LOST, self.socket.recv_from(&mut buf))
                .await
                .expect("a ping answer within 2 s")
                .expect("receive");
            let found = buf[..n]
                .windows(9)
                .find(|w| w[..5] == *b"1:t4:")
                .map(|w| u32::from_be_bytes([w[5], w[6], w[7], w[8]]));
            if let Some(tid) = found {
                return tid;
            }
        }
    }

    async fn sequential(&self, to: SocketAddrV4, n: u32) {
        for _ in 0..n {
            let tid = self.send(to).await;
            while self.receive().await != tid {}
        }
    }

    async fn windowed(&self, to: SocketAddrV4, n: u32, window: u32) {
        let mut outstanding = Vec::with_capacity(window as usize);
        let mut sent = 0;
        while sent < n.min(window) {
            outstanding.push(self.send(to).await);
            sent += 1;
        }
        let mut done = 0;
        while done < n {
            let tid = self.receive().await;
            let Some(i) = outstanding.iter().position(|&t| t == tid) else {
                continue;
            };
            outstanding.swap_remove(i);
            done += 1;
            if sent < n {
                outstanding.push(self.send(to).await);
                sent += 1;
            }
        }
    }
}

async fn rpc_sequential(client: &Node, to: SocketAddrV4, n: u32) {
    for _ in 0..n {
        client
            .rpc()
            .query(to, Method::Ping)
            .await
            .expect("kadlab answers ping");
    }
}

/// `window` lanes of `n / window` sequential pings each, all at once.
async fn rpc_windowed(client: &Node, to: SocketAddrV4, n: u32, window: u32) {
    let lanes = (0..window).map(|_| rpc_sequential(client, to, n / window));
    futures_util::future::join_all(lanes).await;
}

/// How a batch is sent.
#[derive(Clone, Copy)]
enum Pattern {
    Sequential,
    Window,
}

/// Who sends the pings.
#[derive(Clone)]
enum Client {
    Kadlab(Arc<Node>),
    Raw(Arc<RawClient>),
}

impl Client {
    async fn batch(&self, to: SocketAddrV4, pattern: Pattern) {
        match (self, pattern) {
            (Client::Kadlab(node), Pattern::Sequential) => rpc_sequential(node, to, BATCH).await,
            (Client::Kadlab(node), Pattern::Window) => rpc_windowed(node, to, BATCH, WINDOW).await,
            (Client::Raw(raw), Pattern::Sequential) => raw.sequential(to, BATCH).await,
            (Client::Raw(raw), Pattern::Window) => raw.windowed(to, BATCH, WINDOW).await,
        }
    }
}

/// Time `iters` batches. The loop runs as a task on the runtime's workers,
/// where a node's own callers run, not on the thread that blocks on it.
fn timed(
    rt: &Runtime,
    iters: u64,
    client: &Client,
    to: SocketAddrV4,
    pattern: Pattern,
) -> Duration {
    let client = client.clone();
    let task = rt.spawn(async move {
        let start = Instant::now();
        for _ in 0..iters {
            client.batch(to, pattern).await;
        }
        start.elapsed()
    });
    rt.block_on(task).expect("bench task")
}

/// A runtime with one worker thread: the kadlab server gets one, as the
/// `mainline` server has one actor thread, and the clients share another.
fn one_worker() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn ping(c: &mut Criterion) {
    let server_rt = one_worker();
    let server = server_rt
        .block_on(Node::bind(kadlab_config(1)))
        .expect("kadlab server");
    let kadlab_addr = server.contact().addr;
    let dht = mainline_server();
    let mainline_addr = server_rt.block_on(dht.info()).local_addr();

    let rt = one_worker();
    let (client, raw) = rt.block_on(async {
        (
            Arc::new(Node::bind(kadlab_config(2)).await.expect("kadlab client")),
            Arc::new(RawClient::new().await),
        )
    });
    // One answered ping each before measuring: both servers are up.
    rt.block_on(async {
        raw.sequential(mainline_addr, 1).await;
        raw.sequential(kadlab_addr, 1).await;
        rpc_sequential(&client, kadlab_addr, 1).await;
    });

    let mut group = c.benchmark_group("ping");
    group
        .throughput(Throughput::Elements(u64::from(BATCH)))
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    let runs = [
        ("kadlab_rpc_to_kadlab", Client::Kadlab(client), kadlab_addr),
        (
            "raw_to_mainline",
            Client::Raw(Arc::clone(&raw)),
            mainline_addr,
        ),
        ("raw_to_kadlab", Client::Raw(raw), kadlab_addr),
    ];
    for (name, who, to) in &runs {
        for (pattern, label) in [
            (Pattern::Sequential, "sequential_64"),
            (Pattern::Window, "window_16"),
        ] {
            group.bench_function(format!("{name}/{label}"), |b| {
                b.iter_custom(|iters| timed(&rt, iters, who, *to, pattern))
            });
        }
    }
    group.finish();
    let stats = server.stats();
    assert_eq!(stats.server.rate_limited, 0, "{stats:?}");
    drop(dht);
}

criterion_group!(benches, ping);
criterion_main!(benches);
