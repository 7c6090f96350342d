//! `kadlab compare`: every strategy on the same simulated network.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use indicatif::ProgressBar;
use serde_json::json;

use crate::cli::eclipse::{self, Sweep};
use crate::cli::output::{check_dir, check_file, write_file};
use crate::cli::progress::progress;
use crate::cli::strategy_flags::StrategyFlags;
use crate::config::ConfigFile;
use crate::id::NodeId;
use crate::lookup::{Contender, LookupConfig, StrategyName};
use crate::plot::{draw_curves, Series};
use crate::report::{settings_line, Report};
use crate::sim::{
    self, Adversaries, AdversaryMode, ChurnModel, LookupRecord, Rate, SimConfig, SimNetwork,
    Upkeep, Warmup,
};

/// Built-in networks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Preset {
    /// No churn, no loss.
    Static,
    /// 1 % loss, exponential sessions of mean 1 h.
    Default,
    /// Weibull sessions, shape 0.5, median about 1.4 min.
    ChurnHeavy,
    /// 10 % loss, default churn.
    Lossy,
    /// S/Kademlia's attack experiment: 10,000 static nodes, k = 16, a
    /// fraction f = 0 to 0.5 of colluding adversaries, and disjoint with
    /// d = 1, 2, 4, 8 paths; prints success (three criteria) and RPCs
    /// against f.
    Eclipse,
    /// S/Kademlia's Fig. 4 as the paper set it up: 10,000 static nodes,
    /// k = 16, α = 1, a fraction f = 0 to 0.9 of forging adversaries, and
    /// disjoint with d = 1, 2, 4, 8 paths; prints kadlab's success, the
    /// paper's (some path's route asked no adversary) and the strict one
    /// against f.
    SKademlia,
}

impl Preset {
    /// The simulator settings of this preset.
    pub fn sim_config(self) -> SimConfig {
        let base = SimConfig::default();
        match self {
            Preset::Default => base,
            Preset::Static => SimConfig {
                churn: ChurnModel::None,
                loss: 0.0,
                ..base
            },
            // Median of Weibull(k, λ) is λ (ln 2)^(1/k): λ = 84 s / (ln 2)² ≈ 175 s.
            Preset::ChurnHeavy => SimConfig {
                churn: ChurnModel::Weibull {
                    shape: 0.5,
                    scale: Duration::from_secs(175),
                },
                ..base
            },
            Preset::Lossy => SimConfig { loss: 0.1, ..base },
            Preset::Eclipse => SimConfig {
                churn: ChurnModel::None,
                loss: 0.0,
                k: 16,
                lookups: 500,
                value_lookups: 0,
                ..base
            },
            Preset::SKademlia => SimConfig {
                adversaries: Adversaries {
                    mode: AdversaryMode::Forge,
                    ..Adversaries::default()
                },
                ..Preset::Eclipse.sim_config()
            },
        }
    }

    /// The attack sweep this preset runs instead of a single comparison.
    pub fn sweep(self) -> Option<&'static Sweep> {
        match self {
            Preset::Eclipse => Some(&eclipse::ECLIPSE),
            Preset::SKademlia => Some(&eclipse::S_KADEMLIA),
            _ => None,
        }
    }

    /// The lookup parameters the preset's experiment is defined with, k
    /// and α, which win over the configuration file (flags still win over
    /// them): S/Kademlia's k = 16, and for `s-kademlia` its α = 1.
    fn lookup_params(self) -> (Option<usize>, Option<usize>) {
        match self {
            Preset::Eclipse => (Some(16), None),
            Preset::SKademlia => (Some(16), Some(1)),
            _ => (None, None),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Preset::Static => "static",
            Preset::Default => "default",
            Preset::ChurnHeavy => "churn-heavy",
            Preset::Lossy => "lossy",
            Preset::Eclipse => "eclipse",
            Preset::SKademlia => "s-kademlia",
        }
    }
}

