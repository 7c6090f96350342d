//! `kadlab sweep`: vary one parameter and draw each strategy's
//! recall-against-RPCs curve.
//!
//! A sweep's points are strategies × values, in that order. Locally they
//! all run as contenders on one warmed network; beyond one machine,
//! `--plan FILE` writes one shell command per point (`--point I`), each of
//! which builds the same network from the same explicit settings, runs its
//! one contender on its own copy of it (as the local sweep does for every
//! contender) and writes `point-000I.json`; `--merge DIR` then joins those
//! files into the very `sweep.json` and SVG the local sweep writes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cli::compare::{run_on_new_network, NetworkArgs, Resolved, ThreadsArg};
use crate::cli::output::{check_dir, check_file, write_file};
use crate::cli::usage;
use crate::html::{Cell, Page};
use crate::lookup::{Budget, Contender, LookupConfig, StrategyName};
use crate::plot::{draw_curves, Plot, Series};
use crate::report::StrategySummary;
use crate::sim::LookupRecord;

/// Most points a sweep may have: each runs the whole workload once per
/// strategy, so more would run for days (and the list of values alone could
/// take gigabytes).
pub const MAX_SWEEP_POINTS: u64 = 1_000;

/// An inclusive range of whole numbers, `FROM..TO` or `FROM..TO/STEP`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    from: u32,
    to: u32,
    step: u32,
}

impl FromStr for Span {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!("{s:?} is not a range; use FROM..TO or FROM..TO/STEP, e.g. 1..6 or 10..200/10")
        };
        let (range, step) = match s.split_once('/') {
            Some((r, step)) => (r, Some(step.parse::<u32>().map_err(|_| bad())?)),
            None => (s, None),
        };
        let (from, to) = range.split_once("..").ok_or_else(bad)?;
        let from: u32 = from.parse().map_err(|_| bad())?;
        let to: u32 = to.parse().map_err(|_| bad())?;
        if from == 0 || to < from {
            return Err(bad());
        }
        // About ten points by default.
        let step = step.unwrap_or(((to - from) / 9).max(1));
        if step == 0 {
            return Err(bad());
        }
        let points = u64::from(to - from) / u64::from(step) + 1;
        if points > MAX_SWEEP_POINTS {
            return Err(format!(
                "{s:?} has {points} points: allowed is 1 to {MAX_SWEEP_POINTS}; use a larger STEP or a shorter range"
            ));
        }
        Ok(Span { from, to, step })
    }
}

impl Span {
    fn values(self) -> Vec<u32> {
        (self.from..=self.to).step_by(self.step as usize).collect()
    }
}

