//! The WebSocket opening handshake, server side (RFC 6455 §4.2.1 / §4.2.2).

use sha1::{Digest, Sha1};

use super::request::{Method, Request};
use super::response::Response;
use super::token::{is_token, list_contains, list_items, trim_ows};

/// The only WebSocket protocol version spoken (RFC 6455).
const WS_VERSION: &str = "13";

/// A valid WebSocket upgrade request, reduced to what the server needs to answer it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeRequest {
    /// The `Sec-WebSocket-Key` value (trimmed; base64 of exactly 16 bytes).
    pub key: String,
    /// Subprotocols offered in `Sec-WebSocket-Protocol`, in order.
    pub offered_protocols: Vec<String>,
}

/// Outcome of [`check_upgrade`].
#[derive(Debug)]
pub enum UpgradeCheck {
    /// Not a WebSocket upgrade request: handle it as plain HTTP.
    NotUpgrade,
    /// A valid upgrade request.
    Valid(UpgradeRequest),
    /// An upgrade request that must be refused with this response.
    Invalid(Response),
}

/// Decide whether `req` asks for a WebSocket upgrade and whether the ask is valid.
///
/// * `NotUpgrade`: no `Upgrade` header containing the token `websocket`
///   (token lists are case-insensitive).
/// * `Invalid`, checked in this order:
///   1. method not GET: **405** with `Allow: GET`;
///   2. HTTP/1.0: 400;
///   3. no `upgrade` token in `Connection`: 400;
///   4. `Sec-WebSocket-Version` missing, repeated, or not `13`: 426 with
///      `Sec-WebSocket-Version: 13` (checked before the key so old clients learn the version);
///   5. `Sec-WebSocket-Key` missing, repeated, or not base64 of exactly 16 bytes: 400.
///
/// `Host` and `Origin` are not checked here (general HTTP / policy concerns of the caller).
///
/// `offered_protocols` collects all `Sec-WebSocket-Protocol` headers, comma-split, trimmed,
/// empty items dropped, in order; items that are not valid HTTP tokens (or not UTF-8) are
/// dropped as well, so a chosen protocol is always safe to echo in a header.
pub fn check_upgrade(req: &Request) -> UpgradeCheck {
    match check_upgrade_key(req) {
        Ok(None) => UpgradeCheck::NotUpgrade,
        Ok(Some(key)) => UpgradeCheck::Valid(UpgradeRequest {
            key: key.to_owned(),
            offered_protocols: offered_protocols(req).map(str::to_owned).collect(),
        }),
        Err(refusal) => UpgradeCheck::Invalid(refusal),
    }
}

/// [`check_upgrade`] without copying anything out of the request (the server's own path):
/// `Ok(None)` for a request that asks for no upgrade, `Ok(Some(key))` for a valid one (its
/// subprotocols are [`offered_protocols`]), `Err(refusal)` for an invalid one.
pub(crate) fn check_upgrade_key(req: &Request) -> Result<Option<&str>, Response> {
    let found = UpgradeHeaders::gather(req);
    if !found.upgrade_websocket {
        return Ok(None);
    }
    if req.method() != &Method::Get {
        return Err(
            Response::error(405, "WebSocket upgrade requires GET").with_header("Allow", "GET")
        );
    }
    if req.minor_version() < 1 {
        return Err(invalid("WebSocket upgrade requires HTTP/1.1"));
    }
    if !found.connection_upgrade {
        return Err(invalid("missing Connection: upgrade"));
    }
    if found.version.map(trim_ows) != Sole::One(WS_VERSION.as_bytes()) {
        return Err(Response::error(426, "unsupported Sec-WebSocket-Version")
            .with_header("Sec-WebSocket-Version", WS_VERSION));
    }
    let key = match found.key {
        Sole::One(key) => trim_ows(key),
        Sole::Missing => return Err(invalid("missing Sec-WebSocket-Key")),
        Sole::Repeated => return Err(invalid("repeated Sec-WebSocket-Key")),
    };
    // Valid base64 is ASCII, so the check leaves a `str`.
    match std::str::from_utf8(key) {
        Ok(key) if is_valid_key(key.as_bytes()) => Ok(Some(key)),
        _ => Err(invalid("invalid Sec-WebSocket-Key")),
    }
}

/// What the upgrade checks read from the headers, gathered in one pass over them (every
/// request is checked, and most are no upgrade at all).
struct UpgradeHeaders<'a> {
    /// An `Upgrade` header lists `websocket`.
    upgrade_websocket: bool,
    /// A `Connection` header lists `upgrade`.
    connection_upgrade: bool,
    version: Sole<'a>,
    key: Sole<'a>,
}

