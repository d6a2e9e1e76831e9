//! How long the bridge waits between attempts to reach Redis: 100 ms after the first
//! failure, doubling after each further one, never more than `redis_reconnect_max_delay`.

use std::time::Duration;

/// The wait after the first failed attempt.
pub const FIRST_DELAY: Duration = Duration::from_millis(100);

/// Exponential backoff with a cap (see the module docs).
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    pub fn new(max: Duration) -> Self {
        Backoff {
            next: FIRST_DELAY.min(max),
            max,
        }
    }

    /// The wait before the next attempt.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(self.max);
        delay
    }

    /// An attempt succeeded: the next failure waits [`FIRST_DELAY`] again.
    pub fn reset(&mut self) {
        self.next = FIRST_DELAY.min(self.max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_100_ms_up_to_the_cap_and_resets() {
        let mut backoff = Backoff::new(Duration::from_secs(1));
        let waits: Vec<u128> = (0..6).map(|_| backoff.next_delay().as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1000, 1000]);
        backoff.reset();
        assert_eq!(backoff.next_delay(), FIRST_DELAY);
        let mut tiny = Backoff::new(Duration::from_millis(30));
        assert_eq!(tiny.next_delay(), Duration::from_millis(30));
    }
}
