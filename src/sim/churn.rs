//! Churn: when each simulated node is up.
//!
//! Sessions (up) and downtimes (down) alternate, both drawn from the same
//! distribution, so on average a node is up half the time. A node that comes
//! back keeps its id, its routing table (now stale) and its stored items.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use rand::Rng;

use crate::time::Time;

/// How long sessions last.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ChurnModel {
    /// Every node is up for the whole run.
    None,
    /// Exponential sessions and downtimes with this mean.
    Exponential {
        /// Mean session length.
        mean: Duration,
    },
    /// Weibull sessions and downtimes (shape < 1: many short sessions and a
    /// few very long ones, as measured in deployed DHTs).
    Weibull {
        /// Shape parameter.
        shape: f64,
        /// Scale parameter.
        scale: Duration,
    },
}

/// The form `--churn` accepts, for error messages.
pub const CHURN_FORMS: &str = "none, exp:<mean_seconds> or weibull:<shape>:<scale_seconds>";

impl ChurnModel {
    /// Draw one session (or downtime) length.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Option<Duration> {
        let u: f64 = rng.gen::<f64>();
        // -ln(1 - u) is an exponential variate of mean 1; u < 1 always.
        let e = -(1.0 - u).ln();
        match *self {
            ChurnModel::None => None,
            ChurnModel::Exponential { mean } => Some(mean.mul_f64(e)),
            ChurnModel::Weibull { shape, scale } => Some(scale.mul_f64(e.powf(1.0 / shape))),
        }
    }

    /// Mean session length (`None` without churn).
    pub fn mean(&self) -> Option<Duration> {
        match *self {
            ChurnModel::None => None,
            ChurnModel::Exponential { mean } => Some(mean),
            ChurnModel::Weibull { shape, scale } => Some(scale.mul_f64(gamma(1.0 + 1.0 / shape))),
        }
    }
}

/// Lanczos approximation of Γ(x) for x > 0; enough for a Weibull mean.
fn gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return std::f64::consts::PI / ((std::f64::consts::PI * x).sin() * gamma(1.0 - x));
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let sum = G[1..]
        .iter()
        .enumerate()
        .fold(G[0], |acc, (i, g)| acc + g / (x + i as f64 + 1.0));
    (2.0 * std::f64::consts::PI).sqrt() * t.powf(x + 0.5) * (-t).exp() * sum
}

impl fmt::Display for ChurnModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChurnModel::None => f.write_str("none"),
            ChurnModel::Exponential { mean } => write!(f, "exp:{}", mean.as_secs_f64()),
            ChurnModel::Weibull { shape, scale } => {
                write!(f, "weibull:{shape}:{}", scale.as_secs_f64())
            }
        }
    }
}

impl FromStr for ChurnModel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{s:?} is not a churn model; use {CHURN_FORMS}");
        let positive = |v: &str| {
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && *x > 0.0)
                .ok_or_else(bad)
        };
        let parts: Vec<&str> = s.split(':').collect();
        match parts.as_slice() {
            ["none"] => Ok(ChurnModel::None),
            ["exp", mean] => Ok(ChurnModel::Exponential {
                mean: Duration::from_secs_f64(positive(mean)?),
            }),
            ["weibull", shape, scale] => Ok(ChurnModel::Weibull {
                shape: positive(shape)?,
                scale: Duration::from_secs_f64(positive(scale)?),
            }),
            _ => Err(bad()),
        }
    }
}

/// One node's up/down history over the run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schedule {
    up_at_start: bool,
    /// Times at which the node flips between up and down, increasing.
    flips: Vec<Time>,
}

impl Schedule {
    /// A node that is always up.
    pub fn always_up() -> Schedule {
        Schedule {
            up_at_start: true,
            flips: Vec::new(),
        }
    }

