//! `dumb-increment-protocol`, the libwebsockets tutorial's protocol: every message is answered
//! reversed. Text is reversed by user-perceived characters (grapheme clusters), so `añb` comes
//! back as `bña` and a flag stays a flag; a trailing line break stays at the end, as line-mode
//! clients expect. Binary messages are reversed bytewise.

use super::{pace, resume_after_catch_up};
use crate::log_text::printable;
use crate::{Context, Message, Outcome, Protocol, Reason};
use log::{info, log_enabled, Level};
use unicode_segmentation::UnicodeSegmentation;

/// How much of each message the console log shows.
const LOGGED_CHARS: usize = 60;

/// A reply buffer that grew past this for one large message is freed after it, so one big
/// message does not pin its size for the server's lifetime.
const KEPT_REPLY_CAPACITY: usize = 64 * 1024;

/// The tutorial's reverse protocol. It keeps one reply buffer of each kind, reused for every
/// message up to 64 KiB, so answering allocates nothing in steady state.
#[derive(Debug, Default, Clone)]
pub struct Reverse {
    text_reply: String,
    binary_reply: Vec<u8>,
}

impl Protocol for Reverse {
    type Session = ();

    fn name(&self) -> &str {
        "dumb-increment-protocol"
    }

    fn new_session(&mut self) {}

    fn callback(&mut self, cx: &mut Context<'_>, reason: Reason<'_, ()>) -> Outcome {
        // The loop logs connects and closes; the tutorial's protocol logs what it receives.
        let message = match reason {
            Reason::Receive { message, .. } => message,
            Reason::ServerWriteable { .. } => {
                resume_after_catch_up(cx);
                return Outcome::Continue;
            }
            _ => return Outcome::Continue,
        };
        let id = cx.connection_id();
        let sent = match message {
            Message::Text(text) => {
                if log_enabled!(Level::Info) {
                    info!(
                        "{} received: {}",
                        display(id),
                        printable(&text, LOGGED_CHARS)
                    );
                }
                self.text_reply.clear();
                reverse_text_into(&text, &mut self.text_reply);
                let sent = cx.send_text(&self.text_reply);
                if self.text_reply.capacity() > KEPT_REPLY_CAPACITY {
                    self.text_reply = String::new();
                }
                sent
            }
            Message::Binary(data) => {
                info!("{} received {} binary bytes", display(id), data.len());
                self.binary_reply.clear();
                self.binary_reply.extend(data.iter().rev());
                let sent = cx.send_binary(&self.binary_reply);
                if self.binary_reply.capacity() > KEPT_REPLY_CAPACITY {
                    self.binary_reply = Vec::new();
                }
                sent
            }
        };
        pace(cx, sent);
        Outcome::Continue
    }
}

fn display(id: Option<crate::ConnectionId>) -> String {
    id.map(|id| id.to_string()).unwrap_or_default()
}

/// `text` reversed by grapheme clusters, keeping one trailing `\n` or `\r\n` at the end.
///
/// ```
/// use wsloop::demo::reverse_text;
/// assert_eq!(reverse_text("Hello, world!"), "!dlrow ,olleH");
/// assert_eq!(reverse_text("Hello, world!\n"), "!dlrow ,olleH\n");
/// assert_eq!(reverse_text("añb"), "bña");
/// ```
pub fn reverse_text(text: &str) -> String {
    let mut reversed = String::with_capacity(text.len());
    reverse_text_into(text, &mut reversed);
    reversed
}

/// [`reverse_text`] appended to `reversed`, for callers that reuse a buffer.
pub fn reverse_text_into(text: &str, reversed: &mut String) {
    let (body, line_end) = split_line_end(text);
    let mut bytes = std::mem::take(reversed).into_bytes();
    // ASCII without CR is one grapheme per byte (CR LF would be one cluster, so it takes the
    // general path): checked and reversed in one pass, no per-character work.
    let ascii = reverse_ascii(body.as_bytes(), &mut bytes);
    *reversed = String::from_utf8(bytes)
        .unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned());
    if !ascii {
        reversed.extend(body.graphemes(true).rev());
    }
    reversed.push_str(line_end);
}

