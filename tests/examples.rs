//! Every example runs, and its narration says when and why the lookup
//! stopped and shows the behaviour its doc comment tells the reader to look
//! for. The example files are compiled in here as modules, so `cargo test`
//! runs their `story` functions directly (no `cargo run`); the narration
//! itself is the library's (`kadlab::narrate`).

use std::io;

use kadlab::lookup::EndReason;

#[allow(dead_code)]
#[path = "../examples/custom_strategy.rs"]
mod custom_strategy;
#[allow(dead_code)]
#[path = "../examples/delta.rs"]
mod delta;
#[allow(dead_code)]
#[path = "../examples/disjoint.rs"]
mod disjoint;
#[allow(dead_code)]
#[path = "../examples/k_active.rs"]
mod k_active;
#[allow(dead_code)]
#[path = "../examples/kademlia.rs"]
mod kademlia;
#[allow(dead_code)]
#[path = "../examples/kadlab_lookup.rs"]
mod kadlab_lookup;
#[allow(dead_code)]
#[path = "../examples/query_rest.rs"]
mod query_rest;
#[allow(dead_code)]
#[path = "../examples/side_by_side.rs"]
mod side_by_side;

/// What `story` wrote.
fn narration(story: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> String {
    let mut out = Vec::new();
    story(&mut out).expect("writing to a Vec never fails");
    String::from_utf8(out).expect("the narration is UTF-8")
}

/// The end reason after `stopped: `, which every strategy narration
/// prints once.
fn stop_reason(text: &str) -> EndReason {
    let stops: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_once("■ stopped: ").map(|(_, rest)| rest))
        .collect();
    assert_eq!(stops.len(), 1, "one stop line expected in:\n{text}");
    EndReason::ALL
        .into_iter()
        .find(|r| stops[0].starts_with(&format!("{r} — ")))
        .unwrap_or_else(|| panic!("no end reason in {:?}", stops[0]))
}

/// Every request is accounted for: one `←` line per answer and one `✗`
/// line per failure (timeouts the lookup detected itself included), as
/// many as the outcome's counters in the `Cost:` line.
fn assert_every_request_told(text: &str) {
    let events = |mark: &str| {
        text.lines()
            .filter(|l| l.trim_start().starts_with('+') && l.contains(mark))
            .count()
    };
    let cost = text
        .lines()
        .find(|l| l.starts_with("Cost: "))
        .unwrap_or_else(|| panic!("no Cost line in:\n{text}"));
    let told = format!("({} answered, {} failed)", events(" ← "), events(" ✗ "));
    assert!(cost.contains(&told), "{cost} vs {told}");
}

#[test]
fn delta_example_returns_nodes_that_never_answered() {
    let text = narration(delta::story);
    assert_every_request_told(&text);
    assert_eq!(stop_reason(&text), EndReason::BudgetSpent, "{text}");
    assert!(text.contains("its budget of 8 requests is spent"), "{text}");
    assert!(text.contains("never answered during the lookup"), "{text}");
    assert!(text.contains("never asked"), "{text}");
}

#[test]
fn query_rest_example_enters_its_query_the_rest_round() {
    let text = narration(query_rest::story);
    assert_every_request_told(&text);
    assert_eq!(stop_reason(&text), EndReason::Converged, "{text}");
    assert!(text.contains("rule: round 2"), "{text}");
    assert!(text.contains("rule: query the rest"), "{text}");
}

#[test]
fn k_active_example_switches_to_phase_2() {
    let text = narration(k_active::story);
    assert_every_request_told(&text);
    assert_eq!(stop_reason(&text), EndReason::Converged, "{text}");
    assert!(text.contains("rule: phase 1"), "{text}");
    assert!(text.contains("rule: phase 2"), "{text}");
    assert!(text.contains("Every returned node answered"), "{text}");
}

#[test]
fn kademlia_example_widens() {
    let text = narration(kademlia::story);
    assert_every_request_told(&text);
    assert_eq!(stop_reason(&text), EndReason::Converged, "{text}");
    assert!(text.contains("rule: widened"), "{text}");
    assert!(text.contains("gave no answer within 2000 ms"), "{text}");
    assert!(text.contains("Every returned node answered"), "{text}");
}