/// Flags of `kadlab sweep`.
#[derive(Args, Debug)]
pub struct SweepArgs {
    #[command(flatten)]
    network: NetworkArgs,
    #[command(flatten)]
    threads: ThreadsArg,
    /// Strategies to sweep (those the parameter applies to).
    #[arg(long, value_delimiter = ',')]
    strategies: Option<Vec<StrategyName>>,
    /// Sweep α (query-rest, k-active, kademlia, disjoint), e.g. 1..6.
    #[arg(long = "alpha-range", value_name = "FROM..TO", conflicts_with_all = ["delta_range", "budget_range", "paths_range", "beta_range"])]
    alpha_range: Option<Span>,
    /// Sweep δ (delta), e.g. 1..8.
    #[arg(
        long = "delta-range",
        value_name = "FROM..TO",
        conflicts_with_all = ["budget_range", "paths_range", "beta_range"]
    )]
    delta_range: Option<Span>,
    /// Sweep delta's budget, e.g. 10..200/10.
    #[arg(
        long = "budget-range",
        value_name = "FROM..TO",
        conflicts_with_all = ["paths_range", "beta_range"]
    )]
    budget_range: Option<Span>,
    /// Sweep disjoint's number of paths d, e.g. 1..8.
    #[arg(
        long = "paths-range",
        value_name = "FROM..TO",
        conflicts_with = "beta_range"
    )]
    paths_range: Option<Span>,
    /// Sweep gated's β, e.g. 1..20.
    #[arg(long = "beta-range", value_name = "FROM..TO")]
    beta_range: Option<Span>,
    /// Sweep every strategy over its own parameter instead (α 1..8 for
    /// query-rest, k-active and kademlia; δ 1..8 and budget 10..60 for
    /// delta; β 1..k at α 2 and 3 for gated), draw all curves in one plot,
    /// and print whether gated's points dominate each other strategy's.
    #[arg(long, conflicts_with_all = ["alpha_range", "delta_range", "budget_range", "paths_range", "beta_range", "plan", "point", "merge"])]
    hulls: bool,
    /// Directory for sweep.json and recall_vs_rpcs.svg.
    #[arg(long, default_value = "sweep-out")]
    out: PathBuf,
    /// Run nothing; write to FILE one self-contained shell command per
    /// point of this sweep (for `parallel < FILE`, a Slurm array job or any
    /// batch runner), each writing its result to --point-dir.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["point", "merge"])]
    plan: Option<PathBuf>,
    /// Where the planned commands write their point files (with --plan,
    /// default sweep-points), or where this point run writes its own (with
    /// --point).
    #[arg(long, value_name = "DIR")]
    point_dir: Option<PathBuf>,
    /// Run only point I of the sweep (0 is the first; strategies × values,
    /// in order) and write DIR/point-000I.json (point-0012.json for 12):
    /// what one line of a --plan runs.
    #[arg(
        long,
        value_name = "I",
        requires = "point_dir",
        conflicts_with = "merge"
    )]
    point: Option<usize>,
    /// Join the point files a --plan's commands wrote to DIR into --out's
    /// sweep.json and recall_vs_rpcs.svg, byte for byte what the same
    /// sweep run here writes; the settings come from the files.
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with_all = ["strategies", "alpha_range", "delta_range", "budget_range", "paths_range", "beta_range", "point_dir"]
    )]
    merge: Option<PathBuf>,
}

/// The parameter a sweep varies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Parameter {
    Alpha,
    Delta,
    Budget,
    Paths,
    Beta,
}

impl Parameter {
    fn name(self) -> &'static str {
        match self {
            Parameter::Alpha => "alpha",
            Parameter::Delta => "delta",
            Parameter::Budget => "budget",
            Parameter::Paths => "paths",
            Parameter::Beta => "beta",
        }
    }

    /// Whether `strategy` uses this parameter at all.
    fn applies_to(self, strategy: StrategyName) -> bool {
        match self {
            Parameter::Alpha => strategy != StrategyName::Delta,
            Parameter::Delta | Parameter::Budget => strategy == StrategyName::Delta,
            Parameter::Paths => strategy == StrategyName::Disjoint,
            Parameter::Beta => strategy == StrategyName::Gated,
        }
    }

    /// `base` with this parameter set to `value`.
    fn set(self, base: &LookupConfig, value: u32) -> LookupConfig {
        let mut c = base.clone();
        match self {
            Parameter::Alpha => c.alpha = value as usize,
            Parameter::Delta => c.delta = value as usize,
            Parameter::Budget => c.budget = Budget::Requests(value),
            Parameter::Paths => c.paths = value as usize,
            Parameter::Beta => c.beta = value as usize,
        }
        c
    }
}

/// One point of a sweep.
#[derive(Clone, Debug, Serialize)]
struct Point {
    strategy: String,
    parameter: &'static str,
    value: u32,
    summary: StrategySummary,
}

/// A sweep resolved from its flags: the settings and the points, before
/// anything runs.
struct SweepPlan {
    resolved: Resolved,
    swept: Parameter,
    span: Span,
    /// The chosen strategies the parameter applies to.
    strategies: Vec<StrategyName>,
    values: Vec<u32>,
    /// One per point: strategies × values, in that order.
    configs: Vec<LookupConfig>,
}

