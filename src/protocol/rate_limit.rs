//! Rate limiting of incoming requests, per source address and per IP.
//!
//! A public DHT node answers anyone, and every answer costs upload bandwidth
//! and may be used to amplify a spoofed flood towards a victim. Requests are
//! limited at two levels, each a token bucket per key (a steady rate plus a
//! burst allowance):
//!
//! - per source address (IP and port): enough for any honest lookup, which
//!   asks one node only a handful of times;
//! - per IP: a flood spread over many ports of one machine gets a fresh
//!   per-address bucket on every port, so the IP as a whole has a limit
//!   too, well above what one honest machine sends (loopback swarms run
//!   dozens of honest nodes on 127.0.0.1).
//!
//! A request is served only if both buckets hold a token, and then takes
//! one from each; a refusal takes nothing and is counted under the level
//! that refused it (the source level is checked first).
//!
//! Each table of buckets is itself bounded, since addresses are free to
//! forge. A bucket that has had time to fill up again carries no
//! information (a new bucket starts full), so those are dropped first; only
//! when none are left is a live bucket forgotten, the least recently seen.

use std::collections::BTreeMap;
use std::hash::Hash;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use hashbrown::HashMap;

use crate::time::Time;

/// Bucket levels are kept in millionths of a token, so a rate in tokens per
/// second is the same number in units per microsecond and refills are exact
/// integer arithmetic (no float drift between runs or platforms).
const UNITS_PER_TOKEN: u64 = 1_000_000;

/// Bounds of a [`RateLimiter`].
///
/// The defaults: each source address may send 50 queries per second
/// (bursts of 100), each IP 1,000 per second (bursts of 2,000), and at most
/// 10,000 addresses and 10,000 IPs are tracked at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimits {
    /// Requests per second a source address (IP and port) may sustain.
    pub per_source_per_sec: u32,
    /// Requests a source address may send at once after being quiet; also
    /// the most its bucket holds.
    pub burst: u32,
    /// Most source addresses tracked at once; bounds memory whatever the
    /// number of (possibly forged) addresses.
    pub max_sources: usize,
    /// Requests per second one IP may sustain over all its ports. Must stay
    /// well above what honest nodes sharing an IP send: a loopback swarm
    /// puts every node on 127.0.0.1.
    pub per_ip_per_sec: u32,
    /// Requests one IP may send at once after being quiet; also the most
    /// its bucket holds.
    pub ip_burst: u32,
    /// Most IPs tracked at once.
    pub max_ips: usize,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            per_source_per_sec: 50,
            burst: 100,
            max_sources: 10_000,
            per_ip_per_sec: 1_000,
            ip_burst: 2_000,
            max_ips: 10_000,
        }
    }
}

/// One key's token bucket.
#[derive(Debug)]
struct Bucket {
    /// Tokens left, in [`UNITS_PER_TOKEN`]ths.
    level: u64,
    /// When `level` was last brought up to date.
    updated: Time,
    /// Key of this bucket in the recency index.
    seen: (Time, u64),
}

/// Whether `bucket` (or, for `None`, a fresh one holding `capacity`) holds
/// a whole token.
fn has_token(bucket: Option<&Bucket>, capacity: u64) -> bool {
    bucket.map_or(capacity, |b| b.level) >= UNITS_PER_TOKEN
}

/// The buckets of one level (source addresses or IPs), bounded in number.
#[derive(Debug)]
struct Level<K> {
    /// Tokens per second, which is also units per microsecond.
    rate: u64,
    /// Capacity of a bucket, in units.
    capacity: u64,
    /// Time for an empty bucket to fill up: a key quiet this long has a
    /// full bucket, and forgetting it changes nothing.
    refill: Duration,
    /// Most keys tracked at once.
    max: usize,
    buckets: HashMap<K, Bucket>,
    /// Keys by last request, least recent first.
    recency: BTreeMap<(Time, u64), K>,
    /// Requests this level refused.
    limited: u64,
}

impl<K: Copy + Eq + Hash> Level<K> {
    fn new(per_sec: u32, burst: u32, max: usize) -> Self {
        let capacity = u64::from(burst) * UNITS_PER_TOKEN;
        let rate = u64::from(per_sec);
        let refill = match rate {
            0 => Duration::MAX,
            rate => Duration::from_micros(capacity.div_ceil(rate)),
        };
        Level {
            rate,
            capacity,
            refill,
            max,
            buckets: HashMap::new(),
            recency: BTreeMap::new(),
            limited: 0,
        }
    }