/// Every preset with every setting of its network, as `compare --help`
/// prints them: read from [`Preset::sim_config`], so the help cannot drift
/// from what a preset runs.
pub fn presets_help() -> String {
    let mut out =
        String::from("Presets and their networks (flags and --config override any setting):\n");
    for preset in Preset::value_variants() {
        let sim = preset.sim_config();
        let mut settings = sim.settings();
        let (k, alpha) = preset.lookup_params();
        if let Some(k) = k {
            settings.insert("k".into(), json!(k));
        }
        if let Some(alpha) = alpha {
            settings.insert("alpha".into(), json!(alpha));
        }
        if let Some(sweep) = preset.sweep() {
            settings.insert("fractions".into(), json!(sweep.fractions));
            settings.insert("disjoint_paths".into(), json!(sweep.paths));
            settings.insert(
                "adversary_mode".into(),
                json!(sim.adversaries.mode.to_string()),
            );
        }
        let _ = writeln!(out, "  {}:", preset.name());
        let mut line = String::from("   ");
        for pair in settings_line(&settings).split("  ") {
            if line.len() + pair.len() > 96 {
                let _ = writeln!(out, "{line}");
                line = String::from("   ");
            }
            line.push(' ');
            line.push_str(pair);
        }
        let _ = writeln!(out, "{line}");
    }
    out
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    Table,
    /// The machine-readable report.
    Json,
    /// One row per strategy.
    Csv,
}

fn probability(s: &str) -> Result<f64, String> {
    s.parse::<f64>()
        .ok()
        .filter(|p| (0.0..=1.0).contains(p))
        .ok_or_else(|| format!("{s:?} is not a probability; use a number from 0 to 1, e.g. 0.01"))
}

fn node_count(s: &str) -> Result<usize, String> {
    s.parse::<usize>()
        .ok()
        .filter(|n| (2..=10_000_000).contains(n))
        .ok_or_else(|| format!("{s:?} is not a node count; use a whole number from 2 to 10000000"))
}

/// Most lookups a run may ask for, FIND_NODE and FIND_VALUE together: each
/// is recorded in memory, and ten million already take hours.
pub const MAX_LOOKUPS: usize = 10_000_000;

/// Most Sybils an eclipse may place: each is a whole simulated node, and
/// a million already outnumber the largest network worth simulating here.
pub const MAX_SYBILS: usize = 1_000_000;