/// Append `body` reversed to `out` if it is ASCII without CR, eight bytes at a time, checking
/// as it goes; otherwise leave `out` as it was and return false.
fn reverse_ascii(body: &[u8], out: &mut Vec<u8>) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH_BITS: u64 = ONES << 7;
    const CRS: u64 = ONES * 0x0d;
    let start = out.len();
    out.resize(start + body.len(), 0);
    let reversed = &mut out[start..];
    let mut from_the_end = body.rchunks_exact(8);
    let mut from_the_front = reversed.chunks_exact_mut(8);
    // A high bit in `seen` means a byte of 0x80 or more, or a CR: for ASCII bytes, a lane of
    // `word ^ CRS` minus one sets its high bit only if the lane was zero (that byte was CR).
    let mut seen = 0u64;
    for (to, from) in (&mut from_the_front).zip(&mut from_the_end) {
        let word = u64::from_le_bytes(from.try_into().unwrap_or_default());
        seen |= word | (word ^ CRS).wrapping_sub(ONES);
        to.copy_from_slice(&word.swap_bytes().to_le_bytes());
    }
    let tail = from_the_front.into_remainder();
    let mut plain = true;
    for (to, &from) in tail.iter_mut().zip(from_the_end.remainder().iter().rev()) {
        plain &= from.is_ascii() && from != b'\r';
        *to = from;
    }
    if !plain || seen & HIGH_BITS != 0 {
        out.truncate(start);
        return false;
    }
    true
}

/// `data` reversed bytewise.
pub fn reverse_bytes(data: &[u8]) -> Vec<u8> {
    data.iter().rev().copied().collect()
}

fn split_line_end(text: &str) -> (&str, &str) {
    for line_end in ["\r\n", "\n"] {
        if let Some(body) = text.strip_suffix(line_end) {
            return (body, line_end);
        }
    }
    (text, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverses_by_grapheme_clusters() {
        let cases = [
            ("Hello, world!", "!dlrow ,olleH"),
            ("", ""),
            ("añb", "bña"),
            ("🇫🇷🇩🇪", "🇩🇪🇫🇷"),
            ("e\u{301}x", "xe\u{301}"),
            ("a\r\nb", "b\r\na"),
            ("👨‍👩‍👧 hi", "ih 👨‍👩‍👧"),
        ];
        for (input, expected) in cases {
            assert_eq!(reverse_text(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn one_trailing_line_break_stays_at_the_end() {
        assert_eq!(reverse_text("abc\n"), "cba\n");
        assert_eq!(reverse_text("abc\r\n"), "cba\r\n");
        assert_eq!(reverse_text("\n"), "\n");
        assert_eq!(reverse_text("ab\n\n"), "\nba\n");
    }

    #[test]
    fn the_word_at_a_time_path_agrees_with_graphemes() {
        for len in 0..40 {
            let ascii: String = (0..len)
                .map(|i| char::from(b'a' + (i % 26) as u8))
                .collect();
            let expected: String = ascii.chars().rev().collect();
            assert_eq!(reverse_text(&ascii), expected, "length {len}");
            for at in 0..len {
                for odd in ["\r", "é", "\u{80}"] {
                    let mut mixed = ascii.clone();
                    mixed.insert_str(at, odd);
                    let by_graphemes: String = mixed.graphemes(true).rev().collect();
                    assert_eq!(reverse_text(&mixed), by_graphemes, "{mixed:?}");
                }
            }
        }
    }

    #[test]
    fn binary_is_reversed_bytewise() {
        assert_eq!(reverse_bytes(&[1, 2, 3, 0xff]), vec![0xff, 3, 2, 1]);
    }
}
