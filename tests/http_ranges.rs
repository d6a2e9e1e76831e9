//! Byte ranges of static files (RFC 9110 §14): one range is a `206` with `Content-Range`
//! (first-last, open `N-` and suffix `-N` forms), a range past the end a `416` with
//! `Content-Range: bytes */SIZE`, several ranges the whole file; `Accept-Ranges: bytes` is
//! advertised, HEAD ignores ranges and `If-Range` sends the range only for the current
//! version. Raw TCP (all pipelined on one connection, so framing errors show) and curl
//! (`-r`, and `-C -` resuming a download), for a file from memory and one read from disk.

mod support;

use std::fs::{self, File};
use std::process::Command;
use std::time::{Duration, SystemTime};
use support::files::{curl, get_with, pattern, request_bytes, serve, www};
use support::http::{get, HttpConn};

const CACHE_BYTES: &str = "64K";
const SMALL: usize = 1000;
/// Read from disk: larger than the cache.
const LARGE: usize = 3 << 20;

fn files(test: &str) -> std::path::PathBuf {
    let www = www(
        test,
        &[
            ("small.bin", &pattern(SMALL)),
            ("large.bin", &pattern(LARGE)),
        ],
    );
    // An hour old, so Last-Modified is a strong validator If-Range may use.
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    for name in ["small.bin", "large.bin"] {
        let file = File::options().write(true).open(www.join(name)).unwrap();
        file.set_modified(hour_ago).unwrap();
    }
    www
}

/// Range, If-Range, the status, and for a 206 the first and last byte wanted.
type Case<'a> = (String, Option<&'a str>, u16, Option<(usize, usize)>);

#[test]
fn single_ranges_are_206_and_past_the_end_is_416() {
    let www = files("table");
    let server = serve(&www, &["--static-cache-bytes", CACHE_BYTES]);
    for (name, size) in [("small.bin", SMALL), ("large.bin", LARGE)] {
        let path = format!("/{name}");
        let content = pattern(size);
        let whole = get(server.connect_addr(), &path);
        assert_eq!(whole.header("accept-ranges"), Some("bytes"), "{name}");
        let etag = whole.header("etag").unwrap().to_owned();
        let date = whole.header("last-modified").unwrap().to_owned();
        let last = size - 1;
        let cases: Vec<Case> = vec![
            ("bytes=0-99".into(), None, 206, Some((0, 99))),
            (
                format!("bytes={}-", size - 10),
                None,
                206,
                Some((size - 10, last)),
            ),
            ("bytes=-10".into(), None, 206, Some((size - 10, last))),
            ("bytes=0-".into(), None, 206, Some((0, last))),
            (format!("bytes=5-{}", size * 2), None, 206, Some((5, last))),
            (
                format!("bytes={last}-{last}"),
                None,
                206,
                Some((last, last)),
            ),
            (format!("bytes={size}-"), None, 416, None),
            ("bytes=-0".into(), None, 416, None),
            ("bytes=0-1,10-20".into(), None, 200, None),
            ("bytes=oops".into(), None, 200, None),
            ("pages=1-2".into(), None, 200, None),
            ("bytes=0-9".into(), Some(&etag), 206, Some((0, 9))),
            ("bytes=0-9".into(), Some("\"old\""), 200, None),
            ("bytes=0-9".into(), Some(&date), 206, Some((0, 9))),
            (
                "bytes=0-9".into(),
                Some("Thu, 01 Jan 1970 00:00:00 GMT"),
                200,
                None,
            ),
        ];
        let mut conn = HttpConn::open(server.connect_addr());
        let mut pipelined = Vec::new();
        for (range, if_range, _, _) in &cases {
            let mut headers = vec![("Range", range.as_str())];
            headers.extend(if_range.map(|value| ("If-Range", value)));
            pipelined.extend(request_bytes("GET", &path, &headers, false));
        }
        conn.send(&pipelined);
        for (range, if_range, status, part) in &cases {
            let response = conn.read_response(false);
            let what = format!("{name} {range} If-Range {if_range:?}");
            assert_eq!(response.status, *status, "{what}: {response:?}");
            match (status, part) {
                (206, Some((first, last))) => {
                    let want = format!("bytes {first}-{last}/{size}");
                    assert_eq!(
                        response.header("content-range"),
                        Some(want.as_str()),
                        "{what}"
                    );
                    assert!(
                        response.body == content[*first..=*last],
                        "{what}: wrong bytes"
                    );
                    assert_eq!(response.header("etag"), Some(etag.as_str()), "{what}");
                }
                (416, _) => {
                    let want = format!("bytes */{size}");
                    assert_eq!(
                        response.header("content-range"),
                        Some(want.as_str()),
                        "{what}"
                    );
                }
                _ => assert!(response.body == content, "{what}: the whole file"),
            }
        }
        // A HEAD ignores the range.
        conn.send(&request_bytes(
            "HEAD",
            &path,
            &[("Range", "bytes=0-9")],
            true,
        ));
        let head = conn.read_response(true);
        assert_eq!(head.status, 200);
        assert_eq!(head.content_length(), Some(size));
        assert!(conn.wait_closed(Duration::from_secs(5)).unwrap().is_empty());
    }
}

#[test]
fn a_range_of_a_large_file_sends_only_the_range() {
    let www = files("large-range");
    let server = serve(&www, &["--static-cache-bytes", CACHE_BYTES]);
    let first = LARGE - 5000;
    let range = format!("bytes={first}-{}", first + 99);
    let response = get_with(server.connect_addr(), "/large.bin", &[("Range", &range)]);
    assert_eq!(response.status, 206);
    assert_eq!(response.content_length(), Some(100));
    assert!(response.body == pattern(LARGE)[first..first + 100]);
}

#[test]
fn curl_fetches_ranges_and_resumes_a_download() {
    let www = files("curl");
    let server = serve(&www, &["--static-cache-bytes", CACHE_BYTES]);
    for (name, size) in [("small.bin", SMALL), ("large.bin", LARGE)] {
        let url = format!("{}{name}", server.http_url());
        let content = pattern(size);
        let part = curl("range", &["-r", "100-199", &url]);
        assert_eq!(part.status(), 206, "{}", part.heads);
        assert!(part.body == content[100..200]);

        // A download cut off after 300 bytes, resumed with -C -: curl asks for bytes=300-.
        let saved = www.join(format!("{name}.partial"));
        fs::write(&saved, &content[..300]).unwrap();
        let resumed = Command::new("curl")
            .args(["-sS", "--max-time", "30", "-C", "-", "-o"])
            .arg(&saved)
            .arg(&url)
            .status()
            .expect("run curl");
        assert!(resumed.success(), "{name}: curl -C - failed: {resumed}");
        assert!(
            fs::read(&saved).unwrap() == content,
            "{name}: resumed file differs"
        );
    }
}