/// The network and workload flags shared by `compare`, `sweep` and
/// `trace`. Equality lets `sweep --merge` refuse network flags it would
/// otherwise ignore.
#[derive(Args, Debug, Clone, Default, PartialEq)]
pub struct NetworkArgs {
    /// Built-in network to start from.
    #[arg(long, value_enum)]
    pub preset: Option<Preset>,
    /// TOML file with `[lookup]` and `[sim]` tables (see kadlab.example.toml);
    /// flags override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Number of nodes.
    #[arg(long, value_parser = node_count)]
    pub nodes: Option<usize>,
    /// FIND_NODE lookups per strategy.
    #[arg(long)]
    pub lookups: Option<usize>,
    /// FIND_VALUE lookups per strategy.
    #[arg(long)]
    pub value_lookups: Option<usize>,
    /// k: result size and bucket size (1 to 255).
    #[arg(long)]
    pub k: Option<usize>,
    /// α: requests in flight of query-rest, k-active, kademlia and gated,
    /// and of each path of disjoint (1 to 64).
    #[arg(long)]
    pub alpha: Option<usize>,
    /// The strategies' own parameters (δ, budget, d, β, hedge, vouches,
    /// seeds).
    #[command(flatten)]
    pub params: StrategyFlags,
    /// Per-request timeout in milliseconds, 1 to 600000 (`rpc_timeout_ms`
    /// in `[lookup]`).
    #[arg(long, value_name = "MS")]
    pub rpc_timeout_ms: Option<u64>,
    /// How long a query-rest round waits for its replies, in milliseconds,
    /// 1 to 600000 (`round_timeout_ms` in `[lookup]`).
    #[arg(long, value_name = "MS")]
    pub round_timeout_ms: Option<u64>,
    /// Seconds of silence after which a contact is questionable, 1 to 86400
    /// (`questionable_after_s` in `[routing]`).
    #[arg(long, value_name = "S")]
    pub questionable_after_s: Option<u64>,
    /// Failed requests in a row after which a contact is bad, 1 to 255
    /// (`bad_after` in `[routing]`).
    #[arg(long, value_name = "N")]
    pub bad_after: Option<u8>,
    /// Seconds a bucket may go untouched before it is refreshed, 1 to 86400
    /// (`refresh_interval_s` in `[routing]`).
    #[arg(long, value_name = "S")]
    pub refresh_interval_s: Option<u64>,
    /// Datagram loss probability, 0 to 1.
    #[arg(long, value_parser = probability)]
    pub loss: Option<f64>,
    /// Session model: none, exp:<mean_s> or weibull:<shape>:<scale_s>.
    // The placeholders are for --help, not HTML.
    #[allow(rustdoc::invalid_html_tags)]
    #[arg(long)]
    pub churn: Option<ChurnModel>,
    /// Fraction of nodes that never answer (NAT), 0 to 1.
    #[arg(long, value_parser = probability)]
    pub unreachable: Option<f64>,
    /// Fraction f of nodes that are colluding adversaries, 0 to 1.
    #[arg(long, value_parser = probability)]
    pub adversaries: Option<f64>,
    /// How adversaries answer: collude (only with each other), drop
    /// (never), stale-flood (with dead and made-up contacts) or forge (with
    /// ids close to the key at adversaries' addresses).
    #[arg(long)]
    pub adversary_mode: Option<AdversaryMode>,
    /// Eclipse attack on this key (40 hex digits): --sybils adversaries take
    /// ids next to it, and every FIND_NODE lookup looks it up.
    #[arg(long, requires = "sybils")]
    pub eclipse: Option<NodeId>,
    /// Number of Sybils placed next to the --eclipse key.
    #[arg(long, requires = "eclipse")]
    pub sybils: Option<usize>,
    /// Seed of every random choice.
    #[arg(long)]
    pub seed: Option<u64>,
    /// How tables are filled: oracle (fast) or join (nodes join one by one
    /// with a self-lookup and bucket refresh; slow).
    #[arg(long)]
    pub warmup: Option<Warmup>,
    /// How nodes keep their tables up all through the run: oracle (a fast
    /// shortcut of each refresh and rejoin), lookups (real FIND_NODE
    /// lookups; about ten times slower) or off.
    #[arg(long)]
    pub upkeep: Option<Upkeep>,
    /// Background lookups of random ids that each up node starts, e.g. 6/h
    /// or 0.5/min (default none).
    #[arg(long)]
    pub background_lookups: Option<Rate>,
    /// Do not show a progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// Most worker threads `--threads` accepts: far more than any machine this
/// runs on has cores, yet few enough that a typo (`--threads 20000`) is
/// refused instead of starting thousands of threads.
pub const MAX_THREADS: usize = 1_024;

fn thread_count(s: &str) -> Result<usize, String> {
    s.parse::<usize>()
        .ok()
        .filter(|n| *n <= MAX_THREADS)
        .ok_or_else(|| {
            format!("{s:?} is not a thread count; use 0 (every core) or a whole number from 1 to {MAX_THREADS}")
        })
}

/// The `--threads` flag of `compare` and `sweep`: a flag of its own (not
/// in [`NetworkArgs`]) because `trace` runs one lookup and has nothing to
/// spread.
#[derive(Args, Debug, Clone, Copy)]
pub struct ThreadsArg {
    /// Worker threads for strategies, attack fractions and sweep points;
    /// 0 uses every core. The report does not depend on it.
    #[arg(long, default_value_t = 0, value_parser = thread_count)]
    pub threads: usize,
}

impl ThreadsArg {
    /// Run `work` on a pool of this many threads, so that every rayon
    /// parallel iterator inside it (as in [`sim::run_contenders`]) uses
    /// them and no more; each simulation is single-threaded and seeded, so
    /// the count changes only how long `work` takes.
    pub fn install<T: Send>(self, work: impl FnOnce() -> T + Send) -> Result<T> {
        let threads = match self.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .with_context(|| {
                format!("cannot start {threads} worker threads; ask for fewer with --threads")
            })?;
        Ok(pool.install(work))
    }
}

/// Flags of `kadlab compare`.
#[derive(Args, Debug)]
pub struct CompareArgs {
    #[command(flatten)]
    network: NetworkArgs,
    #[command(flatten)]
    threads: ThreadsArg,
    /// Strategies to compare, comma-separated: delta, query-rest, k-active,
    /// kademlia, disjoint.
    #[arg(long, value_delimiter = ',')]
    strategies: Option<Vec<StrategyName>>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Directory for report.json, report.csv and recall_vs_rpcs.svg.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write one JSON line per lookup to this file.
    #[arg(long)]
    per_lookup: Option<PathBuf>,
    /// Write one JSON line per node (id and up intervals) to this file.
    #[arg(long)]
    dump_nodes: Option<PathBuf>,
    /// Print only the table, without the column legend, notes and next
    /// steps under it.
    #[arg(long)]
    no_legend: bool,
}

/// Everything a comparison runs with, after preset, file and flags.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// Network and workload.
    pub sim: SimConfig,
    /// Lookup parameters (strategy field unused).
    pub lookup: LookupConfig,
    /// Strategies to run.
    pub strategies: Vec<StrategyName>,
    /// Preset name.
    pub preset: &'static str,
    /// The preset's attack sweep, if it runs one instead of a comparison.
    pub sweep: Option<&'static Sweep>,
}

