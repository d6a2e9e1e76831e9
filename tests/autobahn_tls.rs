//! RFC 6455 conformance over TLS: Autobahn|Testsuite's fuzzing client against `wss://` (run.sh
//! does not verify certificates), cases 1-7, 9 and 10 as in tests/autobahn.rs, offering
//! `echo`. Passes when no case FAILED. Skips (or fails with `WSLOOP_REQUIRE_EXTERNAL=1`)
//! without run.sh and its wstest.
#![cfg(feature = "tls")]

mod support;

const TEST: &str = "autobahn_tls";
const CASES: &str = "1.*,2.*,3.*,4.*,5.*,6.*,7.*,9.*,10.*";

#[test]
fn autobahn_fuzzingclient_echo_over_wss() {
    let cases = support::autobahn::cases(CASES);
    let (mut server, _ca) = support::tls::start_server(TEST, &[]);
    let url = format!("wss://{}/", server.connect_addr());
    support::autobahn::run_against_binary(&mut server, TEST, &url, "wsloop-tls", &cases);
}