    /// Bring `key`'s bucket up to date at `seen.0` and mark it seen at
    /// `seen`, creating a full one (after making room) if `key` is new.
    /// `None` if this level tracks nothing (`max` is zero): the key then
    /// behaves as a fresh, full bucket every time.
    fn touch(&mut self, key: K, seen: (Time, u64)) -> Option<&mut Bucket> {
        let now = seen.0;
        if self.max == 0 {
            return None;
        }
        if !self.buckets.contains_key(&key) {
            self.make_room(now);
        }
        let capacity = self.capacity;
        let rate = self.rate;
        let bucket = self.buckets.entry(key).or_insert(Bucket {
            level: capacity,
            updated: now,
            seen,
        });
        let elapsed =
            u64::try_from(now.saturating_since(bucket.updated).as_micros()).unwrap_or(u64::MAX);
        bucket.level = bucket
            .level
            .saturating_add(elapsed.saturating_mul(rate))
            .min(capacity);
        bucket.updated = bucket.updated.max(now);
        self.recency.remove(&bucket.seen);
        bucket.seen = seen;
        self.recency.insert(seen, key);
        Some(bucket)
    }

    /// Frees at least one slot when the table is full: first every key
    /// quiet long enough to have a full bucket (these are at the front of
    /// the recency index), then, if that was none, the least recently seen
    /// one.
    fn make_room(&mut self, now: Time) {
        if self.buckets.len() < self.max {
            return;
        }
        while let Some((&(seen, seq), &key)) = self.recency.first_key_value() {
            if seen + self.refill > now {
                break;
            }
            self.recency.remove(&(seen, seq));
            self.buckets.remove(&key);
        }
        while self.buckets.len() >= self.max {
            let Some((_, key)) = self.recency.pop_first() else {
                break;
            };
            self.buckets.remove(&key);
        }
    }
}

/// Token-bucket rate limiter keyed by source address and by IP.
///
/// Every call is O(log n) amortised: each level's recency index is a
/// `BTreeMap` ordered by last-seen time and a sequence number, which also
/// makes the choice of key to forget deterministic.
#[derive(Debug)]
pub struct RateLimiter {
    limits: RateLimits,
    sources: Level<SocketAddrV4>,
    ips: Level<Ipv4Addr>,
    seq: u64,
}

impl RateLimiter {
    /// A limiter tracking no source yet.
    pub fn new(limits: RateLimits) -> Self {
        RateLimiter {
            sources: Level::new(limits.per_source_per_sec, limits.burst, limits.max_sources),
            ips: Level::new(limits.per_ip_per_sec, limits.ip_burst, limits.max_ips),
            limits,
            seq: 0,
        }
    }

    /// The bounds this limiter enforces.
    pub fn limits(&self) -> &RateLimits {
        &self.limits
    }

    /// Whether a request from `from` at `now` may be served; if so, it uses
    /// up one token of that source address's bucket and one of its IP's.
    /// Refusals are counted per level ([`limited_source`],
    /// [`limited_ip`]).
    ///
    /// [`limited_source`]: RateLimiter::limited_source
    /// [`limited_ip`]: RateLimiter::limited_ip
    pub fn allow(&mut self, from: SocketAddrV4, now: Time) -> bool {
        self.seq += 1;
        let seen = (now, self.seq);
        let (source_capacity, ip_capacity) = (self.sources.capacity, self.ips.capacity);
        let source = self.sources.touch(from, seen);
        let ip = self.ips.touch(*from.ip(), seen);
        if !has_token(source.as_deref(), source_capacity) {
            self.sources.limited += 1;
            tracing::debug!(%from, "datagram dropped: rate limit of its address");
            return false;
        }
        if !has_token(ip.as_deref(), ip_capacity) {
            self.ips.limited += 1;
            tracing::debug!(%from, "datagram dropped: rate limit of its IP");
            return false;
        }
        for bucket in [source, ip].into_iter().flatten() {
            bucket.level -= UNITS_PER_TOKEN;
        }
        true
    }

    /// Number of source addresses tracked.
    pub fn len(&self) -> usize {
        self.sources.buckets.len()
    }

    /// Number of IPs tracked.
    pub fn ips(&self) -> usize {
        self.ips.buckets.len()
    }

    /// Whether no source address and no IP is tracked.
    pub fn is_empty(&self) -> bool {
        self.sources.buckets.is_empty() && self.ips.buckets.is_empty()
    }

    /// Requests refused since the limiter was created, at either level.
    pub fn limited(&self) -> u64 {
        self.sources.limited + self.ips.limited
    }

    /// Requests refused because their source address was over its limit.
    pub fn limited_source(&self) -> u64 {
        self.sources.limited
    }

