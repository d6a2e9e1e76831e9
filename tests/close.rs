//! The closing handshake and protocol failures (RFC 6455 §5, §7): a client close is echoed with
//! the same code and then the server closes TCP; an oversized message gets 1009, invalid UTF-8
//! 1007, an unmasked client frame 1002 — each followed by the server closing TCP; SIGTERM sends
//! 1001 to every open WebSocket and the process exits 0.

mod support;

use std::time::{Duration, Instant};

use support::ws::{self, client_close, client_frame, encode_frame, op, RawWs};
use support::{describe_status, ServerProcess, SHUTDOWN_TIMEOUT};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::Message;

/// How long the server gets to close TCP after the close handshake.
const CLOSE_WITHIN: Duration = Duration::from_secs(5);

fn open(server: &ServerProcess) -> RawWs {
    RawWs::open(server.connect_addr(), &[], &[])
}

/// Read the server's next frame, which must be a close frame with `code`; then the server
/// must close TCP within [`CLOSE_WITHIN`]. Returns the close reason.
fn expect_close_then_eof(raw: &mut RawWs, code: u16) -> String {
    let frame = raw.read_frame();
    assert_eq!(
        frame.opcode,
        op::CLOSE,
        "expected close {code}, got {frame:?}"
    );
    assert!(!frame.masked && frame.fin, "{frame:?}");
    assert_eq!(
        frame.close_code(),
        Some(code),
        "reason {:?}",
        frame.close_reason()
    );
    let reason = frame.close_reason();
    // Our reply completes the handshake (a well-behaved client would send it).
    raw.send(&client_close(code, ""));
    let rest = raw
        .wait_closed(CLOSE_WITHIN)
        .unwrap_or_else(|e| panic!("after close {code}: {e}"));
    assert!(rest.is_empty(), "bytes after the close frame: {rest:?}");
    reason
}

#[test]
fn client_close_is_echoed_with_the_same_code_then_tcp_closes() {
    let server = ServerProcess::start();
    for (code, reason) in [
        (1000, "bye"),
        (1001, ""),
        (4000, "app-defined"),
        (3001, "x"),
    ] {
        let mut raw = open(&server);
        raw.send(&client_close(code, reason));
        let frame = raw.read_frame();
        assert_eq!(frame.opcode, op::CLOSE, "{frame:?}");
        assert_eq!(frame.close_code(), Some(code), "{frame:?}");
        let started = Instant::now();
        let rest = raw
            .wait_closed(CLOSE_WITHIN)
            .unwrap_or_else(|e| panic!("close {code}: {e}"));
        assert!(rest.is_empty(), "bytes after the close echo: {rest:?}");
        assert!(started.elapsed() < CLOSE_WITHIN);
    }
}

#[test]
fn empty_close_is_answered_with_a_close() {
    let server = ServerProcess::start();
    let mut raw = open(&server);
    raw.send(&client_frame(true, op::CLOSE, &[]));
    let frame = raw.read_frame();
    assert_eq!(frame.opcode, op::CLOSE, "{frame:?}");
    // RFC 6455 §5.5.1: an empty close may be answered empty (or with 1000).
    assert!(matches!(frame.close_code(), None | Some(1000)), "{frame:?}");
    raw.wait_closed(CLOSE_WITHIN).unwrap();
}

#[test]
fn tungstenite_client_close_handshake_completes() {
    let server = ServerProcess::start();
    let mut client = ws::connect(&server);
    client
        .close(Some(tungstenite::protocol::CloseFrame {
            code: CloseCode::Normal,
            reason: "done".into(),
        }))
        .unwrap();
    let deadline = Instant::now() + CLOSE_WITHIN;
    let mut echoed = None;
    loop {
        assert!(Instant::now() < deadline, "close handshake did not finish");
        match client.read() {
            Ok(Message::Close(frame)) => echoed = frame.map(|f| f.code),
            Ok(other) => panic!("unexpected {other:?}"),
            Err(tungstenite::Error::ConnectionClosed) => break,
            Err(e) => panic!("closing: {e}"),
        }
    }
    assert_eq!(echoed, Some(CloseCode::Normal));
}

#[test]
fn message_over_max_message_bytes_gets_1009() {
    let server = ServerProcess::start_with(&["--max-message-bytes", "1K"]);
    // Exactly at the limit is fine.
    let mut raw = open(&server);
    raw.send(&client_frame(true, op::BINARY, &[7u8; 1024]));
    let reply = raw.read_frame();
    assert_eq!((reply.opcode, reply.payload.len()), (op::BINARY, 1024));

    // One frame over the limit.
    raw.send(&client_frame(true, op::TEXT, &[b'a'; 1025]));
    expect_close_then_eof(&mut raw, 1009);

    // Fragments that are each small but add up to more than the limit.
    let mut raw = open(&server);
    raw.send(&client_frame(false, op::TEXT, &[b'a'; 600]));
    raw.send(&client_frame(true, op::CONT, &[b'b'; 600]));
    expect_close_then_eof(&mut raw, 1009);

    // A much larger message, through tungstenite.
    let mut client = ws::connect(&server);
    client.send(Message::binary(vec![0u8; 64 * 1024])).unwrap();
    // The socket's read timeout bounds this read.
    let code = match client.read() {
        Ok(Message::Close(frame)) => frame.map(|f| f.code),
        Ok(other) => panic!("unexpected {other:?}"),
        Err(e) => panic!("expected close 1009, got error {e}"),
    };
    assert_eq!(code, Some(CloseCode::Size));
}

