//! The frame reader's unit tests: frames cut anywhere across reads, zero-copy delivery,
//! strict UTF-8, limits before payloads, the server-wide budget, close codes.

use super::checks::SERVER_BUFFERS_FULL;
use super::chunk::ZERO_COPY_MIN_BYTES;
use super::*;
use crate::frame::client_frame as frame;
use tungstenite::protocol::frame::coding::CloseCode;

const LIMITS: Limits = Limits {
    max_frame_bytes: 1 << 20,
    max_message_bytes: 1 << 20,
};
/// No permessage-deflate agreed.
fn off() -> Inflating<'static> {
    Inflating {
        params: Params::OFF,
        shared: Box::leak(Box::new(SharedDeflate::new(0))),
    }
}

const ROOM: IncomingRoom = IncomingRoom {
    held_by_others: 0,
    max: usize::MAX,
};

/// A read of `bytes` as the server's read buffer would hold it.
fn read(reader: &FrameReader, bytes: &[u8]) -> Chunk {
    let mut buffer = bytes.to_vec();
    reader.prepare(&mut buffer);
    FrameReader::chunk(Bytes::from(buffer), bytes.len(), BytesMut::new())
}

/// Every item from `pieces` read one after the other, stopping at a violation.
fn items_of(pieces: &[&[u8]], whole: bool, limits: Limits) -> Vec<Result<Item, Violation>> {
    let mut reader = FrameReader::default();
    let mut out = Vec::new();
    for piece in pieces {
        let mut chunk = read(&reader, piece);
        loop {
            match reader.next(&mut chunk, whole, limits, ROOM, &mut off()) {
                Ok(Some(item)) => out.push(Ok(item)),
                Ok(None) => break,
                Err(violation) => {
                    out.push(Err(violation));
                    return out;
                }
            }
        }
    }
    out
}

fn items(bytes: Vec<u8>, whole: bool) -> Vec<Result<Item, Violation>> {
    items_of(&[&bytes], whole, LIMITS)
}

fn fragment(data: &[u8], binary: bool, first: bool, last: bool) -> Result<Item, Violation> {
    Ok(Item::Fragment(Fragment {
        data: Bytes::copy_from_slice(data),
        binary,
        first,
        last,
    }))
}

fn text(text: &'static str) -> Result<Item, Violation> {
    Ok(Item::Message(Message::Text(text.into())))
}

#[test]
fn fragments_come_out_frame_by_frame_with_pings_between() {
    let mut bytes = frame(0x01, b"Hel");
    bytes.extend(frame(0x89, b"hi"));
    bytes.extend(frame(0x00, b"lo, "));
    bytes.extend(frame(0x80, b"world"));
    bytes.extend(frame(0x82, &[1, 2]));
    assert_eq!(
        items(bytes.clone(), false),
        [
            fragment(b"Hel", false, true, false),
            Ok(Item::Ping(Bytes::from_static(b"hi"))),
            fragment(b"lo, ", false, false, false),
            fragment(b"world", false, false, true),
            fragment(&[1, 2], true, true, true),
        ]
    );
    assert_eq!(
        items(bytes, true),
        [
            Ok(Item::Ping(Bytes::from_static(b"hi"))),
            text("Hello, world"),
            Ok(Item::Message(Message::Binary(Bytes::from_static(&[1, 2])))),
        ]
    );
}

#[test]
fn a_whole_frame_is_delivered_from_the_read_buffer_without_a_copy() {
    let reader = &mut FrameReader::default();
    let mut chunk = read(reader, &frame(0x82, &[9; ZERO_COPY_MIN_BYTES]));
    let start = chunk.root.as_ptr() as usize;
    let Ok(Some(Item::Message(Message::Binary(payload)))) =
        reader.next(&mut chunk, true, LIMITS, ROOM, &mut off())
    else {
        panic!("no message");
    };
    assert_eq!(
        payload.as_ptr() as usize,
        start + 8,
        "a slice of the read buffer"
    );
    assert!(payload.iter().all(|&b| b == 9));
    assert_eq!(reader.held_bytes(), 0);
    assert!(reader.held.is_none(), "an idle reader holds nothing");
}

