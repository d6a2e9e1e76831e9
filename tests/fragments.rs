//! Fragmented sends (`Context::send_fragment`), in-process with a test-only protocol: a text
//! message in three fragments that split UTF-8 characters, a binary one, one streamed across
//! callbacks (one fragment per `ServerWriteable`), all reassembled by tungstenite; the frames
//! on the wire as a raw client sees them; and `SendError::FragmentOrder` for every misuse.
//!
//! Receiving (`Protocol::streams_fragments`): each frame reaches the callback as a
//! `ReceiveFragment` as soon as it arrives (before the message is complete), with its place in
//! the message and the message's kind; text fragments hold whole UTF-8 characters even when
//! the client cut one; invalid UTF-8 still closes with 1007.

mod support;

use support::inproc::InProcess;
use support::ws::{client_frame, next_data, op, try_connect, Client, RawWs};
use tungstenite::Message;
use wsloop::{
    Bytes, Config, Context, Fragment, Outcome, Protocol, ProtocolTable, Reason, SendError,
};

/// Splits "ö" (2 bytes) and "✓" (3 bytes) across fragment boundaries.
const TEXT: &str = "Hello, wörld ✓";
const TEXT_SPLITS: [usize; 2] = [9, 15];
const STREAMED: [&str; 4] = ["one ", "two ", "three ", "four"];

fn fragment(data: impl Into<Bytes>, binary: bool, first: bool, last: bool) -> Fragment {
    Fragment {
        data: data.into(),
        binary,
        first,
        last,
    }
}

/// Three pieces of `data` cut at `splits`.
fn pieces(data: &[u8], splits: [usize; 2]) -> [Vec<u8>; 3] {
    [
        data[..splits[0]].to_vec(),
        data[splits[0]..splits[1]].to_vec(),
        data[splits[1]..].to_vec(),
    ]
}

fn send_in_three(cx: &mut Context<'_>, data: &[u8], splits: [usize; 2], binary: bool) {
    let [a, b, c] = pieces(data, splits);
    cx.send_fragment(fragment(a, binary, true, false)).unwrap();
    cx.send_fragment(fragment(b, binary, false, false)).unwrap();
    cx.send_fragment(fragment(c, binary, false, true)).unwrap();
}

struct Pieces;

impl Protocol for Pieces {
    /// Fragments of STREAMED already sent (0: not streaming).
    type Session = usize;
    fn name(&self) -> &str {
        "pieces"
    }
    fn new_session(&mut self) -> usize {
        0
    }
    fn callback(&mut self, cx: &mut Context<'_>, reason: Reason<'_, usize>) -> Outcome {
        match reason {
            Reason::Receive {
                session,
                message: wsloop::Message::Text(command),
            } => match command.as_str() {
                "text" => send_in_three(cx, TEXT.as_bytes(), TEXT_SPLITS, false),
                "binary" => {
                    let data: Vec<u8> = (0..=255).collect();
                    send_in_three(cx, &data, [100, 200], true);
                }
                "stream" => {
                    cx.send_fragment(fragment(STREAMED[0], false, true, false))
                        .unwrap();
                    *session = 1;
                    cx.request_writeable();
                }
                "misuse" => {
                    let report = misuse(cx);
                    let _ = cx.send_text(report);
                }
                _ => {}
            },
            Reason::ServerWriteable { session } if *session > 0 => {
                let last = *session == STREAMED.len() - 1;
                cx.send_fragment(fragment(STREAMED[*session], false, false, last))
                    .unwrap();
                *session = if last { 0 } else { *session + 1 };
                if !last {
                    cx.request_writeable();
                }
            }
            _ => {}
        }
        Outcome::Continue
    }
}