#[test]
fn invalid_utf8_text_gets_1007() {
    let server = ServerProcess::start();
    for payload in [
        &[0xffu8, 0xfe][..],
        b"abc\xc3",      // truncated sequence at the end
        b"\xed\xa0\x80", // an encoded surrogate
        b"\xc0\xaf",     // overlong '/'
    ] {
        let mut raw = open(&server);
        raw.send(&client_frame(true, op::TEXT, payload));
        expect_close_then_eof(&mut raw, 1007);
    }
    // Invalid across fragments: valid start, invalid continuation.
    let mut raw = open(&server);
    raw.send(&client_frame(false, op::TEXT, "añ".as_bytes()));
    raw.send(&client_frame(true, op::CONT, &[0xff]));
    expect_close_then_eof(&mut raw, 1007);
}

#[test]
fn invalid_utf8_close_reason_gets_1007_or_1002() {
    let server = ServerProcess::start();
    let mut raw = open(&server);
    let mut payload = 1000u16.to_be_bytes().to_vec();
    payload.extend_from_slice(&[0xff, 0xfe]);
    raw.send(&client_frame(true, op::CLOSE, &payload));
    let frame = raw.read_frame();
    assert_eq!(frame.opcode, op::CLOSE, "{frame:?}");
    // RFC 6455 §8.1 asks for "fail the connection" (1007 is the natural code); never an echo.
    assert!(
        matches!(frame.close_code(), Some(1007 | 1002)),
        "{frame:?} (reason {:?})",
        frame.close_reason()
    );
    raw.wait_closed(CLOSE_WITHIN).unwrap();
}

#[test]
fn unmasked_client_frame_gets_1002() {
    let server = ServerProcess::start();
    let mut raw = open(&server);
    raw.send(&encode_frame(true, op::TEXT, b"not masked", None));
    expect_close_then_eof(&mut raw, 1002);
}

#[test]
fn other_protocol_errors_get_1002() {
    let server = ServerProcess::start();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("reserved opcode 0x3", client_frame(true, 0x3, b"x")),
        (
            "continuation without a start",
            client_frame(true, op::CONT, b"x"),
        ),
        ("fragmented ping", client_frame(false, op::PING, b"x")),
        (
            "ping over 125 bytes",
            client_frame(true, op::PING, &[0u8; 126]),
        ),
        ("RSV1 without an extension", {
            let mut f = client_frame(true, op::TEXT, b"x");
            f[0] |= 0x40;
            f
        }),
        ("new message inside a fragmented one", {
            let mut f = client_frame(false, op::TEXT, b"a");
            f.extend(client_frame(true, op::TEXT, b"b"));
            f
        }),
    ];
    for (what, bytes) in cases {
        let mut raw = open(&server);
        raw.send(&bytes);
        let frame = raw.read_frame();
        assert_eq!(frame.opcode, op::CLOSE, "{what}: {frame:?}");
        assert_eq!(frame.close_code(), Some(1002), "{what}: {frame:?}");
        raw.wait_closed(CLOSE_WITHIN)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
    }
}

#[test]
fn sigterm_closes_websockets_with_1001_and_exits_0() {
    let mut server = ServerProcess::start();
    let mut client = ws::connect(&server);
    let mut raw = open(&server);
    // Both are open and served before the signal.
    assert_eq!(
        ws::round_trip(&mut client, Message::text("up")),
        Message::text("pu")
    );
    raw.send(&client_frame(true, op::TEXT, b"up"));
    assert_eq!(raw.read_frame().payload, b"pu");

    server.signal("TERM").expect("send SIGTERM");

    let frame = raw.read_frame();
    assert_eq!(frame.opcode, op::CLOSE, "{frame:?}");
    assert_eq!(frame.close_code(), Some(1001), "{frame:?}");
    raw.send(&client_close(1001, ""));
    raw.wait_closed(CLOSE_WITHIN).unwrap();
    // Close our socket too: the server lingers until the peer's FIN (or close_timeout).
    drop(raw);

    let deadline = Instant::now() + CLOSE_WITHIN;
    let mut code = None;
    loop {
        assert!(Instant::now() < deadline, "tungstenite client: no close");
        match client.read() {
            Ok(Message::Close(frame)) => code = frame.map(|f| f.code),
            Ok(other) => panic!("unexpected {other:?}"),
            Err(tungstenite::Error::ConnectionClosed) => break,
            Err(e) => panic!("tungstenite client while closing: {e}"),
        }
    }
    assert_eq!(code, Some(CloseCode::Away));
    drop(client);

    let status = server
        .wait_exit(SHUTDOWN_TIMEOUT)
        .expect("server still running after SIGTERM");
    assert!(status.success(), "exit: {}", describe_status(&status));
}

