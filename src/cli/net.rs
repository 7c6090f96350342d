//! The real-network commands: `node`, `lookup`, `put`, `get` and `swarm`.
//!
//! Each builds a [`NodeConfig`] from the `[node]` and `[lookup]` tables of
//! the config file and the flags (flags win), starts nodes on UDP, and
//! prints what happened in words and numbers.

use std::io::IsTerminal;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::cli::strategy_flags::StrategyFlags;
use crate::cli::usage;
use crate::config::ConfigFile;
use crate::id::{from_hex, hex, NodeId};
use crate::lookup::{LookupMode, LookupOutcome, StrategyName};
use crate::node::{BootstrapReport, Node, NodeConfig, Swarm, SwarmAddresses};
use crate::protocol::mutable::MAX_SALT_LEN;

/// A `HOST:PORT` resolved to its first IPv4 address.
fn ipv4_address(s: &str) -> Result<SocketAddrV4, String> {
    let addrs = s
        .to_socket_addrs()
        .map_err(|e| format!("{s:?} is not a HOST:PORT address ({e}); use e.g. 127.0.0.1:6881"))?;
    addrs
        .filter_map(|a| match a {
            SocketAddr::V4(v4) => Some(v4),
            SocketAddr::V6(_) => None,
        })
        .next()
        .ok_or_else(|| format!("{s:?} has no IPv4 address; kadlab nodes speak IPv4 only"))
}

/// Flags every network command shares.
#[derive(Args, Debug, Clone, Default)]
pub struct NodeArgs {
    /// Address to bind (default 127.0.0.1 and a free port).
    #[arg(long, value_parser = ipv4_address)]
    bind: Option<SocketAddrV4>,
    /// A node to join through, HOST:PORT; repeat for several.
    #[arg(long, value_parser = ipv4_address)]
    bootstrap: Vec<SocketAddrV4>,
    /// TOML file with `[node]` and `[lookup]` tables (see
    /// kadlab.example.toml); flags override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Lookup strategy: delta, query-rest, k-active, kademlia, disjoint or
    /// gated.
    #[arg(long)]
    strategy: Option<StrategyName>,
    /// k: result size and bucket size (1 to 255).
    #[arg(long)]
    k: Option<usize>,
    /// α: requests in flight of query-rest, k-active, kademlia and gated,
    /// and of each path of disjoint (1 to 64).
    #[arg(long)]
    alpha: Option<usize>,
    /// The strategies' own parameters (δ, budget, d, β, hedge, vouches,
    /// seeds).
    #[command(flatten)]
    params: StrategyFlags,
    /// How long a query waits for its answer, in milliseconds.
    #[arg(long)]
    timeout_ms: Option<u64>,
    /// Seed for the node's id, secrets and transaction ids (tests and
    /// reproducible demos only: a public node must not be predictable).
    #[arg(long)]
    seed: Option<u64>,
}

impl NodeArgs {
    /// The node configuration and bootstrap list, from file then flags;
    /// anything wrong in either is a usage error (exit status 2).
    fn resolve(&self) -> Result<(NodeConfig, Vec<SocketAddrV4>)> {
        self.settings().map_err(usage)
    }