#[test]
fn kadlab_lookup_example_shows_the_gate_the_hedges_and_the_stop() {
    let text = narration(kadlab_lookup::story);
    assert_every_request_told(&text);
    assert_eq!(stop_reason(&text), EndReason::Converged, "{text}");
    // The hedges: requests became suspect and the next went beside them.
    assert!(text.contains("(1 suspect now)"), "{text}");
    assert!(text.contains("(2 suspect now)"), "{text}");
    // The stop: before any suspect's 2 s timeout, with requests still out.
    assert!(text.contains("done when the β=4 closest"), "{text}");
    assert!(text.contains("it did not wait for the"), "{text}");
    assert!(!text.contains("gave no answer within 2000 ms"), "{text}");
}

#[test]
fn disjoint_example_labels_every_request_with_its_path() {
    let text = narration(disjoint::story);
    assert_every_request_told(&text);
    // The paths together found k answering nodes.
    assert_eq!(stop_reason(&text), EndReason::Converged, "{text}");
    // Paths are counted from 1 everywhere people read them.
    for p in 1..=4 {
        assert!(text.contains(&format!("→ path {p} asks")), "{text}");
    }
    assert!(!text.contains("path 0"), "{text}");
    assert!(text.contains("path 4 ended"), "{text}");
    assert!(text.contains("belong to other paths"), "{text}");
    // Every reply and failure line names its path.
    let events = text.lines().filter(|l| l.trim_start().starts_with('+'));
    for line in events.filter(|l| l.contains(" ← ") || l.contains(" ✗ ")) {
        assert!(line.contains("[path "), "{line}");
    }
}

#[test]
fn side_by_side_example_compares_every_strategy() {
    let text = narration(side_by_side::story);
    for s in kadlab::lookup::StrategyName::ALL {
        assert!(
            text.contains(&format!("\n{:<11} ", s.as_str())),
            "{s} row in {text}"
        );
        assert!(
            text.contains(&format!("- {s} asked")),
            "{s} sentence in {text}"
        );
    }
    assert!(text.contains("stopped with BudgetSpent"), "{text}");
    assert!(text.contains("stopped with Converged"), "{text}");
    assert!(text.contains("nodes that never answered"), "{text}");
    // disjoint's story: a path of it ran dry, and the summary says why the
    // lookup still counts as Converged instead of contradicting the path.
    assert!(text.contains("ended Exhausted"), "{text}");
    assert!(
        text.contains(
            "disjoint: it counts as Converged although some of its paths ended Exhausted"
        ),
        "{text}"
    );
}

#[test]
fn custom_strategy_example_compares_and_tells_an_outside_rule() {
    let text = narration(|out| custom_strategy::story(out, &custom_strategy::network()));
    // The compare table has a row for the outside rule, beside the
    // built-in ones, and it converged on every FIND_NODE lookup.
    let row = text
        .lines()
        .find(|l| l.starts_with("greedy-fallback "))
        .unwrap_or_else(|| panic!("no greedy-fallback row in:\n{text}"));
    assert!(row.contains("alpha=1→3 seeds=20 k=20"), "{row}");
    assert!(row.ends_with("Converged:200"), "{row}");
    for s in kadlab::lookup::StrategyName::ALL {
        assert!(
            text.lines().any(|l| l.starts_with(&format!("{s} "))),
            "{s} row in {text}"
        );
    }
    // The narration names the rule, tells its own phases, accounts for
    // every request and ends with a reason; the rule returns only nodes
    // that answered.
    let story = text
        .split_once("== greedy-fallback (alpha=1→3 seeds=8 k=8) ==")
        .map(|(_, story)| story)
        .unwrap_or_else(|| panic!("no greedy-fallback narration in:\n{text}"));
    assert_every_request_told(story);
    assert_eq!(stop_reason(story), EndReason::Converged, "{story}");
    assert!(
        story.contains("rule: greedy: one request at a time"),
        "{story}"
    );
    assert!(story.contains("rule: fallback ("), "{story}");
    assert!(story.contains("Every returned node answered"), "{story}");
}

#[test]
fn narration_is_deterministic() {
    assert_eq!(narration(kademlia::story), narration(kademlia::story));
}
