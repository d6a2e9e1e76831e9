//! Fragmented sends (`Context::send_fragment`), in-process with a test-only protocol: a text
//! message in three fragments that split UTF-8 characters, a binary one, one streamed across
//! callbacks (one fragment per `ServerWriteable`), all reassembled by tungstenite; the frames
//! on the wire as a raw client sees them; and `SendError::FragmentOrder` for every misuse.

mod support;

use support::inproc::InProcess;
use support::ws::{next_data, op, try_connect, Client, RawWs};
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
    raw.send(&support::ws::client_frame(true, op::TEXT, b"text"));
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