    /// Draw a schedule up to `horizon`. Without churn the node is always up;
    /// otherwise it starts up with probability ½ (the stationary share for
    /// equal-mean sessions and downtimes).
    pub fn generate<R: Rng + ?Sized>(model: &ChurnModel, horizon: Time, rng: &mut R) -> Schedule {
        if *model == ChurnModel::None {
            return Schedule::always_up();
        }
        let up_at_start = rng.gen_bool(0.5);
        let mut flips = Vec::new();
        let mut t = Time::ZERO;
        while let Some(d) = model.sample(rng) {
            t = t + d.max(Duration::from_millis(1));
            if t > horizon {
                break;
            }
            flips.push(t);
        }
        Schedule { up_at_start, flips }
    }

    /// Whether the node is up at `t`.
    pub fn is_up(&self, t: Time) -> bool {
        let flipped = self.flips.partition_point(|&f| f <= t);
        self.up_at_start ^ (flipped % 2 == 1)
    }

    /// The times at which the node flips between up and down, increasing.
    pub fn flips(&self) -> &[Time] {
        &self.flips
    }

    /// Up intervals as `(from, to)`; `to` is `None` for an interval still
    /// open at the end of the schedule.
    pub fn up_intervals(&self) -> Vec<(Time, Option<Time>)> {
        let mut out = Vec::new();
        let mut up_since = self.up_at_start.then_some(Time::ZERO);
        for &f in &self.flips {
            match up_since.take() {
                Some(from) => out.push((from, Some(f))),
                None => up_since = Some(f),
            }
        }
        if let Some(from) = up_since {
            out.push((from, None));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn parses_the_documented_forms_and_rejects_others() {
        assert_eq!("none".parse::<ChurnModel>(), Ok(ChurnModel::None));
        assert_eq!(
            "exp:3600".parse::<ChurnModel>(),
            Ok(ChurnModel::Exponential {
                mean: Duration::from_secs(3600)
            })
        );
        assert!(matches!(
            "weibull:0.5:175".parse::<ChurnModel>(),
            Ok(ChurnModel::Weibull { shape, .. }) if shape == 0.5
        ));
        for bad in ["", "exp", "exp:-1", "exp:x", "weibull:1", "poisson:3"] {
            let err = bad.parse::<ChurnModel>().unwrap_err();
            assert!(err.contains("exp:<mean_seconds>"), "{err}");
        }
    }

    #[test]
    fn weibull_mean_uses_gamma() {
        let m = ChurnModel::Weibull {
            shape: 0.5,
            scale: Duration::from_secs(100),
        };
        // Γ(3) = 2.
        let mean = m.mean().unwrap().as_secs_f64();
        assert!((mean - 200.0).abs() < 1e-6, "{mean}");
        assert!((gamma(5.0) - 24.0).abs() < 1e-9);
    }

    #[test]
    fn alive_fraction_matches_the_model() {
        // Equal-mean sessions and downtimes: half the nodes up at any time.
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for model in [
            ChurnModel::Exponential {
                mean: Duration::from_secs(600),
            },
            ChurnModel::Weibull {
                shape: 0.5,
                scale: Duration::from_secs(175),
            },
        ] {
            let horizon = Time::from_millis(4 * 3600 * 1000);
            let schedules: Vec<Schedule> = (0..4000)
                .map(|_| Schedule::generate(&model, horizon, &mut rng))
                .collect();
            for minute in [0u64, 30, 60, 120, 200] {
                let t = Time::from_millis(minute * 60_000);
                let up = schedules.iter().filter(|s| s.is_up(t)).count() as f64 / 4000.0;
                assert!((up - 0.5).abs() < 0.05, "{model}: {up} up at {minute} min");
            }
        }
    }

    #[test]
    fn intervals_agree_with_is_up() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let model = ChurnModel::Exponential {
            mean: Duration::from_secs(60),
        };
        let s = Schedule::generate(&model, Time::from_millis(3_600_000), &mut rng);
        for (from, to) in s.up_intervals() {
            assert!(s.is_up(from));
            if let Some(to) = to {
                assert!(!s.is_up(to));
                assert!(s.is_up(Time::from_epoch(to.since_epoch() - Duration::from_nanos(1))));
            }
        }
        assert!(Schedule::always_up().is_up(Time::from_millis(u64::MAX / 2)));
    }
}
