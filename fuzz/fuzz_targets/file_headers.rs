//! Arbitrary `Range`, `If-Range`, `Accept-Encoding` and conditional header values against a
//! file of an arbitrary size: the first 8 bytes are the size, the rest is split at `\n` into
//! the header values.
//!
//! Invariants: nothing panics; a `206` range lies inside the file and is not empty; `416` only
//! for a `bytes=` range; the chosen coding is one of those available; our own tag in
//! `If-None-Match` makes a `304`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use wsloop::http::accept_encoding::{choose, Coding};
use wsloop::http::range::{parse_range, RangeRequest};
use wsloop::http::validators::{evaluate, if_range_matches, Conditions, Precondition, Validators};

fuzz_target!(|data: &[u8]| {
    let Some((size, rest)) = data.split_first_chunk::<8>() else {
        return;
    };
    let size = u64::from_le_bytes(*size) >> (size[0] % 64);
    let mut values = rest.split(|&b| b == b'\n');
    let mut next = || values.next().unwrap_or_default();
    let (range, if_range, accept, if_none_match, date) = (next(), next(), next(), next(), next());

    match parse_range(range, size) {
        RangeRequest::Part(part) => {
            assert!(part.first <= part.last && part.last < size, "{part:?} of {size}");
            assert_eq!(part.len(), part.last - part.first + 1);
        }
        RangeRequest::Unsatisfiable => {
            let unit = range.trim_ascii().get(..6).unwrap_or_default();
            assert!(unit.eq_ignore_ascii_case(b"bytes="), "{range:?}");
        }
        RangeRequest::Whole => {}
    }

    for available in [&[][..], &[Coding::Gzip][..], &Coding::ALL[..]] {
        if let Some(coding) = choose(Some(accept), available.iter().copied()) {
            assert!(available.contains(&coding));
        }
    }

    let modified = UNIX_EPOCH + Duration::from_nanos(size % (1 << 62));
    let now = SystemTime::now();
    let validators = Validators::new(size, Some(modified), None, now).expect("a time");
    let _ = if_range_matches(if_range, Some(&validators));
    let conditions = Conditions {
        if_match: Some(if_range),
        if_none_match: Some(if_none_match),
        if_modified_since: Some(date),
        if_unmodified_since: Some(date),
    };
    let _ = evaluate(&conditions, Some(&validators));
    let ours = Conditions {
        if_none_match: Some(validators.etag().as_bytes()),
        ..Conditions::default()
    };
    assert_eq!(evaluate(&ours, Some(&validators)), Precondition::NotModified);
});
