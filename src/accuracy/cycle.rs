//! [`Cycle`]: one contender working through a setting's lookups, and the
//! [`Cost`] of each.

use std::sync::Arc;

use crate::accuracy::Setting;
use crate::lookup::{Contender, LookupOutcome};
use crate::sim::{LookupTask, SimNetwork};

/// What one lookup cost and missed: the counts the measurements report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cost {
    /// Requests sent, including those that failed or timed out.
    pub rpcs: u64,
    /// k − |result ∩ true k closest|: how many of the nodes it should have
    /// found it did not return.
    pub misses: u64,
    /// Its position in the setting's task list (positions repeat when a
    /// cycle wraps), which the criterion measurements' dither depends on.
    pub position: usize,
}

impl Cost {
    fn of(
        net: &SimNetwork,
        k: usize,
        position: usize,
        task: &LookupTask,
        outcome: &LookupOutcome,
    ) -> Cost {
        let hits = outcome
            .result
            .iter()
            .filter_map(|c| net.index_of(c))
            .filter(|n| task.truth.contains(n))
            .count();
        Cost {
            rpcs: u64::from(outcome.stats.requests),
            misses: (k - hits) as u64,
            position,
        }
    }
}

/// One contender working through a setting's task list on its own copy of
/// the warmed network, so that no other contender's lookups change the
/// tables it meets, and a lookup's cost depends only on the contender and
/// the lookup's position in the list.
#[derive(Debug)]
pub struct Cycle<'a> {
    setting: &'a Setting,
    contender: Contender,
    net: Arc<SimNetwork>,
    next: usize,
}

impl<'a> Cycle<'a> {
    /// `contender` at the start of `setting`'s task list, on a fresh copy
    /// of its network.
    ///
    /// # Panics
    /// If the contender's k is not the setting's: misses are counted
    /// against the setting's true k closest, so a contender returning fewer
    /// (or promising more) would be judged against the wrong truth.
    pub fn new(setting: &'a Setting, contender: Contender) -> Cycle<'a> {
        assert_eq!(
            contender.k(),
            setting.config().k,
            "{}: contender {} has k = {}, the setting k = {}",
            setting.name(),
            contender.name(),
            contender.k(),
            setting.config().k
        );
        Cycle {
            setting,
            contender,
            net: Arc::new(setting.network().clone()),
            next: 0,
        }
    }

    /// Run the next `n` lookups, each on its own virtual clock started so
    /// that it begins at its task's start time, and return their costs in
    /// order. Past the end of the list, start again from a fresh copy of
    /// the network, so a cost depends only on its position in the list.
    pub fn run(&mut self, n: u64) -> Vec<Cost> {
        let tasks = self.setting.tasks();
        {
            let mut costs = Vec::with_capacity(n as usize);
            for _ in 0..n {
                if self.next == tasks.len() {
                    self.net = Arc::new(self.setting.network().clone());
                    self.next = 0;
                }
                let position = self.next;
                let task = &tasks[position];
                self.next += 1;
                let outcome = task.run(&self.net, &self.contender, &mut ());
                costs.push(Cost::of(
                    &self.net,
                    self.contender.k(),
                    position,
                    task,
                    &outcome,
                ));
            }
            costs
        }
    }
}