impl SweepPlan {
    fn new(args: &SweepArgs) -> Result<SweepPlan> {
        let resolved = args.network.resolve(args.strategies.as_deref())?;
        resolved.one_network("sweep")?;
        let chosen = [
            (Parameter::Alpha, args.alpha_range),
            (Parameter::Delta, args.delta_range),
            (Parameter::Budget, args.budget_range),
            (Parameter::Paths, args.paths_range),
            (Parameter::Beta, args.beta_range),
        ];
        let mut given = chosen.into_iter().filter_map(|(p, s)| s.map(|s| (p, s)));
        let (swept, span) = match (given.next(), given.next()) {
            (Some(one), None) => one,
            _ => bail!("name exactly one parameter to sweep: --alpha-range 1..6, --delta-range 1..8, --budget-range 10..200, --paths-range 1..8 or --beta-range 1..20"),
        };
        let parameter = swept.name();
        let strategies: Vec<StrategyName> = resolved
            .strategies
            .iter()
            .copied()
            .filter(|s| swept.applies_to(*s))
            .collect();
        if strategies.is_empty() {
            bail!("--{parameter}-range applies to none of the chosen --strategies; alpha applies to query-rest, k-active, kademlia and disjoint, delta and budget to delta, paths to disjoint, beta to gated");
        }
        // Both ends in range means every value is (before any is allocated).
        for end in [span.from, span.to] {
            swept
                .set(&resolved.lookup.with_strategy(strategies[0]), end)
                .validate()
                .with_context(|| format!("--{parameter}-range"))?;
        }
        let values = span.values();
        let configs: Vec<LookupConfig> = strategies
            .iter()
            .flat_map(|s| {
                let base = resolved.lookup.with_strategy(*s);
                values.iter().map(move |&v| swept.set(&base, v))
            })
            .collect();
        for c in &configs {
            c.validate()?;
        }
        Ok(SweepPlan {
            resolved,
            swept,
            span,
            strategies,
            values,
            configs,
        })
    }

    /// Point `index`, as `sweep.json` lists it, from its contender's
    /// records.
    fn point(
        &self,
        index: usize,
        contender: &Contender,
        records: &[LookupRecord],
    ) -> Result<Value> {
        let point = Point {
            strategy: self.configs[index].strategy.to_string(),
            parameter: self.swept.name(),
            value: self.values[index % self.values.len()],
            summary: StrategySummary::from_records(contender.name(), contender.params(), records),
        };
        Ok(serde_json::to_value(point)?)
    }

    /// What every point of this sweep shares, and `sweep.json` and the
    /// plot are made of besides the points.
    fn header(&self) -> Result<Header> {
        Ok(Header {
            kadlab: env!("CARGO_PKG_VERSION").to_string(),
            parameter: self.swept.name().to_string(),
            from: self.span.from,
            to: self.span.to,
            step: self.span.step,
            strategies: self.strategies.iter().map(|s| s.to_string()).collect(),
            points: self.configs.len(),
            settings: serde_json::to_value(self.resolved.settings())?,
        })
    }

    /// Every setting of this sweep as explicit flags of `kadlab sweep`
    /// (after the subcommand), so that a planned command needs no config
    /// file and no default that might change: the preset, every network
    /// and lookup parameter, the strategies and the range.
    fn flags(&self) -> Vec<String> {
        let (sim, lookup) = (&self.resolved.sim, &self.resolved.lookup);
        let a = &sim.adversaries;
        let mut flags: Vec<(&str, String)> = vec![
            ("preset", self.resolved.preset.to_string()),
            ("nodes", sim.nodes.to_string()),
            ("lookups", sim.lookups.to_string()),
            ("value-lookups", sim.value_lookups.to_string()),
            ("k", lookup.k.to_string()),
            ("alpha", lookup.alpha.to_string()),
            ("delta", lookup.delta.to_string()),
            ("budget", lookup.budget.to_string()),
            ("paths", lookup.paths.to_string()),
            ("beta", lookup.beta.to_string()),
            ("hedge-ms", lookup.hedge_ms.to_string()),
            ("vouches", lookup.vouches.to_string()),
            ("failed-vouches", lookup.failed_vouches.to_string()),
            ("rpc-timeout-ms", lookup.rpc_timeout_ms.to_string()),
            ("round-timeout-ms", lookup.round_timeout_ms.to_string()),
            ("loss", sim.loss.to_string()),
            ("churn", sim.churn.to_string()),
            ("unreachable", sim.unreachable.to_string()),
            ("adversaries", a.fraction.to_string()),
            ("adversary-mode", a.mode.to_string()),
            ("seed", sim.seed.to_string()),
            ("warmup", sim.warmup.to_string()),
            ("upkeep", sim.upkeep.to_string()),
            ("background-lookups", sim.background_lookups.to_string()),
            (
                "questionable-after-s",
                sim.questionable_after.as_secs().to_string(),
            ),
            ("bad-after", sim.bad_after.to_string()),
            (
                "refresh-interval-s",
                sim.refresh_every.as_secs().to_string(),
            ),
        ];
        if let Some(seeds) = lookup.seeds {
            flags.push(("seeds", seeds.to_string()));
        }
        if let Some(target) = a.eclipse {
            flags.push(("eclipse", target.to_string()));
            flags.push(("sybils", a.sybils.to_string()));
        }
        let strategies: Vec<String> = self.strategies.iter().map(|s| s.to_string()).collect();
        flags.push(("strategies", strategies.join(",")));
        let range = format!("{}-range", self.swept.name());
        let span = format!("{}..{}/{}", self.span.from, self.span.to, self.span.step);
        flags.push((&range, span));
        let mut out: Vec<String> = flags
            .into_iter()
            .flat_map(|(flag, value)| [format!("--{flag}"), value])
            .collect();
        out.push("--quiet".into());
        out
    }

