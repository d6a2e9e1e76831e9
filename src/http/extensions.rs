//! `Sec-WebSocket-Extensions` (RFC 6455 §9.1) and the permessage-deflate negotiation of
//! RFC 7692 §7: every offer is parsed (several offers, several header lines, parameters with
//! and without values, quoted values), the first acceptable permessage-deflate offer is
//! chosen, and exactly one response is built for it. An offer with an unknown, repeated or
//! invalid parameter is declined and the next one is tried; a header that does not parse at
//! all declines compression. Nothing here ever refuses the upgrade itself. Pure over strings.

/// The extension this server speaks.
pub const PERMESSAGE_DEFLATE: &str = "permessage-deflate";

/// What the server is willing to agree to (from `Config`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeflatePolicy {
    /// Keep a compression context per connection across messages (`--deflate takeover`);
    /// false asks the client for no context takeover in both directions.
    pub takeover: bool,
    /// The largest LZ77 window (9..=15) a per-connection context may use, in takeover mode.
    pub window_bits: u8,
}

/// The agreed parameters of one connection (RFC 7692 §7.1), and the windows they imply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeflateAgreement {
    /// The server resets its compressor after every message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after every message, so the server may too.
    pub client_no_context_takeover: bool,
    /// `server_max_window_bits` in the response (only when the offer had it).
    pub server_max_window_bits: Option<u8>,
    /// `client_max_window_bits` in the response (only when the offer had it).
    pub client_max_window_bits: Option<u8>,
    /// The window the server compresses with (9..=15).
    pub server_window_bits: u8,
    /// The window the server must inflate with (9..=15): what the client may use.
    pub client_window_bits: u8,
}

impl DeflateAgreement {
    /// The `Sec-WebSocket-Extensions` response value (RFC 7692 §7.1).
    pub fn response(&self) -> String {
        let mut value = String::from(PERMESSAGE_DEFLATE);
        if self.server_no_context_takeover {
            value += "; server_no_context_takeover";
        }
        if self.client_no_context_takeover {
            value += "; client_no_context_takeover";
        }
        if let Some(bits) = self.server_max_window_bits {
            value += &format!("; server_max_window_bits={bits}");
        }
        if let Some(bits) = self.client_max_window_bits {
            value += &format!("; client_max_window_bits={bits}");
        }
        value
    }
}

/// The smallest window zlib can compress raw deflate with: an offer that asks the server for
/// `server_max_window_bits=8` is declined.
const MIN_DEFLATE_WINDOW_BITS: u8 = 9;

/// Choose the first acceptable permessage-deflate offer in the `Sec-WebSocket-Extensions`
/// header values (in the order received), or `None`: no offer, none acceptable, or a header
/// that is not a well-formed extension list.
pub fn negotiate_deflate<'a>(
    header_values: impl IntoIterator<Item = &'a [u8]>,
    policy: DeflatePolicy,
) -> Option<DeflateAgreement> {
    let mut offers = Vec::new();
    for value in header_values {
        offers.extend(parse_extension_list(value)?);
    }
    offers
        .iter()
        .filter(|offer| {
            offer
                .name
                .eq_ignore_ascii_case(PERMESSAGE_DEFLATE.as_bytes())
        })
        .find_map(|offer| accept(offer, policy))
}

/// One element of an extension list: a name and its parameters, values unquoted.
#[derive(Debug, PartialEq, Eq)]
struct Offer<'a> {
    name: &'a [u8],
    params: Vec<(&'a [u8], Option<Vec<u8>>)>,
}

/// What a permessage-deflate offer asks for (RFC 7692 §7.1).
#[derive(Debug, Default)]
struct Asked {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: offered without a value (the client accepts any limit).
    client_max_window_bits: Option<Option<u8>>,
}

/// The agreement for `offer`, or `None` if it has a parameter that is unknown, repeated or
/// invalid, or asks for what the server cannot do.
fn accept(offer: &Offer<'_>, policy: DeflatePolicy) -> Option<DeflateAgreement> {
    let asked = read_params(offer)?;
    if asked
        .server_max_window_bits
        .is_some_and(|bits| bits < MIN_DEFLATE_WINDOW_BITS)
    {
        return None;
    }
    if !policy.takeover {
        // The shared-codec mode: no context in either direction, so the server keeps none.
        return Some(DeflateAgreement {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            server_max_window_bits: asked.server_max_window_bits,
            client_max_window_bits: None,
            server_window_bits: asked.server_max_window_bits.unwrap_or(15),
            client_window_bits: 15,
        });
    }
    let limit = policy.window_bits;
    let server_max_window_bits = asked.server_max_window_bits.map(|bits| bits.min(limit));
    let client_max_window_bits = match asked.client_max_window_bits {
        Some(offered) if !asked.client_no_context_takeover => {
            Some(offered.unwrap_or(15).min(limit))
        }
        _ => None,
    };
    Some(DeflateAgreement {
        server_no_context_takeover: asked.server_no_context_takeover,
        client_no_context_takeover: asked.client_no_context_takeover,
        server_max_window_bits,
        client_max_window_bits,
        server_window_bits: server_max_window_bits.unwrap_or(limit),
        client_window_bits: client_max_window_bits
            .unwrap_or(15)
            .max(MIN_DEFLATE_WINDOW_BITS),
    })
}

