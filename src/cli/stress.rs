//! `kadlab stress`: every strategy and the bootstrap under chaos; every
//! lookup must end.

use std::fmt::Write as _;
use std::time::Instant;

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};

use crate::cli::progress::progress;
use crate::lookup::EndReason;
use crate::stress::{self, StressConfig, StressReport};

/// Output formats of `kadlab stress`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StressFormat {
    /// Lines for people, with the time taken.
    Table,
    /// The report as JSON (byte-identical for the same flags; the time
    /// taken goes to stderr).
    Json,
}

/// Flags of `kadlab stress`.
#[derive(Args, Debug, Clone)]
pub struct StressArgs {
    /// Chaos lookups to run, spread round-robin over every strategy.
    #[arg(long, default_value_t = 1_000_000)]
    pub lookups: u64,
    /// Bootstraps (self-lookup and bucket refresh) to run; default one per
    /// 100 lookups.
    #[arg(long)]
    pub bootstraps: Option<u64>,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// k: result size and bucket size (1 to 255).
    #[arg(long, default_value_t = 20)]
    pub k: usize,
    /// α of every strategy, δ of delta (1 to 64).
    #[arg(long, default_value_t = 3)]
    pub alpha: usize,
    /// Worker threads; 0 uses every core. The report does not depend on it.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value = "table")]
    pub format: StressFormat,
    /// Run only chaos lookup N of this seed's run (to replay an example).
    #[arg(long, value_name = "N", conflicts_with = "replay_bootstrap")]
    pub replay_lookup: Option<u64>,
    /// Run only bootstrap N of this seed's run (to replay an example).
    #[arg(long, value_name = "N")]
    pub replay_bootstrap: Option<u64>,
    /// Do not show a progress bar.
    #[arg(long)]
    pub quiet: bool,
}

impl StressArgs {
    /// The harness configuration these flags ask for.
    pub fn config(&self) -> StressConfig {
        StressConfig {
            lookups: self.lookups,
            bootstraps: self.bootstraps.unwrap_or(self.lookups / 100),
            seed: self.seed,
            k: self.k,
            alpha: self.alpha,
            threads: self.threads,
            ..StressConfig::default()
        }
    }
}

/// The report as lines for people (without the time taken).
pub fn to_table(report: &StressReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "seed={}  k={}  alpha={}  lookups={} (find_value {})  bootstraps={} ({} lookups, {} joined)",
        report.seed,
        report.k,
        report.alpha,
        report.lookups,
        report.find_value_lookups,
        report.bootstraps,
        report.bootstrap_lookups,
        report.bootstraps_joined
    );
    let _ = writeln!(
        out,
        "events={}  requests={}  inputs refused={}  most events in one lookup={}  longest lookup={} ms (virtual)",
        report.events,
        report.requests,
        report.inputs_refused,
        report.max_events_per_lookup,
        report.max_lookup_ms
    );
    let _ = writeln!(out);
    let hangs: Vec<String> = report
        .hangs
        .iter()
        .map(|(k, n)| format!("{k}:{n}"))
        .collect();
    if hangs.is_empty() {
        let _ = writeln!(out, "hung = {}", report.hung);
    } else {
        let _ = writeln!(out, "hung = {}  ({})", report.hung, hangs.join(" "));
    }
    let violations: Vec<String> = report
        .violations
        .iter()
        .map(|(k, n)| format!("{k}:{n}"))
        .collect();
    if violations.is_empty() {
        let _ = writeln!(out, "violations = 0");
    } else {
        let _ = writeln!(
            out,
            "violations = {}  ({})",
            report.violation_count(),
            violations.join(" ")
        );
    }
    for (title, ended) in [
        ("chaos lookups", &report.ended),
        ("bootstrap lookups", &report.bootstrap_ended),
    ] {
        let _ = writeln!(out, "\nended ({title}):");
        let width = ended.keys().map(|s| s.len()).max().unwrap_or(0);
        let _ = write!(out, "  {:width$}", "strategy");
        for r in EndReason::ALL {
            let _ = write!(out, "  {:>11}", r.to_string());
        }
        let _ = writeln!(out, "  {:>9}", "total");
        for (strategy, counts) in ended {
            let _ = write!(out, "  {strategy:width$}");
            for r in EndReason::ALL {
                let _ = write!(out, "  {:>11}", counts.get(&r).copied().unwrap_or(0));
            }
            let _ = writeln!(out, "  {:>9}", counts.values().sum::<u64>());
        }
    }
    let injected: Vec<String> = report
        .injected
        .iter()
        .map(|(k, n)| format!("{k}:{n}"))
        .collect();
    let _ = writeln!(out, "\ninjected: {}", injected.join(" "));
    if !report.examples.is_empty() {
        let _ = writeln!(
            out,
            "\nfirst problems (replay one with the same flags and --replay-lookup N \
             or --replay-bootstrap N):"
        );
        for e in &report.examples {
            let _ = writeln!(
                out,
                "  {:?} {} {}: {}: {}",
                e.scenario, e.index, e.strategy, e.kind, e.detail
            );
        }
    }
    out
}

/// Run `kadlab stress`: prints the report, fails when a lookup hung or an
/// invariant broke.
pub fn run(args: &StressArgs) -> Result<()> {
    let config = args.config();
    let bar = progress(
        config.lookups + config.bootstraps,
        args.quiet,
        "lookups+bootstraps",
    );
    let started = Instant::now();
    let report = match (args.replay_lookup, args.replay_bootstrap) {
        (Some(n), _) => stress::run_range(&config, n..n + 1, 0..0, &stress::standard_factory)?,
        (_, Some(n)) => stress::run_range(&config, 0..0, n..n + 1, &stress::standard_factory)?,
        (None, None) => stress::run(&config, &|n| bar.inc(n))?,
    };
    let elapsed = started.elapsed();
    bar.finish_and_clear();
    let elapsed_line = format!(
        "time taken: {:.1} s ({:.0} lookups/s, {} threads)",
        elapsed.as_secs_f64(),
        (report.lookups + report.bootstrap_lookups) as f64 / elapsed.as_secs_f64().max(1e-9),
        match config.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    );
    match args.format {
        StressFormat::Table => {
            print!("{}", to_table(&report));
            println!("\n{elapsed_line}");
        }
        StressFormat::Json => {
            print!("{}", report.to_json());
            eprintln!("{elapsed_line}");
        }
    }
    if !report.passed() {
        bail!(
            "{} lookups hung, {} invariant violations (seed {})",
            report.hung,
            report.violation_count(),
            report.seed
        );
    }
    Ok(())
}