    /// Whether `other` runs exactly what this plan does: the check that
    /// [`SweepPlan::flags`] left nothing out.
    fn same_as(&self, other: &SweepPlan) -> bool {
        let (a, b) = (&self.resolved, &other.resolved);
        a.sim == b.sim
            && a.preset == b.preset
            && a.lookup.with_strategy(StrategyName::Kademlia)
                == b.lookup.with_strategy(StrategyName::Kademlia)
            && self.swept == other.swept
            && self.span == other.span
            && self.strategies == other.strategies
            && self.configs == other.configs
    }
}

/// What every point file of one sweep holds alike: a merge accepts only
/// files whose headers are equal, so points of another sweep, another
/// network or another kadlab version are never mixed in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    /// Version of kadlab that ran the point.
    kadlab: String,
    /// The swept parameter (`alpha`, `delta`, `budget`, `paths`).
    parameter: String,
    /// First value.
    from: u32,
    /// Last value.
    to: u32,
    /// Step between values.
    step: u32,
    /// The strategies swept, in order.
    strategies: Vec<String>,
    /// Number of points in the whole sweep.
    points: usize,
    /// The settings block of `sweep.json`.
    settings: Value,
}

/// One point's file, as `--point` writes it and `--merge` reads it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PointFile {
    sweep: Header,
    /// Which point, 0 first.
    index: usize,
    /// The point as `sweep.json` lists it.
    point: Value,
}

/// Name of point `index`'s file in a point directory.
fn point_file_name(index: usize) -> String {
    format!("point-{index:04}.json")
}

/// What the table and the plot need of a point.
struct Row {
    strategy: String,
    value: u64,
    rpcs: f64,
    recall: f64,
}

impl Row {
    /// The row of a point as `sweep.json` lists it; `None` if it is not
    /// one. A mean of no lookups is written as `null`, and read back as
    /// NaN, the value it was.
    fn of(point: &Value) -> Option<Row> {
        let number = |key: &str| match point.get("summary")?.get(key)? {
            Value::Null => Some(f64::NAN),
            v => v.as_f64(),
        };
        Some(Row {
            strategy: point.get("strategy")?.as_str()?.to_string(),
            value: point.get("value")?.as_u64()?,
            rpcs: number("rpcs_mean")?,
            recall: number("recall_mean")?,
        })
    }
}

