//! Request body framing (RFC 9112 §6 and §7.1): a decoder for `Content-Length` and `chunked`
//! bodies that takes bytes as they arrive and hands back the body's data as slices of them,
//! never copying. Pure: no I/O, no allocation; its state is a few integers.
//!
//! Strict where leniency smuggles requests: chunk lines end in CRLF (a bare CR or LF is a
//! 400), chunk sizes are at most 16 hex digits, chunk extensions follow the grammar
//! (`;name[=token|"quoted"]`, ignored once checked), trailer fields are checked like header
//! lines and dropped. Chunk extensions and trailers together are capped (`max_framing`), so a
//! body cannot be an endless stream of framing.

use super::request::BodyFraming;
use super::token::is_tchar;

/// Why a body was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// Bad framing (the text is a fixed, server-chosen description). Answer 400.
    Malformed(&'static str),
    /// More data than `max_body`, or more chunk extensions and trailers than
    /// `max_framing`. Answer 413.
    TooLarge,
}

impl BodyError {
    /// The HTTP status to answer with: 400 or 413.
    pub fn status(&self) -> u16 {
        match self {
            BodyError::Malformed(_) => 400,
            BodyError::TooLarge => 413,
        }
    }

    /// A fixed description for the response body.
    pub fn detail(&self) -> &'static str {
        match self {
            BodyError::Malformed(why) => why,
            BodyError::TooLarge => "request body too large",
        }
    }
}

/// What [`BodyDecoder::decode`] found in the bytes it was given.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Body data (never empty); call again with the bytes after it.
    Data(&'a [u8]),
    /// The body is complete; the bytes after it belong to the next request.
    End,
    /// Every byte given was used: more are needed.
    More,
}

/// Most hex digits in a chunk size (leading zeros included): 16 cover any `u64`.
const MAX_CHUNK_SIZE_DIGITS: u8 = 16;

/// Where the decoder is in the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// `Content-Length`: this many bytes are left.
    Fixed(u64),
    /// Reading a chunk size's hex digits.
    Size {
        size: u64,
        digits: u8,
    },
    /// In the extensions of a chunk line; `size` is the chunk's.
    Ext {
        size: u64,
        at: Ext,
    },
    /// The CR ending a chunk line was seen; `size` is the chunk's.
    SizeLf {
        size: u64,
    },
    /// Inside a chunk's data: this many bytes are left.
    Data(u64),
    /// After a chunk's data: its CR, then its LF.
    DataCr,
    DataLf,
    /// In the trailer section (after the last chunk).
    Trailer(Trailer),
    Done,
}

/// A chunk extension, byte by byte: `*( BWS ";" BWS name [ BWS "=" BWS value ] )`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ext {
    /// Whitespace after the size or a value: only `;` may follow.
    NeedSemicolon,
    BeforeName,
    Name,
    AfterName,
    BeforeValue,
    Token,
    Quoted,
    QuotedPair,
    /// The closing quote was seen.
    AfterQuoted,
}

/// The trailer section, line by line: `*( field-line CRLF ) CRLF`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trailer {
    LineStart,
    Name,
    Value,
    LineLf,
    EndLf,
}

/// Decodes one request body; see the module docs.
#[derive(Debug, Clone)]
pub struct BodyDecoder {
    state: State,
    /// Data bytes delivered or announced so far.
    received: u64,
    max_body: u64,
    /// Chunk extension and trailer bytes still allowed.
    framing_left: usize,
}

impl BodyDecoder {
    /// A decoder for a body framed as `framing`, allowing at most `max_body` bytes of data
    /// and `max_framing` bytes of chunk extensions and trailers. A `Content-Length` above
    /// `max_body` is refused here, before any byte of it is read.
    pub fn new(framing: BodyFraming, max_body: u64, max_framing: usize) -> Result<Self, BodyError> {
        let state = match framing {
            BodyFraming::None => State::Done,
            BodyFraming::ContentLength(length) if length > max_body => {
                return Err(BodyError::TooLarge)
            }
            BodyFraming::ContentLength(0) => State::Done,
            BodyFraming::ContentLength(length) => State::Fixed(length),
            BodyFraming::Chunked => State::Size { size: 0, digits: 0 },
        };
        Ok(BodyDecoder {
            state,
            received: 0,
            max_body,
            framing_left: max_framing,
        })
    }

