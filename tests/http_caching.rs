//! Caching of static files (RFC 9110 §8.8, §13): every file response carries `ETag`,
//! `Last-Modified` and `Cache-Control`; `If-None-Match` and `If-Modified-Since` get a `304`
//! without a body (`If-None-Match` deciding when both are sent), `If-Match` a `412`; a file
//! changed on disk gets a new tag once the recheck interval has passed; `--cache-control`
//! sets the header. Raw TCP and curl, for a file served from memory and one read from disk.

mod support;

use std::fs;
use std::time::Duration;
use support::files::{curl, get_with, request_bytes, serve, www};
use support::hostile::poll_until;
use support::http::{get, HttpConn};

/// Smaller than the large file: it is read from disk per request, the small one from memory.
const CACHE_BYTES: &str = "4K";
const LARGE: usize = 64 * 1024;

fn files(test: &str) -> std::path::PathBuf {
    www(
        test,
        &[("small.txt", b"small file"), ("large.bin", &vec![7; LARGE])],
    )
}

#[test]
fn every_file_response_carries_validators_and_cache_control() {
    let www = files("validators");
    let server = serve(&www, &["--static-cache-bytes", CACHE_BYTES]);
    for name in ["small.txt", "large.bin"] {
        let response = get(server.connect_addr(), &format!("/{name}"));
        assert_eq!(response.status, 200, "{name}");
        let etag = response.header("etag").unwrap_or_default();
        assert!(
            etag.starts_with('"') && etag.ends_with('"') && etag.len() > 2,
            "{name}: ETag {etag:?}"
        );
        let modified = fs::metadata(www.join(name)).unwrap().modified().unwrap();
        assert_eq!(
            response.header("last-modified"),
            Some(httpdate::fmt_http_date(modified).as_str()),
            "{name}"
        );
        assert_eq!(response.header("cache-control"), Some("no-cache"), "{name}");
        // HEAD carries the same validators.
        let mut conn = HttpConn::open(server.connect_addr());
        conn.send(&request_bytes("HEAD", &format!("/{name}"), &[], true));
        let head = conn.read_response(true);
        assert_eq!(
            head.headers, response.headers,
            "{name}: HEAD and GET differ"
        );
    }
    // The two files have different tags; an error has none.
    let small = get(server.connect_addr(), "/small.txt");
    let large = get(server.connect_addr(), "/large.bin");
    assert_ne!(small.header("etag"), large.header("etag"));
    let missing = get(server.connect_addr(), "/missing");
    assert_eq!(missing.status, 404);
    assert!(!missing.has_header("etag") && !missing.has_header("cache-control"));
}

#[test]
fn revalidation_gets_304_without_a_body_on_a_kept_alive_connection() {
    let www = files("revalidation");
    let server = serve(&www, &["--static-cache-bytes", CACHE_BYTES]);
    for name in ["/small.txt", "/large.bin"] {
        let first = get(server.connect_addr(), name);
        let etag = first.header("etag").unwrap().to_owned();
        let date = first.header("last-modified").unwrap().to_owned();
        let weak = format!("W/{etag}");
        let list = format!("\"other\", {etag}");
        let before = "Thu, 01 Jan 1970 00:00:00 GMT";
        // (headers, status): each sent pipelined on one connection, so a 304 that carried
        // body bytes would garble the response after it.
        let cases: &[(&[(&str, &str)], u16)] = &[
            (&[("If-None-Match", &etag)], 304),
            (&[("If-None-Match", &weak)], 304),
            (&[("If-None-Match", &list)], 304),
            (&[("If-None-Match", "*")], 304),
            (&[("If-None-Match", "\"other\"")], 200),
            (&[("If-Modified-Since", &date)], 304),
            (&[("If-Modified-Since", before)], 200),
            (&[("If-Modified-Since", "not a date")], 200),
            // If-None-Match decides when both are sent.
            (
                &[("If-None-Match", "\"other\""), ("If-Modified-Since", &date)],
                200,
            ),
            (
                &[("If-None-Match", &etag), ("If-Modified-Since", before)],
                304,
            ),
            (&[("If-Match", "\"other\"")], 412),
            (&[("If-Match", &etag)], 200),
            (&[("If-Unmodified-Since", before)], 412),
        ];
        let mut conn = HttpConn::open(server.connect_addr());
        let mut pipelined = Vec::new();
        for (headers, _) in cases {
            pipelined.extend(request_bytes("GET", name, headers, false));
        }
        conn.send(&pipelined);
        for (headers, want) in cases {
            let response = conn.read_response(false);
            assert_eq!(response.status, *want, "{name} {headers:?}: {response:?}");
            if *want == 304 {
                assert_eq!(response.header("etag"), Some(etag.as_str()), "{headers:?}");
                assert_eq!(response.header("cache-control"), Some("no-cache"));
                assert!(!response.has_header("content-length"), "{response:?}");
            }
            if *want == 200 {
                assert_eq!(response.body, first.body, "{name} {headers:?}");
            }
        }
        // Nothing was sent beyond the responses, and the connection still serves.
        conn.send(&request_bytes("GET", name, &[], true));
        assert_eq!(conn.read_response(false).status, 200);
        assert!(conn.wait_closed(Duration::from_secs(5)).unwrap().is_empty());
    }
}

