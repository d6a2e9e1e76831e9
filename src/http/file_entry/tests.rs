use super::*;
use crate::http::HttpDate;
use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh temporary www root, removed on drop.
struct Root(PathBuf);

impl Root {
    fn new() -> Root {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("wsloop-entry-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Root(dir.canonicalize().unwrap())
    }

    fn write(&self, name: &str, content: &[u8]) -> &Self {
        fs::write(self.0.join(name), content).unwrap();
        self
    }

    fn load(&self, path: &str, policy: &FilePolicy) -> Result<FileEntry, Response> {
        FileEntry::load(&self.0, path, policy, SystemTime::now())
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn policy(max_memory_bytes: u64) -> FilePolicy {
    FilePolicy {
        max_file_bytes: 1 << 20,
        max_memory_bytes,
        cache_control: "no-cache".into(),
    }
}

/// The head as it goes out, and the body (from memory or read from the file region).
fn sent(reply: Reply) -> (String, Vec<u8>) {
    let mut head = Vec::new();
    reply
        .response
        .write_head(&mut head, &HttpDate::from_unix_seconds(0), true, false);
    let mut body = reply.response.into_body().to_vec();
    if let Some(mut region) = reply.file {
        let mut buf = [0; 3];
        while region.remaining() > 0 {
            let chunk = region.peek(&mut buf).unwrap();
            body.extend_from_slice(chunk);
            let n = chunk.len();
            region.advance(n);
        }
    }
    (String::from_utf8(head).unwrap(), body)
}

fn header<'h>(head: &'h str, name: &str) -> Option<&'h str> {
    head.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(": "))
}

fn get<'a>(path: &'a str) -> FileRequest<'a> {
    FileRequest::get(path)
}

fn with<'a>(mut request: FileRequest<'a>, name: &str, value: &'a str) -> FileRequest<'a> {
    let value = Some(Cow::Borrowed(value.as_bytes()));
    match name {
        "If-None-Match" => request.if_none_match = value,
        "If-Modified-Since" => request.if_modified_since = value,
        "If-Match" => request.if_match = value,
        "Range" => request.range = value,
        "If-Range" => request.if_range = value,
        "Accept-Encoding" => request.accept_encoding = value,
        _ => panic!("no such test header {name}"),
    }
    request
}