    /// A decoder of a body already read to its end.
    pub fn finished() -> Self {
        BodyDecoder {
            state: State::Done,
            received: 0,
            max_body: 0,
            framing_left: 0,
        }
    }

    /// True once the whole body was decoded.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decode from the start of `input`: how many bytes of it were used, and what they were.
    /// Call again with the rest while it says `Data`.
    pub fn decode<'a>(&mut self, input: &'a [u8]) -> Result<(usize, Piece<'a>), BodyError> {
        let mut used = 0;
        loop {
            match self.state {
                State::Done => return Ok((used, Piece::End)),
                State::Fixed(left) | State::Data(left) => {
                    let rest = input.get(used..).unwrap_or_default();
                    if rest.is_empty() {
                        return Ok((used, Piece::More));
                    }
                    let take = rest.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    let left = left - take as u64;
                    self.state = match (self.state, left) {
                        (State::Fixed(_), 0) => State::Done,
                        (State::Fixed(_), left) => State::Fixed(left),
                        (_, 0) => State::DataCr,
                        (_, left) => State::Data(left),
                    };
                    return Ok((used + take, Piece::Data(&rest[..take])));
                }
                _ => {
                    let Some(&byte) = input.get(used) else {
                        return Ok((used, Piece::More));
                    };
                    used += 1;
                    self.state = self.framing_byte(byte)?;
                }
            }
        }
    }

    /// The state after one byte of chunk framing (anything but data).
    fn framing_byte(&mut self, byte: u8) -> Result<State, BodyError> {
        let bad = |why| Err(BodyError::Malformed(why));
        match self.state {
            State::Size { size, digits } => match (hex_value(byte), byte) {
                (Some(_), _) if digits == MAX_CHUNK_SIZE_DIGITS => bad("chunk size too long"),
                (Some(value), _) => Ok(State::Size {
                    size: size << 4 | u64::from(value),
                    digits: digits + 1,
                }),
                _ if digits == 0 => bad("invalid chunk size"),
                (None, b'\r') => self.chunk_line_end(size),
                (None, b';') => self.ext(size, Ext::BeforeName),
                (None, b' ' | b'\t') => self.ext(size, Ext::NeedSemicolon),
                _ => bad("invalid chunk size"),
            },
            State::Ext { size, at } => {
                self.spend_framing()?;
                match ext_byte(at, byte)? {
                    Some(at) => Ok(State::Ext { size, at }),
                    None => self.chunk_line_end(size),
                }
            }
            State::SizeLf { size } if byte == b'\n' => Ok(match size {
                0 => State::Trailer(Trailer::LineStart),
                size => State::Data(size),
            }),
            State::SizeLf { .. } => bad("chunk line not ended by CRLF"),
            State::DataCr if byte == b'\r' => Ok(State::DataLf),
            State::DataLf if byte == b'\n' => Ok(State::Size { size: 0, digits: 0 }),
            State::DataCr | State::DataLf => bad("chunk data not followed by CRLF"),
            State::Trailer(trailer) => {
                self.spend_framing()?;
                trailer_byte(trailer, byte)
            }
            State::Fixed(_) | State::Data(_) | State::Done => bad("decoder state"),
        }
    }

    /// A chunk line's CR: the size is complete; check it against `max_body`.
    fn chunk_line_end(&mut self, size: u64) -> Result<State, BodyError> {
        self.received = self.received.saturating_add(size);
        if self.received > self.max_body {
            return Err(BodyError::TooLarge);
        }
        Ok(State::SizeLf { size })
    }

    /// Enter a chunk extension of the chunk of `size` bytes.
    fn ext(&mut self, size: u64, at: Ext) -> Result<State, BodyError> {
        self.spend_framing()?;
        Ok(State::Ext { size, at })
    }

    fn spend_framing(&mut self) -> Result<(), BodyError> {
        self.framing_left = self
            .framing_left
            .checked_sub(1)
            .ok_or(BodyError::TooLarge)?;
        Ok(())
    }
}

/// The value of an ASCII hex digit.
pub(crate) fn hex_value(byte: u8) -> Option<u8> {
    char::from(byte).to_digit(16).map(|d| d as u8)
}