#[test]
fn invalid_close_codes_and_payloads_get_1002() {
    let server = ServerProcess::start();
    // 1004-1006 and 1015 are reserved and must never be sent; <1000, 1016-2999 and >4999 are
    // not assignable (RFC 6455 §7.4).
    for code in [
        0u16, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535,
    ] {
        let mut raw = open(&server);
        raw.send(&client_close(code, ""));
        let frame = raw.read_frame();
        assert_eq!(frame.opcode, op::CLOSE, "close {code}: {frame:?}");
        assert_eq!(frame.close_code(), Some(1002), "close {code}: {frame:?}");
        raw.wait_closed(CLOSE_WITHIN)
            .unwrap_or_else(|e| panic!("close {code}: {e}"));
    }
    // A close payload of one byte cannot hold a code.
    let mut raw = open(&server);
    raw.send(&client_frame(true, op::CLOSE, &[3]));
    expect_close_then_eof(&mut raw, 1002);
    // A close reason that makes the payload longer than 125 bytes.
    let mut raw = open(&server);
    raw.send(&client_close(1000, &"r".repeat(124)));
    expect_close_then_eof(&mut raw, 1002);
}

#[test]
fn frame_over_max_frame_bytes_is_refused_from_its_header() {
    let server = ServerProcess::start_with(&["--max-frame-bytes", "1K"]);
    let mut raw = open(&server);
    // Only the header of a 1 MiB frame: the refusal must not wait for the payload.
    let mut header = vec![0x80 | op::BINARY, 0x80 | 127];
    header.extend_from_slice(&(1u64 << 20).to_be_bytes());
    header.extend_from_slice(&ws::MASK);
    raw.send(&header);
    expect_close_then_eof(&mut raw, 1009);
}

#[test]
fn client_that_never_reads_gets_1008_at_the_outgoing_cap() {
    // With the soft limit at the hard cap the demo protocols never pause reading (they pause
    // when a send reports Congested, above the soft limit), so the queue fills to the cap.
    let server = ServerProcess::start_with(&[
        "--max-outgoing-bytes",
        "256K",
        "--outgoing-soft-limit",
        "256K",
    ]);
    let mut raw = open(&server);
    let mut writer_stream = raw.conn.stream.try_clone().expect("clone socket");
    // Write replies-worth of data without reading any reply; the server's queue must hit its
    // cap once the socket buffers are full. The writer stops on its own after a bound.
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        writer_stream
            .set_write_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let frame = client_frame(true, op::BINARY, &[1u8; 64 * 1024]);
        for _ in 0..1000 {
            if writer_stream.write_all(&frame).is_err() {
                break;
            }
        }
    });
    writer.join().expect("writer thread");
    let deadline = Instant::now() + Duration::from_secs(20);
    let frame = loop {
        assert!(Instant::now() < deadline, "no close frame");
        let frame = raw.read_frame();
        if frame.opcode == op::CLOSE {
            break frame;
        }
        assert_eq!(frame.opcode, op::BINARY, "{frame:?}");
    };
    assert_eq!(frame.close_code(), Some(1008), "{frame:?}");
}

#[test]
fn sigterm_with_a_silent_client_exits_after_close_timeout() {
    let mut server = ServerProcess::start_with(&["--close-timeout", "300ms"]);
    let mut raw = open(&server);
    server.signal("TERM").expect("send SIGTERM");
    let started = Instant::now();
    let frame = raw.read_frame();
    assert_eq!(frame.close_code(), Some(1001), "{frame:?}");
    // We never answer: the server drops us after close_timeout and exits 0.
    raw.wait_closed(CLOSE_WITHIN).unwrap();
    let status = server
        .wait_exit(SHUTDOWN_TIMEOUT)
        .expect("server still running after SIGTERM");
    assert!(status.success(), "exit: {}", describe_status(&status));
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "took {:?}; the 5 s shutdown timeout should not be needed",
        started.elapsed()
    );
}

#[test]
fn second_signal_drops_everything_at_once() {
    let mut server =
        ServerProcess::start_with(&["--close-timeout", "60s", "--shutdown-timeout", "60s"]);
    let mut raw = open(&server);
    server.signal("TERM").expect("send SIGTERM");
    assert_eq!(raw.read_frame().close_code(), Some(1001));
    server.signal("INT").expect("send SIGINT");
    let status = server
        .wait_exit(SHUTDOWN_TIMEOUT)
        .expect("server ignored the second signal");
    assert!(status.success(), "exit: {}", describe_status(&status));
    raw.wait_closed(CLOSE_WITHIN).unwrap();
}

#[test]
fn sigint_behaves_like_sigterm() {
    let mut server = ServerProcess::start();
    let mut raw = open(&server);
    server.signal("INT").expect("send SIGINT");
    assert_eq!(raw.read_frame().close_code(), Some(1001));
    raw.send(&client_close(1001, ""));
    raw.wait_closed(CLOSE_WITHIN).unwrap();
    drop(raw);
    let status = server
        .wait_exit(SHUTDOWN_TIMEOUT)
        .expect("server still running after SIGINT");
    assert!(status.success(), "exit: {}", describe_status(&status));
}