impl NetworkArgs {
    /// Apply preset, then the config file, then the flags. Every error is
    /// a usage error ([`crate::cli::UsageError`]), and one about a value of
    /// the config file names the file.
    pub fn resolve(&self, strategies: Option<&[StrategyName]>) -> Result<Resolved> {
        self.resolve_checked(strategies).map_err(crate::cli::usage)
    }

    fn resolve_checked(&self, strategies: Option<&[StrategyName]>) -> Result<Resolved> {
        let file = match &self.config {
            Some(path) => ConfigFile::load(path)?,
            None => ConfigFile::default(),
        };
        // A value read from the file, whose error names the file.
        let in_file = |message: String| match &self.config {
            Some(path) => anyhow::anyhow!("in config file {}: {message}", path.display()),
            None => anyhow::anyhow!(message),
        };
        let file_preset = match file.sim.preset.as_deref() {
            None => None,
            Some(name) => Some(Preset::from_str(name, false).map_err(|_| {
                in_file(format!(
                    "[sim] preset = {name:?} is not a preset; allowed values are static, default, churn-heavy, lossy, eclipse, s-kademlia"
                ))
            })?),
        };
        let preset = self.preset.or(file_preset).unwrap_or(Preset::Default);
        let mut sim = preset.sim_config();
        let mut lookup = file.lookup.clone();
        let s = &file.sim;
        if let Some(churn) = &s.churn {
            sim.churn = churn
                .parse()
                .map_err(|e| in_file(format!("[sim] churn: {e}")))?;
        }
        for (key, value) in [
            ("loss", s.loss),
            ("unreachable", s.unreachable),
            ("adversaries", s.adversaries),
        ] {
            if let Some(v) = value {
                if !(0.0..=1.0).contains(&v) {
                    return Err(in_file(format!(
                        "[sim] {key} = {v} is out of range: allowed is 0 to 1"
                    )));
                }
            }
        }
        sim.nodes = self.nodes.or(s.nodes).unwrap_or(sim.nodes);
        sim.lookups = self.lookups.or(s.lookups).unwrap_or(sim.lookups);
        sim.value_lookups = self
            .value_lookups
            .or(s.value_lookups)
            .unwrap_or(sim.value_lookups);
        if sim
            .lookups
            .checked_add(sim.value_lookups)
            .is_none_or(|n| n > MAX_LOOKUPS)
        {
            bail!(
                "--lookups {} plus --value-lookups {} is out of range: allowed is 0 to {MAX_LOOKUPS} lookups in all (also for lookups and value_lookups in [sim])",
                sim.lookups,
                sim.value_lookups
            );
        }
        sim.loss = self.loss.or(s.loss).unwrap_or(sim.loss);
        sim.unreachable = self
            .unreachable
            .or(s.unreachable)
            .unwrap_or(sim.unreachable);
        sim.seed = self.seed.or(s.seed).unwrap_or(sim.seed);
        if let Some(churn) = self.churn {
            sim.churn = churn;
        }
        let a = &mut sim.adversaries;
        a.fraction = self.adversaries.or(s.adversaries).unwrap_or(a.fraction);
        if let Some(mode) = &s.adversary_mode {
            a.mode = mode
                .parse()
                .map_err(|e| in_file(format!("[sim] adversary_mode: {e}")))?;
        }
        a.mode = self.adversary_mode.unwrap_or(a.mode);
        if let Some(eclipse) = &s.eclipse {
            a.eclipse = Some(
                eclipse
                    .parse()
                    .map_err(|e| in_file(format!("[sim] eclipse: {e}")))?,
            );
        }
        a.eclipse = self.eclipse.or(a.eclipse);
        a.sybils = self.sybils.or(s.sybils).unwrap_or(a.sybils);
        if a.sybils > MAX_SYBILS {
            bail!(
                "--sybils {} is out of range: allowed is 1 to {MAX_SYBILS} (also for sybils in [sim])",
                a.sybils
            );
        }
        if a.eclipse.is_some() != (a.sybils > 0) {
            bail!("an eclipse attack needs both a key and Sybils: give --eclipse TARGET_HEX and --sybils S (or eclipse and sybils in [sim])");
        }
        if let Some(warmup) = &s.warmup {
            sim.warmup = warmup
                .parse()
                .map_err(|e| in_file(format!("[sim] warmup: {e}")))?;
        }
        if let Some(warmup) = self.warmup {
            sim.warmup = warmup;
        }
        if let Some(upkeep) = &s.upkeep {
            sim.upkeep = upkeep
                .parse()
                .map_err(|e| in_file(format!("[sim] upkeep: {e}")))?;
        }
        sim.upkeep = self.upkeep.unwrap_or(sim.upkeep);
        if let Some(rate) = &s.background_lookups {
            sim.background_lookups = rate
                .parse()
                .map_err(|e| in_file(format!("[sim] background_lookups: {e}")))?;
        }
        sim.background_lookups = self.background_lookups.unwrap_or(sim.background_lookups);
        let mut routing = sim.routing();
        let routing_keys = crate::config::RoutingSection {
            questionable_after_s: self
                .questionable_after_s
                .or(file.routing.questionable_after_s),
            bad_after: self.bad_after.or(file.routing.bad_after),
            refresh_interval_s: self.refresh_interval_s.or(file.routing.refresh_interval_s),
        };
        routing_keys.apply(&mut routing).map_err(|e| {
            anyhow::anyhow!(
                "[routing] or --questionable-after-s, --bad-after, --refresh-interval-s: {e}"
            )
        })?;
        sim.questionable_after = routing.questionable_after;
        sim.bad_after = routing.bad_after;
        sim.refresh_every = routing.refresh_interval;
        if sim.nodes < 2 {
            bail!(
                "[sim] nodes = {} is out of range: use at least 2",
                sim.nodes
            );
        }
        let (preset_k, preset_alpha) = preset.lookup_params();
        lookup.k = self.k.or(preset_k).unwrap_or(lookup.k);
        lookup.alpha = self.alpha.or(preset_alpha).unwrap_or(lookup.alpha);
        self.params.apply(&mut lookup);
        lookup.rpc_timeout_ms = self.rpc_timeout_ms.unwrap_or(lookup.rpc_timeout_ms);
        lookup.round_timeout_ms = self.round_timeout_ms.unwrap_or(lookup.round_timeout_ms);
        lookup.validate()?;
        sim.k = lookup.k;
        sim.rpc_timeout = lookup.rpc_timeout();
        let strategies = strategies
            .map(<[StrategyName]>::to_vec)
            .or_else(|| s.strategies.clone())
            .unwrap_or_else(|| StrategyName::ALL.to_vec());
        if strategies.is_empty() {
            bail!(
                "--strategies is empty; name at least one of {}",
                StrategyName::allowed()
            );
        }
        Ok(Resolved {
            sim,
            lookup,
            strategies,
            preset: preset.name(),
            sweep: preset.sweep(),
        })
    }
}