    fn settings(&self) -> Result<(NodeConfig, Vec<SocketAddrV4>)> {
        let file = match &self.config {
            Some(path) => ConfigFile::load(path)?,
            None => ConfigFile::default(),
        };
        // `[node]` keys come only from the file: errors name it.
        let key = |name: &str| match &self.config {
            Some(path) => format!("{}: [node] {name}", path.display()),
            None => format!("[node] {name}"),
        };
        let n = &file.node;
        let mut config = NodeConfig::default();
        if let Some(bind) = &n.bind {
            config.bind =
                ipv4_address(bind).map_err(|e| anyhow::anyhow!("{}: {e}", key("bind")))?;
        }
        if let Some(id) = &n.id {
            config.id = Some(
                id.parse()
                    .map_err(|e| anyhow::anyhow!("{}: {e}", key("id")))?,
            );
        }
        if let Some(ms) = n.request_timeout_ms {
            if !(1..=600_000).contains(&ms) {
                bail!(
                    "{} = {ms} is out of range: allowed is 1 to 600000",
                    key("request_timeout_ms")
                );
            }
            config.request_timeout = Duration::from_millis(ms);
        }
        if let Some(s) = n.bootstrap_deadline_s {
            if !(1..=3600).contains(&s) {
                bail!(
                    "{} = {s} is out of range: allowed is 1 to 3600",
                    key("bootstrap_deadline_s")
                );
            }
            config.bootstrap_deadline = Duration::from_secs(s);
        }
        if let Some(ip) = &n.external_ip {
            config.external_ip = Some(ip.parse().map_err(|e| {
                anyhow::anyhow!(
                    "{}: {e}: give an IPv4 address such as 203.0.113.7",
                    key("external_ip")
                )
            })?);
        }
        if let Some(prefer) = n.prefer_verified_ids {
            config.server.prefer_verified_ids = prefer;
        }
        let mut bootstrap = Vec::new();
        for b in n.bootstrap.iter().flatten() {
            bootstrap
                .push(ipv4_address(b).map_err(|e| anyhow::anyhow!("{}: {e}", key("bootstrap")))?);
        }
        if !self.bootstrap.is_empty() {
            bootstrap = self.bootstrap.clone();
        }
        let mut lookup = file.lookup.clone();
        lookup.strategy = self.strategy.unwrap_or(lookup.strategy);
        lookup.k = self.k.unwrap_or(lookup.k);
        lookup.alpha = self.alpha.unwrap_or(lookup.alpha);
        self.params.apply(&mut lookup);
        if let Some(ms) = self.timeout_ms {
            if !(1..=600_000).contains(&ms) {
                bail!("--timeout-ms {ms} is out of range: use 1 to 600000");
            }
            config.request_timeout = Duration::from_millis(ms);
            lookup.rpc_timeout_ms = ms;
        }
        lookup.validate()?;
        file.routing.apply(&mut config.routing)?;
        config.routing.k = lookup.k;
        config.lookup = lookup;
        config.bind = self.bind.unwrap_or(config.bind);
        config.seed = self.seed;
        Ok((config, bootstrap))
    }
}

/// Flags of `kadlab node`.
#[derive(Args, Debug)]
pub struct NodeCommand {
    #[command(flatten)]
    node: NodeArgs,
}

/// Flags of `kadlab lookup`.
#[derive(Args, Debug)]
pub struct LookupCommand {
    #[command(flatten)]
    node: NodeArgs,
    /// The id to look up, 40 hex digits.
    #[arg(long, conflicts_with = "random", required_unless_present = "random")]
    target: Option<NodeId>,
    /// Look up a random id instead of --target.
    #[arg(long)]
    random: bool,
}

/// Flags of `kadlab put`.
#[derive(Args, Debug)]
pub struct PutCommand {
    /// The value to store (at most 1000 bytes), as a BEP 44 immutable item
    /// (or a mutable one, with --mutable).
    value: String,
    /// Store a BEP 44 mutable item signed with the ed25519 key in this file
    /// (its 32-byte secret seed as 64 hex digits); a file that does not
    /// exist yet is created with a new key. Prints the target; the public
    /// key goes to stderr, for `get --mutable`.
    #[arg(long, value_name = "KEYFILE")]
    mutable: Option<PathBuf>,
    /// The salt of a mutable item (at most 64 bytes): one key, many items.
    #[arg(long, requires = "mutable")]
    salt: Option<String>,
    /// The sequence number of a mutable item; by default one more than the
    /// highest the DHT holds (1 for a new item).
    #[arg(long, requires = "mutable")]
    seq: Option<i64>,
    #[command(flatten)]
    node: NodeArgs,
}

/// Flags of `kadlab get`.
#[derive(Args, Debug)]
pub struct GetCommand {
    /// The item's key (the target `put` printed), 40 hex digits.
    #[arg(required_unless_present = "mutable", conflicts_with = "mutable")]
    target: Option<NodeId>,
    /// Get the BEP 44 mutable item of this ed25519 public key (64 hex
    /// digits, as `put --mutable` printed it), checking its signature.
    #[arg(long, value_name = "PUBKEY", value_parser = public_key_arg)]
    mutable: Option<[u8; 32]>,
    /// The salt the mutable item was stored under.
    #[arg(long, requires = "mutable")]
    salt: Option<String>,
    #[command(flatten)]
    node: NodeArgs,
}

