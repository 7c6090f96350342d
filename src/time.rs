//! Time as the sans-IO core sees it.
//!
//! The core never reads a clock: every input carries `now`. A [`Time`] is a
//! duration since an epoch the shell picks (the simulator's start, or the
//! moment a UDP node started), so the same code runs on virtual and real time
//! and a simulated run is reproducible to the microsecond.

use std::fmt;
use std::ops::{Add, Sub};
use std::time::Duration;

/// A point in time, measured from the driving shell's epoch, to the
/// microsecond.
///
/// Eight bytes rather than a `Duration`'s sixteen: every routing-table entry
/// carries one, and a 10⁵-node simulation holds tens of millions of them.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Time(u64);

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Time {
    /// The shell's epoch.
    pub const ZERO: Time = Time(0);

    /// `d` after the epoch (saturating after 584,000 years).
    pub fn from_epoch(d: Duration) -> Time {
        Time(micros(d))
    }

    /// `ms` milliseconds after the epoch; most tests and reports think in ms.
    pub const fn from_millis(ms: u64) -> Time {
        Time(ms.saturating_mul(1000))
    }

    /// Time since the epoch.
    pub const fn since_epoch(self) -> Duration {
        Duration::from_micros(self.0)
    }

    /// Whole milliseconds since the epoch, as reports print them.
    pub fn as_millis(self) -> u64 {
        self.0 / 1000
    }

    /// Time elapsed from `earlier` to `self`, zero if `earlier` is later.
    pub fn saturating_since(self, earlier: Time) -> Duration {
        Duration::from_micros(self.micros_since(earlier))
    }

    /// [`Time::saturating_since`] in whole microseconds, the clock's unit,
    /// for comparisons in a hot loop.
    pub(crate) fn micros_since(self, earlier: Time) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl Add<Duration> for Time {
    type Output = Time;
    fn add(self, rhs: Duration) -> Time {
        Time(self.0.saturating_add(micros(rhs)))
    }
}

impl Sub<Time> for Time {
    type Output = Duration;
    fn sub(self, rhs: Time) -> Duration {
        self.saturating_since(rhs)
    }
}

impl fmt::Debug for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t+{}ms", self.as_millis())
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}