#[test]
fn a_file_carries_its_validators_and_cache_headers() {
    for memory in [1 << 20, 0] {
        let root = Root::new();
        root.write("a.txt", b"hello world");
        let entry = root.load("/a.txt", &policy(memory)).unwrap();
        let (head, body) = sent(entry.answer(&get("/a.txt")).unwrap());
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert_eq!(body, b"hello world", "memory budget {memory}");
        assert_eq!(
            header(&head, "Content-Type"),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(header(&head, "Content-Length"), Some("11"));
        assert_eq!(header(&head, "Cache-Control"), Some("no-cache"));
        assert_eq!(header(&head, "Accept-Ranges"), Some("bytes"));
        assert!(header(&head, "ETag").is_some_and(|tag| tag.starts_with("\"b-")));
        let modified = fs::metadata(root.0.join("a.txt"))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(
            header(&head, "Last-Modified").map(str::to_owned),
            Some(httpdate::fmt_http_date(modified))
        );
        assert_eq!(header(&head, "Vary"), None, "no variant, no Vary");
        assert_eq!(entry.plain.memory.is_some(), memory > 0);
    }
}

#[test]
fn revalidation_gets_a_304_without_a_body() {
    let root = Root::new();
    root.write("a.txt", b"hello");
    let entry = root.load("/a.txt", &policy(1 << 20)).unwrap();
    let (head, _) = sent(entry.answer(&get("/a.txt")).unwrap());
    let etag = header(&head, "ETag").unwrap().to_owned();
    let date = header(&head, "Last-Modified").unwrap().to_owned();
    for request in [
        with(get("/a.txt"), "If-None-Match", &etag),
        with(get("/a.txt"), "If-Modified-Since", &date),
    ] {
        let (head304, body) = sent(entry.answer(&request).unwrap());
        assert!(
            head304.starts_with("HTTP/1.1 304 Not Modified\r\n"),
            "{head304}"
        );
        assert!(body.is_empty());
        assert_eq!(header(&head304, "ETag"), Some(etag.as_str()));
        assert_eq!(header(&head304, "Cache-Control"), Some("no-cache"));
        assert_eq!(header(&head304, "Content-Length"), None);
    }
    // If-None-Match wins: another tag means the file, whatever the date says.
    let request = with(
        with(get("/a.txt"), "If-None-Match", "\"old\""),
        "If-Modified-Since",
        &date,
    );
    assert_eq!(entry.answer(&request).unwrap().response.status(), 200);
    let request = with(get("/a.txt"), "If-Match", "\"old\"");
    assert_eq!(entry.answer(&request).unwrap().response.status(), 412);
}

#[test]
fn ranges_from_memory_and_from_disk() {
    for memory in [1 << 20, 0] {
        let root = Root::new();
        root.write("d.bin", b"0123456789");
        let entry = root.load("/d.bin", &policy(memory)).unwrap();
        for (range, want_head, want_body) in [
            ("bytes=2-4", "bytes 2-4/10", &b"234"[..]),
            ("bytes=-3", "bytes 7-9/10", b"789"),
            ("bytes=8-", "bytes 8-9/10", b"89"),
            ("bytes=0-", "bytes 0-9/10", b"0123456789"),
        ] {
            let (head, body) = sent(entry.answer(&with(get("/d.bin"), "Range", range)).unwrap());
            assert!(
                head.starts_with("HTTP/1.1 206 Partial Content\r\n"),
                "{range}: {head}"
            );
            assert_eq!(header(&head, "Content-Range"), Some(want_head), "{range}");
            assert_eq!(
                header(&head, "Content-Length"),
                Some(&*want_body.len().to_string())
            );
            assert_eq!(body, want_body, "{range}, memory {memory}");
            assert!(header(&head, "ETag").is_some());
        }
        let (head, body) = sent(
            entry
                .answer(&with(get("/d.bin"), "Range", "bytes=10-"))
                .unwrap(),
        );
        assert!(head.starts_with("HTTP/1.1 416 "), "{head}");
        assert_eq!(header(&head, "Content-Range"), Some("bytes */10"));
        assert!(!body.is_empty());
        // Several ranges: the whole file.
        let reply = entry
            .answer(&with(get("/d.bin"), "Range", "bytes=0-1,4-5"))
            .unwrap();
        assert_eq!(sent(reply).1, b"0123456789");
    }
}

#[test]
fn if_range_sends_the_range_only_to_the_current_version() {
    let root = Root::new();
    root.write("d.bin", b"0123456789");
    let entry = root.load("/d.bin", &policy(1 << 20)).unwrap();
    let (head, _) = sent(entry.answer(&get("/d.bin")).unwrap());
    let etag = header(&head, "ETag").unwrap().to_owned();
    let ranged = with(get("/d.bin"), "Range", "bytes=0-1");
    let current = with(ranged.clone(), "If-Range", &etag);
    assert_eq!(entry.answer(&current).unwrap().response.status(), 206);
    let old = with(ranged.clone(), "If-Range", "\"old\"");
    assert_eq!(entry.answer(&old).unwrap().response.status(), 200);
    let old_date = with(ranged, "If-Range", "Thu, 01 Jan 1970 00:00:00 GMT");
    assert_eq!(entry.answer(&old_date).unwrap().response.status(), 200);
}

#[test]
fn a_head_opens_nothing_and_ignores_ranges() {
    let root = Root::new();
    root.write("d.bin", b"0123456789");
    let entry = root.load("/d.bin", &policy(0)).unwrap();
    let mut request = with(get("/d.bin"), "Range", "bytes=0-1");
    request.head_only = true;
    let reply = entry.answer(&request).unwrap();
    assert!(reply.file.is_none());
    let (head, body) = sent(reply);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"));
    assert_eq!(header(&head, "Content-Length"), Some("10"));
    assert!(body.is_empty());
}

#[test]
fn precompressed_variants_follow_accept_encoding() {
    let root = Root::new();
    root.write("app.js", b"plain")
        .write("app.js.gz", b"gz")
        .write("app.js.br", b"br!");
    let entry = root.load("/app.js", &policy(1 << 20)).unwrap();
    for (accept, want_body, want_encoding) in [
        (None, &b"plain"[..], None),
        (Some("gzip, deflate, br"), b"br!", Some("br")),
        (Some("gzip"), b"gz", Some("gzip")),
        (Some("gzip, br;q=0"), b"gz", Some("gzip")),
        (Some("br;q=0, gzip;q=0"), b"plain", None),
        (Some("identity"), b"plain", None),
    ] {
        let mut request = get("/app.js");
        if let Some(accept) = accept {
            request = with(request, "Accept-Encoding", accept);
        }
        let (head, body) = sent(entry.answer(&request).unwrap());
        assert_eq!(body, want_body, "{accept:?}");
        assert_eq!(
            header(&head, "Content-Encoding"),
            want_encoding,
            "{accept:?}"
        );
        assert_eq!(header(&head, "Vary"), Some("Accept-Encoding"), "{accept:?}");
        assert_eq!(
            header(&head, "Content-Type"),
            Some("text/javascript; charset=utf-8")
        );
    }
    // Each variant has its own validators: the gzip tag does not revalidate brotli.
    let gzip = with(get("/app.js"), "Accept-Encoding", "gzip");
    let (head, _) = sent(entry.answer(&gzip).unwrap());
    let gzip_tag = header(&head, "ETag").unwrap().to_owned();
    let again = with(gzip.clone(), "If-None-Match", &gzip_tag);
    let (head304, _) = sent(entry.answer(&again).unwrap());
    assert!(head304.starts_with("HTTP/1.1 304 "));
    assert_eq!(header(&head304, "Vary"), Some("Accept-Encoding"));
    let br = with(
        with(get("/app.js"), "Accept-Encoding", "br"),
        "If-None-Match",
        &gzip_tag,
    );
    assert_eq!(entry.answer(&br).unwrap().response.status(), 200);
    // Ranges apply to the variant's own bytes.
    let ranged = with(gzip, "Range", "bytes=1-");
    let (head, body) = sent(entry.answer(&ranged).unwrap());
    assert_eq!(header(&head, "Content-Range"), Some("bytes 1-1/2"));
    assert_eq!(body, b"z");
}

#[test]
fn memory_goes_to_the_variants_first() {
    let root = Root::new();
    root.write("big.html", &[b'x'; 100])
        .write("big.html.gz", &[1; 10]);
    let entry = root.load("/big.html", &policy(50)).unwrap();
    assert!(entry.encoded[0].memory.is_some());
    assert!(entry.plain.memory.is_none());
    let heads: usize = entry
        .variants()
        .map(|v| v.whole.head_len() + v.not_modified.head_len())
        .sum();
    assert_eq!(entry.held_bytes(), 10 + heads);
}

#[test]
fn a_file_that_changed_since_the_entry_was_built_is_stale() {
    let root = Root::new();
    root.write("d.bin", b"0123456789");
    let entry = root.load("/d.bin", &policy(0)).unwrap();
    assert!(entry.unchanged_on_disk());
    root.write("d.bin", b"longer than before");
    assert!(!entry.unchanged_on_disk());
    assert_eq!(entry.answer(&get("/d.bin")).unwrap_err(), Stale);
    // A variant appearing is a change too.
    let entry = root.load("/d.bin", &policy(0)).unwrap();
    root.write("d.bin.gz", b"gz");
    assert!(!entry.unchanged_on_disk());
}

#[test]
fn limits_and_errors() {
    let root = Root::new();
    root.write("big.bin", &[0; 100])
        .write("small.txt", b"s")
        .write("small.txt.gz", &[0; 100]);
    let mut limits = policy(1 << 20);
    limits.max_file_bytes = 99;
    assert_eq!(root.load("/big.bin", &limits).unwrap_err().status(), 500);
    let entry = root.load("/small.txt", &limits).unwrap();
    assert!(
        entry.encoded.is_empty(),
        "a variant over the limit is left out"
    );
    assert_eq!(root.load("/missing", &limits).unwrap_err().status(), 404);
    assert_eq!(root.load("/../x", &limits).unwrap_err().status(), 400);
    // No Cache-Control when it is configured empty.
    limits.cache_control.clear();
    let (head, _) = sent(
        root.load("/small.txt", &limits)
            .unwrap()
            .answer(&get("/small.txt"))
            .unwrap(),
    );
    assert_eq!(header(&head, "Cache-Control"), None);
}
