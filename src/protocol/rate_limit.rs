//! Per-source rate limiting of incoming requests.
//!
//! A public DHT node answers anyone, and every answer costs upload bandwidth
//! and may be used to amplify a spoofed flood towards a victim. Each source
//! address gets a token bucket: a steady rate plus a burst allowance, enough
//! for any honest lookup, which asks one node only a handful of times.
//!
//! The table of buckets is itself bounded, since source addresses are free
//! to forge. A bucket that has had time to fill up again carries no
//! information (a new bucket starts full), so those are dropped first; only
//! when none are left is a live bucket forgotten, the least recently seen.

use std::collections::BTreeMap;
use std::net::SocketAddrV4;
use std::time::Duration;

use hashbrown::HashMap;

use crate::time::Time;

/// Bucket levels are kept in millionths of a token, so a rate in tokens per
/// second is the same number in units per microsecond and refills are exact
/// integer arithmetic (no float drift between runs or platforms).
const UNITS_PER_TOKEN: u64 = 1_000_000;

/// Bounds of a [`RateLimiter`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimits {
    /// Requests per second a source may sustain.
    pub per_source_per_sec: u32,
    /// Requests a source may send at once after being quiet; also the most
    /// a bucket holds.
    pub burst: u32,
    /// Most sources tracked at once; bounds memory whatever the number of
    /// (possibly forged) addresses.
    pub max_sources: usize,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            per_source_per_sec: 50,
            burst: 100,
            max_sources: 10_000,
        }
    }
}

/// One source's token bucket.
#[derive(Debug)]
struct Bucket {
    /// Tokens left, in [`UNITS_PER_TOKEN`]ths.
    level: u64,
    /// When `level` was last brought up to date.
    updated: Time,
    /// Key of this source in the recency index.
    seen: (Time, u64),
}

/// Token-bucket rate limiter keyed by source address.
///
/// Every call is O(log n) amortised: the recency index is a `BTreeMap`
/// ordered by last-seen time and a sequence number, which also makes the
/// choice of source to forget deterministic.
#[derive(Debug)]
pub struct RateLimiter {
    limits: RateLimits,
    buckets: HashMap<SocketAddrV4, Bucket>,
    /// Sources by last request, least recent first.
    recency: BTreeMap<(Time, u64), SocketAddrV4>,
    /// Capacity of a bucket, in units.
    capacity: u64,
    /// Time for an empty bucket to fill up: a source quiet this long has a
    /// full bucket, and forgetting it changes nothing.
    refill: Duration,
    seq: u64,
    limited: u64,
}

impl RateLimiter {
    /// A limiter tracking no source yet.
    pub fn new(limits: RateLimits) -> Self {
        let capacity = u64::from(limits.burst) * UNITS_PER_TOKEN;
        let refill = match u64::from(limits.per_source_per_sec) {
            0 => Duration::MAX,
            rate => Duration::from_micros(capacity.div_ceil(rate)),
        };
        RateLimiter {
            limits,
            buckets: HashMap::new(),
            recency: BTreeMap::new(),
            capacity,
            refill,
            seq: 0,
            limited: 0,
        }
    }

    /// The bounds this limiter enforces.
    pub fn limits(&self) -> &RateLimits {
        &self.limits
    }

    /// Whether a request from `from` at `now` may be served; if so, it uses
    /// up one token of that source's bucket. Refusals are counted in
    /// [`limited`](RateLimiter::limited).
    pub fn allow(&mut self, from: SocketAddrV4, now: Time) -> bool {
        self.seq += 1;
        let seen = (now, self.seq);
        let bucket = match self.buckets.get_mut(&from) {
            Some(bucket) => {
                let elapsed = u64::try_from(now.saturating_since(bucket.updated).as_micros())
                    .unwrap_or(u64::MAX);
                let refill = elapsed.saturating_mul(u64::from(self.limits.per_source_per_sec));
                bucket.level = bucket.level.saturating_add(refill).min(self.capacity);
                bucket.updated = bucket.updated.max(now);
                self.recency.remove(&bucket.seen);
                bucket.seen = seen;
                bucket
            }
            None => {
                if self.limits.max_sources == 0 {
                    // Nothing may be tracked, so nothing can be limited.
                    return self.take_fresh();
                }
                self.make_room(now);
                self.buckets.entry(from).or_insert(Bucket {
                    level: self.capacity,
                    updated: now,
                    seen,
                })
            }
        };
        self.recency.insert(seen, from);
        if bucket.level >= UNITS_PER_TOKEN {
            bucket.level -= UNITS_PER_TOKEN;
            true
        } else {
            self.limited += 1;
            false
        }
    }

    /// Number of sources tracked.
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    /// Whether no source is tracked.
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// Requests refused since the limiter was created.
    pub fn limited(&self) -> u64 {
        self.limited
    }

    /// Answer for an untracked source when `max_sources` is zero: a fresh,
    /// full bucket allows one request unless the burst is zero.
    fn take_fresh(&mut self) -> bool {
        if self.capacity >= UNITS_PER_TOKEN {
            true
        } else {
            self.limited += 1;
            false
        }
    }

    /// Frees at least one slot when the table is full: first every source
    /// quiet long enough to have a full bucket (these are at the front of the
    /// recency index), then, if that was none, the least recently seen one.
    fn make_room(&mut self, now: Time) {
        if self.buckets.len() < self.limits.max_sources {
            return;
        }
        while let Some((&(seen, seq), &addr)) = self.recency.first_key_value() {
            if seen + self.refill > now {
                break;
            }
            self.recency.remove(&(seen, seq));
            self.buckets.remove(&addr);
        }
        while self.buckets.len() >= self.limits.max_sources {
            let Some((_, addr)) = self.recency.pop_first() else {
                break;
            };
            self.buckets.remove(&addr);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn source(n: u32) -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::from(n), 6881)
    }

