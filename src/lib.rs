//! kadlab compares Kademlia lookup algorithms.
//!
//! Kademlia implementations disagree on how a node finds the k closest nodes
//! to a key. kadlab implements the well-known lookups faithfully behind one
//! [`LookupStrategy`](lookup::LookupStrategy) trait, over one routing table
//! and one RPC layer, and measures how accurate each is for what it costs.
//!
//! # The strategies
//!
//! Three come from open-source seeds, two are references:
//!
//! - [`delta`](lookup::delta) — *delta-bounded best-effort*: δ requests in
//!   flight, ask the closest contact not yet asked, stop when nothing is left
//!   or the budget is spent, and return the k closest of everything **seen**,
//!   answered or not. Cheap, and under churn it returns dead nodes.
//! - [`query-rest`](lookup::query_rest) — *closest-unchanged / query-rest*:
//!   rounds over the first α shortlist positions; when a round brings nothing
//!   closer, ask everything left in the shortlist once and stop.
//! - [`k-active`](lookup::k_active) — *shortlist-until-k-active*: α in flight
//!   until a reply brings nothing closer, then keep asking until k nodes have
//!   answered; returns only nodes that answered.
//! - [`kademlia`](lookup::kademlia) — the paper's rule: α in flight among the
//!   k closest known, widen to all k when a batch brings nothing closer,
//!   finish when the k closest known have all answered.
//!
//! The exact rules, and how the strategies are judged (recall of the true k
//! closest against RPCs spent), are in `ALGORITHMS.md`; each strategy's
//! module lists where it deviates from its seed and why.
//!
//! # Shape
//!
//! The core — [`id`], [`routing`], [`lookup`] and [`protocol`] — is sans-IO:
//! no sockets, tasks or clocks. Every input carries the current
//! [`Time`](time::Time), every output is an action for a shell to carry out.
//! Shells (the simulator, the UDP node, the command line) drive it through a
//! [`Transport`](transport::Transport).
//!
//! # Real nodes
//!
//! [`node::Node`] runs the same lookups over UDP, speaking the BitTorrent
//! Mainline DHT's KRPC ([`transport::krpc`]: BEP 5, BEP 43, BEP 44
//! immutable items), so kadlab nodes join and serve networks of other DHT
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

pub mod cli;
pub mod config;
pub mod contact;
pub mod driver;
pub mod id;
pub mod lookup;
pub mod node;
pub mod plot;
pub mod protocol;
pub mod report;
pub mod routing;
pub mod sim;
pub mod time;
pub mod transport;