fn read_params(offer: &Offer<'_>) -> Option<Asked> {
    let mut asked = Asked::default();
    let mut seen = [false; 4];
    for (name, value) in &offer.params {
        let name = std::str::from_utf8(name).ok()?.to_ascii_lowercase();
        let index = match name.as_str() {
            "server_no_context_takeover" => 0,
            "client_no_context_takeover" => 1,
            "server_max_window_bits" => 2,
            "client_max_window_bits" => 3,
            _ => return None,
        };
        if std::mem::replace(&mut seen[index], true) {
            return None;
        }
        match (index, value.as_deref()) {
            (0, None) => asked.server_no_context_takeover = true,
            (1, None) => asked.client_no_context_takeover = true,
            (2, Some(value)) => asked.server_max_window_bits = Some(window_bits(value)?),
            (3, None) => asked.client_max_window_bits = Some(None),
            (3, Some(value)) => asked.client_max_window_bits = Some(Some(window_bits(value)?)),
            _ => return None,
        }
    }
    Some(asked)
}

/// A window size: a decimal 8..=15 without leading zeros (RFC 7692 §7.1.2).
fn window_bits(value: &[u8]) -> Option<u8> {
    match value {
        [digit @ b'8'..=b'9'] => Some(digit - b'0'),
        [b'1', digit @ b'0'..=b'5'] => Some(10 + digit - b'0'),
        _ => None,
    }
}

/// `extension-list = 1#( token *( ";" token [ "=" ( token / quoted-string ) ] ) )`, with
/// optional whitespace around every separator and empty list elements allowed; `None` when
/// it does not parse.
fn parse_extension_list(value: &[u8]) -> Option<Vec<Offer<'_>>> {
    let mut lexer = Lexer { rest: value };
    let mut offers = Vec::new();
    loop {
        lexer.skip_ows();
        match lexer.peek() {
            None => return Some(offers),
            Some(b',') => {
                lexer.bump();
                continue;
            }
            Some(_) => {}
        }
        let name = lexer.token()?;
        let mut params = Vec::new();
        loop {
            lexer.skip_ows();
            match lexer.peek() {
                None | Some(b',') => break,
                Some(b';') => lexer.bump(),
                Some(_) => return None,
            }
            lexer.skip_ows();
            let param = lexer.token()?;
            lexer.skip_ows();
            let value = if lexer.peek() == Some(b'=') {
                lexer.bump();
                lexer.skip_ows();
                Some(match lexer.peek() {
                    Some(b'"') => lexer.quoted_string()?,
                    _ => lexer.token()?.to_vec(),
                })
            } else {
                None
            };
            params.push((param, value));
        }
        offers.push(Offer { name, params });
    }
}

/// A cursor over a header value.
struct Lexer<'a> {
    rest: &'a [u8],
}

impl<'a> Lexer<'a> {
    fn peek(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    fn bump(&mut self) {
        self.rest = &self.rest[1..];
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.bump();
        }
    }

    fn token(&mut self) -> Option<&'a [u8]> {
        let len = self
            .rest
            .iter()
            .position(|&b| !super::token::is_tchar(b))
            .unwrap_or(self.rest.len());
        let (token, rest) = self.rest.split_at(len);
        self.rest = rest;
        (!token.is_empty()).then_some(token)
    }

    /// A quoted-string (RFC 9110 §5.6.4), unescaped.
    fn quoted_string(&mut self) -> Option<Vec<u8>> {
        self.bump();
        let mut out = Vec::new();
        loop {
            let byte = self.peek()?;
            self.bump();
            match byte {
                b'"' => return Some(out),
                b'\\' => {
                    out.push(self.peek().filter(|&b| is_qdtext(b) || b == b'"')?);
                    self.bump();
                }
                b if is_qdtext(b) => out.push(b),
                _ => return None,
            }
        }
    }
}

