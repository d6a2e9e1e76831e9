//! RFC 6455 conformance: Autobahn|Testsuite's fuzzing client (`wstest`, via
//! `../shared/tools/autobahn/run.sh`, found beside the repository) against the real binary with
//! its default limits, offering the `echo` subprotocol. Cases 1-7, 9 and 10 (12.*/13.*,
//! permessage-deflate, run in `tests/autobahn_deflate.rs`); permessage-deflate is on by
//! default but wstest offers it only in 12/13. Passes when run.sh exits 0 (no case FAILED); prints
//! run.sh's summary line and the report's path.
//!
//! Needs run.sh and its wstest (`AUTOBAHN_PREFIX`, default /opt/py27, made by setup.sh).
//! Without them the test prints `SKIPPED`, or fails when `WSLOOP_REQUIRE_EXTERNAL=1`.

mod support;

use support::ServerProcess;

const TEST: &str = "autobahn";
/// The cases run (`WSLOOP_AUTOBAHN_CASES` overrides, e.g. "1.*,2.*" while developing).
const CASES: &str = "1.*,2.*,3.*,4.*,5.*,6.*,7.*,9.*,10.*";

#[test]
fn autobahn_fuzzingclient_echo() {
    let cases = support::autobahn::cases(CASES);
    let mut server = ServerProcess::start();
    let url = server.ws_url();
    support::autobahn::run_against_binary(&mut server, TEST, &url, "wsloop", &cases);
}