impl Resolved {
    /// Refuse an attack preset in `command`, which runs one network: the
    /// one check of `trace`, `sweep` and `bench-scale`.
    pub fn one_network(&self, command: &str) -> Result<()> {
        if self.sweep.is_some() {
            bail!(
                "--preset {p} is an attack experiment over many adversary fractions, not one network, so {command} cannot run it; run `kadlab compare --preset {p}` for the experiment, or give {command} one network (static, default, churn-heavy or lossy), with --adversaries 0.2 for one under attack",
                p = self.preset
            );
        }
        Ok(())
    }

    /// The settings block of the report: the network's
    /// ([`SimConfig::settings`]), the preset, and the lookup parameters the
    /// built-in strategies share.
    pub fn settings(&self) -> BTreeMap<String, serde_json::Value> {
        let mut settings = self.sim.settings();
        for (key, value) in [
            ("preset", json!(self.preset)),
            ("alpha", json!(self.lookup.alpha)),
            ("delta", json!(self.lookup.delta)),
            (
                "budget",
                json!(self.lookup.budget.for_k(self.lookup.k).to_string()),
            ),
            ("rpc_timeout_ms", json!(self.lookup.rpc_timeout_ms)),
        ] {
            settings.insert(key.to_string(), value);
        }
        settings
    }
}