/// Write `sweep.json` and `recall_vs_rpcs.svg` to `out` and print the
/// table: the one writer of both a local sweep and a merge, which is what
/// makes them byte-identical.
fn write_sweep(out: &Path, header: &Header, points: &[Value]) -> Result<()> {
    let rows: Vec<Row> = points
        .iter()
        .map(|p| Row::of(p).context("a point lacks its strategy, value or summary"))
        .collect::<Result<_>>()?;
    let parameter = &header.parameter;
    // The table first: whatever happens to the files, the figures are out.
    println!(
        "{:<12} {:>6} {:>8} {:>8}",
        "strategy", parameter, "rpcs", "recall"
    );
    for r in &rows {
        println!(
            "{:<12} {:>6} {:>8.1} {:>8.3}",
            r.strategy, r.value, r.rpcs, r.recall
        );
    }
    // `out` was made by `check_dir` before the sweep or the merge ran.
    let json = serde_json::json!({ "settings": header.settings, "points": points });
    write_file(
        &out.join("sweep.json"),
        &(serde_json::to_string_pretty(&json)? + "\n"),
    )?;
    let series: Vec<Series> = header
        .strategies
        .iter()
        .map(|s| {
            let points = rows
                .iter()
                .filter(|r| &r.strategy == s)
                .map(|r| (r.rpcs, r.recall, format!("{parameter}={}", r.value)))
                .collect();
            Series {
                strategy: s.clone(),
                label: format!("{s} ({parameter} {}..{})", header.from, header.to),
                points,
            }
        })
        .collect();
    let plot = draw_curves(
        &format!("recall@k against RPCs, sweeping {parameter}"),
        "RPCs per lookup (mean)",
        "recall@k (mean)",
        &series,
    )
    .map_err(anyhow::Error::msg)?;
    plot.write(&out.join("recall_vs_rpcs.svg"))?;
    write_file(&out.join("report.html"), &sweep_page(header, &rows, &plot))?;
    eprintln!(
        "wrote {}/sweep.json, recall_vs_rpcs.svg and report.html",
        out.display()
    );
    Ok(())
}

/// The sweep's `report.html`: its settings, its table, the plot, and for
/// each strategy what its curve shows from one end to the other.
fn sweep_page(header: &Header, rows: &[Row], plot: &Plot) -> String {
    let parameter = &header.parameter;
    let mut page = Page::new(&format!("kadlab sweep of {parameter}"));
    page.paragraph(&format!(
        "Each strategy runs the same lookups on the same network once for every {parameter} \
         from {} to {} in steps of {}.",
        header.from, header.to, header.step
    ));
    page.heading(2, "Settings (besides the swept one)");
    let settings: BTreeMap<String, Value> = header
        .settings
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| *k != parameter)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    page.settings(&settings);
    page.heading(2, "Points");
    let cells: Vec<Vec<Cell>> = rows
        .iter()
        .map(|r| {
            vec![
                Cell::Text(r.strategy.clone()),
                Cell::Figure(r.value.to_string()),
                Cell::Figure(format!("{:.1}", r.rpcs)),
                Cell::Figure(format!("{:.3}", r.recall)),
            ]
        })
        .collect();
    page.table(
        &[
            Cell::Text("strategy".into()),
            Cell::Text(parameter.clone()),
            Cell::Text("rpcs".into()),
            Cell::Text("recall".into()),
        ],
        &cells,
    );
    page.note(&format!(
        "rpcs: mean requests per lookup; recall: mean share of the true k closest in the \
         result; {parameter}: the value of the swept parameter at that point."
    ));
    page.heading(2, "Recall against cost");
    page.figure(
        plot,
        &format!(
            "One curve per strategy through its points, each labelled with its {parameter}; \
             up and to the left is better. The same plot is recall_vs_rpcs.svg beside this page."
        ),
    );
    page.heading(2, "What each curve means");
    for strategy in &header.strategies {
        let mine: Vec<&Row> = rows.iter().filter(|r| &r.strategy == strategy).collect();
        let (Some(first), Some(last)) = (mine.first(), mine.last()) else {
            continue;
        };
        let rule = StrategyName::rule_of(strategy);
        page.heading(3, strategy);
        page.paragraph(&format!(
            "{strategy} {rule}. With {parameter} = {} its results held {:.1} % of the true \
             closest for {:.1} requests per lookup; with {parameter} = {}, {:.1} % for {:.1}.",
            first.value,
            100.0 * first.recall,
            first.rpcs,
            last.value,
            100.0 * last.recall,
            last.rpcs
        ));
    }
    page.finish()
}