#[test]
fn a_character_split_across_fragments_is_carried_whole() {
    let euro = "€".as_bytes();
    let mut bytes = frame(0x01, &[b'a', euro[0]]);
    bytes.extend(frame(0x80, &euro[1..]));
    assert_eq!(
        items(bytes.clone(), false),
        [
            fragment(b"a", false, true, false),
            fragment(euro, false, false, true),
        ]
    );
    assert_eq!(items(bytes, true), [text("a€")]);
}

#[test]
fn frames_cut_anywhere_across_reads_come_out_whole() {
    let mut stream = frame(0x81, b"hello");
    stream.extend(frame(0x82, &[7; 300]));
    stream.extend(frame(0x89, b"p"));
    for cut in 0..stream.len() {
        for second in cut..stream.len() {
            let got = items_of(
                &[&stream[..cut], &stream[cut..second], &stream[second..]],
                true,
                LIMITS,
            );
            assert_eq!(got.len(), 3, "cuts {cut}, {second}: {got:?}");
            assert_eq!(got[0], text("hello"), "cuts {cut}, {second}");
            assert_eq!(got[2], Ok(Item::Ping(Bytes::from_static(b"p"))));
        }
    }
}

#[test]
fn invalid_text_fails_at_its_first_bad_byte_before_the_frame_is_whole() {
    let mut bad = "ok ".repeat(100).into_bytes();
    bad[10] = 0xff;
    for whole in [false, true] {
        let one = frame(0x81, &bad);
        let got = items_of(&[&one[..20]], whole, LIMITS);
        assert!(
            matches!(
                got[..],
                [Err(Violation {
                    code: CloseCode::Invalid,
                    ..
                })]
            ),
            "{got:?}"
        );
        // In a continuation of a text message too.
        let first = frame(0x01, b"ab");
        let rest = frame(0x80, &bad);
        let got = items_of(&[&[first, rest[..20].to_vec()].concat()], whole, LIMITS);
        assert!(matches!(
            got.last(),
            Some(Err(Violation {
                code: CloseCode::Invalid,
                ..
            }))
        ));
    }
}

#[test]
fn text_cut_inside_a_character_at_any_point_comes_out_whole() {
    let text = "añ€😀".repeat(20);
    let whole = frame(0x81, text.as_bytes());
    for cut in 0..whole.len() {
        for second in cut..whole.len() {
            let got = items_of(
                &[&whole[..cut], &whole[cut..second], &whole[second..]],
                true,
                LIMITS,
            );
            assert_eq!(
                got,
                [Ok(Item::Message(Message::Text(text.as_str().into())))],
                "cuts {cut}, {second}"
            );
        }
    }
}

#[test]
fn a_partial_frame_holds_only_what_arrived() {
    // A header announcing 60,000 bytes, and 100 of them.
    let whole = frame(0x82, &[5; 60_000]);
    let mut reader = FrameReader::default();
    let mut chunk = read(&reader, &whole[..108]);
    assert_eq!(
        reader.next(&mut chunk, true, LIMITS, ROOM, &mut off()),
        Ok(None)
    );
    assert_eq!(reader.held_bytes(), 108);
    let capacity = reader.held.as_ref().unwrap().raw.capacity();
    assert!(capacity < 4096, "reserved {capacity} bytes up front");
    let mut chunk = read(&reader, &whole[108..]);
    let item = reader.next(&mut chunk, true, LIMITS, ROOM, &mut off());
    assert!(matches!(item, Ok(Some(Item::Message(Message::Binary(b)))) if b.len() == 60_000));
    assert!(reader.held.is_none());
}

#[test]
fn bytes_left_when_reading_pauses_are_kept_raw_and_read_later() {
    let mut bytes = frame(0x81, b"one");
    bytes.extend(frame(0x81, b"two"));
    bytes.extend(frame(0x81, b"thr"));
    let mut reader = FrameReader::default();
    let mut chunk = read(&reader, &bytes[..bytes.len() - 2]);
    assert_eq!(
        reader.next(&mut chunk, true, LIMITS, ROOM, &mut off()),
        Ok(Some(text("one").unwrap()))
    );
    // The protocol paused reading here.
    reader.keep_rest(&mut chunk, ROOM).unwrap();
    assert!(reader.has_whole_frame());
    let mut empty = Chunk::default();
    assert_eq!(
        reader.next(&mut empty, true, LIMITS, ROOM, &mut off()),
        Ok(Some(text("two").unwrap()))
    );
    assert!(!reader.has_whole_frame());
    let mut chunk = read(&reader, &bytes[bytes.len() - 2..]);
    assert_eq!(
        reader.next(&mut chunk, true, LIMITS, ROOM, &mut off()),
        Ok(Some(text("thr").unwrap()))
    );
}