/// Flags of `kadlab announce`.
#[derive(Args, Debug)]
pub struct AnnounceCommand {
    /// The torrent's info-hash, 40 hex digits.
    info_hash: NodeId,
    /// The port this host serves the torrent on; the DHT records it with
    /// the address the announce comes from.
    #[arg(long)]
    port: u16,
    #[command(flatten)]
    node: NodeArgs,
}

/// Flags of `kadlab peers`.
#[derive(Args, Debug)]
pub struct PeersCommand {
    /// The torrent's info-hash, 40 hex digits.
    info_hash: NodeId,
    #[command(flatten)]
    node: NodeArgs,
}

/// Flags of `kadlab swarm`.
#[derive(Args, Debug)]
pub struct SwarmCommand {
    /// Number of nodes (1 to 1000).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=1000))]
    nodes: u16,
    /// Port of the first node; node i listens on base-port + i (with
    /// --ip-per-node, every node listens on base-port).
    #[arg(long, default_value_t = 7000)]
    base_port: u16,
    /// Give node i its own loopback address in a /24 of its own,
    /// 127.0.(i+1).2, instead of 127.0.0.1 and a port of its own: per-IP
    /// limits (kadlab's rate limit, libtorrent's DoS blocker and its one
    /// node per /24) then see one host per node, as between real hosts.
    /// Linux routes all of 127.0.0.0/8 to lo without set-up.
    #[arg(long)]
    ip_per_node: bool,
    /// Seed for the nodes' ids (node i uses seed + i).
    #[arg(long)]
    seed: Option<u64>,
}

/// Logs go to stderr, filtered by `RUST_LOG` (default: kadlab's events at
/// `level`), so stdout stays the command's result. Long-running commands
/// log at info; one-shot commands print their own summary and log warnings
/// only.
fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("kadlab={level}")));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")
}

fn require_bootstrap(bootstrap: &[SocketAddrV4]) -> Result<()> {
    if bootstrap.is_empty() {
        return Err(usage(anyhow::anyhow!(
            "no bootstrap node: pass --bootstrap HOST:PORT (e.g. start `kadlab swarm --nodes 20` \
             and use --bootstrap 127.0.0.1:7000), or set bootstrap in the [node] table of --config"
        )));
    }
    Ok(())
}

/// Start a short-lived read-only node and join.
async fn join(args: &NodeArgs) -> Result<Node> {
    let (mut config, bootstrap) = args.resolve()?;
    require_bootstrap(&bootstrap)?;
    config.read_only = true;
    let node = Node::bind(config.clone())
        .await
        .with_context(|| format!("could not bind {}; pick another --bind", config.bind))?;
    let report = node.bootstrap(&bootstrap).await;
    print_bootstrap(&report);
    if !report.joined() {
        bail!("joined nobody: no bootstrap node answered; check the addresses and that the nodes are running");
    }
    Ok(node)
}

fn print_bootstrap(report: &BootstrapReport) {
    eprintln!(
        "bootstrap: {} contacts, {} of {} bootstrap nodes answered, {} lookups, {} ms{}",
        report.contacts,
        report.answered.len(),
        report.answered.len() + report.failed.len(),
        report.lookups,
        report.elapsed_ms,
        if report.deadline_hit {
            " (deadline hit)"
        } else {
            ""
        }
    );
    for (addr, why) in &report.failed {
        eprintln!("  {addr}: {why}");
    }
}

