//! permessage-deflate (RFC 7692) with hand-made frames on a raw socket: the negotiation the
//! 101 answers (and `--deflate off`), compressed messages in one frame, cut across reads and
//! fragmented (RSV1 on the first frame only), replies compressed from `--deflate-min-bytes`
//! on (also a reply the protocol writes in place), context takeover, a streaming protocol
//! receiving inflated fragments, and what must close the connection: a zip bomb (1009 within
//! the message limit, RSS held), corrupt data (1007 text, 1002 binary), RSV1 on a
//! continuation, a control frame, or without deflate (1002).

#![cfg(feature = "deflate")]

mod support;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use std::io::Write;
use std::time::Duration;
use support::inproc::InProcess;
use support::ws::{client_close, client_frame, client_frame_rsv1, op, RawFrame, RawWs};
use support::ServerProcess;
use wsloop::{Config, Context, Outcome, Protocol, ProtocolTable, Reason};

const OFFER: &str = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits";
const SHARED: &str = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

/// `data` compressed as one permessage-deflate message (sync flush, tail removed).
fn deflate(data: &[u8], level: u32) -> Vec<u8> {
    let mut compress = Compress::new_with_window_bits(Compression::new(level), false, 15);
    let mut out = Vec::with_capacity(data.len() / 2 + 1024);
    loop {
        let consumed = compress.total_in() as usize;
        if out.capacity() - out.len() < 1024 {
            out.reserve(out.capacity());
        }
        compress
            .compress_vec(&data[consumed..], &mut out, FlushCompress::Sync)
            .unwrap();
        if compress.total_in() as usize == data.len() && out.len() < out.capacity() {
            break;
        }
    }
    assert!(out.ends_with(&[0, 0, 0xff, 0xff]));
    out.truncate(out.len() - 4);
    out
}

/// Inflate one message the server sent, with a fresh window (the server keeps none).
fn inflate(data: &[u8]) -> Vec<u8> {
    let mut inflate = Decompress::new_with_window_bits(false, 15);
    let mut input = data.to_vec();
    input.extend_from_slice(&[0, 0, 0xff, 0xff]);
    let mut out = Vec::with_capacity(1 << 20);
    inflate
        .decompress_vec(&input, &mut out, FlushDecompress::Sync)
        .unwrap();
    out
}

/// Chat-like JSON of about `size` bytes.
fn json(size: usize) -> Vec<u8> {
    let mut out = String::new();
    let mut n = 0;
    while out.len() < size {
        out += &format!(
            "{{\"id\":{n},\"user\":\"user{}\",\"text\":\"message number {n} says hi\"}}",
            n % 5
        );
        n += 1;
    }
    out.truncate(size);
    out.into_bytes()
}

fn open(server: &ServerProcess) -> RawWs {
    RawWs::open(server.addr(), &["Sec-WebSocket-Protocol: echo", OFFER], &[])
}

/// The reply's payload, inflated if the server compressed it.
fn reply(ws: &mut RawWs) -> (RawFrame, Vec<u8>) {
    let frame = ws.read_frame();
    let payload = if frame.rsv1 {
        inflate(&frame.payload)
    } else {
        frame.payload.clone()
    };
    (frame, payload)
}

fn expect_close(ws: &mut RawWs, code: u16, reason: &str) {
    let frame = ws.read_frame();
    assert_eq!(frame.opcode, op::CLOSE, "{frame:?}");
    assert_eq!(frame.close_code(), Some(code), "{:?}", frame.close_reason());
    assert!(
        frame.close_reason().contains(reason),
        "close reason {:?}, wanted {reason:?}",
        frame.close_reason()
    );
}

#[test]
fn the_101_answers_one_offer_and_off_answers_none() {
    let server = ServerProcess::start();
    let ws = open(&server);
    assert_eq!(ws.response.header("sec-websocket-extensions"), Some(SHARED));
    // Declined offers (an unknown parameter, a window zlib cannot do) mean no compression,
    // never a refused upgrade; a later acceptable offer is taken.
    for (offer, want) in [
        ("permessage-deflate; foo", None),
        ("permessage-deflate; server_max_window_bits=8", None),
        (
            "permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=10",
            Some(format!("{SHARED}; server_max_window_bits=10")),
        ),
    ] {
        let line = format!("Sec-WebSocket-Extensions: {offer}");
        let ws = RawWs::open(server.addr(), &[&line], &[]);
        assert_eq!(
            ws.response.header("sec-websocket-extensions"),
            want.as_deref(),
            "{offer}"
        );
    }
    let off = ServerProcess::start_with(&["--deflate", "off"]);
    let ws = open(&off);
    assert_eq!(ws.response.header("sec-websocket-extensions"), None);
}

