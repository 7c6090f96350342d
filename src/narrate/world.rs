//! [`World`]: the warmed-up network a narrated lookup runs on, and what
//! only the simulator knows about it.

use std::collections::HashSet;
use std::io::{self, Write};

use crate::contact::Contact;
use crate::driver::lock;
use crate::id::{Distance, NodeId};
use crate::lookup::LookupMode;
use crate::sim::{self, ChurnModel, LookupTask, SimConfig, SimNetwork};
use crate::time::Time;

use super::words::{list, minutes};

/// A warmed-up simulated network and the one lookup task a narration runs
/// on it. Every run starts from a copy of [`World::net`], so the same world
/// tells every strategy's story from the same starting point.
pub struct World {
    /// The network's settings.
    pub sim: SimConfig,
    /// The network as warm-up left it; every run starts from a copy.
    pub net: SimNetwork,
    /// Who looks up what, when, and the true k closest.
    pub task: LookupTask,
    /// Hex digits that tell every node id of this network apart (≥ 4).
    prefix: usize,
}

impl World {
    /// Build the network of `sim` and take its FIND_NODE task number `task`
    /// (counting from 0).
    ///
    /// # Errors
    /// [`io::ErrorKind::InvalidInput`] if `sim` draws fewer than `task + 1`
    /// FIND_NODE tasks (too few `lookups`, or a network with no node up):
    /// the narration functions all write to an [`io::Write`], so one error
    /// type serves them all.
    pub fn build(sim: SimConfig, task: usize) -> io::Result<World> {
        let net = sim::build_network(&sim);
        let tasks = sim::make_tasks(&net, &sim);
        let drawn = tasks
            .iter()
            .filter(|t| t.mode == LookupMode::FindNode)
            .count();
        let Some(task) = tasks
            .into_iter()
            .filter(|t| t.mode == LookupMode::FindNode)
            .nth(task)
        else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("FIND_NODE task {task} asked for, but the network draws {drawn}"),
            ));
        };
        let hex: Vec<String> = net.nodes.iter().map(|n| n.contact.id.to_string()).collect();
        let unique = |len: usize| {
            let mut seen = HashSet::new();
            hex.iter().all(|h| seen.insert(&h[..len]))
        };
        let prefix = (4..40).find(|&len| unique(len)).unwrap_or(40);
        Ok(World {
            sim,
            net,
            task,
            prefix,
        })
    }

    /// A short id: its first hex digits and an ellipsis, `3fa2…`, as few
    /// digits as tell every node of this network apart.
    pub fn short(&self, id: &NodeId) -> String {
        format!("{}…", &id.to_string()[..self.prefix])
    }

    /// `3fa2… (2^151.3)`: a short id and its XOR distance to the target.
    pub fn named(&self, id: &NodeId) -> String {
        format!("{} ({})", self.short(id), self.dist(id))
    }

    /// `2^151.3`: the XOR distance of `id` to the target.
    pub fn dist(&self, id: &NodeId) -> String {
        format!("2^{:.1}", id.distance(&self.task.target).log2())
    }

    pub(super) fn distance(&self, id: &NodeId) -> Distance {
        id.distance(&self.task.target)
    }

    /// The true k closest (the simulator's truth), closest first.
    pub fn truth(&self) -> Vec<NodeId> {
        self.task
            .truth
            .iter()
            .map(|&n| self.net.nodes[n as usize].contact.id)
            .collect()
    }

    /// The id of the node that runs the lookup.
    pub fn origin(&self) -> NodeId {
        self.net.nodes[self.task.origin as usize].contact.id
    }

    /// The `n` contacts of the origin's routing table closest to the
    /// target: what a lookup starting from `n` contacts starts from.
    pub fn closest_in_table(&self, n: usize) -> Vec<Contact> {
        lock(&self.net.nodes[self.task.origin as usize].table).closest(&self.task.target, n)
    }

    /// Milliseconds since the lookup started, `+84ms`.
    pub(super) fn at(&self, t: Time) -> String {
        format!("+{}ms", (t - self.task.start).as_millis())
    }

    /// Print the network, the task and the truth.
    pub fn describe(&self, out: &mut impl Write) -> io::Result<()> {
        let n = self.net.nodes.len();
        let start = self.task.start;
        let online = (0..n as u32)
            .filter(|&i| self.net.answers(i, start))
            .count();
        let churn = match self.sim.churn {
            ChurnModel::None => "every node stays online".to_string(),
            ChurnModel::Exponential { mean } => format!(
                "nodes come and go (online and offline spells of {} on average)",
                minutes(mean)
            ),
            ChurnModel::Weibull { .. } => {
                "nodes come and go (Weibull-distributed sessions)".to_string()
            }
        };
        writeln!(
            out,
            "A simulated network of {n} nodes (seed {}), k = {}: {churn}; {online} of {n} are online when the lookup starts. Datagram loss: {}%.",
            self.sim.seed,
            self.sim.k,
            self.sim.loss * 100.0
        )?;
        let table = self.closest_in_table(usize::MAX);
        let table_down = table
            .iter()
            .filter(|c| {
                self.net
                    .index_of(c)
                    .is_some_and(|i| !self.net.answers(i, start))
            })
            .count();
        writeln!(
            out,
            "Node {} looks up target {}: it wants the {} nodes closest to it. Its routing table holds {} contacts; {} of them are offline right now.",
            self.short(&self.origin()),
            self.short(&self.task.target),
            self.sim.k,
            table.len(),
            table_down
        )?;
        writeln!(
            out,
            "Distance is the XOR of two ids, written 2^x: ids have 160 bits, so 2^160 is as far as it gets, and 1 less is twice as close."
        )?;
        writeln!(
            out,
            "The true {} closest online nodes (only the simulator knows them):",
            self.task.truth.len()
        )?;
        list(
            out,
            "  ",
            &self
                .truth()
                .iter()
                .map(|id| self.named(id))
                .collect::<Vec<_>>(),
        )
    }

    /// Why node `to` gave no answer to a request sent at `sent` before the
    /// lookup stopped waiting at `until`, as the simulator knows it.
    pub(super) fn why_silent(&self, to: &Contact, sent: Time, until: Time) -> String {
        let Some(n) = self.net.index_of(to) else {
            return "no such node".into();
        };
        let node = &self.net.nodes[n as usize];
        if node.unreachable {
            return "simulator: it is behind a NAT and never answers".into();
        }
        let delay = self.net.latency.delay(self.net.seed, self.task.origin, n);
        if !self.net.is_up(n, sent + delay) {
            "simulator: it is offline".into()
        } else if sent + delay + delay > until {
            format!(
                "simulator: it is online, but its answer takes {} ms",
                (delay + delay).as_millis()
            )
        } else {
            "simulator: it is online, so the request or its answer was lost".into()
        }
    }
}