/// Every wrong order is refused with FragmentOrder and queues nothing; "misuse ok" or a list
/// of what went wrong.
fn misuse(cx: &mut Context<'_>) -> String {
    let mut wrong = Vec::new();
    let mut expect = |what: &str, got: Result<wsloop::Sent, SendError>, want_ok: bool| {
        if got.is_ok() != want_ok || (!want_ok && got != Err(SendError::FragmentOrder)) {
            wrong.push(format!("{what}: {got:?}"));
        }
    };
    expect(
        "continuation without a first fragment",
        cx.send_fragment(fragment("x", false, false, false)),
        false,
    );
    expect(
        "last fragment without a first",
        cx.send_fragment(fragment("x", false, false, true)),
        false,
    );
    expect(
        "first fragment",
        cx.send_fragment(fragment("A", false, true, false)),
        true,
    );
    expect(
        "whole message inside a fragmented one",
        cx.send_text("no"),
        false,
    );
    expect(
        "a second first fragment",
        cx.send_fragment(fragment("no", false, true, false)),
        false,
    );
    expect(
        "last fragment",
        cx.send_fragment(fragment("B", false, false, true)),
        true,
    );
    if wrong.is_empty() {
        "misuse ok".into()
    } else {
        wrong.join("; ")
    }
}

fn server() -> InProcess {
    InProcess::start(Config::default(), || {
        ProtocolTable::new().with_protocol(Pieces)
    })
}

fn connect(server: &InProcess) -> Client {
    try_connect(server.addr, &["pieces"])
        .unwrap_or_else(|e| panic!("connect: {e}"))
        .0
}

#[test]
fn tungstenite_reassembles_fragmented_messages() {
    let server = server();
    let mut ws = connect(&server);
    ws.send(Message::text("text")).unwrap();
    assert_eq!(next_data(&mut ws), Message::text(TEXT));
    ws.send(Message::text("binary")).unwrap();
    assert_eq!(
        next_data(&mut ws),
        Message::binary((0..=255).collect::<Vec<u8>>())
    );
    // Streamed across callbacks: the first fragment in Receive, one per ServerWriteable.
    ws.send(Message::text("stream")).unwrap();
    assert_eq!(next_data(&mut ws), Message::text(STREAMED.concat()));
}

#[test]
fn the_wire_carries_one_frame_per_fragment() {
    let server = server();
    let mut raw = RawWs::open(server.addr, &["Sec-WebSocket-Protocol: pieces"], &[]);
    raw.send(&client_frame(true, op::TEXT, b"text"));
    let frames: Vec<_> = (0..3).map(|_| raw.read_frame()).collect();
    let shape: Vec<(u8, bool)> = frames.iter().map(|f| (f.opcode, f.fin)).collect();
    assert_eq!(
        shape,
        [(op::TEXT, false), (op::CONT, false), (op::CONT, true)]
    );
    assert!(
        frames.iter().all(|f| !f.masked),
        "server frames are unmasked"
    );
    let expected = pieces(TEXT.as_bytes(), TEXT_SPLITS);
    for (frame, piece) in frames.iter().zip(&expected) {
        assert_eq!(&frame.payload, piece);
    }
}

#[test]
fn fragments_out_of_order_are_refused() {
    let server = server();
    let mut ws = connect(&server);
    ws.send(Message::text("misuse")).unwrap();
    // The one correct fragmented message, then the report (the refused sends queued nothing).
    assert_eq!(next_data(&mut ws), Message::text("AB"));
    assert_eq!(next_data(&mut ws), Message::text("misuse ok"));
}

/// Streams what it receives: each fragment is answered with a report
/// `"<first><last><t|b> <payload>"` (binary payloads in hex).
struct Collect;

impl Protocol for Collect {
    type Session = ();
    fn name(&self) -> &str {
        "collect"
    }
    fn new_session(&mut self) {}
    fn streams_fragments(&self) -> bool {
        true
    }
    fn callback(&mut self, cx: &mut Context<'_>, reason: Reason<'_, ()>) -> Outcome {
        match reason {
            Reason::ReceiveFragment { fragment, .. } => {
                let payload = if fragment.binary {
                    fragment.data.iter().map(|b| format!("{b:02x}")).collect()
                } else {
                    match std::str::from_utf8(&fragment.data) {
                        Ok(text) => text.to_owned(),
                        Err(_) => format!("INVALID UTF-8 {:?}", fragment.data),
                    }
                };
                let report = format!(
                    "{}{}{} {payload}",
                    u8::from(fragment.first),
                    u8::from(fragment.last),
                    if fragment.binary { 'b' } else { 't' }
                );
                let _ = cx.send_text(report);
            }
            Reason::Receive { .. } => {
                let _ = cx.send_text("whole message delivered to a streaming protocol");
            }
            _ => {}
        }
        Outcome::Continue
    }
}