#[test]
fn a_file_changed_on_disk_gets_a_new_etag_after_the_recheck_interval() {
    let www = files("changed");
    // The default interval (1 s): the change shows within it, not at once.
    let server = serve(&www, &["--static-cache-bytes", CACHE_BYTES]);
    for name in ["small.txt", "large.bin"] {
        let path = format!("/{name}");
        let old = get(server.connect_addr(), &path);
        let old_tag = old.header("etag").unwrap().to_owned();
        // Same length, new content: only the modification time tells.
        let new_content: Vec<u8> = old.body.iter().map(|b| b ^ 0xff).collect();
        fs::write(www.join(name), &new_content).unwrap();
        let changed = poll_until(Duration::from_secs(10), || {
            let response = get_with(server.connect_addr(), &path, &[("If-None-Match", &old_tag)]);
            (response.status == 200).then_some(response)
        })
        .unwrap_or_else(|| panic!("{name}: the old tag still matched after 10 s"));
        assert_ne!(changed.header("etag"), Some(old_tag.as_str()));
        assert_eq!(changed.body, new_content, "{name}: the new content");
    }
}

#[test]
fn cache_control_is_set_by_its_flag() {
    let www = files("cache-control");
    let server = serve(&www, &["--cache-control", "public, max-age=3600"]);
    let response = get(server.connect_addr(), "/small.txt");
    assert_eq!(
        response.header("cache-control"),
        Some("public, max-age=3600")
    );
    let etag = response.header("etag").unwrap().to_owned();
    let not_modified = get_with(
        server.connect_addr(),
        "/small.txt",
        &[("If-None-Match", &etag)],
    );
    assert_eq!(not_modified.status, 304);
    assert_eq!(
        not_modified.header("cache-control"),
        Some("public, max-age=3600")
    );

    let server = serve(&www, &["--cache-control", ""]);
    let response = get(server.connect_addr(), "/small.txt");
    assert_eq!(response.status, 200);
    assert!(!response.has_header("cache-control"), "{response:?}");
}

#[test]
fn curl_revalidates_with_its_saved_etag_and_a_date() {
    let www = files("curl");
    let server = serve(&www, &["--static-cache-bytes", CACHE_BYTES]);
    let etag_file = www.join("etag.saved");
    for name in ["small.txt", "large.bin"] {
        let url = format!("{}{name}", server.http_url());
        let etag_path = etag_file.to_str().unwrap();
        let first = curl("etag-save", &["--etag-save", etag_path, &url]);
        assert!(first.success && first.status() == 200, "{}", first.heads);
        assert_eq!(first.body, fs::read(www.join(name)).unwrap());
        let again = curl("etag-compare", &["--etag-compare", etag_path, &url]);
        assert_eq!(again.status(), 304, "{}", again.heads);
        assert!(again.body.is_empty());
        // -z DATE sends If-Modified-Since.
        let date = first.header("last-modified").unwrap().to_owned();
        let by_date = curl("time-cond", &["-z", &date, &url]);
        assert_eq!(by_date.status(), 304, "{}", by_date.heads);
        let older = curl(
            "time-cond-old",
            &["-z", "Thu, 01 Jan 1970 00:00:01 GMT", &url],
        );
        assert_eq!(older.status(), 200, "{}", older.heads);
    }
}