/// `kadlab node`: serve until Ctrl-C.
pub fn node(args: &NodeCommand) -> Result<()> {
    init_logging("info");
    runtime()?.block_on(async {
        let (config, bootstrap) = args.node.resolve()?;
        let bind = |config: NodeConfig| async move {
            let at = config.bind;
            Node::bind(config)
                .await
                .with_context(|| format!("could not bind {at}; pick another --bind"))
        };
        let mut node = bind(config.clone()).await?;
        let me = node.contact();
        println!("node {} listening on {}", me.id, me.addr);
        if !bootstrap.is_empty() {
            print_bootstrap(&node.bootstrap(&bootstrap).await);
            // BEP 42: with no id of its own, a node that learns its public
            // address from the answers takes an id valid for it, and joins
            // again under it (on the same address).
            if let Some(ip) = bep42_restart(&node, &config) {
                let again = NodeConfig {
                    external_ip: Some(ip),
                    bind: node.contact().addr,
                    ..config.clone()
                };
                drop(node);
                // The old node's tasks hold its socket until they have
                // stopped, which takes a moment after the drop.
                let mut tries = 0;
                node = loop {
                    match bind(again.clone()).await {
                        Ok(node) => break node,
                        Err(_) if tries < 20 => {
                            tries += 1;
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        Err(e) => return Err(e),
                    }
                };
                println!(
                    "answers say our address is {ip}: now node {} (a BEP 42 id for it)",
                    node.contact().id
                );
                print_bootstrap(&node.bootstrap(&bootstrap).await);
            }
        }
        node.spawn_maintenance();
        tokio::signal::ctrl_c()
            .await
            .context("could not listen for Ctrl-C")?;
        println!("stopping; {}", serde_json::to_string(&node.stats())?);
        Ok(())
    })
}

/// The public address `node` should take a BEP 42 id for, if it has no
/// configured id or address, learned one from the answers, and its id is
/// not valid for it.
fn bep42_restart(node: &Node, config: &NodeConfig) -> Option<Ipv4Addr> {
    if config.id.is_some() || config.external_ip.is_some() {
        return None;
    }
    let ip = node.external_ip()?;
    let verdict = crate::bep42::verdict(&node.contact().id, ip);
    (verdict == crate::bep42::Verdict::Unverified).then_some(ip)
}

/// `kadlab lookup`: one lookup, printed with distances.
pub fn lookup(args: &LookupCommand) -> Result<()> {
    init_logging("warn");
    runtime()?.block_on(async {
        let node = join(&args.node).await?;
        let target = match args.target {
            Some(target) => target,
            None => {
                let mut rng = match args.node.seed {
                    Some(seed) => ChaCha8Rng::seed_from_u64(seed.wrapping_add(1)),
                    None => ChaCha8Rng::from_entropy(),
                };
                NodeId::random(&mut rng)
            }
        };
        let config = &node.config().lookup;
        let started = Instant::now();
        let outcome = node.lookup(target, LookupMode::FindNode).await;
        print_lookup(
            &outcome,
            &config.describe(),
            config.strategy,
            started.elapsed(),
        );
        Ok(())
    })
}

fn print_lookup(outcome: &LookupOutcome, params: &str, strategy: StrategyName, took: Duration) {
    println!(
        "lookup of {} with {} ({params})",
        outcome.target,
        strategy.as_str()
    );
    println!(
        "{:>3}  {:<40}  {:<21}  {:>9}",
        "#", "node", "address", "log2 dist"
    );
    for (i, contact) in outcome.result.iter().enumerate() {
        println!(
            "{:>3}  {}  {:<21}  {:>9.2}",
            i + 1,
            contact.id,
            contact.addr,
            contact.id.distance(&outcome.target).log2()
        );
    }
    let s = &outcome.stats;
    println!(
        "ended {} after {} RPCs ({} answered, {} failed), {} rounds, {} ms",
        outcome.reason,
        s.requests,
        s.responses,
        s.failures,
        s.rounds,
        took.as_millis()
    );
}

/// `kadlab put`: store a value, print its target.
pub fn put(args: &PutCommand) -> Result<()> {
    init_logging("warn");
    let value = args.value.as_bytes().to_vec();
    if value.len() > crate::protocol::MAX_VALUE_LEN {
        return Err(usage(crate::node::PutError::TooLarge(value.len())));
    }
    let salt = args.salt.as_deref().unwrap_or("").as_bytes().to_vec();
    if salt.len() > MAX_SALT_LEN {
        return Err(usage(crate::node::PutError::SaltTooLong(salt.len())));
    }
    let seed = match &args.mutable {
        Some(file) => Some(key_file(file)?),
        None => None,
    };
    runtime()?.block_on(async {
        let node = join(&args.node).await?;
        let (report, mutable) = match seed {
            Some(seed) => {
                let m = node.put_mutable(&seed, &salt, value, args.seq).await?;
                (m.put, Some((m.key, m.seq)))
            }
            None => (node.put(value).await?, None),
        };
        tell_writes(
            "stored",
            "stored on",
            &report.stored_at,
            &report.failed,
            report.lookup_requests,
        )?;
        if let Some((key, seq)) = mutable {
            eprintln!("mutable item of public key {} at seq {seq}", hex(&key));
        }
        println!("{}", report.target);
        Ok(())
    })
}

/// Say how a write to the closest nodes (a put, an announce) went: each
/// node that refused it, then how many took it; an error if none did.
fn tell_writes(
    done: &str,
    done_to: &str,
    took: &[crate::contact::Contact],
    failed: &[(crate::contact::Contact, String)],
    lookup_requests: u32,
) -> Result<()> {
    for (contact, why) in failed {
        eprintln!("  not {done} at {} ({}): {why}", contact.id, contact.addr);
    }
    if took.is_empty() {
        bail!(
            "no node took it: {} refused or did not answer",
            failed.len()
        );
    }
    eprintln!(
        "{done_to} {} nodes ({} failed) after a lookup of {lookup_requests} RPCs",
        took.len(),
        failed.len(),
    );
    Ok(())
}

/// The 32-byte ed25519 seed in `file` (64 hex digits), or a new one
/// written there if the file does not exist yet.
fn key_file(file: &Path) -> Result<[u8; 32]> {
    match std::fs::read_to_string(file) {
        Ok(text) => from_hex::<32>(text.trim()).map_err(|why| {
            usage(anyhow::anyhow!(
                "--mutable {}: {why}; the file holds an ed25519 secret seed as 64 hex digits (delete it to have a new key made)",
                file.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut seed = [0u8; 32];
            rand::RngCore::fill_bytes(&mut ChaCha8Rng::from_entropy(), &mut seed);
            write_secret(file, &format!("{}\n", hex(&seed))).map_err(|e| {
                usage(anyhow::anyhow!(
                    "--mutable {}: cannot write a new key there ({e}); give a path in a directory you can write",
                    file.display()
                ))
            })?;
            eprintln!("made a new key in {}", file.display());
            Ok(seed)
        }
        Err(e) => Err(usage(anyhow::anyhow!(
            "--mutable {}: cannot read it ({e})",
            file.display()
        ))),
    }
}

/// Write `text` to a new file only its owner can read: it is a secret key.
fn write_secret(file: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(file)?.write_all(text.as_bytes())
}

/// `--mutable PUBKEY` of `get`.
fn public_key_arg(text: &str) -> Result<[u8; 32], String> {
    from_hex(text).map_err(|why| format!("{why}: give the public key `put --mutable` printed"))
}

/// `kadlab get`: print a value or say it was not found.
pub fn get(args: &GetCommand) -> Result<()> {
    init_logging("warn");
    runtime()?.block_on(async {
        let node = join(&args.node).await?;
        if let Some(key) = &args.mutable {
            let salt = args.salt.as_deref().unwrap_or("").as_bytes();
            let report = node.get_mutable(key, salt).await;
            let rpcs = report.lookup.stats.requests;
            if report.rejected > 0 {
                eprintln!("  {} answers did not verify and were ignored", report.rejected);
            }
            return match report.item {
                Some(item) => {
                    eprintln!("found seq {} after {rpcs} RPCs (signature verified)", item.seq);
                    println!("{}", String::from_utf8_lossy(&item.value));
                    Ok(())
                }
                None => bail!(
                    "no mutable item of {} was found after {rpcs} RPCs (check the key and --salt; items expire after 2 h)",
                    hex(key)
                ),
            };
        }
        let Some(target) = args.target else {
            return Err(usage(anyhow::anyhow!("give a TARGET or --mutable PUBKEY")));
        };
        let report = node.get(target).await;
        let rpcs = report.lookup.as_ref().map_or(0, |o| o.stats.requests);
        match report.value {
            Some(value) => {
                eprintln!("found after {rpcs} RPCs");
                println!("{}", String::from_utf8_lossy(&value));
                Ok(())
            }
            None => bail!(
                "{target} was not found after {rpcs} RPCs: nobody near it stores it (items expire after 2 h; put it again)"
            ),
        }
    })
}

/// `kadlab announce`: announce a torrent to the nodes closest to it.
pub fn announce(args: &AnnounceCommand) -> Result<()> {
    init_logging("warn");
    runtime()?.block_on(async {
        let node = join(&args.node).await?;
        let report = node.announce(args.info_hash, args.port).await;
        tell_writes(
            "announced",
            "announced to",
            &report.announced_at,
            &report.failed,
            report.lookup_requests,
        )?;
        Ok(())
    })
}

/// `kadlab peers`: print the peers the DHT knows for a torrent.
pub fn peers(args: &PeersCommand) -> Result<()> {
    init_logging("warn");
    runtime()?.block_on(async {
        let node = join(&args.node).await?;
        let report = node.get_peers(args.info_hash).await;
        eprintln!(
            "{} peers after {} RPCs",
            report.peers.len(),
            report.lookup.stats.requests
        );
        for peer in &report.peers {
            println!("{peer}");
        }
        Ok(())
    })
}

/// `kadlab swarm`: N nodes on 127.0.0.1 until Ctrl-C.
pub fn swarm(args: &SwarmCommand) -> Result<()> {
    init_logging("info");
    runtime()?.block_on(async {
        let template = NodeConfig {
            seed: args.seed,
            log_maintenance: false,
            ..NodeConfig::default()
        };
        let base = SocketAddrV4::new(Ipv4Addr::LOCALHOST, args.base_port);
        let addresses = if args.ip_per_node {
            SwarmAddresses::IpPerNode
        } else {
            SwarmAddresses::OneIp
        };
        let started = Instant::now();
        let swarm = Swarm::start_at(usize::from(args.nodes), base, &template, addresses)
            .await
            .with_context(|| format!("could not start the swarm at {base}; pick another --base-port"))?;
        swarm.nodes.iter().for_each(Node::spawn_maintenance);
        let contacts: usize = swarm.nodes.iter().map(|n| n.stats().contacts).sum();
        let (first, last) = match (swarm.nodes.first(), swarm.nodes.last()) {
            (Some(first), Some(last)) => (first.contact().addr, last.contact().addr),
            _ => bail!("the swarm started no node"),
        };
        println!(
            "ready: {} nodes on {first} .. {last} in {} ms, {:.1} contacts each; join with --bootstrap {first}",
            swarm.nodes.len(),
            started.elapsed().as_millis(),
            contacts as f64 / swarm.nodes.len() as f64,
        );
        let mut tick = tokio::time::interval(SWARM_LOG_EVERY);
        tick.tick().await;
        let stop = tokio::signal::ctrl_c();
        tokio::pin!(stop);
        loop {
            tokio::select! {
                stopped = &mut stop => {
                    stopped.context("could not listen for Ctrl-C")?;
                    break;
                }
                _ = tick.tick() => log_swarm(&swarm.nodes),
            }
        }
        println!("stopping");
        Ok(())
    })
}

/// How often `kadlab swarm` logs its one line for all nodes.
const SWARM_LOG_EVERY: Duration = Duration::from_secs(60);

/// One info line for a whole swarm: its nodes' counters summed, where each
/// node alone would log one line per maintenance pass.
fn log_swarm(nodes: &[Node]) {
    let stats: Vec<_> = nodes.iter().map(Node::stats).collect();
    let sum = |f: fn(&crate::node::NodeStats) -> u64| stats.iter().map(f).sum::<u64>();
    tracing::info!(
        nodes = nodes.len(),
        contacts_mean = sum(|s| s.contacts as u64) as f64 / nodes.len().max(1) as f64,
        answered = sum(|s| s.server.answered),
        rate_limited = sum(|s| s.server.rate_limited),
        malformed = sum(|s| s.server.malformed),
        timeouts = sum(|s| s.rpc.timeouts),
        "swarm"
    );
}
