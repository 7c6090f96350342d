//! kadlab compares Kademlia lookup algorithms.
//!
//! Kademlia implementations disagree on how a node finds the k closest nodes
//! to a key. kadlab implements the well-known lookups faithfully behind one
//! [`LookupStrategy`](lookup::LookupStrategy) trait, over one routing table
//! and one RPC layer, and measures how accurate each is for what it costs.
//!
//! # The strategies
//!
//! Every strategy answers one question — which k live nodes are closest
//! (XOR) to a 160-bit target? — and differs only in whom it asks next and
//! when it stops. Three come from open-source seeds and are reproduced
//! with their quirks; two are references to measure them against. The
//! precise rules are in `docs/ALGORITHMS.md` (section numbers below); each
//! module restates its rule and lists where, and why, it deviates from its
//! seed.
//!
//! The seeds:
//!
//! - [`delta`](lookup::delta) — *delta-bounded best-effort* (§1, the Go
//!   seed's `IterativeFindNode`). Start from the δ closest routing-table
//!   contacts; keep δ requests in flight, always to the closest contact not
//!   yet asked; every new contact in a reply is *seen* and joins the
//!   frontier. Stop asking when the frontier is empty or `budget` requests
//!   (default k) have been sent, then wait only for those in flight. Return
//!   the k closest of everything **seen**, answered or not: cheap, and under
//!   churn it returns dead nodes (the report's `stale`).
//! - [`query-rest`](lookup::query_rest) — *closest-unchanged / query-rest*
//!   (§2, the Go seed's `iterate`). Rounds over the first α *positions* of
//!   an uncapped shortlist (so a round may send fewer than α requests); a
//!   round waits for all its requests or its round timeout, and failed
//!   contacts leave the shortlist. When a round brings nothing closer, one
//!   last round asks **every** contact left in the shortlist, and the
//!   lookup stops. Return the first k of the shortlist, which can hold
//!   contacts from the last round's replies that were never asked.
//! - [`k-active`](lookup::k_active) — *shortlist-until-k-active* (§3, the
//!   Rust seed's `lookup_nodes`). Phase 1 keeps α in flight, closest first,
//!   until a reply brings nothing closer; phase 2 keeps asking until k nodes
//!   have answered or nothing is left. Return the k closest nodes that
//!   **answered**: all alive during the lookup, though not always the true
//!   k closest.
//!
//! The references:
//!
//! - [`kademlia`](lookup::kademlia) — the paper's rule (Maymounkov &
//!   Mazières 2002, §4). Start from the k closest routing-table contacts
//!   (as rust-libp2p and the `mainline` crate do; the paper takes α), keep
//!   α in flight among the k closest known, failed contacts dropped; when α replies in a row bring nothing closer, widen
//!   for good to every unasked contact among the k closest; finish when the
//!   k closest known have all answered, and return them.
//! - [`disjoint`](lookup::disjoint) — S/Kademlia's disjoint paths (Baumgart
//!   & Mies 2007, §5), the reference under attack. The k closest contacts
//!   are dealt round-robin to d paths (default 4), each running the paper's
//!   rule with its own shortlist; a node belongs to at most one path, so an
//!   adversary met on one path cannot mislead the others. Return the k
//!   closest nodes that answered on any path; the cost grows about linearly
//!   with d.
//!
//! How many routing-table contacts a lookup starts from is the `seeds`
//! key ([`LookupConfig::seed_count`](lookup::LookupConfig::seed_count)):
//! each seed strategy keeps its source's α (or δ), and the references take
//! k. A lookup whose few starting contacts are all down returns nothing,
//! which is a fact about the rule, not about the network.
//!
//! All of them keep the rules every strategy shares (enforced by
//! [`Lookup`](lookup::Lookup)): the local node is never asked or returned,
//! no node is asked twice in one lookup, every request has a timeout
//! (default 2 s), and every lookup ends, with one
//! [`EndReason`](lookup::EndReason). FIND_VALUE runs the same walk and stops
//! at the first value that verifies against the target.
//!
//! They are judged on the simulator ([`sim`]; every modelled behaviour
//! and its source is in `docs/MODEL.md`) by recall@k — the share of
//! the true k closest (the nodes nearest the target that were alive when
//! the lookup started) found — against what they cost: RPCs, timeouts,
//! rounds and latency. `kadlab compare` prints the table, `kadlab sweep`
//! draws each strategy's cost/accuracy curve, and `kadlab trace`
//! ([`trace`]) draws a single lookup, request by request. [`accuracy`]
//! puts RPCs and misses per lookup into criterion, so a benchmark file of
//! a few lines measures a strategy of one's own against the built-in ones.
//!
//! A strategy written outside this crate runs through the same machinery:
//! [`guide`] walks through writing one, comparing it with the built-in ones
//! and having [`narrate`] tell one of its lookups step by step.
//!
//! # Shape
//!
//! The core — [`id`], [`routing`], [`lookup`], [`protocol`] and the KRPC
//! codec [`wire`] — is sans-IO: no sockets, tasks or clocks. Every input
//! carries the current [`Time`](time::Time), every output is an action for a
//! shell to carry out.
//! Shells (the simulator, the UDP node, the command line) drive it through a
//! [`Transport`](transport::Transport).
//!
//! # Real nodes
//!
//! [`node::Node`] runs the same lookups over UDP, speaking the BitTorrent
//! Mainline DHT's KRPC ([`wire::krpc`]: BEP 5, BEP 43, BEP 44 immutable
//! items), so kadlab nodes join and serve networks of other DHT
//! software. Queries are answered by the sans-IO [`protocol::Server`];
//! answers are matched to queries by [`transport::udp::UdpRpc`].
//!
//! ```
//! use kadlab::contact::Contact;
//! use kadlab::id::NodeId;
//! use kadlab::lookup::{LookupAction, LookupConfig, LookupMode, Reply};
//! use kadlab::routing::{RoutingConfig, RoutingTable};
//! use kadlab::time::Time;
//!
//! let me = NodeId::from_sha1(b"me");
//! let other = Contact::simulated(NodeId::from_sha1(b"other"), 1);
//! let mut table = RoutingTable::new(me, RoutingConfig::default(), Time::ZERO);
//! let _ = table.update(other, Time::ZERO);
//!
//! let config = LookupConfig::default(); // the paper's rule, alpha 3, k 20
//! let mut lookup = config.start(&table, NodeId::from_sha1(b"key"), LookupMode::FindNode);
//! let LookupAction::Send(to) = lookup.poll(Time::ZERO) else { unreachable!() };
//! assert_eq!(to, vec![other]);
//! lookup.on_response(&other.id, Reply::nodes(&[]), Time::from_millis(40));
//! let LookupAction::Finished(outcome) = lookup.poll(Time::from_millis(40)) else { unreachable!() };
//! assert_eq!(outcome.result, vec![other]);
//! ```

#![deny(missing_docs)]
#![warn(unreachable_pub)]

pub mod accuracy;
pub mod bep42;
pub mod cli;
pub mod config;
pub mod contact;
pub mod driver;
pub mod guide;
pub mod html;
pub mod id;
pub mod lookup;
pub mod narrate;
pub mod node;
pub mod plot;
pub mod protocol;
pub mod report;
pub mod routing;
pub mod sim;
pub mod stress;
pub mod time;
pub mod trace;
pub mod transport;
pub mod wire;
