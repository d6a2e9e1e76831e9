//! Making client-supplied text safe and short for log lines and close frames.

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
    fn truncation_never_splits_a_character() {
        assert_eq!(truncate_utf8("aé", 2), "a");
        assert_eq!(truncate_utf8("aé", 3), "aé");
        assert_eq!(truncate_utf8("", 0), "");
    }
}
