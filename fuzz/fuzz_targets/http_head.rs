//! Arbitrary bytes through the request-head parser and the upgrade checks.
//!
//! Invariants: nothing panics; `Complete { head_len }` lies within the input, ends the head
//! with a line feed, re-parses identically from exactly `head_len` bytes, and one byte less
//! is `Partial`; every error maps to a 4xx/5xx status; an accepted upgrade's 101 response is
//! one well-formed head (CRLF lines, one blank line, at the very end).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsloop::http::request::{parse_head, ParsedHead};
use wsloop::http::upgrade::{accept_response, check_upgrade, choose_protocol, UpgradeCheck};

const MAX_HEADERS: usize = 64;

fuzz_target!(|data: &[u8]| {
    let (request, head_len) = match parse_head(data, MAX_HEADERS) {
        Ok(ParsedHead::Partial) => return,
        Err(e) => {
            let status = e.status();
            assert!((400..600).contains(&status), "{e:?} -> {status}");
            return;
        }
        Ok(ParsedHead::Complete { request, head_len }) => (request, head_len),
    };
    assert!(
        head_len > 0 && head_len <= data.len(),
        "head_len {head_len} of {}",
        data.len()
    );
    assert_eq!(data[head_len - 1], b'\n', "a head ends with a line feed");
    match parse_head(&data[..head_len], MAX_HEADERS) {
        Ok(ParsedHead::Complete {
            head_len: again, ..
        }) => assert_eq!(again, head_len),
        other => panic!("the head alone does not re-parse: {other:?}"),
    }
    match parse_head(&data[..head_len - 1], MAX_HEADERS) {
        Ok(ParsedHead::Partial) => {}
        other => panic!("one byte short of a complete head is not Partial: {other:?}"),
    }
    assert!(
        request.path().starts_with('/') || request.target() == "*",
        "target {:?}, path {:?}",
        request.target(),
        request.path()
    );
    assert!(
        !request.target().chars().any(char::is_control),
        "control character in target {:?}",
        request.target()
    );
    match check_upgrade(&request) {
        UpgradeCheck::NotUpgrade => {}
        UpgradeCheck::Invalid(response) => {
            assert!((400..500).contains(&response.status()), "{response:?}");
        }
        UpgradeCheck::Valid(upgrade) => {
            let protocol = choose_protocol(&upgrade.offered_protocols, |_| true);
            let mut out = Vec::new();
            accept_response(&upgrade.key, protocol, &mut out);
            assert!(out.starts_with(b"HTTP/1.1 101 "));
            let end = out.windows(4).position(|w| w == b"\r\n\r\n");
            assert_eq!(end, Some(out.len() - 4), "blank line only at the end");
            for (i, &b) in out.iter().enumerate() {
                if b == b'\n' {
                    assert_eq!(out[i - 1], b'\r', "bare LF in the 101 response");
                }
                if b == b'\r' {
                    assert_eq!(out.get(i + 1), Some(&b'\n'), "bare CR in the 101 response");
                }
                assert!(
                    b == b'\r' || b == b'\n' || !b.is_ascii_control(),
                    "control byte {b}"
                );
            }
        }
    }
});
