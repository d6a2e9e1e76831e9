//! Making client-supplied text safe and short for log lines and close frames.

use std::time::{Duration, Instant};

/// Lets a repeated warning through at most once per `interval`, counting what it held back,
/// so a flood (refused connections, `accept` failing with EMFILE) costs one line a second.
#[derive(Debug)]
pub struct Throttle {
    interval: Duration,
    last: Option<Instant>,
    suppressed: u64,
}

impl Throttle {
    /// A throttle that lets one line through per `interval`.
    pub const fn new(interval: Duration) -> Self {
        Throttle {
            interval,
            last: None,
            suppressed: 0,
        }
    }

    /// `Some(held back since the last line)` if a line may be logged now.
    pub fn allow(&mut self, now: Instant) -> Option<u64> {
        if self
            .last
            .is_some_and(|last| now.duration_since(last) < self.interval)
        {
            self.suppressed += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.suppressed))
    }
}

/// At most `max_chars` characters of `text`, with control characters escaped (so a client
/// cannot forge log lines or move the terminal's cursor) and `…` marking a cut.
pub fn printable(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars) + 8);
    for (count, ch) in text.chars().enumerate() {
        if count == max_chars {
            out.push('…');
            break;
        }
        if ch.is_control() {
            out.extend(ch.escape_debug());
        } else {
            out.push(ch);
        }
    }
    out
}

/// The longest prefix of `text` that fits in `max_bytes` without splitting a character.
pub fn truncate_utf8(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("a\nb\x1b[2J", 80), "a\\nb\\u{1b}[2J");
    }

    #[test]
    fn long_text_is_cut_on_characters() {
        assert_eq!(printable("héllo wörld", 5), "héllo…");
        assert_eq!(printable("abc", 3), "abc");
    }

    #[test]
    fn throttle_lets_one_line_through_per_interval() {
        let start = Instant::now();
        let mut throttle = Throttle::new(Duration::from_secs(1));
        assert_eq!(throttle.allow(start), Some(0));
        assert_eq!(throttle.allow(start + Duration::from_millis(10)), None);
        assert_eq!(throttle.allow(start + Duration::from_millis(20)), None);
        assert_eq!(throttle.allow(start + Duration::from_secs(1)), Some(2));
    }

    #[test]
    fn truncation_never_splits_a_character() {
        assert_eq!(truncate_utf8("aé", 2), "a");
        assert_eq!(truncate_utf8("aé", 3), "aé");
        assert_eq!(truncate_utf8("", 0), "");
    }
}
