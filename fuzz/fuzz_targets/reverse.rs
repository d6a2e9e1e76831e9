//! Arbitrary UTF-8 through `reverse_text`.
//!
//! Invariants: same length in bytes and the same multiset of code points; one trailing `\n`
//! or `\r\n` stays at the end; the output is exactly the input's body clusters in reverse
//! order plus that line end; and reversing twice gives the input back whenever the reversed
//! body segments into the same clusters (not always: `"\u{301}a"` becomes `"a\u{301}"`, one
//! cluster, an odd run of regional indicators pairs up differently, and `"\na"` becomes
//! `"a\n"`, whose newline then counts as the trailing one).
#![no_main]

use libfuzzer_sys::fuzz_target;
use unicode_segmentation::UnicodeSegmentation;
use wsloop::demo::reverse_text;

fn split_line_end(s: &str) -> (&str, &str) {
    for end in ["\r\n", "\n"] {
        if let Some(body) = s.strip_suffix(end) {
            return (body, end);
        }
    }
    (s, "")
}

fuzz_target!(|s: &str| {
    let out = reverse_text(s);
    assert_eq!(out.len(), s.len());
    let mut a: Vec<char> = s.chars().collect();
    let mut b: Vec<char> = out.chars().collect();
    a.sort_unstable();
    b.sort_unstable();
    assert_eq!(a, b, "code points changed");

    let (body, end) = split_line_end(s);
    assert!(out.ends_with(end));
    let clusters: Vec<&str> = body.graphemes(true).collect();
    let oracle: String = clusters.iter().rev().copied().collect::<String>() + end;
    assert_eq!(out, oracle, "not the clusters in reverse order");

    let out_body = &out[..out.len() - end.len()];
    let mut again: Vec<&str> = out_body.graphemes(true).collect();
    again.reverse();
    // Reversing twice is the identity whenever the reversed body segments into the same
    // clusters and the output's own line-end split finds the same line end (`"\na"` gives
    // `"a\n"`, whose `\n` is then kept at the end: `"a\n"` again).
    if again == clusters && split_line_end(&out).1 == end {
        assert_eq!(
            reverse_text(&out),
            s,
            "stable clusters but reversing twice differs"
        );
    }
});
