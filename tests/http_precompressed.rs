//! Precompressed files (nginx' `gzip_static`): `FILE.br` or `FILE.gz` beside `FILE` is sent
//! with `Content-Encoding` when `Accept-Encoding` allows it (`q=0` refusing), the plain file
//! otherwise; every answer for such a file says `Vary: Accept-Encoding`, and the Content-Type
//! is the plain file's. Each variant has its own validators and its own ranges. Raw TCP, and
//! curl `--compressed` decoding a real gzip variant.

mod support;

use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;
use support::files::{curl, get_with, pattern, serve, www};
use support::http::get;

const SCRIPT: &[u8] = b"console.log('the plain script, the plain script, the plain script');\n";
const BROTLI: &[u8] = b"(pretend brotli)";

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn accept_encoding_chooses_the_variant() {
    let gz = gzip(SCRIPT);
    let www = www(
        "choose",
        &[
            ("app.js", SCRIPT),
            ("app.js.gz", &gz),
            ("app.js.br", BROTLI),
            ("plain.js", SCRIPT),
        ],
    );
    let server = serve(&www, &[]);
    for (accept, want_body, want_encoding) in [
        (None, SCRIPT, None),
        (Some("gzip"), &gz[..], Some("gzip")),
        (Some("x-gzip"), &gz[..], Some("gzip")),
        (Some("gzip, deflate, br, zstd"), BROTLI, Some("br")),
        (Some("br;q=0, gzip"), &gz[..], Some("gzip")),
        (Some("gzip;q=0.5, br;q=0.4"), &gz[..], Some("gzip")),
        (Some("gzip;q=0"), SCRIPT, None),
        (Some("*"), BROTLI, Some("br")),
        (Some("*;q=0"), SCRIPT, None),
        (Some("identity"), SCRIPT, None),
        (Some("deflate"), SCRIPT, None),
    ] {
        let headers: Vec<_> = accept.map(|a| ("Accept-Encoding", a)).into_iter().collect();
        let response = get_with(server.connect_addr(), "/app.js", &headers);
        assert_eq!(response.status, 200, "{accept:?}");
        assert!(response.body == want_body, "{accept:?}: wrong variant");
        assert_eq!(
            response.header("content-encoding"),
            want_encoding,
            "{accept:?}"
        );
        assert_eq!(
            response.header("vary"),
            Some("Accept-Encoding"),
            "{accept:?}"
        );
        assert_eq!(
            response.header("content-type"),
            Some("text/javascript; charset=utf-8"),
            "{accept:?}"
        );
    }
    // Without a variant there is nothing to vary on.
    let plain = get_with(
        server.connect_addr(),
        "/plain.js",
        &[("Accept-Encoding", "gzip")],
    );
    assert!(plain.body == SCRIPT);
    assert!(!plain.has_header("vary") && !plain.has_header("content-encoding"));
    // The variant itself, asked for by name, is just a file.
    let direct = get(server.connect_addr(), "/app.js.gz");
    assert!(direct.body == gz && !direct.has_header("content-encoding"));
}

#[test]
fn each_variant_has_its_own_validators_and_ranges() {
    let gz = gzip(SCRIPT);
    let www = www("validators", &[("app.js", SCRIPT), ("app.js.gz", &gz)]);
    let server = serve(&www, &[]);
    let gzip_only = ("Accept-Encoding", "gzip");
    let plain = get(server.connect_addr(), "/app.js");
    let compressed = get_with(server.connect_addr(), "/app.js", &[gzip_only]);
    let (plain_tag, gzip_tag) = (
        plain.header("etag").unwrap(),
        compressed.header("etag").unwrap(),
    );
    assert_ne!(plain_tag, gzip_tag);
    let revalidated = get_with(
        server.connect_addr(),
        "/app.js",
        &[gzip_only, ("If-None-Match", gzip_tag)],
    );
    assert_eq!(revalidated.status, 304);
    assert_eq!(revalidated.header("vary"), Some("Accept-Encoding"));
    // The gzip tag does not revalidate the plain file.
    let other = get_with(
        server.connect_addr(),
        "/app.js",
        &[("If-None-Match", gzip_tag)],
    );
    assert_eq!(other.status, 200);
    assert!(other.body == SCRIPT);
    // A range is of the bytes sent: the compressed ones.
    let range = get_with(
        server.connect_addr(),
        "/app.js",
        &[gzip_only, ("Range", "bytes=0-9")],
    );
    assert_eq!(range.status, 206);
    let want = format!("bytes 0-9/{}", gz.len());
    assert_eq!(range.header("content-range"), Some(want.as_str()));
    assert!(range.body == gz[..10]);
}

#[test]
fn a_large_variant_is_read_from_disk_too() {
    // Random-looking bytes do not compress: the "variant" is as large as the file.
    let content = pattern(2 << 20);
    let www = www(
        "large",
        &[("big.bin", &content), ("big.bin.gz", &gzip(&content))],
    );
    let server = serve(&www, &["--static-cache-bytes", "64K"]);
    let response = get_with(
        server.connect_addr(),
        "/big.bin",
        &[("Accept-Encoding", "gzip")],
    );
    assert_eq!(response.header("content-encoding"), Some("gzip"));
    let mut decoded = Vec::new();
    let mut decoder = flate2::write::GzDecoder::new(&mut decoded);
    decoder.write_all(&response.body).unwrap();
    decoder.finish().unwrap();
    assert!(decoded == content);
}

#[test]
fn curl_compressed_decodes_the_gzip_variant() {
    let www = www("curl", &[("app.js", SCRIPT), ("app.js.gz", &gzip(SCRIPT))]);
    let server = serve(&www, &[]);
    let url = format!("{}app.js", server.http_url());
    let compressed = curl("compressed", &["--compressed", &url]);
    assert_eq!(compressed.status(), 200, "{}", compressed.heads);
    assert_eq!(compressed.header("content-encoding"), Some("gzip"));
    assert_eq!(
        compressed.body, SCRIPT,
        "curl decoded the variant to the plain file"
    );
    let plain = curl("plain", &[&url]);
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.body, SCRIPT);
}
