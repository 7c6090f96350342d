//! S/Kademlia's attack experiment: forging adversaries, the paper's
//! success criterion over paths' routes, and the `s-kademlia` preset.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use kadlab::cli::compare::{NetworkArgs, Preset};
use kadlab::cli::eclipse::{self, Sweep};
use kadlab::contact::Contact;
use kadlab::driver::{DriverEvent, DriverObserver};
use kadlab::id::{NodeId, ID_LEN};
use kadlab::lookup::StrategyName;
use kadlab::protocol::Request;
use kadlab::sim::routes::{PathRoute, RequestLog};
use kadlab::sim::{self, AdversaryMode, SimNetwork};
use kadlab::time::Time;
use kadlab::transport::TransportError;

/// A static network of `nodes` with a fraction 0.3 of forging adversaries.
fn forging_network(nodes: usize) -> SimNetwork {
    let config = sim::SimConfig {
        nodes,
        k: 16,
        churn: sim::ChurnModel::None,
        loss: 0.0,
        adversaries: sim::Adversaries {
            fraction: 0.3,
            mode: AdversaryMode::Forge,
            ..sim::Adversaries::default()
        },
        ..sim::SimConfig::default()
    };
    sim::build_network(&config)
}

fn first(net: &SimNetwork, adversary: bool) -> u32 {
    (0..net.nodes.len() as u32)
        .find(|&n| net.nodes[n as usize].adversary == adversary)
        .unwrap()
}

#[test]
fn forged_replies_are_close_to_the_target_at_adversaries_and_all_differ() {
    let net = forging_network(600);
    let target: NodeId = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a".parse().unwrap();
    let liar = first(&net, true);
    let honest_ids: Vec<NodeId> = net
        .nodes
        .iter()
        .filter(|n| !n.adversary)
        .map(|n| n.contact.id)
        .collect();
    let closest_honest = honest_ids
        .iter()
        .map(|id| id.distance(&target))
        .min()
        .unwrap();
    let now = Time::from_epoch(Duration::from_secs(10));
    let claimed = net.nodes[liar as usize].contact.id;
    let reply = net.forge(liar, &claimed, now, &target);
    assert_eq!(reply.len(), 16);
    for c in &reply {
        // Ids sharing at least two bytes with the target, closer than any
        // honest node; addresses of adversaries; never a real contact.
        assert_eq!(c.id.0[..2], target.0[..2], "{c:?}");
        assert!(c.id.distance(&target) < closest_honest, "{c:?}");
        assert!(net.is_adversary_at(c), "{c:?}");
        assert_eq!(net.index_of(c), None, "{c:?}");
    }
    assert!(reply
        .windows(2)
        .all(|w| w[0].id.distance(&target) < w[1].id.distance(&target)));
    // Same inputs, same lies; another claimed id, time or responder, others.
    assert_eq!(net.forge(liar, &claimed, now, &target), reply);
    let other_claim = net.forge(liar, &reply[0].id, now, &target);
    let later = net.forge(liar, &claimed, now + Duration::from_millis(1), &target);
    let liar2 = (liar + 1..net.nodes.len() as u32)
        .find(|&n| net.nodes[n as usize].adversary)
        .unwrap();
    let other_liar = net.forge(liar2, &claimed, now, &target);
    for other in [&other_claim, &later, &other_liar] {
        assert!(other.iter().all(|c| !reply.iter().any(|r| r.id == c.id)));
    }
}