/// A byte allowed inside a quoted-string as it is (no control characters but tab).
fn is_qdtext(b: u8) -> bool {
    b == b'\t' || b == b' ' || (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\' || b >= 0x80
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHARED: DeflatePolicy = DeflatePolicy {
        takeover: false,
        window_bits: 11,
    };
    const TAKEOVER: DeflatePolicy = DeflatePolicy {
        takeover: true,
        window_bits: 11,
    };

    fn response(values: &[&str], policy: DeflatePolicy) -> Option<String> {
        negotiate_deflate(values.iter().map(|v| v.as_bytes()), policy).map(|a| a.response())
    }

    #[test]
    fn the_shared_mode_asks_for_no_context_takeover_both_ways() {
        let want = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
        for offer in [
            "permessage-deflate",
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; client_max_window_bits=10; client_no_context_takeover",
            "PerMessage-Deflate ; Server_No_Context_Takeover",
        ] {
            assert_eq!(response(&[offer], SHARED).as_deref(), Some(want), "{offer}");
        }
        assert_eq!(
            response(&["permessage-deflate; server_max_window_bits=10"], SHARED).as_deref(),
            Some(
                "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
                 server_max_window_bits=10"
            )
        );
    }

    #[test]
    fn the_first_acceptable_offer_wins() {
        // Browsers send one line; others several offers, in preference order.
        let lines = [
            "x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=8",
            "permessage-deflate; foo=1, permessage-deflate; server_max_window_bits=12",
            "permessage-deflate",
        ];
        let agreement = negotiate_deflate(lines.iter().map(|v| v.as_bytes()), SHARED).unwrap();
        assert_eq!(agreement.server_max_window_bits, Some(12));
        assert_eq!(agreement.server_window_bits, 12);
    }

    #[test]
    fn quoted_values_are_unquoted() {
        for value in ["\"10\"", "\"1\\0\"", " \"10\" "] {
            let offer = format!("permessage-deflate; server_max_window_bits={value}");
            let agreement = negotiate_deflate([offer.as_bytes()], SHARED);
            assert_eq!(agreement.map(|a| a.server_window_bits), Some(10), "{offer}");
        }
    }

    #[test]
    fn offers_with_bad_parameters_are_declined() {
        for offer in [
            "permessage-deflate; unknown",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits=7",
            "permessage-deflate; server_max_window_bits=010",
            "permessage-deflate; server_max_window_bits=8",
            "permessage-deflate; client_max_window_bits=1x",
            "permessage-deflate; client_no_context_takeover=1",
            "permessage-deflate; server_no_context_takeover=\"\"",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "deflate-frame",
            "",
        ] {
            assert_eq!(response(&[offer], SHARED), None, "{offer}");
            assert_eq!(response(&[offer], TAKEOVER), None, "{offer}");
        }
    }

    #[test]
    fn malformed_headers_decline_compression() {
        for value in [
            "permessage-deflate; server_max_window_bits=\"10",
            "permessage-deflate;; x",
            "permessage-deflate x",
            "permessage-deflate; =10",
            "per message-deflate",
            "permessage-deflate; a=\"\x01\"",
        ] {
            assert_eq!(response(&[value], SHARED), None, "{value:?}");
        }
        // A malformed line spoils the whole header, even after a good one.
        assert_eq!(
            response(&["permessage-deflate", "a b"], SHARED),
            None,
            "two lines"
        );
    }

    #[test]
    fn lists_tolerate_whitespace_and_empty_elements() {
        let offers = parse_extension_list(b" , a ;b=\"x,y\" ;c=1 , ,d,").unwrap();
        assert_eq!(
            offers,
            [
                Offer {
                    name: b"a",
                    params: vec![
                        (&b"b"[..], Some(b"x,y".to_vec())),
                        (b"c", Some(b"1".to_vec()))
                    ],
                },
                Offer {
                    name: b"d",
                    params: vec![],
                },
            ]
        );
        assert_eq!(parse_extension_list(b"d=1"), None);
    }

    #[test]
    fn takeover_keeps_contexts_and_limits_windows() {
        let agreement = negotiate_deflate(
            [&b"permessage-deflate; client_max_window_bits"[..]],
            TAKEOVER,
        )
        .unwrap();
        assert_eq!(
            agreement.response(),
            "permessage-deflate; client_max_window_bits=11"
        );
        assert_eq!(
            (agreement.server_window_bits, agreement.client_window_bits),
            (11, 11)
        );
        // Without client_max_window_bits the client may use 32 KiB: so must we.
        let plain = negotiate_deflate([&b"permessage-deflate"[..]], TAKEOVER).unwrap();
        assert_eq!(plain.response(), "permessage-deflate");
        assert_eq!(plain.client_window_bits, 15);
        // What the client asks for, the server grants; smaller windows stay smaller.
        let asked = negotiate_deflate(
            [
                &b"permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
                server_max_window_bits=9; client_max_window_bits=10"[..],
            ],
            TAKEOVER,
        )
        .unwrap();
        assert_eq!(
            asked.response(),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=9"
        );
        assert_eq!(asked.server_window_bits, 9);
        let eight = negotiate_deflate(
            [&b"permessage-deflate; client_max_window_bits=8"[..]],
            TAKEOVER,
        )
        .unwrap();
        assert_eq!(eight.client_max_window_bits, Some(8));
        assert_eq!(eight.client_window_bits, 9, "zlib inflates 8 with 9");
    }
}
