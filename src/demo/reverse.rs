//! `dumb-increment-protocol`, the libwebsockets tutorial's protocol: every message is answered
//! reversed. Text is reversed by user-perceived characters (grapheme clusters), so `añb` comes
//! back as `bña` and a flag stays a flag; a trailing line break stays at the end, as line-mode
//! clients expect. Binary messages are reversed bytewise.

use super::{pace, resume_after_catch_up};
use crate::log_text::printable;
use crate::{Context, Message, Outcome, PayloadWriter, Protocol, Reason, SendError, Sent};
use log::{info, log_enabled, Level};
use unicode_segmentation::UnicodeSegmentation;

/// How much of each message the console log shows.
const LOGGED_CHARS: usize = 60;

/// A reply buffer that grew past this for one large message is freed after it, so one big
/// message does not pin its size for the server's lifetime.
const KEPT_REPLY_CAPACITY: usize = 64 * 1024;

/// The tutorial's reverse protocol. Replies are reversed straight into the outgoing queue;
/// text that is not plain ASCII goes through one reply buffer, reused for every message up to
/// 64 KiB, so answering allocates nothing in steady state.
#[derive(Debug, Default, Clone)]
pub struct Reverse {
    text_reply: String,
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
                // Plain ASCII (the common case) is reversed where the reply is framed; the
                // fill declines anything else, which then takes the grapheme path.
                match cx.send_text_with(text.len(), |reply| reverse_plain_text(&text, reply)) {
                    Err(SendError::Withdrawn) => self.send_by_graphemes(cx, &text),
                    sent => sent,
                }
            }
            Message::Binary(data) => {
                info!("{} received {} binary bytes", display(id), data.len());
                cx.send_binary_with(data.len(), |reply| {
                    reverse_bytes_into(&data, reply, &mut [0; WORDS_PER_BLOCK]);
                    true
                })
            }
        };
        pace(cx, sent);
        Outcome::Continue
    }
}

impl Reverse {
    /// Reply to `text` reversed by grapheme clusters, through the reply buffer (text that
    /// [`reverse_plain_text`] declined).
    fn send_by_graphemes(&mut self, cx: &mut Context<'_>, text: &str) -> Result<Sent, SendError> {
        self.text_reply.clear();
        reverse_by_graphemes_into(text, &mut self.text_reply);
        let sent = cx.send_text(&self.text_reply);
        if self.text_reply.capacity() > KEPT_REPLY_CAPACITY {
            self.text_reply = String::new();
        }
        sent
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
    let mut bytes = std::mem::take(reversed).into_bytes();
    let start = bytes.len();
    let plain = reverse_plain_text(text, &mut PayloadWriter::new(&mut bytes));
    if !plain {
        bytes.truncate(start);
    }
    *reversed = String::from_utf8(bytes)
        .unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned());
    if !plain {
        reverse_by_graphemes_into(text, reversed);
    }
}

/// [`reverse_text`] appended to `reversed`, cluster by cluster (for any text).
fn reverse_by_graphemes_into(text: &str, reversed: &mut String) {
    let (body, line_end) = split_line_end(text);
    reversed.extend(body.graphemes(true).rev());
    reversed.push_str(line_end);
}

/// Write [`reverse_text`] of `text` to `out` (`text.len()` bytes) if `text` is ASCII without
/// a CR in its body, where a grapheme is a byte (CR LF would be one cluster); otherwise
/// return false, leaving `out` partly written.
fn reverse_plain_text(text: &str, out: &mut PayloadWriter<'_>) -> bool {
    let (body, line_end) = split_line_end(text);
    let mut odd = [0u64; WORDS_PER_BLOCK];
    reverse_bytes_into(body.as_bytes(), out, &mut odd);
    if !line_end.is_empty() {
        out.extend_from_slice(line_end.as_bytes());
    }
    odd.iter().fold(0, |all, lane| all | lane) & lanes(0x80) == 0
}