#[test]
fn requests_go_by_address_and_answers_under_another_id_are_refused() {
    let net = Arc::new(forging_network(400));
    let target: NodeId = "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f".parse().unwrap();
    let origin = first(&net, false);
    let honest = (origin + 1..net.nodes.len() as u32)
        .find(|&n| !net.nodes[n as usize].adversary)
        .unwrap();
    let liar = first(&net, true);
    {
        let request =
            |to: Contact, request: &Request| net.request_now(origin, &to, request, Time::ZERO);
        let find = Request::FindNode { target };
        // A forged contact: a made-up id at the liar's address. The liar
        // gets the request and answers as the claimed id, with more lies.
        let mut made_up = target;
        made_up.0[ID_LEN - 1] ^= 0x55;
        let forged = Contact::new(made_up, net.nodes[liar as usize].contact.addr);
        let answer = request(forged, &find).unwrap();
        assert_eq!(answer.id, made_up);
        assert_eq!(answer.contacts.len(), 16);
        assert!(answer.contacts.iter().all(|c| net.is_adversary_at(c)));
        // An honest node's id at the liar's address: answered as that id
        // (the liar lies), and still not that node for the truth.
        let honest_id = net.nodes[honest as usize].contact.id;
        let stolen = Contact::new(honest_id, net.nodes[liar as usize].contact.addr);
        assert_eq!(request(stolen, &find).unwrap().id, honest_id);
        assert_eq!(net.index_of(&stolen), None);
        // An honest node asked under another id answers as itself, and
        // the transport refuses that answer, as UdpRpc does.
        let wrong = Contact::new(made_up, net.nodes[honest as usize].contact.addr);
        let error = request(wrong, &find).unwrap_err();
        assert!(matches!(error, TransportError::BadResponse(_)), "{error:?}");
        // Asked under its own id, it answers honestly.
        let right = net.nodes[honest as usize].contact;
        let answer = request(right, &find).unwrap();
        assert_eq!(answer.id, right.id);
        assert!(answer.contacts.iter().all(|c| net.index_of(c).is_some()));
    }
}

/// An id at XOR distance `d` (in the first byte) from the zero target.
fn at(d: u8, index: u32) -> Contact {
    let mut id = [0u8; ID_LEN];
    id[0] = d;
    id[ID_LEN - 1] = index as u8;
    Contact::simulated(NodeId(id), index)
}

#[test]
fn the_paper_criterion_follows_each_path_to_its_first_reply_without_progress() {
    let target = NodeId::ZERO;
    let local = at(0xff, 99);
    // Path 0: seed a (honest) → b (honest) → c (an adversary): its route
    // meets an adversary. Path 1: seed e → f, whose reply brings only a
    // contact closer than f that path 0 claimed (b) and one farther (g):
    // nothing closer for path 1, so its route is e, f, clean; then, widened,
    // it asks g, an adversary.
    let (a, b, c, d) = (at(0x80, 1), at(0x20, 2), at(0x10, 3), at(0x08, 4));
    let (e, f, g) = (at(0x90, 5), at(0x40, 6), at(0x50, 7));
    let path = |id: &NodeId| -> Option<usize> {
        [(a, 0), (b, 0), (c, 0), (d, 0), (e, 1), (f, 1), (g, 1)]
            .iter()
            .find(|(x, _)| x.id == *id)
            .map(|&(_, p)| p)
    };
    let adversary = |x: &Contact| [c.id, g.id].contains(&x.id);
    let mut log = RequestLog::default();
    let t = Time::ZERO;
    for event in [
        DriverEvent::Sent(t, vec![a, e]),
        DriverEvent::Replied(t, a, vec![b, local]),
        DriverEvent::Sent(t, vec![b]),
        DriverEvent::Replied(t, e, vec![f]),
        DriverEvent::Sent(t, vec![f]),
        DriverEvent::Replied(t, b, vec![c]),
        DriverEvent::Sent(t, vec![c]),
        DriverEvent::Replied(t, f, vec![b, g]),
        DriverEvent::Sent(t, vec![g]),
        DriverEvent::Replied(t, c, vec![d]),
        DriverEvent::Sent(t, vec![d]),
        DriverEvent::Replied(t, g, vec![]),
    ] {
        log.event(event);
    }
    let paths = log.paths(&target, &local.id, path, adversary);
    assert_eq!(
        paths,
        vec![
            PathRoute {
                requests: 4,
                to_adversaries: 1,
                route: 4,
                route_to_adversaries: 1,
                hops: 4,
            },
            PathRoute {
                requests: 3,
                to_adversaries: 1,
                route: 2,
                route_to_adversaries: 0,
                hops: 2,
            },
        ]
    );
    assert!(!paths[0].route_clean() && !paths[0].clean());
    assert!(paths[1].route_clean() && !paths[1].clean());
    // Read as a single-path strategy, the log is one path whose closest
    // contact is b once a answered: e's reply (f, farther than b) brings
    // nothing closer, so the route is a, e, b, clean, and c and g come
    // after it.
    let single = log.paths(&target, &local.id, |_| None, adversary);
    assert_eq!(single.len(), 1);
    assert_eq!((single[0].requests, single[0].route), (7, 3));
    assert!(single[0].route_clean() && !single[0].clean());
}

