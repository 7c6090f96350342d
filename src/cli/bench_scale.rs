//! `kadlab bench-scale`: how the simulator's time and memory grow with the
//! number of nodes N.
//!
//! Each N runs in a child process of this same executable (the hidden flag
//! `--one N`), because peak RSS is a property of a process: sizes run one
//! after another in one process would each report the largest peak so far.
//! The child builds and warms the network of `kadlab compare` for the same
//! preset through the public simulator API, runs one strategy's lookups,
//! reads its own peak RSS and prints one JSON line; the parent collects the
//! lines, prints the table and fits the time per lookup against log₂ N.
//!
//! Wall-clock time is read here and only here: it is what is measured, and
//! it never reaches a simulation, whose results stay a function of the seed.

use std::io::IsTerminal;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::cli::compare::{NetworkArgs, Preset, Resolved};
use crate::lookup::{Contender, StrategyName};
use crate::sim::{self, Upkeep};

/// What the table says RPCs are, so that a reader knows what µs per RPC
/// divides by, and when it leaves requests out.
fn rpc_note(upkeep: Upkeep) -> String {
    let others = match upkeep {
        Upkeep::Lookups => {
            "The upkeep lookups' requests are not counted, so µs/RPC overstates the cost of one \
RPC."
        }
        Upkeep::Oracle | Upkeep::Off => {
            "Eviction pings are answered from the simulator's oracle and oracle upkeep sends no \
datagrams, so no other request is simulated during the lookups."
        }
    };
    format!(
        "RPCs are the requests the workload's lookups sent (the sum of each lookup's rpcs; two \
datagrams each when answered). {others} The lookup time is all of the run on the warmed \
network: storing the values, upkeep ({upkeep}) through the lookup window, and the lookups."
    )
}

/// Output formats of `kadlab bench-scale`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ScaleFormat {
    /// Aligned columns and the fit, for people.
    Table,
    /// One JSON document with every row and the fit, for scripts.
    Json,
}

/// Flags of `kadlab bench-scale`.
#[derive(Args, Debug)]
pub struct BenchScaleArgs {
    /// Network sizes to measure, comma-separated, each in a process of its
    /// own.
    #[arg(
        long,
        value_delimiter = ',',
        value_parser = size,
        default_value = "1000,10000,100000,1000000"
    )]
    sizes: Vec<usize>,
    /// FIND_NODE lookups per size.
    #[arg(long, default_value_t = 2000)]
    lookups: usize,
    /// FIND_VALUE lookups per size (default: the preset's, as in `compare`).
    #[arg(long)]
    value_lookups: Option<usize>,
    /// Built-in network, resolved as `kadlab compare --preset` resolves it:
    /// static, default, churn-heavy or lossy.
    #[arg(long, value_enum, default_value = "static")]
    preset: Preset,
    /// Upkeep all through the lookups (default: the preset's, oracle, as in
    /// `compare`); `off` leaves its O(N) refresh work out of the lookup
    /// time, so that the time per lookup is the lookups' alone.
    #[arg(long)]
    upkeep: Option<Upkeep>,
    /// The strategy whose lookups are timed.
    #[arg(long, default_value = "kademlia")]
    strategy: StrategyName,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value = "table")]
    format: ScaleFormat,
    /// Measure this one size in this process and print one JSON line: what
    /// the parent runs in each child.
    #[arg(long, hide = true, value_parser = size)]
    one: Option<usize>,
}

/// Parse one network size, with an error that shows the allowed form.
fn size(s: &str) -> Result<usize, String> {
    s.trim()
        .parse::<usize>()
        .ok()
        .filter(|n| (2..=10_000_000).contains(n))
        .ok_or_else(|| {
            format!(
                "{s:?} is not a network size; give whole numbers from 2 to 10000000, comma-separated, e.g. --sizes 1000,10000"
            )
        })
}

/// What one child measured at one size: the JSON line it prints.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Measured {
    /// Nodes in the network.
    nodes: usize,
    /// Lookups run (FIND_NODE and FIND_VALUE).
    lookups: usize,
    /// Seconds to build and warm the network and draw the workload.
    setup_s: f64,
    /// Seconds of the run on the warmed network (values, upkeep, lookups).
    lookup_s: f64,
    /// Requests the lookups sent.
    lookup_rpcs: u64,
    /// Datagrams the warm-up put on the simulated wire.
    warmup_datagrams: u64,
    /// The process's peak resident set, if the system reports it.
    peak_rss_bytes: Option<u64>,
}