/// Eight bytes with the same value in every lane.
const fn lanes(byte: u8) -> u64 {
    u64::from_ne_bytes([byte; 8])
}

/// How many 8-byte words [`reverse_bytes_into`] swaps per step.
const WORDS_PER_BLOCK: usize = 8;

/// Append `data` reversed to `out`, setting a high bit in `odd` for a byte of 0x80 or more
/// or a CR (callers reversing bytes ignore `odd`). About 0.86 us for 16 KiB here, the ASCII
/// check of the reply included (the writer's), against 0.95 us for the word loop before it
/// that needed the reply zero-filled and checked again; byte-wise code is slower, since
/// baseline x86-64 has no byte shuffle before SSSE3 to vectorize it with.
fn reverse_bytes_into(data: &[u8], out: &mut PayloadWriter<'_>, odd: &mut [u64; WORDS_PER_BLOCK]) {
    const BLOCK: usize = 8 * WORDS_PER_BLOCK;
    // (A short message skips the stages that have nothing to do.)
    let rest = match data.len() {
        BLOCK.. => append_reversed_blocks::<BLOCK>(data, out, odd),
        _ => data,
    };
    let rest = match rest.len() {
        8.. => append_reversed_blocks::<8>(rest, out, odd),
        _ => rest,
    };
    let mut odd_bytes = 0;
    out.extend(rest.iter().rev().map(|&byte| {
        odd_bytes |= byte | if byte == b'\r' { 0x80 } else { 0 };
        byte
    }));
    odd[0] |= u64::from(odd_bytes);
}

/// Append the whole `N`-byte blocks at the end of `data` reversed, each as byte-swapped
/// 8-byte words appended without a bounds check each, and return the bytes before them.
/// `odd` has one accumulator per word of a block: for ASCII bytes, a lane of `word ^ CRS`
/// minus one sets its high bit only if the lane was zero (that byte was CR).
// Not inlined: inlined into its caller, the block loop compiled to slower code (16 KiB:
// ~1.09 us against 0.86 us in a stand-alone copy, `rustc -O`).
#[inline(never)]
fn append_reversed_blocks<'d, const N: usize>(
    data: &'d [u8],
    out: &mut PayloadWriter<'_>,
    odd: &mut [u64; WORDS_PER_BLOCK],
) -> &'d [u8] {
    const ONES: u64 = lanes(1);
    const CRS: u64 = lanes(b'\r');
    const { assert!(N % 8 == 0 && N / 8 <= WORDS_PER_BLOCK) };
    let blocks = data.rchunks_exact(N);
    let front = blocks.remainder();
    let word = |bytes: &[u8]| u64::from_le_bytes(bytes.try_into().expect("8 bytes"));
    out.extend_blocks(blocks.map(|from| {
        // The check goes in the words' own order, so it vectorizes without shuffles.
        for (odd, bytes) in odd.iter_mut().zip(from.chunks_exact(8)) {
            let word = word(bytes);
            *odd |= word | (word ^ CRS).wrapping_sub(ONES);
        }
        let mut block = [0u8; N];
        for (to, from) in block.chunks_exact_mut(8).zip(from.rchunks_exact(8)) {
            to.copy_from_slice(&word(from).swap_bytes().to_le_bytes());
        }
        block
    }));
    front
}

/// `data` reversed bytewise.
pub fn reverse_bytes(data: &[u8]) -> Vec<u8> {
    let mut reversed = Vec::with_capacity(data.len());
    reverse_bytes_into(
        data,
        &mut PayloadWriter::new(&mut reversed),
        &mut [0; WORDS_PER_BLOCK],
    );
    reversed
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
        // Bytes only, 8-byte words, one and two 64-byte blocks, each with a remainder.
        for len in (0..40).chain(60..70).chain(125..135) {
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
        for len in 0..200u8 {
            let data: Vec<u8> = (0..len).collect();
            let expected: Vec<u8> = data.iter().rev().copied().collect();
            assert_eq!(reverse_bytes(&data), expected, "length {len}");
        }
    }
}