fn collector() -> (InProcess, RawWs) {
    let server = InProcess::start(Config::default(), || {
        ProtocolTable::new().with_protocol(Collect)
    });
    let raw = RawWs::open(server.addr, &["Sec-WebSocket-Protocol: collect"], &[]);
    (server, raw)
}

/// The next report (a text frame) from the collector.
fn report(raw: &mut RawWs) -> String {
    loop {
        let frame = raw.read_frame();
        match frame.opcode {
            op::PING | op::PONG => continue,
            op::TEXT => return String::from_utf8(frame.payload).expect("UTF-8 report"),
            other => panic!("expected a report, got opcode {other}: {frame:?}"),
        }
    }
}

#[test]
fn fragments_are_delivered_as_they_arrive() {
    let (_server, mut raw) = collector();
    // A message in three frames: each is reported before the next one is even sent.
    raw.send(&client_frame(false, op::TEXT, b"Hel"));
    assert_eq!(report(&mut raw), "10t Hel");
    raw.send(&client_frame(false, op::CONT, b"lo, "));
    assert_eq!(report(&mut raw), "00t lo, ");
    raw.send(&client_frame(true, op::CONT, b"world"));
    assert_eq!(report(&mut raw), "01t world");
    // A message in one frame is one fragment, first and last.
    raw.send(&client_frame(true, op::TEXT, b"whole"));
    assert_eq!(report(&mut raw), "11t whole");
    // Binary continuations keep the message's kind.
    raw.send(&client_frame(false, op::BINARY, &[1, 2]));
    raw.send(&client_frame(true, op::CONT, &[0xff]));
    assert_eq!(report(&mut raw), "10b 0102");
    assert_eq!(report(&mut raw), "01b ff");
    // Control frames in the middle of a fragmented message are still handled by the loop.
    raw.send(&client_frame(false, op::TEXT, b"a"));
    raw.send(&client_frame(true, op::PING, b"p"));
    raw.send(&client_frame(true, op::CONT, b"b"));
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let frame = raw.read_frame();
        seen.push(match frame.opcode {
            op::PONG => format!("pong {}", String::from_utf8_lossy(&frame.payload)),
            op::TEXT => String::from_utf8(frame.payload).unwrap(),
            other => panic!("unexpected opcode {other}"),
        });
    }
    assert_eq!(seen, ["10t a", "pong p", "01t b"]);
}

#[test]
fn text_fragments_hold_whole_characters() {
    let (_server, mut raw) = collector();
    // "wörld ✓" with "ö" (c3 b6) and "✓" (e2 9c 93) cut across frames.
    let bytes = "wörld ✓".as_bytes();
    let frames: [&[u8]; 4] = [&bytes[..2], &bytes[2..8], &bytes[8..9], &bytes[9..]];
    let last = frames.len() - 1;
    let mut texts = Vec::new();
    for (i, piece) in frames.iter().enumerate() {
        let opcode = if i == 0 { op::TEXT } else { op::CONT };
        raw.send(&client_frame(i == last, opcode, piece));
        let report = report(&mut raw);
        let (flags, text) = report.split_once(' ').expect("flags and payload");
        assert!(!text.starts_with("INVALID"), "fragment {i}: {report}");
        let expected_flags = format!("{}{}t", u8::from(i == 0), u8::from(i == last));
        assert_eq!(flags, expected_flags, "fragment {i}");
        texts.push(text.to_owned());
    }
    assert_eq!(texts.concat(), "wörld ✓");
    // The cut characters were held back to the fragment that completed them.
    assert_eq!(texts[0], "w");
}

#[test]
fn invalid_utf8_in_a_text_fragment_closes_with_1007() {
    let (_server, mut raw) = collector();
    raw.send(&client_frame(false, op::TEXT, b"ok"));
    assert_eq!(report(&mut raw), "10t ok");
    raw.send(&client_frame(true, op::CONT, b"\xff\xfe"));
    let close = loop {
        let frame = raw.read_frame();
        match frame.opcode {
            op::CLOSE => break frame,
            op::TEXT => panic!(
                "invalid UTF-8 was delivered: {:?}",
                String::from_utf8_lossy(&frame.payload)
            ),
            _ => {}
        }
    };
    assert_eq!(close.close_code(), Some(1007));
}