/// Run `kadlab sweep`: the whole sweep here, its plan, one point of it, or
/// the merge of its points.
pub fn run(args: &SweepArgs) -> Result<()> {
    if let Some(dir) = &args.merge {
        return merge(args, dir);
    }
    if args.hulls {
        let resolved = args
            .network
            .resolve(args.strategies.as_deref())
            .map_err(usage)?;
        resolved.one_network("sweep --hulls").map_err(usage)?;
        check_dir(&args.out, "--out")?;
        return crate::cli::hulls::run(&resolved, args.threads, args.network.quiet, &args.out);
    }
    if args.point_dir.is_some() && args.plan.is_none() && args.point.is_none() {
        return Err(usage(anyhow::anyhow!("--point-dir goes with --plan FILE (where the planned commands write) or --point I (where this one writes); add one of them or drop --point-dir")));
    }
    let plan = SweepPlan::new(args).map_err(usage)?;
    if let Some(file) = &args.plan {
        check_file(file, "--plan")?;
        return write_plan(args, &plan, file);
    }
    if args.point.is_none() {
        check_dir(&args.out, "--out")?;
    }
    if let (Some(index), Some(dir)) = (args.point, &args.point_dir) {
        return run_point(args, &plan, index, dir);
    }
    let contenders: Vec<Contender> = plan.configs.iter().map(Contender::from).collect();
    let records = run_on_new_network(
        &plan.resolved,
        &contenders,
        args.threads,
        args.network.quiet,
    )?;
    let points: Vec<Value> = contenders
        .iter()
        .zip(&records)
        .enumerate()
        .map(|(i, (contender, r))| plan.point(i, contender, r))
        .collect::<Result<_>>()?;
    write_sweep(&args.out, &plan.header()?, &points)
}

/// `s` quoted for sh: as it is when it holds only characters no shell
/// treats specially, otherwise in single quotes (a `'` inside written as
/// `'\''`).
fn sh_quote(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:,=+@%".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// `kadlab sweep` flags parsed on their own, to check a planned command.
#[derive(Parser, Debug)]
struct Reparse {
    #[command(flatten)]
    sweep: SweepArgs,
}

/// Write the plan of `plan` to `file`: one command per point, this binary
/// by its absolute path with every setting explicit, writing to an absolute
/// point directory, so that a line runs the same from any directory.
fn write_plan(args: &SweepArgs, plan: &SweepPlan, file: &Path) -> Result<()> {
    let dir = args
        .point_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("sweep-points"));
    std::fs::create_dir_all(&dir).with_context(|| {
        format!(
            "cannot create point directory {}; give --point-dir a directory that can be written",
            dir.display()
        )
    })?;
    let dir = std::path::absolute(&dir)
        .with_context(|| format!("cannot make {} an absolute path", dir.display()))?;
    let exe = std::env::current_exe()
        .context("cannot find this kadlab binary's path to write into the plan")?;
    let flags = plan.flags();
    // The commands must run exactly this sweep, whatever the config file or
    // the defaults said.
    let reparsed = Reparse::try_parse_from(
        std::iter::once("kadlab-sweep".to_string()).chain(flags.iter().cloned()),
    )
    .map_err(|e| anyhow::anyhow!("{}", e.render()))
    .and_then(|r| SweepPlan::new(&r.sweep));
    match reparsed {
        Ok(again) if plan.same_as(&again) => {}
        Ok(_) => bail!("a planned command would not run this very sweep (a setting has no flag); run the sweep here instead of planning it"),
        Err(e) => bail!("a planned command would be refused ({e:#}); run the sweep here instead of planning it"),
    }
    let prefix: Vec<String> = [exe.to_string_lossy().into_owned(), "sweep".into()]
        .into_iter()
        .chain(flags)
        .map(|a| sh_quote(&a))
        .collect();
    let prefix = prefix.join(" ");
    let dir_arg = sh_quote(&dir.to_string_lossy());
    let lines: String = (0..plan.configs.len())
        .map(|i| format!("{prefix} --point {i} --point-dir {dir_arg}\n"))
        .collect();
    std::fs::write(file, lines).with_context(|| {
        format!(
            "cannot write plan file {}; give --plan a path in a directory that exists and can be written",
            file.display()
        )
    })?;
    eprintln!(
        "wrote {} commands to {}; run them (e.g. `parallel < {}`), then `kadlab sweep --merge {} --out {}`",
        plan.configs.len(),
        file.display(),
        file.display(),
        dir.display(),
        args.out.display()
    );
    Ok(())
}