/// A byte a header value may hold (RFC 9110 §5.5: VCHAR, obs-text, SP, HTAB).
fn is_field_value_byte(byte: u8) -> bool {
    matches!(byte, b'\t' | b' ' | 0x21..=0x7e | 0x80..=0xff)
}

/// A chunk extension's state after `byte`; `None` when it was the CR ending the line.
fn ext_byte(at: Ext, byte: u8) -> Result<Option<Ext>, BodyError> {
    let whitespace = byte == b' ' || byte == b'\t';
    let next = match at {
        Ext::NeedSemicolon | Ext::BeforeName | Ext::AfterName | Ext::BeforeValue if whitespace => {
            at
        }
        Ext::NeedSemicolon | Ext::AfterName if byte == b';' => Ext::BeforeName,
        Ext::BeforeName | Ext::Name if is_tchar(byte) => Ext::Name,
        Ext::Name if whitespace => Ext::AfterName,
        Ext::Name | Ext::AfterName if byte == b'=' => Ext::BeforeValue,
        Ext::BeforeValue | Ext::Token if is_tchar(byte) => Ext::Token,
        Ext::BeforeValue if byte == b'"' => Ext::Quoted,
        Ext::Quoted if byte == b'"' => Ext::AfterQuoted,
        Ext::Quoted if byte == b'\\' => Ext::QuotedPair,
        Ext::Quoted | Ext::QuotedPair if is_field_value_byte(byte) => Ext::Quoted,
        // The end of a name or a value: more whitespace, the next extension, or the line end.
        Ext::Name | Ext::Token | Ext::AfterQuoted => match byte {
            b' ' | b'\t' => Ext::NeedSemicolon,
            b';' => Ext::BeforeName,
            b'\r' => return Ok(None),
            _ => return Err(BodyError::Malformed("invalid chunk extension")),
        },
        _ => return Err(BodyError::Malformed("invalid chunk extension")),
    };
    Ok(Some(next))
}