#[test]
fn a_reply_written_in_place_is_compressed_too() {
    // The reverse protocol writes its replies straight into the queue (`send_text_with`);
    // with deflate agreed, one past the minimum size is filled into a scratch buffer and
    // compressed like any other message.
    let server = ServerProcess::start();
    let mut ws = RawWs::open(
        server.addr(),
        &["Sec-WebSocket-Protocol: dumb-increment-protocol", OFFER],
        &[],
    );
    let big = json(4096);
    ws.send(&client_frame_rsv1(true, op::TEXT, &deflate(&big, 6)));
    let (frame, payload) = reply(&mut ws);
    assert!(frame.rsv1, "a 4 KiB reply is compressed");
    let reversed: Vec<u8> = big.iter().rev().copied().collect();
    assert_eq!(payload, reversed);
    ws.send(&client_frame(true, op::BINARY, &big));
    let (frame, payload) = reply(&mut ws);
    assert!(frame.rsv1);
    assert_eq!(payload, reversed);
}

#[test]
fn compressed_messages_come_back_compressed_from_the_min_size_on() {
    let server = ServerProcess::start();
    let mut ws = open(&server);
    // A small compressed message: the echo is small, so it goes back uncompressed.
    ws.send(&client_frame_rsv1(true, op::TEXT, &deflate(b"Hello", 6)));
    let (frame, payload) = reply(&mut ws);
    assert_eq!((frame.rsv1, payload.as_slice()), (false, &b"Hello"[..]));
    // 4 KiB of JSON: compressed both ways.
    let big = json(4096);
    ws.send(&client_frame_rsv1(true, op::TEXT, &deflate(&big, 6)));
    let (frame, payload) = reply(&mut ws);
    assert!(frame.rsv1, "a 4 KiB reply is compressed");
    assert!(
        frame.payload.len() < big.len() / 2,
        "{}",
        frame.payload.len()
    );
    assert_eq!(payload, big);
    // Uncompressed messages are fine on a deflate connection (RSV1 is per message).
    ws.send(&client_frame(true, op::BINARY, &big));
    let (frame, payload) = reply(&mut ws);
    assert!(frame.rsv1);
    assert_eq!(payload, big);
    // Cut into pieces that arrive in separate reads.
    let frame_bytes = client_frame_rsv1(true, op::TEXT, &deflate(&big, 6));
    for piece in frame_bytes.chunks(frame_bytes.len() / 5 + 1) {
        ws.send(piece);
        ws.conn.stream.flush().unwrap();
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(reply(&mut ws).1, big);
    // Fragmented: RSV1 on the first frame only, continuations plain; pings may interleave.
    let compressed = deflate(&big, 6);
    let third = compressed.len() / 3;
    ws.send(&client_frame_rsv1(false, op::TEXT, &compressed[..third]));
    ws.send(&client_frame(true, op::PING, b"p"));
    ws.send(&client_frame(
        false,
        op::CONT,
        &compressed[third..2 * third],
    ));
    ws.send(&client_frame(true, op::CONT, &compressed[2 * third..]));
    let pong = ws.read_frame();
    assert_eq!(
        (pong.opcode, pong.payload.as_slice()),
        (op::PONG, &b"p"[..])
    );
    assert_eq!(reply(&mut ws).1, big);
    ws.send(&client_close(1000, ""));
    assert_eq!(ws.read_frame().close_code(), Some(1000));
}

#[test]
fn takeover_mode_keeps_each_connections_windows() {
    let server = ServerProcess::start_with(&["--deflate", "takeover"]);
    let mut ws = open(&server);
    assert_eq!(
        ws.response.header("sec-websocket-extensions"),
        Some("permessage-deflate; client_max_window_bits=11")
    );
    // The client's second message refers back into the first: the server's inflater kept
    // its window.
    let message = json(1100);
    let mut client = Compress::new_with_window_bits(Compression::new(6), false, 11);
    let mut server_side = Decompress::new_with_window_bits(false, 15);
    let mut sizes = Vec::new();
    for _ in 0..3 {
        let mut out = Vec::with_capacity(8192);
        client
            .compress_vec(&message, &mut out, FlushCompress::Sync)
            .unwrap();
        out.truncate(out.len() - 4);
        ws.send(&client_frame_rsv1(true, op::TEXT, &out));
        let frame = ws.read_frame();
        assert!(frame.rsv1);
        sizes.push(frame.payload.len());
        let mut input = frame.payload.clone();
        input.extend_from_slice(&[0, 0, 0xff, 0xff]);
        let mut echoed = Vec::with_capacity(8192);
        server_side
            .decompress_vec(&input, &mut echoed, FlushDecompress::Sync)
            .unwrap();
        assert_eq!(echoed, message);
    }
    assert!(sizes[1] * 2 < sizes[0], "the repeat is small: {sizes:?}");
}

#[test]
fn a_zip_bomb_closes_1009_within_the_message_limit() {
    let limit_mib = 16;
    let server = ServerProcess::start_with(&["--max-message-bytes", "16M"]);
    let bomb = deflate(&vec![0u8; 64 << 20], 9);
    assert!(bomb.len() < 100 << 10, "{} bytes", bomb.len());
    let mut ws = open(&server);
    let before = rss_kib(&server);
    ws.send(&client_frame_rsv1(true, op::BINARY, &bomb));
    expect_close(&mut ws, 1009, "message too big");
    let after = rss_kib(&server);
    assert!(
        after < before + limit_mib * 1024,
        "RSS grew from {before} KiB to {after} KiB"
    );
    // Fragmented, the limit holds across frames as well.
    let mut ws = open(&server);
    let half = bomb.len() / 2;
    ws.send(&client_frame_rsv1(false, op::BINARY, &bomb[..half]));
    ws.send(&client_frame(true, op::CONT, &bomb[half..]));
    expect_close(&mut ws, 1009, "message too big");
}

#[test]
fn rsv1_misuse_and_corrupt_data_close_the_connection() {
    let server = ServerProcess::start();
    let compressed = deflate(b"Hello, world", 6);
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (
            [
                client_frame(false, op::TEXT, b"Hel"),
                client_frame_rsv1(true, op::CONT, b"lo"),
            ]
            .concat(),
            1002,
            "continuation",
        ),
        (client_frame_rsv1(true, op::PING, b""), 1002, "control"),
        (
            client_frame_rsv1(true, op::TEXT, &[0xff; 20]),
            1007,
            "invalid compressed data",
        ),
        (
            client_frame_rsv1(true, op::BINARY, &[0xff; 20]),
            1002,
            "invalid compressed data",
        ),
        (
            {
                let mut frame = client_frame(true, op::TEXT, b"x");
                frame[0] |= 0x20;
                frame
            },
            1002,
            "reserved bits",
        ),
    ];
    for (bytes, code, reason) in cases {
        let mut ws = open(&server);
        ws.send(&bytes);
        expect_close(&mut ws, code, reason);
    }
    // Without deflate agreed, RSV1 is a protocol error.
    let mut ws = RawWs::open(server.addr(), &["Sec-WebSocket-Protocol: echo"], &[]);
    ws.send(&client_frame_rsv1(true, op::TEXT, &compressed));
    expect_close(&mut ws, 1002, "without permessage-deflate");
}