/// One row of the table: a child's measurement and its wall time.
#[derive(Clone, Debug, Serialize)]
struct Row {
    #[serde(flatten)]
    measured: Measured,
    /// Seconds from starting the child process to its exit.
    wall_s: f64,
    /// Peak RSS over N: the figure the memory target is set in.
    bytes_per_node: Option<f64>,
    /// Set-up over N, to see whether warm-up grows faster than N.
    setup_us_per_node: f64,
    /// Lookup time over lookups: the y of the fit.
    us_per_lookup: f64,
    /// Requests per lookup, to tell a slower simulator from longer lookups.
    rpcs_per_lookup: f64,
    /// Lookup time over the lookups' requests.
    us_per_rpc: Option<f64>,
}

impl Row {
    fn new(measured: Measured, wall_s: f64) -> Row {
        let m = &measured;
        let lookups = m.lookups as f64;
        Row {
            wall_s,
            bytes_per_node: m.peak_rss_bytes.map(|b| b as f64 / m.nodes as f64),
            setup_us_per_node: m.setup_s * 1e6 / m.nodes as f64,
            us_per_lookup: m.lookup_s * 1e6 / lookups,
            rpcs_per_lookup: m.lookup_rpcs as f64 / lookups,
            us_per_rpc: (m.lookup_rpcs > 0).then(|| m.lookup_s * 1e6 / m.lookup_rpcs as f64),
            measured,
        }
    }
}

/// Least-squares line y ≈ intercept + slope · x.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
struct Fit {
    /// Where the line meets x = 0.
    intercept: f64,
    /// Growth of y per unit of x: µs per doubling of N, for the fit here.
    slope: f64,
}

/// The least-squares line through `points`, or `None` when fewer than two
/// distinct x leave the slope undefined.
fn least_squares(points: &[(f64, f64)]) -> Option<Fit> {
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    (sxx > 0.0).then(|| {
        let slope = sxy / sxx;
        Fit {
            intercept: mean_y - slope * mean_x,
            slope,
        }
    })
}

impl BenchScaleArgs {
    /// The configuration of one size, exactly as `kadlab compare` would
    /// resolve these flags with `--nodes nodes`.
    fn resolve(&self, nodes: usize) -> Result<Resolved> {
        self.resolve_checked(nodes).map_err(crate::cli::usage)
    }

    fn resolve_checked(&self, nodes: usize) -> Result<Resolved> {
        if self.lookups == 0 {
            bail!("--lookups 0 leaves nothing to time; give at least 1 (default 2000)");
        }
        let network = NetworkArgs {
            preset: Some(self.preset),
            nodes: Some(nodes),
            lookups: Some(self.lookups),
            value_lookups: self.value_lookups,
            seed: Some(self.seed),
            upkeep: self.upkeep,
            quiet: true,
            ..NetworkArgs::default()
        };
        let resolved = network.resolve(Some(&[self.strategy]))?;
        resolved.one_network("bench-scale")?;
        Ok(resolved)
    }

    /// The arguments a child gets to measure `nodes`.
    fn child_args(&self, nodes: usize) -> Vec<String> {
        let preset = self
            .preset
            .to_possible_value()
            .map(|v| v.get_name().to_string())
            .unwrap_or_default();
        let mut args = vec![
            "bench-scale".to_string(),
            "--one".to_string(),
            nodes.to_string(),
            "--preset".to_string(),
            preset,
            "--lookups".to_string(),
            self.lookups.to_string(),
            "--strategy".to_string(),
            self.strategy.to_string(),
            "--seed".to_string(),
            self.seed.to_string(),
        ];
        if let Some(v) = self.value_lookups {
            args.extend(["--value-lookups".to_string(), v.to_string()]);
        }
        if let Some(upkeep) = self.upkeep {
            args.extend(["--upkeep".to_string(), upkeep.to_string()]);
        }
        args
    }
}

