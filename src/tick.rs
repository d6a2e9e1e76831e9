//! The loop's coarse clock for per-connection deadlines: milliseconds since the server
//! started, kept in a `u32` that wraps (every 49.7 days) and is compared with wrapping
//! arithmetic, so a deadline costs a connection 4 bytes instead of a 16-byte `Instant`.
//! Comparisons are right while every deadline lies within 24 days of now:
//! `Config::validate` caps timeouts at `MAX_TIMEOUT` and [`Tick::after`] caps longer delays.

use std::time::{Duration, Instant};

/// Longest delay a tick can express from now (about 24.8 days).
const MAX_DELAY_MS: u64 = i32::MAX as u64;

/// A point in time, in milliseconds on the server's [`Clock`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tick(u32);

impl Tick {
    /// The tick of absolute milliseconds `ms` on the server's clock.
    pub fn from_millis(ms: u64) -> Tick {
        Tick(ms as u32)
    }

    /// `delay` after this tick, rounded up to the next millisecond (capped at ~24 days).
    pub fn after(self, delay: Duration) -> Tick {
        let ms = delay
            .as_nanos()
            .div_ceil(1_000_000)
            .min(u128::from(MAX_DELAY_MS));
        Tick(self.0.wrapping_add(ms as u32))
    }

    /// True once `now` is at or past this tick.
    pub fn is_reached(self, now: Tick) -> bool {
        now.0.wrapping_sub(self.0) as i32 >= 0
    }

    /// Milliseconds from `now` until this tick (0 if reached).
    pub fn millis_from(self, now: Tick) -> u64 {
        (self.0.wrapping_sub(now.0) as i32).max(0) as u64
    }

    /// The earlier of two ticks, as seen from `now`.
    pub fn earliest(self, other: Tick, now: Tick) -> Tick {
        if self.millis_from(now) <= other.millis_from(now) {
            self
        } else {
            other
        }
    }
}

/// The server's clock: `Instant`s become milliseconds since it started.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    epoch: Instant,
}

impl Clock {
    pub fn new(epoch: Instant) -> Self {
        Clock { epoch }
    }

    /// Milliseconds since the epoch (never wraps: for the server's deadline heap).
    pub fn millis(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.epoch).as_millis() as u64
    }

    #[cfg(test)]
    pub fn tick(&self, now: Instant) -> Tick {
        Tick(self.millis(now) as u32)
    }

    /// The `Instant` of absolute milliseconds `ms`.
    pub fn instant(&self, ms: u64) -> Instant {
        self.epoch + Duration::from_millis(ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_survive_wrapping() {
        let near_wrap = Tick(u32::MAX - 5);
        let later = near_wrap.after(Duration::from_millis(10));
        assert_eq!(later, Tick(4));
        assert!(!later.is_reached(near_wrap));
        assert!(near_wrap.is_reached(later));
        assert_eq!(later.millis_from(near_wrap), 10);
        assert_eq!(later.earliest(near_wrap, near_wrap), near_wrap);
    }

    #[test]
    fn delays_round_up_and_are_capped() {
        let start = Tick(0);
        assert_eq!(start.after(Duration::from_micros(1)), Tick(1));
        assert_eq!(start.after(Duration::from_millis(2)), Tick(2));
        let far = start.after(Duration::MAX);
        assert!(!far.is_reached(start));
        assert_eq!(far.millis_from(start), MAX_DELAY_MS);
    }

    #[test]
    fn the_clock_maps_both_ways() {
        let epoch = Instant::now();
        let clock = Clock::new(epoch);
        let now = epoch + Duration::from_millis(1500);
        assert_eq!(clock.millis(now), 1500);
        let due = clock.tick(now).after(Duration::from_millis(250));
        assert_eq!(due.millis_from(clock.tick(now)), 250);
        assert_eq!(clock.instant(1750), epoch + Duration::from_millis(1750));
    }
}