/// Run point `index` of `plan` alone and write its file to `dir`.
fn run_point(args: &SweepArgs, plan: &SweepPlan, index: usize, dir: &Path) -> Result<()> {
    let count = plan.configs.len();
    if index >= count {
        bail!(
            "--point {index} is out of range: this sweep has {count} points, 0 to {}; take the command from its --plan",
            count - 1
        );
    }
    std::fs::create_dir_all(dir).with_context(|| {
        format!(
            "cannot create point directory {}; give --point-dir a directory that can be written",
            dir.display()
        )
    })?;
    let header = plan.header()?;
    let contender = Contender::from(&plan.configs[index]);
    let records = run_on_new_network(
        &plan.resolved,
        std::slice::from_ref(&contender),
        args.threads,
        args.network.quiet,
    )?;
    let records = records
        .first()
        .context("the simulator returned no records for the point")?;
    let file = PointFile {
        sweep: header,
        index,
        point: plan.point(index, &contender, records)?,
    };
    // Written whole, then renamed: a job killed half-way leaves no point
    // file for a merge to take for a finished one.
    let path = dir.join(point_file_name(index));
    let partial = dir.join(format!(".{}.partial", point_file_name(index)));
    write_file(&partial, &(serde_json::to_string_pretty(&file)? + "\n"))?;
    std::fs::rename(&partial, &path)
        .with_context(|| format!("cannot move {} to {}", partial.display(), path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

/// The first difference between two headers, for a merge's error.
fn difference(a: &Header, b: &Header) -> String {
    let field =
        |name: &str, x: String, y: String| (x != y).then(|| format!("{name} {x} against {y}"));
    let settings = || {
        let (Some(x), Some(y)) = (a.settings.as_object(), b.settings.as_object()) else {
            return Some("settings".to_string());
        };
        let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
        keys.into_iter().find_map(|k| {
            let (v, w) = (x.get(k), y.get(k));
            (v != w).then(|| {
                let show = |v: Option<&Value>| v.map_or("(none)".to_string(), Value::to_string);
                format!("{k} {} against {}", show(v), show(w))
            })
        })
    };
    field("kadlab version", a.kadlab.clone(), b.kadlab.clone())
        .or_else(|| field("parameter", a.parameter.clone(), b.parameter.clone()))
        .or_else(|| {
            field(
                "range",
                format!("{}..{}/{}", a.from, a.to, a.step),
                format!("{}..{}/{}", b.from, b.to, b.step),
            )
        })
        .or_else(|| field("strategies", a.strategies.join(","), b.strategies.join(",")))
        .or_else(|| field("points", a.points.to_string(), b.points.to_string()))
        .or_else(settings)
        .unwrap_or_else(|| "their headers".to_string())
}

/// Join the point files in `dir` into `--out`, after checking that they
/// are all of one sweep, each point exactly once.
fn merge(args: &SweepArgs, dir: &Path) -> Result<()> {
    let bare = NetworkArgs {
        quiet: args.network.quiet,
        ..NetworkArgs::default()
    };
    if args.network != bare {
        return Err(usage(anyhow::anyhow!("--merge takes every setting from the point files; drop the network flags (keep --merge DIR and --out)")));
    }
    check_dir(&args.out, "--out")?;
    let entries = std::fs::read_dir(dir).with_context(|| {
        format!(
            "cannot read --merge directory {}; give the --point-dir the planned commands wrote to",
            dir.display()
        )
    })?;
    let mut names: Vec<String> = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        if let Some(name) = entry.file_name().to_str() {
            if name.starts_with("point-") && name.ends_with(".json") {
                names.push(name.to_string());
            }
        }
    }
    // Directory order is the file system's; sorting keeps every message the
    // same from run to run.
    names.sort();
    let Some(first_name) = names.first().cloned() else {
        bail!(
            "{} holds no point-*.json files; run the plan's commands first (e.g. `parallel < PLAN`), then merge",
            dir.display()
        );
    };
    let mut header: Option<Header> = None;
    let mut points: BTreeMap<usize, (String, Value)> = BTreeMap::new();
    for name in &names {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let file: PointFile = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a sweep point file; remove it, or run its line of the plan again",
                path.display()
            )
        })?;
        let h = header.get_or_insert_with(|| file.sweep.clone());
        if *h != file.sweep {
            bail!(
                "{name} belongs to another sweep than {first_name} ({}); merge the points of one plan only: remove stale files, or give each plan its own --point-dir",
                difference(h, &file.sweep)
            );
        }
        let count = h.points;
        if file.index >= count {
            bail!(
                "{name} holds point {}, but its sweep has {count} points (0 to {}); remove it",
                file.index,
                count - 1
            );
        }
        let row = Row::of(&file.point).with_context(|| {
            format!("{name} holds no sweep point; run its line of the plan again")
        })?;
        let values = count / h.strategies.len().max(1);
        let expected_value =
            u64::from(h.from) + (file.index % values.max(1)) as u64 * u64::from(h.step);
        let expected_strategy = h.strategies.get(file.index / values.max(1));
        if expected_strategy != Some(&row.strategy) || row.value != expected_value {
            bail!(
                "{name} holds {} at {} {}, which is not point {} of its sweep; remove it and run line {} of the plan again",
                row.strategy,
                h.parameter,
                row.value,
                file.index,
                file.index + 1
            );
        }
        if let Some((other, _)) = points.insert(file.index, (name.clone(), file.point)) {
            bail!(
                "{other} and {name} both hold point {}; keep one of them",
                file.index
            );
        }
    }
    let Some(header) = header else {
        bail!("{} holds no point files", dir.display());
    };
    let missing: Vec<usize> = (0..header.points)
        .filter(|i| !points.contains_key(i))
        .collect();
    if !missing.is_empty() {
        let lines: Vec<String> = missing
            .iter()
            .take(20)
            .map(|i| (i + 1).to_string())
            .collect();
        bail!(
            "{} of {} points are missing from {}; run line{} {}{} of the plan (one point per line) and merge again",
            missing.len(),
            header.points,
            dir.display(),
            if missing.len() == 1 { "" } else { "s" },
            lines.join(", "),
            if missing.len() > 20 { ", …" } else { "" }
        );
    }
    let points: Vec<Value> = points.into_values().map(|(_, p)| p).collect();
    write_sweep(&args.out, &header, &points)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_parameter_sets_its_own_key_for_its_own_strategies() {
        let base = LookupConfig::default();
        assert_eq!(Parameter::Paths.set(&base, 8).paths, 8);
        assert_eq!(Parameter::Alpha.set(&base, 5).alpha, 5);
        assert!(Parameter::Paths.applies_to(StrategyName::Disjoint));
        assert!(!Parameter::Paths.applies_to(StrategyName::Kademlia));
        assert!(Parameter::Alpha.applies_to(StrategyName::Disjoint));
        assert!(!Parameter::Alpha.applies_to(StrategyName::Delta));
    }

    #[test]
    fn arguments_are_quoted_only_when_sh_would_change_them() {
        assert_eq!(sh_quote("--alpha-range"), "--alpha-range");
        assert_eq!(sh_quote("/tmp/a,b:c=1.5%"), "/tmp/a,b:c=1.5%");
        assert_eq!(sh_quote(""), "''");
        assert_eq!(sh_quote("a b"), "'a b'");
        assert_eq!(sh_quote("it's $HOME"), r"'it'\''s $HOME'");
    }

    #[test]
    fn spans_parse_and_reject() {
        assert_eq!(
            "1..6".parse::<Span>().unwrap().values(),
            vec![1, 2, 3, 4, 5, 6]
        );
        assert_eq!(
            "10..200/50".parse::<Span>().unwrap().values(),
            vec![10, 60, 110, 160]
        );
        assert_eq!("10..200".parse::<Span>().unwrap().values().len(), 10);
        for bad in ["", "3", "0..4", "5..2", "1..x", "1..4/0"] {
            assert!(
                bad.parse::<Span>().unwrap_err().contains("FROM..TO"),
                "{bad}"
            );
        }
        assert_eq!("1..1000/1".parse::<Span>().unwrap().values().len(), 1000);
        let error = "1..4000000000/1".parse::<Span>().unwrap_err();
        assert!(error.contains("4000000000 points"), "{error}");
        assert!(error.contains("1 to 1000"), "{error}");
    }
}
