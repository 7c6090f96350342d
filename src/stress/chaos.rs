//! The chaos drawn for each lookup or bootstrap, its parameters, and the
//! kinds of chaos counted in the report.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::StressConfig;
use crate::lookup::{Budget, LookupConfig, StrategyName};

pub(super) fn chance(rng: &mut ChaCha8Rng, p: f64) -> bool {
    rng.gen::<f64>() < p
}

/// The chaos of one lookup or bootstrap: probabilities and scales.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Chaos {
    pub(super) loss: f64,
    pub(super) dead: f64,
    pub(super) dying: f64,
    pub(super) unreachable: f64,
    pub(super) error: f64,
    pub(super) late: f64,
    pub(super) duplicate: f64,
    pub(super) failure_then_reply: f64,
    pub(super) reply_then_failure: f64,
    pub(super) driver_timeout: f64,
    pub(super) garbage: f64,
    pub(super) oversized: f64,
    pub(super) empty: f64,
    pub(super) outsider_answers: f64,
    pub(super) unsolicited: f64,
    pub(super) hold: f64,
    pub(super) bad_value: f64,
    pub(super) latency_us: u64,
}

impl Chaos {
    pub(super) fn draw(rng: &mut ChaCha8Rng) -> Chaos {
        let latency_us = rng.gen_range(2_000..=300_000);
        if chance(rng, 0.1) {
            // A calm network, so that stopping rules are reached too.
            return Chaos {
                hold: rng.gen_range(0.0..=1.0),
                latency_us,
                ..Chaos::default()
            };
        }
        Chaos {
            loss: rng.gen_range(0.0..=0.6),
            dead: rng.gen_range(0.0..=0.5),
            dying: rng.gen_range(0.0..=0.3),
            unreachable: rng.gen_range(0.0..=1.0),
            error: rng.gen_range(0.0..=0.1),
            late: rng.gen_range(0.0..=0.15),
            duplicate: rng.gen_range(0.0..=0.15),
            failure_then_reply: rng.gen_range(0.0..=0.05),
            reply_then_failure: rng.gen_range(0.0..=0.05),
            driver_timeout: rng.gen_range(0.0..=1.0),
            garbage: rng.gen_range(0.0..=0.3),
            oversized: rng.gen_range(0.0..=0.05),
            empty: rng.gen_range(0.0..=0.1),
            outsider_answers: rng.gen_range(0.0..=0.3),
            unsolicited: rng.gen_range(0.0..=0.3),
            hold: rng.gen_range(0.0..=0.5),
            bad_value: rng.gen_range(0.0..=0.2),
            latency_us,
        }
    }
}

/// The chaos the harness injected, by kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Inject {
    Lost,
    DeadNode,
    DiedDuring,
    Unreachable,
    ErrorReply,
    LateReply,
    DuplicateReply,
    FailureThenReply,
    ReplyThenFailure,
    DriverTimeout,
    RandomContact,
    LocalInReply,
    TargetInReply,
    DuplicateContact,
    OtherAddress,
    OversizedReply,
    EmptyReply,
    Misaddressed,
    OutsiderAnswer,
    UnsolicitedReply,
    UnsolicitedFailure,
    GoodValue,
    BadValue,
    ValueInFindNode,
    LocalSeed,
    NoSeeds,
    PingAnswered,
    PingUnanswered,
}

impl Inject {
    pub(super) const COUNT: usize = 28;
    pub(super) const NAMES: [&'static str; Inject::COUNT] = [
        "lost",
        "dead_node",
        "died_during_lookup",
        "unreachable",
        "error_reply",
        "late_reply",
        "duplicate_reply",
        "failure_then_reply",
        "reply_then_failure",
        "driver_timeout",
        "random_contact",
        "local_in_reply",
        "target_in_reply",
        "duplicate_contact",
        "known_id_other_address",
        "oversized_reply",
        "empty_reply",
        "misaddressed_request",
        "outsider_answer",
        "unsolicited_reply",
        "unsolicited_failure",
        "good_value",
        "bad_value",
        "value_in_find_node",
        "local_seed",
        "no_seeds",
        "ping_answered",
        "ping_unanswered",
    ];
}

/// The lookup parameters drawn for one lookup or bootstrap: k is the
/// configured one in a third of the lookups, else uniform in `1..=k`; α
/// (and δ) the configured one in half, else uniform in `1..=2α` (capped at
/// 64); `delta`'s budget k (60 %) or uniform in `1..=3k`; the per-request
/// timeout 0.2–3 s, `query-rest`'s round timeout 0.1–4 s.
pub(super) fn draw_lookup_config(
    config: &StressConfig,
    strategy: StrategyName,
    rng: &mut ChaCha8Rng,
) -> LookupConfig {
    let k = if chance(rng, 1.0 / 3.0) {
        config.k
    } else {
        rng.gen_range(1..=config.k)
    };
    let alpha = if chance(rng, 0.5) {
        config.alpha
    } else {
        rng.gen_range(1..=(2 * config.alpha).min(64))
    };
    let base = LookupConfig {
        k,
        alpha,
        delta: alpha,
        ..config.lookup_config()
    };
    let k = k as u32;
    let budget = match rng.gen_range(0..100) {
        // budget = none: the seed's literal rule, ended by its safety stop.
        0..=4 => Budget::Unlimited,
        5..=60 => Budget::Requests(k),
        _ => Budget::Requests(rng.gen_range(1..=3 * k)),
    };
    // Now and then an explicit number of starting contacts, from 1 to k.
    let seeds = chance(rng, 0.25).then(|| rng.gen_range(1..=k as usize));
    LookupConfig {
        budget,
        rpc_timeout_ms: rng.gen_range(200..=3000),
        round_timeout_ms: rng.gen_range(100..=4000),
        seeds,
        ..base.with_strategy(strategy)
    }
}
