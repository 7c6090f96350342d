//! `kadlab trace`: the picture of one lookup is well-formed SVG with one dot
//! per request, its marks agree with the lookup's own statistics, and the
//! command line refuses what it cannot do, naming what it can.

use std::collections::HashMap;
use std::process::Command;
use std::sync::Arc;

use kadlab::lookup::{LookupConfig, StrategyName};
use kadlab::sim::{self, SimConfig, SimNetwork};
use kadlab::trace::{trace_lookup, Membership, RequestOutcome, Trace, REQUEST_DOT_RADIUS};

/// One element of an XML document: its name and attributes.
#[derive(Debug)]
struct Element {
    name: String,
    attrs: HashMap<String, String>,
}

/// Whether `s` is a well-formed entity reference body (between `&` and `;`).
fn entity_ok(s: &str) -> bool {
    matches!(s, "lt" | "gt" | "amp" | "quot" | "apos")
        || s.strip_prefix("#x")
            .is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()))
        || s.strip_prefix('#')
            .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()))
}

/// Character data (text or an attribute value): `&` only in entity
/// references, no `<`.
fn check_chars(s: &str) -> Result<(), String> {
    if s.contains('<') {
        return Err(format!("raw '<' in {s:?}"));
    }
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        let end = rest[i..]
            .find(';')
            .ok_or_else(|| format!("unterminated entity in {s:?}"))?;
        if !entity_ok(&rest[i + 1..i + end]) {
            return Err(format!("bad entity in {s:?}"));
        }
        rest = &rest[i + end + 1..];
    }
    Ok(())
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || "_:.-".contains(c))
}

/// A small well-formedness check of the XML that plotters writes: one root
/// element, properly nested and closed tags, quoted and unique attributes,
/// and text and values that escape `<` and `&`. Returns every element in
/// document order.
fn parse_xml(doc: &str) -> Result<Vec<Element>, String> {
    let mut rest = doc.trim_start();
    if let Some(after) = rest.strip_prefix("<?xml") {
        let end = after.find("?>").ok_or("unterminated XML declaration")?;
        rest = &after[end + 2..];
    }
    let mut elements = Vec::new();
    let mut open: Vec<String> = Vec::new();
    let mut roots = 0;
    loop {
        let Some(lt) = rest.find('<') else {
            if !rest.trim().is_empty() && open.is_empty() {
                return Err("text after the root element".into());
            }
            check_chars(rest)?;
            break;
        };
        let text = &rest[..lt];
        if open.is_empty() && !text.trim().is_empty() {
            return Err(format!("text outside the root element: {text:?}"));
        }
        check_chars(text)?;
        rest = &rest[lt + 1..];
        if let Some(after) = rest.strip_prefix("!--") {
            let end = after.find("-->").ok_or("unterminated comment")?;
            rest = &after[end + 3..];
            continue;
        }
        let gt = rest.find('>').ok_or("unterminated tag")?;
        let tag = &rest[..gt];
        rest = &rest[gt + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            match open.pop() {
                Some(top) if top == name.trim() => continue,
                other => return Err(format!("</{name}> closes {other:?}")),
            }
        }
        let (body, empty) = match tag.strip_suffix('/') {
            Some(body) => (body, true),
            None => (tag, false),
        };
        let name_end = body.find(|c: char| c.is_whitespace()).unwrap_or(body.len());
        let name = &body[..name_end];
        if !is_name(name) {
            return Err(format!("bad element name {name:?}"));
        }
        if open.is_empty() {
            roots += 1;
            if roots > 1 {
                return Err("more than one root element".into());
            }
        }
        let mut attrs = HashMap::new();
        let mut a = body[name_end..].trim_start();
        while !a.is_empty() {
            let eq = a
                .find('=')
                .ok_or_else(|| format!("attribute without value in <{name}>"))?;
            let key = a[..eq].trim();
            if !is_name(key) {
                return Err(format!("bad attribute name {key:?} in <{name}>"));
            }
            let after = a[eq + 1..].trim_start();
            let quote = after
                .chars()
                .next()
                .filter(|q| *q == '"' || *q == '\'')
                .ok_or_else(|| format!("unquoted value of {key} in <{name}>"))?;
            let close = after[1..]
                .find(quote)
                .ok_or_else(|| format!("unterminated value of {key} in <{name}>"))?;
            let value = &after[1..1 + close];
            check_chars(value)?;
            if attrs.insert(key.to_string(), value.to_string()).is_some() {
                return Err(format!("attribute {key} twice in <{name}>"));
            }
            a = after[close + 2..].trim_start();
        }
        elements.push(Element {
            name: name.to_string(),
            attrs,
        });
        if !empty {
            open.push(name.to_string());
        }
    }
    if let Some(top) = open.pop() {
        return Err(format!("<{top}> is never closed"));
    }
    if roots != 1 {
        return Err("no root element".into());
    }
    Ok(elements)
}

