//! RFC 6455 conformance of the frame-by-frame path: Autobahn's fuzzing client against an
//! in-process server whose `stream-echo` protocol opts into `streams_fragments` and sends each
//! received fragment straight back with `send_fragment`. Exercises wsloop's own frame reader
//! (masking, fragment order, incremental UTF-8, control frames, close codes) and fragmented
//! sending, as `autobahn.rs` does for the whole-message path; 12.1.* adds compressed
//! messages (auto-fragmented down to 256-byte frames), which the protocol receives as inflated
//! fragments and echoes as uncompressed ones.

mod support;

use support::inproc::InProcess;
use wsloop::{Config, Context, Outcome, Protocol, ProtocolTable, Reason};

const TEST: &str = "autobahn_streaming";
#[cfg(feature = "deflate")]
const CASES: &str = "1.*,2.*,3.*,4.*,5.*,6.*,7.*,9.*,10.*,12.1.*";
/// Without permessage-deflate (cargo feature `deflate`), 12.1.* has nothing to test.
#[cfg(not(feature = "deflate"))]
const CASES: &str = "1.*,2.*,3.*,4.*,5.*,6.*,7.*,9.*,10.*";

/// Echoes every fragment as it arrives.
struct StreamEcho;

impl Protocol for StreamEcho {
    type Session = ();
    fn name(&self) -> &str {
        "stream-echo"
    }
    fn new_session(&mut self) {}
    fn streams_fragments(&self) -> bool {
        true
    }
    fn callback(&mut self, cx: &mut Context<'_>, reason: Reason<'_, ()>) -> Outcome {
        match reason {
            Reason::ReceiveFragment { fragment, .. } => {
                if let Err(err) = cx.send_fragment(fragment) {
                    return Outcome::close(wsloop::CloseCode::Error, err.to_string());
                }
            }
            Reason::ServerWriteable { .. } => cx.resume_reading(),
            _ => {}
        }
        Outcome::Continue
    }
}

#[test]
fn autobahn_fuzzingclient_stream_echo() {
    let server = InProcess::start(Config::default(), || {
        ProtocolTable::new().with_protocol(StreamEcho)
    });
    let cases = support::autobahn::cases(CASES);
    let url = format!("ws://{}/", server.addr);
    support::autobahn::run(TEST, &url, "wsloop-stream", "stream-echo", &cases);
}
