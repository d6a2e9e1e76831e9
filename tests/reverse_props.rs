//! Properties of `reverse_text` (the `dumb-increment-protocol` reply).
//!
//! For every string: valid UTF-8 of the same length in bytes and the same code points, one
//! trailing `\n` / `\r\n` kept at the end, and exactly the body's grapheme clusters in reverse
//! order. Reversing twice is the identity, and the output has the same multiset of clusters,
//! for strings made of whole clusters that do not merge or split when their order changes —
//! not for every string: see `where_reversing_twice_is_not_the_identity`.

use std::collections::HashMap;

use proptest::prelude::*;
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

fn cluster_counts(s: &str) -> HashMap<&str, usize> {
    let mut counts = HashMap::new();
    for g in s.graphemes(true) {
        *counts.entry(g).or_default() += 1;
    }
    counts
}

/// Clusters that stay whole next to each other in any order: printable ASCII, precomposed
/// and decomposed accents, Hangul syllables, flags (pairs of regional indicators), ZWJ
/// emoji sequences, skin tones, CJK, a mid-text CRLF and LF.
const WHOLE: &[&str] = &[
    "a",
    "Z",
    "0",
    " ",
    "!",
    "~",
    "é",
    "e\u{301}",
    "n\u{303}\u{323}",
    "한",
    "국",
    "🇫🇷",
    "🇩🇪",
    "👨\u{200d}👩\u{200d}👧",
    "👍🏽",
    "中",
    "ß",
    "\r\n",
    "\n",
    "\t",
];

/// A string of whole clusters, optionally ending in a line break.
fn stable_string() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(prop::sample::select(WHOLE), 0..40),
        prop::sample::select(&["", "\n", "\r\n"][..]),
    )
        .prop_map(|(clusters, end)| {
            let mut s: String = clusters.concat();
            // A body starting with a line break would become the output's trailing one.
            while s.starts_with('\n') || s.starts_with("\r\n") {
                s.insert(0, 'x');
            }
            s.push_str(end);
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_string_keeps_bytes_code_points_and_line_end(s in any::<String>()) {
        let out = reverse_text(&s);
        prop_assert!(std::str::from_utf8(out.as_bytes()).is_ok());
        prop_assert_eq!(out.len(), s.len());
        let mut a: Vec<char> = s.chars().collect();
        let mut b: Vec<char> = out.chars().collect();
        a.sort_unstable();
        b.sort_unstable();
        prop_assert_eq!(a, b);
        let (body, end) = split_line_end(&s);
        prop_assert!(out.ends_with(end));
        let oracle: String = body.graphemes(true).rev().collect::<String>() + end;
        prop_assert_eq!(out, oracle);
    }

    #[test]
    fn printable_text_with_line_ends(s in "[ -~\\n]{0,60}(\\n|\\r\\n)?") {
        let out = reverse_text(&s);
        prop_assert_eq!(out.len(), s.len());
        if s.ends_with('\n') {
            prop_assert!(out.ends_with('\n'));
        }
        if s.ends_with("\r\n") {
            prop_assert!(out.ends_with("\r\n"));
        }
    }

    #[test]
    fn whole_clusters_reverse_twice_to_the_input(s in stable_string()) {
        let out = reverse_text(&s);
        prop_assert_eq!(cluster_counts(&out), cluster_counts(&s));
        prop_assert_eq!(reverse_text(&out), s);
    }
}

/// The exact limits of "reversing twice is the identity": reversal is by clusters of the
/// input, and the reversed text can segment differently or gain a trailing line break.
#[test]
fn where_reversing_twice_is_not_the_identity() {
    let cases = [
        // A leading combining mark is a cluster of its own; reversed, it attaches to `a`.
        ("\u{301}a", "a\u{301}", "a\u{301}"),
        // Three regional indicators: [FR][D] reversed is [D F][R].
        ("🇫🇷🇩", "🇩🇫🇷", "🇷🇩🇫"),
        // A leading newline becomes a trailing one, which is then kept in place.
        ("\nab", "ba\n", "ab\n"),
        // LF CR is two clusters; reversed it is CR LF, a line end.
        ("\n\r", "\r\n", "\r\n"),
        // A CR before the trailing LF: the output ends in CRLF, taken as the line end.
        ("\rab\n", "ba\r\n", "ab\r\n"),
    ];
    for (input, once, twice) in cases {
        assert_eq!(reverse_text(input), once, "reverse({input:?})");
        assert_eq!(reverse_text(once), twice, "reverse(reverse({input:?}))");
        assert_ne!(twice, input);
    }
}