fn small_sweep(nodes: usize, lookups: usize) -> kadlab::cli::compare::Resolved {
    let args = NetworkArgs {
        preset: Some(Preset::SKademlia),
        nodes: Some(nodes),
        lookups: Some(lookups),
        quiet: true,
        ..NetworkArgs::default()
    };
    args.resolve(Some(&[StrategyName::Disjoint])).unwrap()
}

#[test]
fn paper_success_falls_with_f_and_rises_with_d() {
    let resolved = small_sweep(1000, 20);
    assert_eq!(resolved.lookup.alpha, 1);
    assert_eq!(resolved.lookup.k, 16);
    assert_eq!(resolved.sim.adversaries.mode, AdversaryMode::Forge);
    let sweep = Sweep {
        name: "test",
        fractions: &[0.0, 0.4, 0.7],
        paths: &[1, 4],
    };
    let report = eclipse::measure(&resolved, &sweep, true);
    assert_eq!(
        report.curves.iter().map(|c| c.paths).collect::<Vec<_>>(),
        [Some(1), Some(4)]
    );
    let paper: Vec<Vec<f64>> = report
        .curves
        .iter()
        .map(|c| c.points.iter().map(|p| p.paper_success).collect())
        .collect();
    for curve in &paper {
        assert_eq!(curve[0], 1.0, "{paper:?}");
        assert!(curve[0] > curve[1] && curve[1] > curve[2], "{paper:?}");
    }
    for f in 1..3 {
        assert!(paper[1][f] > paper[0][f] + 0.2, "{paper:?}");
    }
    for c in &report.curves {
        for p in &c.points[1..] {
            // Each path's route is part of what it sent, so the strict
            // criterion is at most the paper's.
            assert!(p.strict_success <= p.paper_success, "{c:?}");
        }
        let model = c.model.as_ref().unwrap();
        assert_eq!(model[0], 1.0);
        assert!(model[1] > model[2]);
        assert!(c.model_hops.unwrap() >= 1.0);
    }
}

#[test]
fn the_same_seed_gives_byte_identical_json() {
    let resolved = small_sweep(200, 6);
    let sweep = Sweep {
        name: "test",
        fractions: &[0.0, 0.5],
        paths: &[1, 2],
    };
    let json = || serde_json::to_string_pretty(&eclipse::measure(&resolved, &sweep, true)).unwrap();
    let first = json();
    assert_eq!(first, json());
    let other = kadlab::cli::compare::Resolved {
        sim: sim::SimConfig {
            seed: 2,
            ..resolved.sim.clone()
        },
        ..resolved.clone()
    };
    let changed = serde_json::to_string_pretty(&eclipse::measure(&other, &sweep, true)).unwrap();
    assert_ne!(first, changed);
}

#[test]
fn the_preset_writes_its_report_and_plot() {
    let dir = std::env::temp_dir().join(format!("kadlab-s-kademlia-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_kadlab"))
        .args([
            "compare",
            "--preset",
            "s-kademlia",
            "--nodes",
            "200",
            "--lookups",
            "5",
            "--strategies",
            "kademlia",
            "--quiet",
            "--format",
            "json",
            "--out",
            dir.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join("s-kademlia.json")).unwrap(),
        stdout
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let settings = &report["settings"];
    assert_eq!(settings["adversary_mode"], "forge");
    assert_eq!(settings["alpha"], 1);
    assert_eq!(settings["k"], 16);
    assert_eq!(settings["fractions"].as_array().unwrap().len(), 10);
    let points = report["curves"][0]["points"].as_array().unwrap();
    assert_eq!(points.len(), 10);
    for key in [
        "f",
        "success",
        "paper_success",
        "strict_success",
        "recall",
        "rpcs",
        "rounds",
        "route_hops",
    ] {
        assert!(points[0].get(key).is_some(), "missing {key}");
    }
    let svg = std::fs::read_to_string(dir.join("success_vs_f.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("S/Kademlia"));
    let _ = std::fs::remove_dir_all(&dir);
}