#[test]
fn violations_get_the_right_close_code() {
    let mut unmasked = frame(0x81, b"x");
    unmasked[1] &= 0x7f;
    unmasked.drain(2..6);
    let cases: Vec<(Vec<u8>, CloseCode)> = vec![
        (frame(0x80, b"x"), CloseCode::Protocol),
        (
            [frame(0x01, b"a"), frame(0x81, b"b")].concat(),
            CloseCode::Protocol,
        ),
        (frame(0xC1, b"x"), CloseCode::Protocol),
        (frame(0x83, b"x"), CloseCode::Protocol),
        (frame(0x8B, b"x"), CloseCode::Protocol),
        (frame(0x09, b"x"), CloseCode::Protocol),
        (frame(0x89, &[0; 126]), CloseCode::Protocol),
        (frame(0x81, &[0xff]), CloseCode::Invalid),
        (frame(0x81, &[0xe2, 0x82]), CloseCode::Invalid),
        (
            [frame(0x01, &[0xff]), frame(0x80, b"a")].concat(),
            CloseCode::Invalid,
        ),
        (frame(0x88, &[3]), CloseCode::Protocol),
        (frame(0x88, &[0x03, 0xe7]), CloseCode::Protocol),
        (frame(0x88, &[0x03, 0xe8, 0xff]), CloseCode::Invalid),
        (unmasked, CloseCode::Protocol),
    ];
    for (bytes, code) in cases {
        for whole in [false, true] {
            let last = items(bytes.clone(), whole).pop();
            assert!(
                matches!(last, Some(Err(Violation { code: got, .. })) if got == code),
                "{bytes:x?} (whole {whole}) -> {last:?}, wanted {code:?}"
            );
        }
    }
}

#[test]
fn size_limits_are_checked_before_the_payload_arrives() {
    let small = Limits {
        max_frame_bytes: 100,
        max_message_bytes: 100,
    };
    let header_only = frame(0x82, &[0; 300])[..8].to_vec();
    let got = items_of(&[&header_only], true, small);
    assert!(matches!(
        got[..],
        [Err(Violation {
            code: CloseCode::Size,
            ..
        })]
    ));
    let two = [frame(0x02, &[0; 60]), frame(0x80, &[0; 60])].concat();
    let got = items_of(&[&two[..75]], true, small);
    assert!(
        matches!(
            got[..],
            [Err(Violation {
                code: CloseCode::Size,
                ..
            })]
        ),
        "{got:?}"
    );
}

#[test]
fn the_server_wide_budget_refuses_what_would_pass_it() {
    let room = IncomingRoom {
        held_by_others: 900,
        max: 1000,
    };
    let whole = frame(0x82, &[1; 500]);
    let mut reader = FrameReader::default();
    let mut chunk = read(&reader, &whole[..50]);
    assert_eq!(
        reader.next(&mut chunk, true, LIMITS, room, &mut off()),
        Ok(None)
    );
    let mut chunk = read(&reader, &whole[50..200]);
    assert_eq!(
        reader.next(&mut chunk, true, LIMITS, room, &mut off()),
        Err(SERVER_BUFFERS_FULL)
    );
    // A frame that arrives whole needs no room at all.
    let mut fresh = FrameReader::default();
    let mut chunk = read(&fresh, &whole);
    assert!(matches!(
        fresh.next(&mut chunk, true, LIMITS, room, &mut off()),
        Ok(Some(_))
    ));
}

#[test]
fn close_frames_parse_code_and_reason() {
    let mut payload = 1000u16.to_be_bytes().to_vec();
    payload.extend_from_slice(b"bye");
    assert_eq!(
        items(frame(0x88, &payload), true),
        [Ok(Item::Close(Some(CloseFrame {
            code: CloseCode::Normal,
            reason: "bye".into()
        })))]
    );
    assert_eq!(items(frame(0x88, b""), true), [Ok(Item::Close(None))]);
}
