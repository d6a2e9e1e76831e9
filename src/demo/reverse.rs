//! `dumb-increment-protocol`, the libwebsockets tutorial's protocol: every message is answered
//! reversed. Text is reversed by user-perceived characters (grapheme clusters), so `añb` comes
//! back as `bña` and a flag stays a flag; a trailing line break stays at the end, as line-mode
//! clients expect. Binary messages are reversed bytewise.

use super::{reply_paced, resume_after_catch_up};
use crate::log_text::printable;
use crate::{Context, Message, Outcome, Protocol, Reason};
use log::info;
use unicode_segmentation::UnicodeSegmentation;

/// How much of each message the console log shows.
const LOGGED_CHARS: usize = 60;

/// The tutorial's reverse protocol.
#[derive(Debug, Default, Clone, Copy)]
pub struct Reverse;

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
        let id = cx
            .connection_id()
            .map(|id| id.to_string())
            .unwrap_or_default();
        let reply = match message {
            Message::Text(text) => {
                info!("{id} received: {}", printable(&text, LOGGED_CHARS));
                Message::from(reverse_text(&text))
            }
            Message::Binary(data) => {
                info!("{id} received {} binary bytes", data.len());
                Message::from(reverse_bytes(&data))
            }
        };
        reply_paced(cx, reply);
        Outcome::Continue
    }
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
    let (body, line_end) = split_line_end(text);
    let mut reversed = String::with_capacity(text.len());
    // ASCII without CR is one grapheme per byte; CR LF would be one cluster, so it takes the
    // general path.
    if body.is_ascii() && !body.contains('\r') {
        reversed.extend(body.bytes().rev().map(char::from));
    } else {
        reversed.extend(body.graphemes(true).rev());
    }
    reversed.push_str(line_end);
    reversed
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
    fn binary_is_reversed_bytewise() {
        assert_eq!(reverse_bytes(&[1, 2, 3, 0xff]), vec![0xff, 3, 2, 1]);
    }
}
