//! [`Setting`]: a warmed network and the lookups every contender answers
//! on it.

use crate::lookup::LookupMode;
use crate::sim::{self, LookupTask, SimConfig, SimNetwork};

/// One network setting: its configuration, the warmed network and its
/// FIND_NODE task list, sorted by start time. It is built once and shared
/// by every contender and both measurements, so they all answer the same
/// lookups on the same network.
#[derive(Debug)]
pub struct Setting {
    name: String,
    config: SimConfig,
    net: SimNetwork,
    tasks: Vec<LookupTask>,
}

impl Setting {
    /// Build and warm the network of `config`, and draw its workload
    /// ([`sim::build_network`], [`sim::make_tasks`]). `name` names the
    /// criterion groups (`rpcs/<name>`, `misses/<name>`).
    ///
    /// Only the FIND_NODE lookups (`config.lookups` of them, fewer if some
    /// found no origin up) are kept: misses are counted against the true k
    /// closest nodes, which a FIND_VALUE lookup stops short of by design.
    /// They are sorted by start time, so that run one after the other the
    /// network's tables evolve forward in virtual time.
    ///
    /// # Panics
    /// If no lookup is left (`config.lookups` is 0, or no origin was up),
    /// or if a lookup has fewer than `config.k` honest nodes answering when it
    /// starts (a network too small or too churned): its misses would be
    /// counted against fewer than k, and mean something else.
    pub fn new(name: impl Into<String>, config: SimConfig) -> Setting {
        let name = name.into();
        let net = sim::build_network(&config);
        let mut tasks: Vec<LookupTask> = sim::make_tasks(&net, &config)
            .into_iter()
            .filter(|t| t.mode == LookupMode::FindNode)
            .collect();
        tasks.sort_by_key(|t| (t.start, t.index));
        assert!(!tasks.is_empty(), "{name}: no FIND_NODE lookup to run");
        assert!(
            tasks.iter().all(|t| t.truth.len() == config.k),
            "{name}: a task has fewer than k answering nodes"
        );
        Setting {
            name,
            config,
            net,
            tasks,
        }
    }

    /// The name its groups carry.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The configuration it was built from, for its k and whatever a
    /// report wants to print about it.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// The warmed network as it stands before the first lookup; a
    /// [`Cycle`](crate::accuracy::Cycle) runs on a copy of it.
    pub fn network(&self) -> &SimNetwork {
        &self.net
    }

    /// The FIND_NODE lookups, in order of start time.
    pub fn tasks(&self) -> &[LookupTask] {
        &self.tasks
    }
}
