//! `--max-incoming-buffered-bytes`: the server-wide cap on bytes held in partially received
//! messages. Clients that each send most of a large message cannot, together, take more than
//! the cap: the one whose bytes would pass it is closed with 1009, the others go on, and the
//! room comes back as their messages complete. `/status` shows what is held.

mod support;

use std::time::Duration;
use support::hostile::{poll_until, rss_kib};
use support::http::get;
use support::ws::{client_frame, op, RawWs};
use support::{say, ServerProcess};

const BUDGET_KIB: usize = 1024;
const FRAME: usize = 700 * 1024;
const SENT_FIRST: usize = 600 * 1024;

fn held(server: &ServerProcess) -> usize {
    let body = get(server.connect_addr(), "/status").body_text();
    let at = body
        .find("\"incoming_buffered_bytes\":")
        .expect("incoming_buffered_bytes")
        + 26;
    body[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a number")
}

/// Open an echo WebSocket and send `payload_sent` bytes of a binary frame of `FRAME` bytes.
fn start_partial_message(server: &ServerProcess, frame: &[u8], payload_sent: usize) -> RawWs {
    let mut ws = RawWs::open(
        server.connect_addr(),
        &["Sec-WebSocket-Protocol: echo"],
        &[],
    );
    let header = frame.len() - FRAME;
    ws.send(&frame[..header + payload_sent]);
    ws
}

#[test]
fn partial_messages_share_one_server_wide_budget() {
    let budget = format!("{BUDGET_KIB}K");
    let server = ServerProcess::start_with(&["--max-incoming-buffered-bytes", &budget, "--status"]);
    let pid = server.pid().expect("pid");
    let baseline = rss_kib(pid);
    let frame = client_frame(true, op::BINARY, &vec![0x5a; FRAME]);
    let header = frame.len() - FRAME;

    // The first client's partial message fits.
    let mut first = start_partial_message(&server, &frame, SENT_FIRST);
    let holding = poll_until(Duration::from_secs(5), || {
        let held = held(&server);
        (held >= SENT_FIRST).then_some(held)
    })
    .expect("the server holds the first partial message");
    say(&format!(
        "incoming_budget: first client's partial message: {holding} bytes held"
    ));

    // The second one's would pass the cap: closed with 1009, nothing more buffered for it.
    let mut second = start_partial_message(&server, &frame, SENT_FIRST);
    let close = second.read_frame();
    assert_eq!(close.close_code(), Some(1009), "{close:?}");
    assert!(
        close.close_reason().contains("incoming buffer"),
        "{close:?}"
    );
    assert!(held(&server) <= BUDGET_KIB * 1024);

    // The first finishes its message and gets it back; then the budget is free again.
    first.send(&frame[header + SENT_FIRST..]);
    let echo = first.read_frame();
    assert_eq!((echo.opcode, echo.payload.len()), (op::BINARY, FRAME));
    assert!(echo.payload.iter().all(|&b| b == 0x5a));
    let freed = poll_until(Duration::from_secs(5), || {
        (held(&server) == 0).then_some(())
    });
    assert!(
        freed.is_some(),
        "the budget is released when the message completes"
    );

    // So a third client can send a message of the same size.
    let mut third = start_partial_message(&server, &frame, SENT_FIRST);
    third.send(&frame[header + SENT_FIRST..]);
    assert_eq!(third.read_frame().payload.len(), FRAME);

    let grown = rss_kib(pid).saturating_sub(baseline);
    say(&format!("incoming_budget: server RSS grew by {grown} KiB"));
    assert!(grown < 16 * 1024, "RSS grew by {grown} KiB");
}