    /// Requests refused because their IP was over its limit (their source
    /// address was not).
    pub fn limited_ip(&self) -> u64 {
        self.ips.limited
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn source(n: u32) -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::from(n), 6881)
    }

    /// A limiter with only the per-address level in effect (the per-IP one
    /// never refuses), for the tests of that level.
    fn limiter(rate: u32, burst: u32, max_sources: usize) -> RateLimiter {
        RateLimiter::new(RateLimits {
            per_source_per_sec: rate,
            burst,
            max_sources,
            per_ip_per_sec: u32::MAX,
            ip_burst: u32::MAX,
            max_ips: max_sources,
        })
    }

    fn port(ip: u32, port: u16) -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::from(ip), port)
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
        assert_eq!((rl.limited_source(), rl.limited_ip()), (2, 0));
        assert_eq!((rl.len(), rl.ips()), (1, 1));
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
                assert_eq!(rl.sources.recency.len(), rl.len());
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

    #[test]
    fn a_flood_over_many_ports_of_one_ip_hits_the_ip_limit() {
        let mut rl = RateLimiter::new(RateLimits::default());
        let now = Time::from_millis(1);
        // 3,000 ports, one request each: every address is under its own
        // limit, the IP is not.
        let allowed = (0..3_000u16)
            .filter(|&p| rl.allow(port(7, 10_000 + p), now))
            .count();
        assert_eq!(allowed, 2_000);
        assert_eq!((rl.limited_source(), rl.limited_ip()), (0, 1_000));
        assert_eq!(rl.limited(), 1_000);
        assert_eq!((rl.len(), rl.ips()), (3_000, 1));
        // Another IP is not affected.
        assert!(rl.allow(port(8, 10_000), now));
        // 1,000 per second: one more request every millisecond.
        assert!(!rl.allow(port(7, 1), Time::from_epoch(Duration::from_micros(1_999))));
        assert!(rl.allow(port(7, 1), Time::from_millis(2)));
        assert!(!rl.allow(port(7, 2), Time::from_millis(2)));
        let t = Time::from_millis(502);
        let allowed = (0..1_000u16).filter(|&p| rl.allow(port(7, p), t)).count();
        assert_eq!(allowed, 500);
    }

    #[test]
    fn a_refusal_takes_no_token_at_the_other_level() {
        let mut rl = RateLimiter::new(RateLimits {
            per_source_per_sec: 1,
            burst: 10,
            max_sources: 100,
            per_ip_per_sec: 1,
            ip_burst: 15,
            max_ips: 100,
        });
        let now = Time::ZERO;
        // One address: 10 allowed, 5 refused by its own limit; the IP gave
        // only the 10 it allowed.
        let allowed = (0..15).filter(|_| rl.allow(port(1, 1), now)).count();
        assert_eq!(allowed, 10);
        assert_eq!((rl.limited_source(), rl.limited_ip()), (5, 0));
        // 5 left for the IP: another port gets them, then the IP refuses,
        // which leaves that port's own bucket untouched.
        let allowed = (0..8).filter(|_| rl.allow(port(1, 2), now)).count();
        assert_eq!(allowed, 5);
        assert_eq!((rl.limited_source(), rl.limited_ip()), (5, 3));
        // Ten seconds later the IP has 10 tokens, port 2 has 10 (5 + 5).
        let t = Time::from_millis(10_000);
        let allowed = (0..20).filter(|_| rl.allow(port(1, 2), t)).count();
        assert_eq!(allowed, 10);
        assert_eq!((rl.limited_source(), rl.limited_ip()), (15, 3));
    }

    #[test]
    fn an_honest_loopback_swarm_stays_under_the_default_ip_limit() {
        // 50 nodes on one IP, each asking this node 15 times a second (a
        // lookup every few seconds asks it far less), for a minute.
        let mut rl = RateLimiter::new(RateLimits::default());
        for ms in 0..60_000u64 {
            let node = (ms % 50) as u16;
            if ms % 67 < 50 {
                assert!(rl.allow(port(1, 7_000 + node), Time::from_millis(ms)));
            }
        }
        assert_eq!(rl.limited(), 0);
    }

    #[test]
    fn ip_bound_holds_under_100k_distinct_ips() {
        let mut rl = RateLimiter::new(RateLimits {
            max_sources: 500,
            max_ips: 1_000,
            ..RateLimits::default()
        });
        for n in 0..100_000u32 {
            assert!(rl.allow(source(n), Time::from_millis(u64::from(n / 1000))));
            assert!(rl.ips() <= 1_000);
            assert!(rl.len() <= 500);
            assert_eq!(rl.ips.recency.len(), rl.ips());
            assert_eq!(rl.sources.recency.len(), rl.len());
        }
        assert_eq!((rl.len(), rl.ips()), (500, 1_000));
        // A forgotten IP comes back with a fresh, full bucket.
        let mut rl = RateLimiter::new(RateLimits {
            max_ips: 1,
            ..RateLimits::default()
        });
        let t = Time::ZERO;
        assert_eq!(
            (0..2_000u16).filter(|&p| rl.allow(port(1, p), t)).count(),
            2_000
        );
        assert!(!rl.allow(port(1, 9_999), t));
        assert!(rl.allow(port(2, 1), t));
        assert_eq!(rl.ips(), 1);
        assert!(rl.allow(port(1, 9_999), t));
    }
}