/// The value of a header that must appear exactly once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sole<'a> {
    Missing,
    One(&'a [u8]),
    Repeated,
}

impl<'a> Sole<'a> {
    fn add(&mut self, value: &'a [u8]) {
        *self = match self {
            Sole::Missing => Sole::One(value),
            _ => Sole::Repeated,
        };
    }

    fn map(self, f: impl FnOnce(&'a [u8]) -> &'a [u8]) -> Self {
        match self {
            Sole::One(value) => Sole::One(f(value)),
            other => other,
        }
    }
}

impl<'a> UpgradeHeaders<'a> {
    fn gather(req: &'a Request) -> Self {
        let mut found = UpgradeHeaders {
            upgrade_websocket: false,
            connection_upgrade: false,
            version: Sole::Missing,
            key: Sole::Missing,
        };
        for (name, value) in req.raw_headers() {
            // The length picks the one name worth comparing.
            let is = |wanted: &str| name.eq_ignore_ascii_case(wanted.as_bytes());
            match name.len() {
                7 if is("upgrade") => found.upgrade_websocket |= list_contains(value, b"websocket"),
                10 if is("connection") => {
                    found.connection_upgrade |= list_contains(value, b"upgrade");
                }
                17 if is("sec-websocket-key") => found.key.add(value),
                21 if is("sec-websocket-version") => found.version.add(value),
                _ => {}
            }
        }
        found
    }
}

/// The subprotocols `req` offers, as [`UpgradeRequest::offered_protocols`] lists them: every
/// `Sec-WebSocket-Protocol` header, comma-split, trimmed, in order, tokens only.
pub(crate) fn offered_protocols(req: &Request) -> impl Iterator<Item = &str> {
    req.headers_named("sec-websocket-protocol")
        .flat_map(list_items)
        .filter_map(|item| std::str::from_utf8(item).ok())
        .filter(|item| is_token(item))
}

/// A 400 refusal of an upgrade request.
fn invalid(detail: &'static str) -> Response {
    Response::error(400, detail)
}

/// Pick the first offered protocol (client preference order) for which `known(name)` is true.
pub fn choose_protocol(offered: &[String], known: impl Fn(&str) -> bool) -> Option<&str> {
    offered.iter().map(String::as_str).find(|p| known(p))
}

/// Append the `101 Switching Protocols` response for `key` to `out`: `Upgrade: websocket`,
/// `Connection: Upgrade`, `Sec-WebSocket-Accept` and, when `protocol` is `Some`,
/// `Sec-WebSocket-Protocol`. A `protocol` that is not a valid token is omitted (and logged)
/// rather than written, so it can never inject header lines.
pub fn accept_response(key: &str, protocol: Option<&str>, out: &mut Vec<u8>) {
    accept_response_with_extensions(key, protocol, None, out);
}

/// [`accept_response`] plus `Sec-WebSocket-Extensions: extensions` when it is `Some` (a
/// value from `extensions::DeflateAgreement::response`; one with a line break is omitted).
pub fn accept_response_with_extensions(
    key: &str,
    protocol: Option<&str>,
    extensions: Option<&str>,
    out: &mut Vec<u8>,
) {
    const START: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Accept: ";
    const PROTOCOL: &[u8] = b"\r\nSec-WebSocket-Protocol: ";
    const EXTENSIONS: &[u8] = b"\r\nSec-WebSocket-Extensions: ";
    const END: &[u8] = b"\r\nServer: wsloop\r\n\r\n";
    let accept = AcceptKey::derive(key.trim().as_bytes());
    let accept = accept.as_bytes();
    let protocol = match protocol {
        Some(p) if is_token(p) => Some(p),
        Some(_) => {
            log::warn!("not echoing a subprotocol that is not a valid token");
            None
        }
        None => None,
    };
    let extensions = extensions.filter(|value| !value.contains(['\r', '\n']));
    let protocol_len = protocol.map_or(0, |p| PROTOCOL.len() + p.len());
    let extensions_len = extensions.map_or(0, |e| EXTENSIONS.len() + e.len());
    // One allocation for the head (the queue of a new connection is empty).
    out.reserve(START.len() + accept.len() + protocol_len + extensions_len + END.len());
    out.extend_from_slice(START);
    out.extend_from_slice(accept);
    if let Some(p) = protocol {
        out.extend_from_slice(PROTOCOL);
        out.extend_from_slice(p.as_bytes());
    }
    if let Some(value) = extensions {
        out.extend_from_slice(EXTENSIONS);
        out.extend_from_slice(value.as_bytes());
    }
    out.extend_from_slice(END);
}

/// `Sec-WebSocket-Accept` for a key (RFC 6455 §4.2.2 step 5.4): base64 of the SHA-1 of the key
/// followed by the protocol's GUID, 28 characters, kept on the stack.
struct AcceptKey([u8; ACCEPT_KEY_LEN]);

/// Base64 of a 20-byte SHA-1 digest, padded.
const ACCEPT_KEY_LEN: usize = 28;

impl AcceptKey {
    fn derive(key: &[u8]) -> Self {
        const WS_GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
        let mut sha1 = Sha1::new();
        sha1.update(key);
        sha1.update(WS_GUID);
        let mut accept = [0; ACCEPT_KEY_LEN];
        data_encoding::BASE64.encode_mut(&sha1.finalize(), &mut accept);
        AcceptKey(accept)
    }

    fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// True if `key` is canonical padded base64 (RFC 4648 §4) of exactly 16 bytes, as RFC 6455
/// §4.2.1 item 5 asks: 21 characters of 6 bits each, a 22nd of which only the top 2 bits
/// carry data (the other 4 must be zero), then `==`.
fn is_valid_key(key: &[u8]) -> bool {
    let [data @ .., last, b'=', b'='] = key else {
        return false;
    };
    data.len() == 21
        && data.iter().all(|&c| base64_value(c).is_some())
        && base64_value(*last).is_some_and(|value| value & 0x0f == 0)
}

/// Not a base64 character, in [`BASE64_VALUES`].
const NOT_BASE64: u8 = 0xff;

/// Each byte's value as a standard-alphabet base64 character, or [`NOT_BASE64`].
const BASE64_VALUES: [u8; 256] = {
    let mut table = [NOT_BASE64; 256];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut value = 0;
    while value < alphabet.len() {
        table[alphabet[value] as usize] = value as u8;
        value += 1;
    }
    table
};

/// Value of one standard-alphabet base64 character.
fn base64_value(c: u8) -> Option<u8> {
    Some(BASE64_VALUES[usize::from(c)]).filter(|&value| value != NOT_BASE64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::request::{parse_head, ParsedHead, DEFAULT_MAX_HEADERS};

    const RFC_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
    /// RFC 6455 §1.3 (also checked independently with SHA-1 + base64 outside Rust).
    const RFC_ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    fn req(head: &str) -> Request {
        match parse_head(head.as_bytes(), DEFAULT_MAX_HEADERS) {
            Ok(ParsedHead::Complete { request, .. }) => request,
            other => panic!("test head did not parse: {other:?}"),
        }
    }

    fn head_with(method_line: &str, extra: &[&str]) -> String {
        let mut s = format!("{method_line}\r\nHost: example.com\r\n");
        for line in extra {
            s.push_str(line);
            s.push_str("\r\n");
        }
        s.push_str("\r\n");
        s
    }

    const GOOD: [&str; 4] = [
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
    ];

    #[test]
    fn the_accept_key_agrees_with_tungstenites() {
        for key in [
            RFC_KEY,
            "AAAAAAAAAAAAAAAAAAAAAA==",
            "/////////////////////w==",
            "",
        ] {
            let theirs = tungstenite::handshake::derive_accept_key(key.as_bytes());
            assert_eq!(
                AcceptKey::derive(key.as_bytes()).as_bytes(),
                theirs.as_bytes()
            );
        }
    }

    #[test]
    fn rfc_sample_accept_key() {
        assert_eq!(
            AcceptKey::derive(RFC_KEY.as_bytes()).as_bytes(),
            RFC_ACCEPT.as_bytes()
        );
        let mut out = Vec::new();
        accept_response(RFC_KEY, None, &mut out);
        let text = String::from_utf8(out).expect("ascii");
        assert_eq!(
            text,
            format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: {RFC_ACCEPT}\r\nServer: wsloop\r\n\r\n"
            )
        );
    }

    #[test]
    fn accept_response_with_protocol() {
        let mut out = Vec::new();
        accept_response(RFC_KEY, Some("chat"), &mut out);
        let mut headers = [httparse::EMPTY_HEADER; 8];
        let mut resp = httparse::Response::new(&mut headers);
        let status = resp.parse(&out).expect("valid response");
        assert_eq!(status, httparse::Status::Complete(out.len()));
        assert_eq!(resp.code, Some(101));
        let get = |name: &str| {
            resp.headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| h.value)
        };
        assert_eq!(get("sec-websocket-protocol"), Some(&b"chat"[..]));
        assert_eq!(get("sec-websocket-accept"), Some(RFC_ACCEPT.as_bytes()));

        let mut out = Vec::new();
        accept_response(RFC_KEY, Some("x\r\nSet-Cookie: a=b"), &mut out);
        assert!(!out.windows(10).any(|w| w == b"Set-Cookie"));
    }

