//! permessage-deflate conformance (RFC 7692): Autobahn|Testsuite's sections 12 and 13 (216
//! cases: 1000 compressed messages each, 16 B to 128 KiB, some auto-fragmented, under every
//! offer 13.* makes) against the real binary, whose default is the shared-codec mode, and
//! 13.* again against `--deflate takeover` (context takeover both ways, 2 KiB windows, which
//! 13.3/13.5's `server_max_window_bits=9` lowers further). Passes when no case FAILED.
//! `tests/autobahn.rs` runs sections 1-10. Needs what that test needs; SKIPPED without it.

#![cfg(feature = "deflate")]

mod support;

use support::ServerProcess;

/// The cases run (`WSLOOP_AUTOBAHN_CASES` overrides both runs).
const SHARED_CASES: &str = "12.*,13.*";
const TAKEOVER_CASES: &str = "13.*";

fn run(test: &str, agent: &str, args: &[&str], cases: &str) {
    let cases = support::autobahn::cases(cases);
    let mut server = ServerProcess::start_with(args);
    let url = server.ws_url();
    support::autobahn::run_against_binary(&mut server, test, &url, agent, &cases);
}

#[test]
fn autobahn_permessage_deflate_shared() {
    run("autobahn_deflate", "wsloop-deflate", &[], SHARED_CASES);
}

#[test]
fn autobahn_permessage_deflate_takeover() {
    run(
        "autobahn_deflate_takeover",
        "wsloop-deflate-takeover",
        &["--deflate", "takeover"],
        TAKEOVER_CASES,
    );
}
