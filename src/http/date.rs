//! The `Date` header (RFC 9110 §6.6.1): the IMF-fixdate form of a time
//! (`Sun, 06 Nov 1994 08:49:37 GMT`, always 29 bytes), and the loop's cache of the current
//! one, formatted at most once per second as nginx and uWebSockets keep theirs. The
//! formatting is `httpdate`'s, which `Last-Modified` uses as well.

use std::fmt;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Bytes of an IMF-fixdate.
pub const HTTP_DATE_LEN: usize = 29;

/// A time as an HTTP date, `Sun, 06 Nov 1994 08:49:37 GMT`, to the second.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct HttpDate([u8; HTTP_DATE_LEN]);

impl HttpDate {
    /// `unix_seconds` after 1970-01-01 00:00:00 UTC. Years past 9999 are written as 9999's
    /// last second (an IMF-fixdate has four year digits).
    pub fn from_unix_seconds(unix_seconds: u64) -> Self {
        const LAST: u64 = 253_402_300_799; // 9999-12-31 23:59:59
        let time = UNIX_EPOCH + Duration::from_secs(unix_seconds.min(LAST));
        // The formatting `Last-Modified` uses too; always 29 bytes within 1970..=9999.
        let mut text = [0; HTTP_DATE_LEN];
        text.copy_from_slice(httpdate::fmt_http_date(time).as_bytes());
        HttpDate(text)
    }

    /// `time` as an HTTP date (a time before 1970 is written as 1970's first second).
    pub fn from_system_time(time: SystemTime) -> Self {
        let seconds = time.duration_since(UNIX_EPOCH).unwrap_or_default();
        HttpDate::from_unix_seconds(seconds.as_secs())
    }

    /// The 29 bytes of the date.
    pub fn as_bytes(&self) -> &[u8; HTTP_DATE_LEN] {
        &self.0
    }

    /// The date as text.
    pub fn as_str(&self) -> &str {
        // Built from ASCII names and digits only.
        std::str::from_utf8(&self.0).unwrap_or("Thu, 01 Jan 1970 00:00:00 GMT")
    }
}

impl fmt::Display for HttpDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for HttpDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HttpDate({})", self.as_str())
    }
}

/// The current date, formatted again only once the second it names is over. The loop keeps
/// one and asks it with the `Instant` it already took for the event, so a response costs a
/// comparison, not a clock read and a format.
#[derive(Debug, Clone)]
pub(crate) struct DateCache {
    date: HttpDate,
    /// When the second `date` names ends, on the monotonic clock.
    valid_until: Instant,
}

impl DateCache {
    /// A cache that formats the date on its first use.
    pub fn new(now: Instant) -> Self {
        DateCache {
            date: HttpDate::from_unix_seconds(0),
            valid_until: now,
        }
    }

    /// The date at `now`.
    pub fn at(&mut self, now: Instant) -> &HttpDate {
        if now >= self.valid_until {
            self.refresh(now, SystemTime::now());
        }
        &self.date
    }

    /// Format `wall` (the wall clock at `now`) and keep it until its second is over. A wall
    /// clock that is set meanwhile is seen at the next refresh, within a second.
    fn refresh(&mut self, now: Instant, wall: SystemTime) {
        let since_epoch = wall.duration_since(UNIX_EPOCH).unwrap_or_default();
        self.date = HttpDate::from_unix_seconds(since_epoch.as_secs());
        let rest_of_second =
            Duration::from_nanos(1_000_000_000 - u64::from(since_epoch.subsec_nanos()));
        self.valid_until = now + rest_of_second;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(unix_seconds: u64) -> String {
        HttpDate::from_unix_seconds(unix_seconds).to_string()
    }

    #[test]
    fn known_dates() {
        let table = [
            (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
            // RFC 9110's own example.
            (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"),
            (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"), // 2000 is a leap year
            (951_868_800, "Wed, 01 Mar 2000 00:00:00 GMT"),
            (1_078_012_799, "Sat, 28 Feb 2004 23:59:59 GMT"),
            (1_078_012_800, "Sun, 29 Feb 2004 00:00:00 GMT"),
            (1_234_567_890, "Fri, 13 Feb 2009 23:31:30 GMT"),
            (1_709_164_800, "Thu, 29 Feb 2024 00:00:00 GMT"),
            (1_735_689_599, "Tue, 31 Dec 2024 23:59:59 GMT"),
            (2_147_483_647, "Tue, 19 Jan 2038 03:14:07 GMT"), // the last 32-bit second
            (2_147_483_648, "Tue, 19 Jan 2038 03:14:08 GMT"),
            (4_107_542_400, "Mon, 01 Mar 2100 00:00:00 GMT"), // 2100 is not a leap year
            (4_107_542_399, "Sun, 28 Feb 2100 23:59:59 GMT"),
            (253_402_300_799, "Fri, 31 Dec 9999 23:59:59 GMT"),
        ];
        for (seconds, expected) in table {
            assert_eq!(date(seconds), expected, "{seconds}");
        }
    }

    #[test]
    fn years_past_9999_stay_four_digits() {
        assert_eq!(date(u64::MAX), "Fri, 31 Dec 9999 23:59:59 GMT");
    }

    #[test]
    fn the_cache_formats_again_once_its_second_is_over() {
        let t0 = Instant::now();
        let mut cache = DateCache::new(t0);
        let wall = UNIX_EPOCH + Duration::from_millis(784_111_777_250);
        cache.refresh(t0, wall);
        assert_eq!(cache.at(t0).as_str(), "Sun, 06 Nov 1994 08:49:37 GMT");
        let later = t0 + Duration::from_millis(749);
        assert_eq!(cache.at(later).as_str(), "Sun, 06 Nov 1994 08:49:37 GMT");
        // 750 ms on, the wall clock's second is over: the cache reads the real clock again.
        let before = HttpDate::from_system_time(SystemTime::now());
        let fresh = *cache.at(t0 + Duration::from_millis(750));
        let after = HttpDate::from_system_time(SystemTime::now());
        assert!(
            fresh == before || fresh == after,
            "{fresh} is not now ({before})"
        );
    }
}