/// Run `kadlab bench-scale`: the parent, or with `--one` a child.
pub fn run(args: &BenchScaleArgs) -> Result<()> {
    if let Some(nodes) = args.one {
        let measured = measure(&args.resolve(nodes)?)?;
        println!("{}", serde_json::to_string(&measured)?);
        return Ok(());
    }
    // Every size is checked before the first child starts.
    let resolved = args
        .sizes
        .iter()
        .map(|&n| args.resolve(n))
        .collect::<Result<Vec<_>>>()?;
    let exe = std::env::current_exe().context(
        "cannot find kadlab's own executable, which bench-scale runs once per size; run kadlab by its path",
    )?;
    let chatty = std::io::stderr().is_terminal();
    let mut rows = Vec::with_capacity(args.sizes.len());
    for &nodes in &args.sizes {
        if chatty {
            eprintln!("bench-scale: {} nodes …", thousands(nodes as u64));
        }
        match run_child(&exe, args, nodes) {
            Ok(row) => rows.push(row),
            Err(e) => {
                if !rows.is_empty() {
                    print_report(args, &resolved[0], &rows);
                }
                return Err(e);
            }
        }
    }
    print_report(args, &resolved[0], &rows);
    Ok(())
}

/// Run one size in a child process and read its JSON line.
fn run_child(exe: &std::path::Path, args: &BenchScaleArgs, nodes: usize) -> Result<Row> {
    let started = Instant::now();
    let out = Command::new(exe)
        .args(args.child_args(nodes))
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot start {} for {nodes} nodes", exe.display()))?;
    let wall_s = started.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!(
            "the run at {nodes} nodes failed ({}); a kill by a signal usually means it ran out of memory: leave that size out of --sizes",
            out.status
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    let measured: Measured = serde_json::from_str(line)
        .with_context(|| format!("the run at {nodes} nodes printed {line:?}, not its figures"))?;
    Ok(Row::new(measured, wall_s))
}

/// Build, warm and run one network, timing each part (the child's work).
fn measure(resolved: &Resolved) -> Result<Measured> {
    let config = &resolved.sim;
    let strategy = resolved
        .strategies
        .first()
        .context("no strategy to time; give --strategy")?;
    let contender = Contender::from(resolved.lookup.with_strategy(*strategy));
    let started = Instant::now();
    let net = sim::build_network(config);
    let tasks = sim::make_tasks(&net, config);
    let setup_s = started.elapsed().as_secs_f64();
    let warmup_datagrams = net.counters.lock().map(|c| c.datagrams).unwrap_or(0);
    let started = Instant::now();
    // On the warmed network itself, as `compare` runs a single strategy:
    // a copy would be timed as if it were lookups.
    let records = sim::run_contenders(
        net,
        &tasks,
        std::slice::from_ref(&contender),
        config,
        &|| {},
    )
    .into_iter()
    .next()
    .unwrap_or_default();
    let lookup_s = started.elapsed().as_secs_f64();
    if records.is_empty() {
        bail!(
            "no lookup ran at {} nodes: no origin was up; use a preset with less churn",
            config.nodes
        );
    }
    Ok(Measured {
        nodes: config.nodes,
        lookups: records.len(),
        setup_s,
        lookup_s,
        lookup_rpcs: records.iter().map(|r| u64::from(r.rpcs)).sum(),
        warmup_datagrams,
        peak_rss_bytes: peak_rss(),
    })
}

/// This process's peak resident set (VmHWM), from Linux's
/// `/proc/self/status`; `None` elsewhere.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// The fit of µs per lookup against log₂ N over the rows.
fn fit(rows: &[Row]) -> Option<Fit> {
    let points: Vec<(f64, f64)> = rows
        .iter()
        .map(|r| ((r.measured.nodes as f64).log2(), r.us_per_lookup))
        .collect();
    least_squares(&points)
}

fn print_report(args: &BenchScaleArgs, resolved: &Resolved, rows: &[Row]) {
    let fit = fit(rows);
    let sim = &resolved.sim;
    match args.format {
        ScaleFormat::Json => {
            let doc = json!({
                "preset": resolved.preset,
                "strategy": args.strategy.to_string(),
                "lookups": sim.lookups,
                "value_lookups": sim.value_lookups,
                "seed": sim.seed,
                "upkeep": sim.upkeep.to_string(),
                "rpcs": rpc_note(sim.upkeep),
                "rows": rows,
                "fit_us_per_lookup_vs_log2_n": fit,
            });
            println!("{doc:#}");
        }
        ScaleFormat::Table => print!("{}", table(args, resolved, rows, fit)),
    }
}

fn table(args: &BenchScaleArgs, resolved: &Resolved, rows: &[Row], fit: Option<Fit>) -> String {
    let sim = &resolved.sim;
    let mut out = format!(
        "{} on --preset {} (upkeep {}), {} FIND_NODE + {} FIND_VALUE lookups, seed {}; each N in a process of its own\n\n",
        args.strategy,
        resolved.preset,
        sim.upkeep,
        thousands(sim.lookups as u64),
        thousands(sim.value_lookups as u64),
        sim.seed
    );
    out.push_str(&format!(
        "{:>10} {:>9} {:>10} {:>10} {:>9} {:>10} {:>9} {:>11} {:>8}\n",
        "N",
        "wall",
        "peak RSS",
        "bytes/node",
        "set-up",
        "µs/node",
        "µs/lookup",
        "RPCs/lookup",
        "µs/RPC"
    ));
    let or_na = |v: Option<String>| v.unwrap_or_else(|| "n/a".to_string());
    for r in rows {
        let m = &r.measured;
        out.push_str(&format!(
            "{:>10} {:>9} {:>10} {:>10} {:>9} {:>10.1} {:>9.1} {:>11.1} {:>8}\n",
            thousands(m.nodes as u64),
            seconds(r.wall_s),
            or_na(m.peak_rss_bytes.map(bytes)),
            or_na(r.bytes_per_node.map(|b| thousands(b.round() as u64))),
            seconds(m.setup_s),
            r.setup_us_per_node,
            r.us_per_lookup,
            r.rpcs_per_lookup,
            or_na(r.us_per_rpc.map(|u| format!("{u:.2}"))),
        ));
    }
    out.push('\n');
    match fit {
        Some(f) => out.push_str(&format!(
            "µs per lookup ≈ {:.1} + {:.2}·log2 N (least squares over {} sizes)\n",
            f.intercept,
            f.slope,
            rows.len()
        )),
        None => out.push_str("no fit: it needs at least two different sizes\n"),
    }
    out.push_str(
        "set-up is build_network (ids, warm-up) and make_tasks (workload and truth); µs/node is set-up per node\n",
    );
    out.push_str(&rpc_note(sim.upkeep));
    out.push('\n');
    out
}

/// `n` with thousands separators, as the README's tables write counts.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A duration in seconds from 1 s, else in milliseconds, to three
/// significant digits from 1 ms (two decimals below it): a few hundred
/// nodes warm up in a millisecond or two, which two decimals of a second
/// would print as "0.00 s".
fn seconds(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.2} s")
    } else {
        let ms = s * 1e3;
        let decimals = if ms >= 100.0 {
            0
        } else if ms >= 10.0 {
            1
        } else {
            2
        };
        format!("{ms:.decimals$} ms")
    }
}

/// A byte count in MiB, or GiB from 1 GiB.
fn bytes(b: u64) -> String {
    let mib = b as f64 / (1024.0 * 1024.0);
    if mib >= 1024.0 {
        format!("{:.2} GiB", mib / 1024.0)
    } else {
        format!("{mib:.0} MiB")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_squares_recovers_a_line() {
        let points = [(10.0, 25.0), (13.0, 31.0), (17.0, 39.0)];
        let f = least_squares(&points).unwrap();
        assert!((f.slope - 2.0).abs() < 1e-9 && (f.intercept - 5.0).abs() < 1e-9);
        assert_eq!(least_squares(&[(3.0, 1.0), (3.0, 2.0)]), None);
    }

    #[test]
    fn counts_get_thousands_separators() {
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn short_durations_keep_their_digits_in_milliseconds() {
        assert_eq!(seconds(29.04), "29.04 s");
        assert_eq!(seconds(1.0), "1.00 s");
        assert_eq!(seconds(0.4567), "457 ms");
        assert_eq!(seconds(0.01234), "12.3 ms");
        assert_eq!(seconds(0.001234), "1.23 ms");
    }
}