/// Run `contenders` over one network and the workload of `resolved`
/// ([`sim::run_contenders`]), ticking `bar` once per lookup.
pub fn run_all(
    net: SimNetwork,
    resolved: &Resolved,
    contenders: &[Contender],
    bar: &ProgressBar,
) -> Vec<Vec<LookupRecord>> {
    let tasks = sim::workload::make_tasks(&net, &resolved.sim);
    bar.set_message("lookups");
    sim::run_contenders(net, &tasks, contenders, &resolved.sim, &|| bar.inc(1))
}

/// Build and warm `resolved`'s network and run `contenders` over its
/// lookups on `threads`, behind a progress bar of all their lookups
/// (hidden when `quiet`): what a sweep, one point of a planned sweep and
/// `sweep --hulls` run.
pub fn run_on_new_network(
    resolved: &Resolved,
    contenders: &[Contender],
    threads: ThreadsArg,
    quiet: bool,
) -> Result<Vec<Vec<LookupRecord>>> {
    let per_contender = (resolved.sim.lookups + resolved.sim.value_lookups) as u64;
    let bar = progress(per_contender * contenders.len() as u64, quiet, "lookups");
    bar.set_message("warm-up");
    let records = threads.install(|| {
        let net = sim::build_network(&resolved.sim);
        run_all(net, resolved, contenders, &bar)
    })?;
    bar.finish_and_clear();
    Ok(records)
}