    fn limiter(rate: u32, burst: u32, max_sources: usize) -> RateLimiter {
        RateLimiter::new(RateLimits {
            per_source_per_sec: rate,
            burst,
            max_sources,
        })
    }

    #[test]
    fn default_limits_are_as_documented() {
        assert_eq!(
            RateLimits::default(),
            RateLimits {
                per_source_per_sec: 50,
                burst: 100,
                max_sources: 10_000
            }
        );
    }

    #[test]
    fn burst_then_refusal() {
        let mut rl = RateLimiter::new(RateLimits::default());
        let now = Time::from_millis(5);
        for _ in 0..100 {
            assert!(rl.allow(source(1), now));
        }
        assert!(!rl.allow(source(1), now));
        assert!(!rl.allow(source(1), now));
        assert_eq!(rl.limited(), 2);
        assert_eq!(rl.len(), 1);
    }

    #[test]
    fn refills_over_time() {
        let mut rl = limiter(50, 100, 10);
        for _ in 0..100 {
            assert!(rl.allow(source(1), Time::ZERO));
        }
        assert!(!rl.allow(source(1), Time::ZERO));
        // 50 per second: one token every 20 ms, and not a microsecond sooner.
        assert!(!rl.allow(source(1), Time::from_epoch(Duration::from_micros(19_999))));
        assert!(rl.allow(source(1), Time::from_millis(20)));
        assert!(!rl.allow(source(1), Time::from_millis(20)));
        // One second gives 50 more, never more than the burst.
        let t = Time::from_millis(1_020);
        for _ in 0..50 {
            assert!(rl.allow(source(1), t));
        }
        assert!(!rl.allow(source(1), t));
        let t = Time::from_millis(100_000);
        for _ in 0..100 {
            assert!(rl.allow(source(1), t));
        }
        assert!(!rl.allow(source(1), t));
    }

    #[test]
    fn sources_are_independent() {
        let mut rl = limiter(1, 3, 10);
        for _ in 0..3 {
            assert!(rl.allow(source(1), Time::ZERO));
        }
        assert!(!rl.allow(source(1), Time::ZERO));
        assert!(rl.allow(source(2), Time::ZERO));
        // Same IP, other port: another source.
        assert!(rl.allow(SocketAddrV4::new(Ipv4Addr::from(1), 1), Time::ZERO));
        assert_eq!(rl.len(), 3);
    }

    #[test]
    fn zero_rate_or_burst() {
        let mut rl = limiter(0, 2, 10);
        assert!(rl.allow(source(1), Time::ZERO));
        assert!(rl.allow(source(1), Time::ZERO));
        assert!(!rl.allow(source(1), Time::from_millis(1_000_000)));
        let mut rl = limiter(10, 0, 10);
        assert!(!rl.allow(source(1), Time::ZERO));
        let mut rl = limiter(10, 1, 0);
        assert!(rl.allow(source(1), Time::ZERO));
        assert!(rl.is_empty());
    }

    #[test]
    fn idle_sources_are_dropped_before_busy_ones() {
        // Refill of a full burst takes 2 s.
        let mut rl = limiter(50, 100, 3);
        assert!(rl.allow(source(1), Time::ZERO)); // idle by t = 2 s
        assert!(rl.allow(source(2), Time::from_millis(500))); // idle by 2.5 s
        for _ in 0..100 {
            assert!(rl.allow(source(3), Time::from_millis(1_000)));
        }
        // At 2.2 s source 1 is full again and goes; source 3 keeps its state.
        assert!(rl.allow(source(4), Time::from_millis(2_200)));
        assert_eq!(rl.len(), 3);
        // Source 3 got 60 tokens back in 1.2 s, not a fresh 100.
        let t = Time::from_millis(2_200);
        for _ in 0..60 {
            assert!(rl.allow(source(3), t));
        }
        assert!(!rl.allow(source(3), t));
        // No idle source left at 2.3 s: the least recently seen (2) goes.
        assert!(rl.allow(source(5), Time::from_millis(2_300)));
        assert_eq!(rl.len(), 3);
        // Source 2 was forgotten: it comes back (evicting source 4, now the
        // least recent) with a fresh, full bucket.
        for _ in 0..100 {
            assert!(rl.allow(source(2), Time::from_millis(2_300)));
        }
        assert!(!rl.allow(source(2), Time::from_millis(2_300)));
        assert_eq!(rl.len(), 3);
        assert!(rl.allow(source(4), Time::from_millis(2_300)));
    }

    #[test]
    fn source_bound_holds_under_100k_distinct_sources() {
        for max in [1_000usize, 10_000] {
            let mut rl = limiter(50, 100, max);
            for n in 0..100_000u32 {
                // 1000 new sources per millisecond: none goes idle.
                assert!(rl.allow(source(n), Time::from_millis(u64::from(n / 1000))));
                assert!(rl.len() <= max);
                assert_eq!(rl.recency.len(), rl.len());
            }
            assert_eq!(rl.len(), max);
        }
        // And when time passes fast enough for sources to go idle.
        let mut rl = limiter(50, 100, 1_000);
        for n in 0..100_000u32 {
            assert!(rl.allow(source(n % 5_000), Time::from_millis(u64::from(n) * 10)));
            assert!(rl.len() <= 1_000);
        }
    }
}