    #[test]
    fn accept_response_with_an_extension() {
        let mut out = Vec::new();
        accept_response_with_extensions(RFC_KEY, None, Some("permessage-deflate"), &mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(text.ends_with(
            "\r\nSec-WebSocket-Extensions: permessage-deflate\r\nServer: wsloop\r\n\r\n"
        ));
        let mut out = Vec::new();
        accept_response_with_extensions(RFC_KEY, None, Some("a\r\nX: y"), &mut out);
        assert!(!String::from_utf8(out).unwrap().contains("X: y"));
    }

    #[test]
    fn valid_upgrade() {
        let mut extra = GOOD.to_vec();
        extra.push("Sec-WebSocket-Protocol: chat, , superchat ");
        extra.push("sec-websocket-protocol: v2.json,bad proto");
        match check_upgrade(&req(&head_with("GET /ws HTTP/1.1", &extra))) {
            UpgradeCheck::Valid(u) => {
                assert_eq!(u.key, RFC_KEY);
                assert_eq!(u.offered_protocols, vec!["chat", "superchat", "v2.json"]);
            }
            other => panic!("expected Valid, got {other:?}"),
        }
    }

    #[test]
    fn case_insensitive_tokens() {
        let head = head_with(
            "GET / HTTP/1.1",
            &[
                "upgrade: WebSocket",
                "connection: keep-alive, UPGRADE",
                "sec-websocket-key:  dGhlIHNhbXBsZSBub25jZQ== ",
                "sec-websocket-version: 13",
            ],
        );
        assert!(matches!(check_upgrade(&req(&head)), UpgradeCheck::Valid(_)));
    }

    #[test]
    fn tokens_in_repeated_headers() {
        let head = head_with(
            "GET / HTTP/1.1",
            &[
                "Upgrade: h2c",
                "Upgrade: websocket",
                "Connection: keep-alive",
                "Connection: Upgrade",
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                "Sec-WebSocket-Version: 13",
            ],
        );
        assert!(matches!(check_upgrade(&req(&head)), UpgradeCheck::Valid(_)));
    }

    #[test]
    fn not_upgrade() {
        for extra in [
            &[][..],
            &["Upgrade: h2c", "Connection: Upgrade"][..],
            &["Upgrade: websocketx"][..],
        ] {
            let head = head_with("GET / HTTP/1.1", extra);
            assert!(matches!(
                check_upgrade(&req(&head)),
                UpgradeCheck::NotUpgrade
            ));
        }
    }

    #[test]
    fn invalid_upgrades() {
        let key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==";
        let cases: Vec<(&str, Vec<&str>, u16)> = vec![
            ("POST / HTTP/1.1", GOOD.to_vec(), 405),
            ("GET / HTTP/1.0", GOOD.to_vec(), 400),
            ("GET / HTTP/1.1", vec![GOOD[0], GOOD[2], GOOD[3]], 400),
            (
                "GET / HTTP/1.1",
                vec![GOOD[0], "Connection: keep-alive", GOOD[2], GOOD[3]],
                400,
            ),
            ("GET / HTTP/1.1", vec![GOOD[0], GOOD[1], GOOD[3]], 400),
            (
                "GET / HTTP/1.1",
                vec![GOOD[0], GOOD[1], key, key, GOOD[3]],
                400,
            ),
            (
                "GET / HTTP/1.1",
                vec![
                    GOOD[0],
                    GOOD[1],
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ",
                    GOOD[3],
                ],
                400,
            ),
            (
                "GET / HTTP/1.1",
                vec![GOOD[0], GOOD[1], "Sec-WebSocket-Key: c2hvcnQ=", GOOD[3]],
                400,
            ),
            ("GET / HTTP/1.1", vec![GOOD[0], GOOD[1], GOOD[2]], 426),
            (
                "GET / HTTP/1.1",
                vec![GOOD[0], GOOD[1], GOOD[2], "Sec-WebSocket-Version: 8"],
                426,
            ),
            (
                "GET / HTTP/1.1",
                vec![
                    GOOD[0],
                    GOOD[1],
                    GOOD[2],
                    GOOD[3],
                    "Sec-WebSocket-Version: 8",
                ],
                426,
            ),
        ];
        for (line, extra, want) in cases {
            let head = head_with(line, &extra);
            let resp = match check_upgrade(&req(&head)) {
                UpgradeCheck::Invalid(resp) => resp,
                other => panic!("expected Invalid for {head:?}, got {other:?}"),
            };
            assert_eq!(resp.status(), want, "{head:?}");
            match want {
                405 => assert_eq!(resp.header("allow"), Some("GET")),
                426 => assert_eq!(resp.header("sec-websocket-version"), Some("13")),
                _ => {}
            }
        }
    }

    #[test]
    fn choose_protocol_table() {
        let offered: Vec<String> = ["a", "chat", "json"].map(String::from).to_vec();
        assert_eq!(
            choose_protocol(&offered, |p| p == "json" || p == "chat"),
            Some("chat")
        );
        assert_eq!(choose_protocol(&offered, |p| p == "json"), Some("json"));
        assert_eq!(choose_protocol(&offered, |_| false), None);
        assert_eq!(choose_protocol(&[], |_| true), None);
    }

    /// Strict standard base64 (RFC 4648 §4) with mandatory padding, any length: the oracle
    /// `is_valid_key` is checked against. Length a multiple of 4, `=` only as the last one
    /// or two characters, and unused trailing bits zero. The decoded bytes go to `emit`, up
    /// to three at a time; false (and some bytes emitted) if invalid.
    fn decode_base64(input: &[u8], mut emit: impl FnMut(&[u8])) -> bool {
        if input.len() % 4 != 0 {
            return false;
        }
        let quads = input.chunks_exact(4);
        let last = quads.len().checked_sub(1);
        for (i, quad) in quads.enumerate() {
            let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
            if pad > 2 || (pad > 0 && Some(i) != last) {
                return false;
            }
            let mut acc: u32 = 0;
            for &c in &quad[..4 - pad] {
                match base64_value(c) {
                    Some(value) => acc = acc << 6 | u32::from(value),
                    None => return false,
                }
            }
            acc <<= 6 * pad as u32;
            let [_, b0, b1, b2] = acc.to_be_bytes();
            match pad {
                0 => emit(&[b0, b1, b2]),
                1 if b2 == 0 => emit(&[b0, b1]),
                2 if b1 == 0 && b2 == 0 => emit(&[b0]),
                _ => return false,
            }
        }
        true
    }

    #[test]
    fn key_validation_agrees_with_a_full_base64_decoder() {
        let decodes_to_16 = |key: &[u8]| {
            let mut decoded = 0;
            decode_base64(key, |bytes| decoded += bytes.len()) && decoded == 16
        };
        let mut keys = vec![RFC_KEY.as_bytes().to_vec()];
        for _ in 0..20 {
            keys.push(tungstenite::handshake::client::generate_key().into_bytes());
        }
        let mut checked = 0;
        for key in keys {
            assert!(is_valid_key(&key), "{key:?}");
            // Every character replaced by every byte, and every length cut.
            for at in 0..key.len() {
                for byte in 0..=255u8 {
                    let mut changed = key.clone();
                    changed[at] = byte;
                    assert_eq!(
                        is_valid_key(&changed),
                        decodes_to_16(&changed),
                        "{changed:?}"
                    );
                    checked += 1;
                }
                assert_eq!(is_valid_key(&key[..at]), decodes_to_16(&key[..at]));
            }
            let longer = [&key[..], b"AAAA"].concat();
            assert!(!is_valid_key(&longer) && !decodes_to_16(&longer));
        }
        assert_eq!(checked, 21 * 24 * 256);
    }

    #[test]
    fn base64_table() {
        for (input, want) in [
            ("", Some(&b""[..])),
            ("Zg==", Some(b"f")),
            ("Zm8=", Some(b"fo")),
            ("Zm9v", Some(b"foo")),
            ("Zm9vYg==", Some(b"foob")),
            ("Zm9vYmE=", Some(b"fooba")),
            ("Zm9vYmFy", Some(b"foobar")),
            ("Zm9", None),
            ("Zg=", None),
            ("Z===", None),
            ("Zg==Zg==", None),
            ("Zh==", None),
            ("Zm9=", None),
            ("Zm9v!A==", None),
            ("Zm 9", None),
            ("=Zm9", None),
        ] {
            let mut decoded = Vec::new();
            let valid = decode_base64(input.as_bytes(), |bytes| decoded.extend_from_slice(bytes));
            assert_eq!(valid.then_some(&decoded[..]), want, "{input:?}");
        }
    }

    #[test]
    fn key_validation() {
        assert!(is_valid_key(RFC_KEY.as_bytes()));
        assert!(is_valid_key(
            tungstenite::handshake::client::generate_key().as_bytes()
        ));
        assert!(!is_valid_key(b"AAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25jZR=="));
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25jZQ="));
        assert!(!is_valid_key(b""));
    }
}