#[test]
fn the_xml_check_refuses_broken_documents() {
    assert!(parse_xml(r#"<svg a="1"><circle r="5"/><text>a &amp; b</text></svg>"#).is_ok());
    for bad in [
        "<svg><g></svg>",
        "<svg></svg><svg></svg>",
        r#"<svg a=1></svg>"#,
        r#"<svg a="1" a="2"></svg>"#,
        "<svg>a & b</svg>",
        "<svg>a < b</svg>",
        "<svg><text></svg></text>",
        "<svg>",
    ] {
        assert!(parse_xml(bad).is_err(), "{bad}");
    }
}

fn small_network() -> (Arc<SimNetwork>, SimConfig) {
    // The default network's churn and loss, smaller: dead contacts and
    // timeouts appear, so every colour is exercised.
    let config = SimConfig {
        nodes: 1_000,
        lookups: 3,
        value_lookups: 0,
        seed: 5,
        ..SimConfig::default()
    };
    (Arc::new(sim::build_network(&config)), config)
}

fn trace(net: &Arc<SimNetwork>, config: &SimConfig, strategy: StrategyName, task: usize) -> Trace {
    let tasks = sim::make_tasks(net, config);
    let lookup = LookupConfig {
        strategy,
        k: config.k,
        ..LookupConfig::default()
    };
    trace_lookup(net, &tasks[task], &lookup.into())
}

fn circles_with_radius(elements: &[Element], r: u32) -> Vec<&Element> {
    let r = r.to_string();
    elements
        .iter()
        .filter(|e| e.name == "circle" && e.attrs.get("r") == Some(&r))
        .collect()
}

fn hex(c: plotters::style::RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

#[test]
fn every_strategy_draws_well_formed_svg_with_one_dot_per_request() {
    let (net, config) = small_network();
    for strategy in StrategyName::ALL {
        for task in 0..config.lookups {
            let t = trace(&net, &config, strategy, task);
            let stats = t.outcome.stats;
            // The trace agrees with the lookup's own counts.
            assert_eq!(t.requests.len(), stats.requests as usize, "{strategy}");
            assert_eq!(
                t.count(RequestOutcome::Answered),
                stats.responses as usize,
                "{strategy}"
            );
            assert_eq!(
                t.count(RequestOutcome::Failed),
                stats.failures as usize,
                "{strategy}"
            );
            let svg = t.to_svg().unwrap();
            let elements = parse_xml(&svg).unwrap_or_else(|e| panic!("{strategy}: {e}"));
            assert_eq!(elements[0].name, "svg");
            let dots = circles_with_radius(&elements, REQUEST_DOT_RADIUS);
            assert_eq!(dots.len(), t.requests.len(), "{strategy}");
            for outcome in RequestOutcome::ALL {
                let coloured = dots
                    .iter()
                    .filter(|e| e.attrs.get("fill") == Some(&hex(outcome.color())))
                    .count();
                assert_eq!(coloured, t.count(outcome), "{strategy} {outcome:?}");
            }
            // A ring on every member of the result (each was asked or heard
            // of in a reply, so it has a mark to ring).
            assert_eq!(
                circles_with_radius(&elements, 8).len(),
                t.outcome.result.len(),
                "{strategy}"
            );
        }
    }
}

#[test]
fn delta_returns_members_that_never_answered_and_the_others_do_not() {
    let (net, config) = small_network();
    let mut delta_dead = 0;
    for task in 0..config.lookups {
        let t = trace(&net, &config, StrategyName::Delta, task);
        delta_dead += t
            .outcome
            .result
            .iter()
            .filter(|c| t.membership(c) != Membership::Asked(RequestOutcome::Answered))
            .count();
        // The answering strategies return only nodes that answered.
        for strategy in [
            StrategyName::KActive,
            StrategyName::Kademlia,
            StrategyName::Disjoint,
        ] {
            let t = trace(&net, &config, strategy, task);
            for c in &t.outcome.result {
                assert_eq!(
                    t.membership(c),
                    Membership::Asked(RequestOutcome::Answered),
                    "{strategy}"
                );
            }
        }
    }
    assert!(delta_dead > 0, "churn should leave delta with dead members");
}

#[test]
fn query_rest_asks_more_than_alpha_at_once_in_its_last_round() {
    let (net, config) = small_network();
    let alpha = LookupConfig::default().alpha;
    let last_rounds: Vec<usize> = (0..config.lookups)
        .filter_map(|task| {
            let t = trace(&net, &config, StrategyName::QueryRest, task);
            let (at, _) = t
                .phases
                .iter()
                .find(|(_, p)| p.starts_with("query the rest"))?;
            Some(t.requests.iter().filter(|r| r.sent == *at).count())
        })
        .collect();
    assert!(!last_rounds.is_empty(), "no lookup reached its last round");
    for sent in last_rounds {
        assert!(sent > alpha, "a last round of {sent} requests");
    }
}

fn kadlab(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kadlab"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn trace_command_writes_the_picture_and_a_summary() {
    let path = std::env::temp_dir().join(format!("kadlab-trace-{}.svg", std::process::id()));
    let svg = path.to_str().unwrap();
    let (ok, stdout, stderr) = kadlab(&[
        "trace",
        "--strategy",
        "delta",
        "--nodes",
        "500",
        "--seed",
        "3",
        "--svg",
        svg,
    ]);
    assert!(ok, "{stderr}");
    for needle in [
        "delta (delta=3 budget=20 seeds=3 k=20) looked up",
        "requests",
        "answered",
        "failed or timed out",
        "Recall",
        "500 nodes, seed 3",
        svg,
    ] {
        assert!(stdout.contains(needle), "{needle}: {stdout}");
    }
    assert_eq!(stdout.lines().count(), 1, "one paragraph: {stdout}");
    let text = std::fs::read_to_string(&path).unwrap();
    let elements = parse_xml(&text).unwrap();
    assert!(!circles_with_radius(&elements, REQUEST_DOT_RADIUS).is_empty());
    // The same flags draw the same picture.
    let (ok, again, _) = kadlab(&[
        "trace",
        "--strategy",
        "delta",
        "--nodes",
        "500",
        "--seed",
        "3",
        "--svg",
        svg,
    ]);
    assert!(ok);
    assert_eq!(stdout, again);
    assert_eq!(text, std::fs::read_to_string(&path).unwrap());
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_bad_strategy_is_refused_naming_the_allowed_values() {
    let (ok, _, stderr) = kadlab(&["trace", "--strategy", "fastest", "--svg", "x.svg"]);
    assert!(!ok);
    assert!(stderr.contains("--strategy"), "{stderr}");
    assert!(stderr.contains("fastest"), "{stderr}");
    for name in StrategyName::ALL {
        assert!(stderr.contains(name.as_str()), "{name}: {stderr}");
    }
}

#[test]
fn workload_flags_are_refused_in_favour_of_lookup() {
    let (ok, _, stderr) = kadlab(&[
        "trace",
        "--strategy",
        "kademlia",
        "--lookups",
        "5",
        "--svg",
        "x.svg",
    ]);
    assert!(!ok);
    assert!(stderr.contains("--lookup N"), "{stderr}");
}