/// Run a whole comparison: build and warm the network, run every strategy
/// over the same workload, summarise. Returns the report and the
/// per-lookup records (one list per strategy).
pub fn compare(resolved: &Resolved, bar: &ProgressBar) -> (Report, Vec<Vec<LookupRecord>>) {
    let contenders: Vec<Contender> = resolved
        .strategies
        .iter()
        .map(|s| Contender::from(resolved.lookup.with_strategy(*s)))
        .collect();
    bar.set_message("warm-up");
    let net = sim::build_network(&resolved.sim);
    let records = run_all(net, resolved, &contenders, bar);
    let report = Report::new(resolved.settings(), &contenders, &records);
    (report, records)
}

/// Run `kadlab compare`.
pub fn run(args: &CompareArgs) -> Result<()> {
    let resolved = args.network.resolve(args.strategies.as_deref())?;
    if let Some(dir) = &args.out {
        check_dir(dir, "--out")?;
    }
    if let Some(path) = &args.per_lookup {
        check_file(path, "--per-lookup")?;
    }
    if let Some(path) = &args.dump_nodes {
        check_file(path, "--dump-nodes")?;
    }
    if let Some(sweep) = resolved.sweep {
        return eclipse::run(
            &resolved,
            sweep,
            args.format,
            args.out.as_deref(),
            args.network.quiet,
            args.threads,
        );
    }
    let per_strategy = (resolved.sim.lookups + resolved.sim.value_lookups) as u64;
    let bar = progress(
        per_strategy * resolved.strategies.len() as u64,
        args.network.quiet,
        "lookups",
    );
    let (report, records) = args.threads.install(|| compare(&resolved, &bar))?;
    bar.finish_and_clear();
    match args.format {
        Format::Table => print!("{}", report.to_table()),
        Format::Json => print!("{}", report.to_json()),
        Format::Csv => print!("{}", report.to_csv()),
    }
    if args.format == Format::Table && !args.no_legend {
        print!("{}", report.legend());
    }
    if let Some(path) = &args.per_lookup {
        let mut lines = String::new();
        for record in records.iter().flatten() {
            lines.push_str(&serde_json::to_string(record)?);
            lines.push('\n');
        }
        write_file(path, &lines)?;
    }
    if let Some(path) = &args.dump_nodes {
        // Ids and sessions are drawn before the warm-up, which they do not
        // depend on.
        let net = sim::new_network(&resolved.sim);
        let mut lines = String::new();
        for node in &net.nodes {
            let alive: Vec<(u64, Option<u64>)> = node
                .schedule
                .up_intervals()
                .into_iter()
                .map(|(from, to)| (from.as_millis(), to.map(|t| t.as_millis())))
                .collect();
            lines.push_str(&serde_json::to_string(&json!({
                "id": node.contact.id.to_string(),
                "alive": alive,
            }))?);
            lines.push('\n');
        }
        write_file(path, &lines)?;
    }
    if let Some(dir) = &args.out {
        // Made by `check_dir` before the run.
        write_file(&dir.join("report.json"), &report.to_json())?;
        write_file(&dir.join("report.csv"), &report.to_csv())?;
        let series: Vec<Series> = report
            .strategies
            .iter()
            .map(|s| Series {
                strategy: s.name.clone(),
                label: format!("{} ({})", s.name, s.params),
                points: vec![(s.rpcs_mean, s.recall_mean, String::new())],
            })
            .collect();
        let plot = draw_curves(
            "recall@k against RPCs per lookup",
            "RPCs per lookup (mean)",
            "recall@k (mean)",
            &series,
        )
        .map_err(anyhow::Error::msg)?;
        plot.write(&dir.join("recall_vs_rpcs.svg"))?;
        write_file(&dir.join("report.html"), &report.to_html(&plot))?;
        eprintln!(
            "wrote {}/report.json, report.csv, recall_vs_rpcs.svg, report.html",
            dir.display()
        );
    }
    Ok(())
}