/// Echoes each fragment it receives as a message of its own, so the test sees what arrived.
struct FragmentEcho;

impl Protocol for FragmentEcho {
    type Session = ();
    fn name(&self) -> &str {
        "fragment-echo"
    }
    fn new_session(&mut self) {}
    fn streams_fragments(&self) -> bool {
        true
    }
    fn callback(&mut self, cx: &mut Context<'_>, reason: Reason<'_, ()>) -> Outcome {
        if let Reason::ReceiveFragment { fragment, .. } = reason {
            let _ = cx.send_uncompressed(wsloop::Message::Binary(fragment.data));
        }
        Outcome::Continue
    }
}

#[test]
fn a_streaming_protocol_receives_inflated_fragments() {
    let server = InProcess::start(Config::default(), || {
        ProtocolTable::new().with_protocol(FragmentEcho)
    });
    let mut ws = RawWs::open(server.addr, &[OFFER], &[]);
    let text = json(3000);
    let compressed = deflate(&text, 6);
    let half = compressed.len() / 2;
    ws.send(&client_frame_rsv1(false, op::TEXT, &compressed[..half]));
    ws.send(&client_frame(true, op::CONT, &compressed[half..]));
    let mut got = Vec::new();
    while got.len() < text.len() {
        let frame = ws.read_frame();
        assert!(!frame.rsv1, "send_uncompressed");
        got.extend_from_slice(&frame.payload);
    }
    assert_eq!(got, text);
}

/// The server's resident memory.
fn rss_kib(server: &ServerProcess) -> u64 {
    let pid = server.pid().expect("running");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .expect("VmRSS")
}
