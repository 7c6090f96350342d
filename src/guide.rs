//! Your own strategy: write a lookup rule outside this crate, compare it
//! with the built-in ones, and have one of its lookups told step by step.
//!
//! This page holds no code of its own; it walks through the public API a
//! crate of yours would use. The example `examples/custom_strategy.rs`
//! (`cargo run --release --example custom_strategy`) does the same with a
//! fuller rule, and the README's "Your own strategy" section shows its
//! output.
//!
//! # 1. A rule
//!
//! A strategy is a [`Rule`]: only its decisions. [`Lookup`] wraps it and
//! does what every strategy shares and must get right — replies cleaned of
//! the local node, repeats and unsolicited senders; per-request timeouts
//! (a timed-out request reaches the rule as [`Rule::on_failure`]); never
//! asking a node twice; statistics; value verification for FIND_VALUE —
//! and hands the rule a [`LookupContext`] to read that state from. The rule
//! below is as short as a correct one gets: it asks the contacts it started
//! from, closest first, three at a time, ignores what the replies name, and
//! returns those that answered.
//!
//! ```
//! use kadlab::contact::Contact;
//! use kadlab::lookup::{EndReason, LookupContext, Rule, Step};
//! use kadlab::time::Time;
//!
//! /// Ask the starting contacts, α at a time; return those that answered.
//! pub struct AskSeeds {
//!     unasked: Vec<Contact>, // closest last, so `pop` takes the closest
//!     answered: Vec<Contact>,
//! }
//!
//! impl Rule for AskSeeds {
//!     const NAME: &'static str = "ask-seeds";
//!
//!     fn on_response(&mut self, _ctx: &LookupContext, from: Contact, _contacts: &[Contact]) {
//!         self.answered.push(from);
//!     }
//!
//!     fn on_failure(&mut self, _ctx: &LookupContext, _from: Contact) {}
//!
//!     fn step(&mut self, ctx: &mut LookupContext, _now: Time) -> Step {
//!         let room = self.parallelism().saturating_sub(ctx.in_flight());
//!         let batch: Vec<Contact> = (0..room).filter_map(|_| self.unasked.pop()).collect();
//!         if !batch.is_empty() {
//!             Step::Send(batch)
//!         } else if ctx.in_flight() > 0 {
//!             Step::Wait(None)
//!         } else if self.answered.is_empty() && ctx.stats().requests == 0 {
//!             Step::Finish(EndReason::NoContacts)
//!         } else {
//!             Step::Finish(EndReason::Converged)
//!         }
//!     }
//!
//!     fn result(&self, _ctx: &LookupContext) -> Vec<Contact> {
//!         self.answered.clone() // `Lookup` sorts it and cuts it to k
//!     }
//!
//!     fn parallelism(&self) -> usize {
//!         3
//!     }
//!
//!     fn phase(&self, _ctx: &LookupContext) -> String {
//!         format!("{} starting contacts left to ask", self.unasked.len())
//!     }
//! }
//! ```
//!
//! [`Rule::phase`] is the rule's own account of where it stands: the
//! narrator prints it whenever it changes, so it should say what the rule
//! decides on. A rule of several paths also answers [`Rule::path_of`].
//!
//! # 2. The contract
//!
//! A driver can only trust a strategy that keeps three promises
//! ([`lookup::contract`](crate::lookup::contract)): every `Send` names
//! contacts never asked before in this lookup (never the local node, never
//! none at all); a `Wait` is only returned while a request is in flight, and
//! never for a moment already past; the result holds only contacts the
//! lookup heard of (its starting contacts and those the replies named). A
//! rule that breaks one does not spin or hang: the lookup ends at once with
//! [`EndReason::ContractBroken`] and the [`Breach`] in its outcome, and is
//! counted in the reports like any other lookup.
//!
//! ```
//! use kadlab::contact::Contact;
//! use kadlab::id::NodeId;
//! use kadlab::lookup::{
//!     Breach, EndReason, Lookup, LookupAction, LookupContext, LookupSpec, LookupStrategy, Rule, Step,
//! };
//! use kadlab::time::Time;
//!
//! /// Waits for a reply without ever sending a request.
//! struct Stubborn;
//!
//! impl Rule for Stubborn {
//!     const NAME: &'static str = "stubborn";
//!     fn on_response(&mut self, _: &LookupContext, _: Contact, _: &[Contact]) {}
//!     fn on_failure(&mut self, _: &LookupContext, _: Contact) {}
//!     fn step(&mut self, _: &mut LookupContext, _: Time) -> Step {
//!         Step::Wait(None)
//!     }
//!     fn result(&self, _: &LookupContext) -> Vec<Contact> {
//!         Vec::new()
//!     }
//!     fn parallelism(&self) -> usize {
//!         1
//!     }
//!     fn phase(&self, _: &LookupContext) -> String {
//!         String::new()
//!     }
//! }
//!
//! let spec = LookupSpec::find_node(NodeId::from_sha1(b"me"), NodeId::from_sha1(b"key"));
//! let mut lookup = Lookup::new(spec, &[], Stubborn);
//! let LookupAction::Finished(outcome) = lookup.poll(Time::ZERO) else {
//!     panic!("a wait with nothing in flight ends the lookup")
//! };
//! assert_eq!(outcome.reason, EndReason::ContractBroken);
//! assert_eq!(outcome.breach, Some(Breach::WaitedForNothing));
//! ```
//!
//! # 3. A contender, a comparison, a story
//!
//! [`Contender::new`] enters the rule under a name and a parameter string
//! (the reports' first two columns) with a factory that starts one lookup
//! from the origin's routing table: it picks the starting contacts, builds
//! the [`LookupSpec`] and wraps the rule in [`Lookup::new`]. From there the
//! rule runs through the same machinery as the built-in strategies:
//! [`sim::compare`](crate::sim::compare) runs every contender over the same
//! lookups on the same warmed-up network, [`Report::new`] sums the records
//! up as `kadlab compare` does, and [`narrate`](crate::narrate) tells one
//! lookup step by step. (A tiny network here, so the doctest stays fast.)
//!
//! ```
//! # use kadlab::contact::Contact;
//! # use kadlab::lookup::{EndReason, LookupContext, Rule, Step};
//! # use kadlab::time::Time;
//! # pub struct AskSeeds { unasked: Vec<Contact>, answered: Vec<Contact> }
//! # impl Rule for AskSeeds {
//! #     const NAME: &'static str = "ask-seeds";
//! #     fn on_response(&mut self, _: &LookupContext, from: Contact, _: &[Contact]) { self.answered.push(from); }
//! #     fn on_failure(&mut self, _: &LookupContext, _: Contact) {}
//! #     fn step(&mut self, ctx: &mut LookupContext, _: Time) -> Step {
//! #         let room = self.parallelism().saturating_sub(ctx.in_flight());
//! #         let batch: Vec<Contact> = (0..room).filter_map(|_| self.unasked.pop()).collect();
//! #         if !batch.is_empty() { Step::Send(batch) }
//! #         else if ctx.in_flight() > 0 { Step::Wait(None) }
//! #         else if self.answered.is_empty() && ctx.stats().requests == 0 { Step::Finish(EndReason::NoContacts) }
//! #         else { Step::Finish(EndReason::Converged) }
//! #     }
//! #     fn result(&self, _: &LookupContext) -> Vec<Contact> { self.answered.clone() }
//! #     fn parallelism(&self) -> usize { 3 }
//! #     fn phase(&self, _: &LookupContext) -> String { format!("{} starting contacts left to ask", self.unasked.len()) }
//! # }
//! use kadlab::lookup::{Contender, Lookup, LookupConfig, LookupSpec, DEFAULT_RPC_TIMEOUT};
//! use kadlab::narrate::{self, Recording, World};
//! use kadlab::report::Report;
//! use kadlab::sim::{self, SimConfig};
//!
//! let k = 8;
//! let ask_seeds = Contender::new("ask-seeds", "alpha=3 seeds=8 k=8", move |table, target, mode| {
//!     let spec = LookupSpec { local: *table.local_id(), target, mode, k, rpc_timeout: DEFAULT_RPC_TIMEOUT };
//!     let seeds = table.closest(&target, k);
//!     let rule = AskSeeds { unasked: seeds.iter().rev().copied().collect(), answered: Vec::new() };
//!     Box::new(Lookup::new(spec, &seeds, rule))
//! })
//! .with_k(k);
//!
//! let config = SimConfig { nodes: 200, k, lookups: 10, value_lookups: 0, ..SimConfig::default() };
//! let paper = Contender::from(LookupConfig { k, ..LookupConfig::default() });
//! let contenders = [paper, ask_seeds.clone()];
//! let records = sim::compare(&config, &contenders, &|| ());
//! let table = Report::new(config.settings(), &contenders, &records).to_table();
//! assert!(table.lines().any(|row| row.starts_with("ask-seeds ")));
//!
//! let world = World::build(SimConfig { nodes: 200, k, lookups: 1, value_lookups: 0, ..SimConfig::default() }, 0)?;
//! let mut story = Vec::new();
//! let summary = narrate::narrate(&mut story, &world, &Recording::run(&world, &ask_seeds))?;
//! assert!(String::from_utf8_lossy(&story).starts_with("== ask-seeds (alpha=3 seeds=8 k=8) =="));
//! assert_eq!(summary.strategy, "ask-seeds");
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! [`Rule`]: crate::lookup::Rule
//! [`Rule::on_failure`]: crate::lookup::Rule::on_failure
//! [`Rule::phase`]: crate::lookup::Rule::phase
//! [`Rule::path_of`]: crate::lookup::Rule::path_of
//! [`Lookup`]: crate::lookup::Lookup
//! [`Lookup::new`]: crate::lookup::Lookup::new
//! [`LookupContext`]: crate::lookup::LookupContext
//! [`LookupSpec`]: crate::lookup::LookupSpec
//! [`EndReason::ContractBroken`]: crate::lookup::EndReason::ContractBroken
//! [`Breach`]: crate::lookup::Breach
//! [`Contender::new`]: crate::lookup::Contender::new
//! [`Report::new`]: crate::report::Report::new
