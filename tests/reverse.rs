//! `dumb-increment-protocol` end to end: text reversed by grapheme clusters with one trailing
//! `\n` / `\r\n` kept at the end, binary reversed bytewise, a 1 MiB message, fragmented messages
//! reassembled before reversal, and 100 concurrent clients.

mod support;

use std::sync::{Arc, Barrier};
use std::thread;

use support::ws::{self, round_trip};
use support::ServerProcess;
use tungstenite::protocol::frame::coding::{Data, OpCode};
use tungstenite::protocol::frame::Frame;
use tungstenite::Message;

fn text_reply(client: &mut ws::Client, text: &str) -> String {
    match round_trip(client, Message::text(text)) {
        Message::Text(t) => t.as_str().to_owned(),
        other => panic!("{text:?}: expected text, got {other:?}"),
    }
}

#[test]
fn ascii_and_unicode_text_reversed_by_grapheme() {
    let server = ServerProcess::start();
    let mut client = ws::connect(&server);
    for (input, want) in [
        ("Hello, world!", "!dlrow ,olleH"),
        ("a", "a"),
        ("", ""),
        ("añb", "bña"),
        ("🇫🇷🇩🇪", "🇩🇪🇫🇷"),
        ("e\u{301}x", "xe\u{301}"),
        ("👨‍👩‍👧 hi", "ih 👨‍👩‍👧"),
        ("日本語", "語本日"),
        ("a\r\nb", "b\r\na"),
    ] {
        assert_eq!(text_reply(&mut client, input), want, "input {input:?}");
    }
    client.close(None).unwrap();
}

#[test]
fn one_trailing_line_break_stays_at_the_end() {
    let server = ServerProcess::start();
    let mut client = ws::connect(&server);
    for (input, want) in [
        ("abc\n", "cba\n"),
        ("abc\r\n", "cba\r\n"),
        ("añb\n", "bña\n"),
        ("🇫🇷🇩🇪\r\n", "🇩🇪🇫🇷\r\n"),
        ("\n", "\n"),
        ("\r\n", "\r\n"),
        ("ab\n\n", "\nba\n"),
        ("\nab", "ba\n"),
    ] {
        assert_eq!(text_reply(&mut client, input), want, "input {input:?}");
    }
}

#[test]
fn binary_reversed_bytewise() {
    let server = ServerProcess::start();
    let mut client = ws::connect(&server);
    let data: Vec<u8> = (0..=255u8).collect();
    let want: Vec<u8> = data.iter().rev().copied().collect();
    assert_eq!(
        round_trip(&mut client, Message::binary(data)),
        Message::binary(want)
    );
    // Binary is bytes, not text: a UTF-8 sequence comes back byte-reversed, not by character.
    assert_eq!(
        round_trip(&mut client, Message::binary("añ".as_bytes().to_vec())),
        Message::binary(vec![0xb1, 0xc3, b'a'])
    );
    assert_eq!(
        round_trip(&mut client, Message::binary(Vec::new())),
        Message::binary(Vec::new())
    );
}

#[test]
fn one_mib_messages() {
    let server = ServerProcess::start();
    let mut client = ws::connect(&server);
    let text: String = (0..1 << 20)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let want: String = text.chars().rev().collect();
    assert_eq!(text_reply(&mut client, &text), want);

    let data: Vec<u8> = (0..1u32 << 20).map(|i| (i * 7 % 251) as u8).collect();
    let want: Vec<u8> = data.iter().rev().copied().collect();
    match round_trip(&mut client, Message::binary(data)) {
        Message::Binary(got) => assert!(got[..] == want[..], "1 MiB binary differs"),
        other => panic!("expected binary, got {other:?}"),
    }
}

fn frame(data: &[u8], opcode: OpCode, fin: bool) -> Message {
    Message::Frame(Frame::message(data.to_vec(), opcode, fin))
}

#[test]
fn fragmented_messages_are_reassembled() {
    let server = ServerProcess::start();
    let mut client = ws::connect(&server);
    let text = OpCode::Data(Data::Text);
    let cont = OpCode::Data(Data::Continue);

    client.send(frame(b"Hel", text, false)).unwrap();
    client.send(frame(b"lo, ", cont, false)).unwrap();
    client.send(frame(b"world", cont, true)).unwrap();
    assert_eq!(ws::next_data(&mut client), Message::text("dlrow ,olleH"));

    // A multi-byte character split across fragments is only checked on the whole message.
    let bytes = "añb🇫🇷".as_bytes();
    client.send(frame(&bytes[..2], text, false)).unwrap();
    client.send(frame(&bytes[2..8], cont, false)).unwrap();
    client.send(frame(&bytes[8..], cont, true)).unwrap();
    assert_eq!(ws::next_data(&mut client), Message::text("🇫🇷bña"));

    let binary = OpCode::Data(Data::Binary);
    client.send(frame(&[1, 2], binary, false)).unwrap();
    client.send(frame(&[], cont, false)).unwrap();
    client.send(frame(&[3], cont, true)).unwrap();
    assert_eq!(ws::next_data(&mut client), Message::binary(vec![3u8, 2, 1]));

    // A fragmented line keeps its line break at the end.
    client.send(frame(b"ab", text, false)).unwrap();
    client.send(frame(b"c\r", cont, false)).unwrap();
    client.send(frame(b"\n", cont, true)).unwrap();
    assert_eq!(ws::next_data(&mut client), Message::text("cba\r\n"));
    client.close(None).unwrap();
}

#[test]
fn hundred_concurrent_clients() {
    const CLIENTS: usize = 100;
    const ROUNDS: usize = 5;
    let server = ServerProcess::start();
    let addr = server.connect_addr();
    let barrier = Arc::new(Barrier::new(CLIENTS));
    let handles: Vec<_> = (0..CLIENTS)
        .map(|n| {
            let barrier = Arc::clone(&barrier);
            thread::Builder::new()
                .name(format!("client-{n}"))
                .spawn(move || {
                    let connected = ws::try_connect(addr, &[]);
                    // Everyone connected before anyone talks: 100 open sockets at once. (Wait
                    // before checking the result, so one failure cannot strand the others.)
                    barrier.wait();
                    let (mut client, _) =
                        connected.unwrap_or_else(|e| panic!("client {n}: connect: {e}"));
                    for round in 0..ROUNDS {
                        let text = format!("client {n} round {round} ñ\n");
                        let want: String = {
                            let body = text.trim_end_matches('\n');
                            body.chars().rev().collect::<String>() + "\n"
                        };
                        assert_eq!(text_reply(&mut client, &text), want, "client {n}");
                        let data = vec![n as u8, round as u8, 0xff];
                        assert_eq!(
                            round_trip(&mut client, Message::binary(data)),
                            Message::binary(vec![0xff, round as u8, n as u8]),
                            "client {n}"
                        );
                    }
                    client.close(None).unwrap();
                    // Drain until the server's close reply and TCP close.
                    loop {
                        match client.read() {
                            Ok(_) => continue,
                            Err(tungstenite::Error::ConnectionClosed) => break,
                            Err(e) => panic!("client {n}: closing: {e}"),
                        }
                    }
                })
                .expect("spawn client thread")
        })
        .collect();
    let mut failures = Vec::new();
    for (n, handle) in handles.into_iter().enumerate() {
        if handle.join().is_err() {
            failures.push(n);
        }
    }
    assert!(failures.is_empty(), "clients failed: {failures:?}");
    // The server is still healthy afterwards.
    let mut client = ws::connect(&server);
    assert_eq!(text_reply(&mut client, "ok"), "ko");
}