/// The trailer section's state after `byte`.
fn trailer_byte(trailer: Trailer, byte: u8) -> Result<State, BodyError> {
    let next = match (trailer, byte) {
        (Trailer::LineStart, b'\r') => Trailer::EndLf,
        (Trailer::LineStart | Trailer::Name, b) if is_tchar(b) => Trailer::Name,
        (Trailer::Name, b':') => Trailer::Value,
        (Trailer::Value, b'\r') => Trailer::LineLf,
        (Trailer::Value, b) if is_field_value_byte(b) => Trailer::Value,
        (Trailer::LineLf, b'\n') => Trailer::LineStart,
        (Trailer::EndLf, b'\n') => return Ok(State::Done),
        (Trailer::LineStart, b' ' | b'\t') => {
            return Err(BodyError::Malformed("obs-fold in trailer"))
        }
        _ => return Err(BodyError::Malformed("invalid trailer field")),
    };
    Ok(State::Trailer(next))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: u64 = 1 << 20;
    const MAX_FRAMING: usize = 64;

    /// Decode `input` fed in pieces of `step` bytes: the data, and whether it ended (with the
    /// bytes after the end).
    fn decode_in_steps(
        framing: BodyFraming,
        input: &[u8],
        step: usize,
    ) -> Result<(Vec<u8>, Option<Vec<u8>>), BodyError> {
        let mut decoder = BodyDecoder::new(framing, MAX, MAX_FRAMING)?;
        let mut data = Vec::new();
        let pieces: Vec<&[u8]> = match input {
            [] => vec![input],
            _ => input.chunks(step.max(1)).collect(),
        };
        for piece in pieces {
            let mut at = 0;
            loop {
                let (used, found) = decoder.decode(&piece[at..])?;
                at += used;
                match found {
                    Piece::Data(bytes) => {
                        assert!(!bytes.is_empty());
                        data.extend_from_slice(bytes);
                    }
                    Piece::End => {
                        assert!(decoder.is_done());
                        let offset = (piece.as_ptr() as usize - input.as_ptr() as usize) + at;
                        return Ok((data, Some(input[offset..].to_vec())));
                    }
                    Piece::More => {
                        assert_eq!(at, piece.len());
                        break;
                    }
                }
            }
        }
        Ok((data, None))
    }

    /// Decoded the same way whatever the pieces.
    fn decode(framing: BodyFraming, input: &[u8]) -> Result<(Vec<u8>, Option<Vec<u8>>), BodyError> {
        let whole = decode_in_steps(framing, input, input.len());
        for step in [1, 2, 3, 7] {
            assert_eq!(decode_in_steps(framing, input, step), whole, "step {step}");
        }
        whole
    }

    /// Each of `inputs` is refused as malformed chunked framing (400).
    fn all_malformed(inputs: &[&[u8]]) {
        for input in inputs {
            let err = chunked(input).unwrap_err();
            assert!(
                matches!(err, BodyError::Malformed(_)),
                "{:?}: {err:?}",
                String::from_utf8_lossy(input)
            );
            assert_eq!(err.status(), 400);
        }
    }

    fn chunked(input: &[u8]) -> Result<(Vec<u8>, Option<Vec<u8>>), BodyError> {
        decode(BodyFraming::Chunked, input)
    }

    #[test]
    fn content_length_bodies() {
        let framing = BodyFraming::ContentLength(5);
        assert_eq!(
            decode(framing, b"helloGET /"),
            Ok((b"hello".to_vec(), Some(b"GET /".to_vec())))
        );
        assert_eq!(decode(framing, b"hel"), Ok((b"hel".to_vec(), None)));
        assert_eq!(
            decode(BodyFraming::ContentLength(0), b"x"),
            Ok((vec![], Some(b"x".to_vec())))
        );
        assert_eq!(decode(BodyFraming::None, b""), Ok((vec![], Some(vec![]))));
        assert_eq!(
            BodyDecoder::new(BodyFraming::ContentLength(MAX + 1), MAX, 0).unwrap_err(),
            BodyError::TooLarge
        );
        assert!(BodyDecoder::new(BodyFraming::ContentLength(MAX), MAX, 0).is_ok());
    }

    #[test]
    fn chunked_bodies() {
        for (input, data, rest) in [
            (&b"5\r\nhello\r\n0\r\n\r\n"[..], &b"hello"[..], &b""[..]),
            (
                b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nNEXT",
                b"hello world",
                b"NEXT",
            ),
            (b"A\r\n0123456789\r\n0\r\n\r\n", b"0123456789", b""),
            (b"a\r\n0123456789\r\n000\r\n\r\n", b"0123456789", b""),
            (b"0000000000000001\r\nx\r\n0\r\n\r\n", b"x", b""),
            (b"0\r\n\r\n", b"", b""),
        ] {
            assert_eq!(
                chunked(input),
                Ok((data.to_vec(), Some(rest.to_vec()))),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
        assert_eq!(chunked(b"5\r\nhel"), Ok((b"hel".to_vec(), None)));
    }

    #[test]
    fn chunk_extensions_are_checked_and_ignored() {
        for input in [
            &b"3;a\r\nabc\r\n0\r\n\r\n"[..],
            b"3;a=b\r\nabc\r\n0\r\n\r\n",
            b"3 ; a = b ; c\r\nabc\r\n0\r\n\r\n",
            b"3;a=\"q \\\" ;x\"\r\nabc\r\n0;last\r\n\r\n",
            b"3;a;b=c;d=\"\"\r\nabc\r\n0\r\n\r\n",
        ] {
            assert_eq!(
                chunked(input),
                Ok((b"abc".to_vec(), Some(vec![]))),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
        all_malformed(&[
            b"3;\r\nabc\r\n0\r\n\r\n",
            b"3 \r\nabc\r\n0\r\n\r\n",
            b"3;a \r\nabc\r\n0\r\n\r\n",
            b"3;a=\r\nabc\r\n0\r\n\r\n",
            b"3;a=b c\r\nabc\r\n0\r\n\r\n",
            b"3;a=\"unterminated\r\nabc\r\n0\r\n\r\n",
            b"3;a\nabc\r\n0\r\n\r\n",
            b"3;a=b\x00\r\nabc\r\n0\r\n\r\n",
            b"3;(a)\r\nabc\r\n0\r\n\r\n",
        ]);
    }

    #[test]
    fn extensions_and_trailers_are_capped() {
        let long = format!("3;{}\r\nabc\r\n0\r\n\r\n", "a".repeat(MAX_FRAMING));
        assert_eq!(chunked(long.as_bytes()), Err(BodyError::TooLarge));
        let trailer = format!("0\r\nX: {}\r\n\r\n", "v".repeat(MAX_FRAMING));
        assert_eq!(chunked(trailer.as_bytes()), Err(BodyError::TooLarge));
        // Many small chunks cost no framing budget.
        let many = "1\r\nx\r\n".repeat(1000) + "0\r\n\r\n";
        assert_eq!(chunked(many.as_bytes()).unwrap().0.len(), 1000);
    }

    #[test]
    fn trailers_are_checked_and_dropped() {
        assert_eq!(
            chunked(b"1\r\nx\r\n0\r\nExpires: never\r\nX-Sum:\t1 2\r\n\r\nGET"),
            Ok((b"x".to_vec(), Some(b"GET".to_vec())))
        );
        all_malformed(&[
            b"0\r\nBad Name: x\r\n\r\n",
            b"0\r\n folded\r\n\r\n",
            b"0\r\nX: a\x01b\r\n\r\n",
            b"0\r\nX: a\nY: b\r\n\r\n",
            b"0\r\nNoColon\r\n\r\n",
            b"0\r\n\n",
        ]);
    }

    #[test]
    fn bad_framing_is_400() {
        all_malformed(&[
            b"x\r\n",
            b"\r\n",
            b"-1\r\n",
            b"+1\r\n",
            b"0x5\r\nhello\r\n0\r\n\r\n",
            b"5\nhello\r\n0\r\n\r\n",
            b"5\rhello\r\n0\r\n\r\n",
            b"5\r\nhelloX\r\n0\r\n\r\n",
            b"5\r\nhello\n0\r\n\r\n",
            b"5\r\nhello\r\r\n",
            b"00000000000000001\r\nx\r\n0\r\n\r\n",
            b"10000000000000000\r\n",
        ]);
    }

    #[test]
    fn chunk_sizes_over_the_limit_are_413_before_their_data() {
        // The largest chunk size there is, announced: refused from its line alone.
        assert_eq!(chunked(b"FFFFFFFFFFFFFFFF\r\n"), Err(BodyError::TooLarge));
        let over = format!("{:x}\r\n", MAX + 1);
        assert_eq!(chunked(over.as_bytes()), Err(BodyError::TooLarge));
        // Summed over chunks too.
        let half = format!("{:x}\r\n", MAX / 2 + 1);
        let mut decoder = BodyDecoder::new(BodyFraming::Chunked, MAX, 0).unwrap();
        let (used, _) = decoder.decode(half.as_bytes()).unwrap();
        assert_eq!(used, half.len());
        let mut filler = vec![b'x'; (MAX / 2 + 1) as usize];
        filler.extend_from_slice(b"\r\n");
        filler.extend_from_slice(half.as_bytes());
        let mut at = 0;
        let err = loop {
            match decoder.decode(&filler[at..]) {
                Ok((used, Piece::Data(_))) => at += used,
                Ok(other) => panic!("{other:?}"),
                Err(err) => break err,
            }
        };
        assert_eq!(err, BodyError::TooLarge);
        assert_eq!(err.status(), 413);
    }

    #[test]
    fn mutated_bodies_never_panic_and_do_not_depend_on_cuts() {
        // Deterministic xorshift so failures are reproducible.
        let mut state: u32 = 0x2545_f491;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state
        };
        let sample = b"5;a=\"b\"\r\nhello\r\n1\r\n \r\n0\r\nX: y\r\n\r\nGET";
        let mut outcomes = [0usize; 3];
        for _ in 0..5000 {
            let mut input = sample.to_vec();
            for _ in 0..(next() % 3 + 1) {
                let i = next() as usize % input.len();
                input[i] = next() as u8;
            }
            // `decode` checks that every way of cutting it gives the same answer.
            match chunked(&input) {
                Ok((_, Some(_))) => outcomes[0] += 1,
                Ok((_, None)) => outcomes[1] += 1,
                Err(err) => {
                    assert!(matches!(err.status(), 400 | 413));
                    outcomes[2] += 1;
                }
            }
        }
        assert!(outcomes.iter().all(|&n| n > 0), "{outcomes:?}");
    }
}
