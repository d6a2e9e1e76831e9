//! Static files: mapping request paths to files under a document root, safely (and finding
//! the precompressed variants beside them).

use std::path::{Path, PathBuf};

use super::response::Response;

/// File served when a request path resolves to a directory.
const INDEX_FILE: &str = "index.html";

/// Why a request path could not be mapped to a file.
#[derive(Debug, PartialEq, Eq)]
pub enum ResolveError {
    /// The path is syntactically unacceptable (bad escape, NUL, encoded separator, `..`,
    /// non-UTF-8, not starting with `/`). The text is a fixed server-chosen message.
    BadRequest(&'static str),
    /// No regular file is served at that path (missing, outside the root, a directory
    /// without `index.html`, or not a regular file).
    NotFound,
}

/// Map a request path (the part before `'?'`, still percent-encoded) to a file under `root`.
///
/// `root` must already be canonicalized by the caller. Steps:
/// 1. The path must start with `/`; it is split on `/` and each segment percent-decoded.
///    An invalid escape, a decoded NUL, a separator produced by decoding (`%2F`, `%5C`),
///    any backslash at all, or non-UTF-8 bytes after decoding are `BadRequest`.
/// 2. A `..` segment (literal or encoded) is `BadRequest` — it is never legitimate from a
///    well-behaved client, so it is refused rather than normalised. Empty and `.` segments
///    are skipped (so `//etc/passwd` means `<root>/etc/passwd`).
/// 3. The segments are joined onto `root` and canonicalized (missing: `NotFound`). The
///    canonical path must lie under `root`, so a symlink escaping the root is `NotFound`.
/// 4. A directory is replaced by its `index.html`, checked the same way. Only regular files
///    are returned; there are never directory listings. A path ending in `/` that names a
///    file (not a directory) is `NotFound`.
pub fn resolve(root: &Path, request_path: &str) -> Result<PathBuf, ResolveError> {
    let Some(rest) = request_path.strip_prefix('/') else {
        return Err(ResolveError::BadRequest("path must start with '/'"));
    };
    let mut joined = root.to_path_buf();
    for raw in rest.split('/') {
        let segment = decode_segment(raw)?;
        match segment.as_str() {
            "" | "." => continue,
            ".." => return Err(ResolveError::BadRequest("'..' in path")),
            _ => joined.push(segment),
        }
    }
    let found = canonical_under(root, &joined)?;
    if found.is_dir() {
        let index = canonical_under(root, &found.join(INDEX_FILE))?;
        return if index.is_file() {
            Ok(index)
        } else {
            Err(ResolveError::NotFound)
        };
    }
    if found.is_file() && !request_path.ends_with('/') {
        Ok(found)
    } else {
        Err(ResolveError::NotFound)
    }
}

/// Canonicalize `path` and require the result to be inside `root`.
fn canonical_under(root: &Path, path: &Path) -> Result<PathBuf, ResolveError> {
    let canonical = path.canonicalize().map_err(|_| ResolveError::NotFound)?;
    if canonical.starts_with(root) {
        Ok(canonical)
    } else {
        log::debug!("refusing path that resolves outside the document root");
        Err(ResolveError::NotFound)
    }
}

/// Percent-decode one path segment (which contains no literal `/`).
fn decode_segment(raw: &str) -> Result<String, ResolveError> {
    let mut out = Vec::with_capacity(raw.len());
    let mut bytes = raw.bytes();
    while let Some(b) = bytes.next() {
        let decoded = if b == b'%' {
            match (
                bytes.next().and_then(hex_val),
                bytes.next().and_then(hex_val),
            ) {
                (Some(hi), Some(lo)) => hi << 4 | lo,
                _ => return Err(ResolveError::BadRequest("invalid percent-escape in path")),
            }
        } else {
            b
        };
        match decoded {
            0 => return Err(ResolveError::BadRequest("NUL in path")),
            b'/' | b'\\' => {
                return Err(ResolveError::BadRequest(
                    "encoded slash or backslash in path",
                ))
            }
            _ => out.push(decoded),
        }
    }
    String::from_utf8(out).map_err(|_| ResolveError::BadRequest("path is not UTF-8"))
}

/// Value of one ASCII hex digit.
fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// [`resolve`], with its errors as the response to send (`400` or `404`).
pub fn find(root: &Path, request_path: &str) -> Result<PathBuf, Response> {
    resolve(root, request_path).map_err(|err| match err {
        ResolveError::BadRequest(why) => Response::error(400, why),
        ResolveError::NotFound => Response::error(404, "no such file"),
    })
}

/// The regular file named like `file` (already resolved) plus `suffix` (`.gz`), if there is
/// one under `root`: a precompressed variant. A symlink leaving the root is not one.
pub fn sibling(root: &Path, file: &Path, suffix: &str) -> Option<PathBuf> {
    let mut name = file.as_os_str().to_owned();
    name.push(suffix);
    canonical_under(root, Path::new(&name))
        .ok()
        .filter(|path| path.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A unique temporary directory tree, removed on drop.
    struct Fixture {
        base: PathBuf,
        root: PathBuf,
    }

    impl Fixture {
        /// base/
        ///   x                      "secret" (outside the root)
        ///   root/index.html        "root index"
        ///   root/a/file.txt        "file"
        ///   root/a b.txt           "space"
        ///   root/sub/index.html    "sub index"
        ///   root/empty/            (no index)
        ///   root/idxdir/index.html/ (a directory named index.html)
        ///   root/big.bin           100 bytes
        fn new() -> Self {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let base =
                std::env::temp_dir().join(format!("wsloop-static-test-{}-{n}", std::process::id()));
            let _ = fs::remove_dir_all(&base);
            let root = base.join("root");
            for dir in ["a", "sub", "empty", "idxdir/index.html"] {
                fs::create_dir_all(root.join(dir)).expect("create fixture dir");
            }
            for (file, body) in [
                ("index.html", &b"root index"[..]),
                ("a/file.txt", b"file"),
                ("a b.txt", b"space"),
                ("sub/index.html", b"sub index"),
                ("big.bin", &[7u8; 100]),
            ] {
                fs::write(root.join(file), body).expect("write fixture file");
            }
            fs::write(base.join("x"), b"secret").expect("write outside file");
            let base = base.canonicalize().expect("canonical base");
            let root = base.join("root");
            Fixture { base, root }
        }
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.base);
        }
    }

    #[test]
    fn traversal_and_bad_paths() {
        let fx = Fixture::new();
        for (path, want) in [
            ("/../x", Err(ResolveError::BadRequest("'..' in path"))),
            ("/a/../../x", Err(ResolveError::BadRequest("'..' in path"))),
            (
                "/a/../index.html",
                Err(ResolveError::BadRequest("'..' in path")),
            ),
            ("/%2e%2e/x", Err(ResolveError::BadRequest("'..' in path"))),
            (
                "/%2E%2E%2Fx",
                Err(ResolveError::BadRequest(
                    "encoded slash or backslash in path",
                )),
            ),
            (
                "/a%2f..%2f..%2fx",
                Err(ResolveError::BadRequest(
                    "encoded slash or backslash in path",
                )),
            ),
            (
                "/..%5cx",
                Err(ResolveError::BadRequest(
                    "encoded slash or backslash in path",
                )),
            ),
            (
                "/..\\x",
                Err(ResolveError::BadRequest(
                    "encoded slash or backslash in path",
                )),
            ),
            ("//etc/passwd", Err(ResolveError::NotFound)),
            ("/%00", Err(ResolveError::BadRequest("NUL in path"))),
            ("/a%00.html", Err(ResolveError::BadRequest("NUL in path"))),
            (
                "/%zz",
                Err(ResolveError::BadRequest("invalid percent-escape in path")),
            ),
            (
                "/%4",
                Err(ResolveError::BadRequest("invalid percent-escape in path")),
            ),
            (
                "/%",
                Err(ResolveError::BadRequest("invalid percent-escape in path")),
            ),
            ("/%ff", Err(ResolveError::BadRequest("path is not UTF-8"))),
            (
                "",
                Err(ResolveError::BadRequest("path must start with '/'")),
            ),
            (
                "x",
                Err(ResolveError::BadRequest("path must start with '/'")),
            ),
            ("/missing", Err(ResolveError::NotFound)),
            ("/empty/", Err(ResolveError::NotFound)),
            ("/empty", Err(ResolveError::NotFound)),
            ("/idxdir/", Err(ResolveError::NotFound)),
            ("/a/file.txt/", Err(ResolveError::NotFound)),
        ] {
            assert_eq!(resolve(&fx.root, path), want, "{path:?}");
        }
    }

    #[test]
    fn resolves_files_and_indexes() {
        let fx = Fixture::new();
        let r = &fx.root;
        for (path, want) in [
            ("/", r.join("index.html")),
            ("/index.html", r.join("index.html")),
            ("/sub/", r.join("sub/index.html")),
            ("/sub", r.join("sub/index.html")),
            ("/a/file.txt", r.join("a/file.txt")),
            ("/./a/./file.txt", r.join("a/file.txt")),
            ("//a//file.txt", r.join("a/file.txt")),
            ("/%61/file%2Etxt", r.join("a/file.txt")),
            ("/a%20b.txt", r.join("a b.txt")),
        ] {
            assert_eq!(resolve(r, path), Ok(want), "{path:?}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn symlinks() {
        use std::os::unix::fs::symlink;
        let fx = Fixture::new();
        let r = &fx.root;
        symlink(fx.base.join("x"), r.join("link_out")).expect("symlink");
        symlink(&fx.base, r.join("dir_out")).expect("symlink");
        symlink(r.join("a/file.txt"), r.join("link_in")).expect("symlink");
        fs::create_dir(r.join("evil")).expect("mkdir");
        symlink(fx.base.join("x"), r.join("evil/index.html")).expect("symlink");
        assert_eq!(resolve(r, "/link_out"), Err(ResolveError::NotFound));
        assert_eq!(resolve(r, "/dir_out/x"), Err(ResolveError::NotFound));
        assert_eq!(resolve(r, "/dir_out/"), Err(ResolveError::NotFound));
        assert_eq!(resolve(r, "/evil/"), Err(ResolveError::NotFound));
        assert_eq!(resolve(r, "/link_in"), Ok(r.join("a/file.txt")));
        assert_eq!(find(r, "/link_out").unwrap_err().status(), 404);
        // A variant that is a symlink out of the root is no variant.
        let file = r.join("a/file.txt");
        symlink(fx.base.join("x"), r.join("a/file.txt.gz")).expect("symlink");
        fs::write(r.join("a/file.txt.br"), b"br").unwrap();
        assert_eq!(sibling(r, &file, ".gz"), None);
        assert_eq!(sibling(r, &file, ".br"), Some(r.join("a/file.txt.br")));
    }

    #[test]
    fn find_answers_errors_with_their_status() {
        let fx = Fixture::new();
        let r = &fx.root;
        assert_eq!(find(r, "/sub/").ok(), Some(r.join("sub/index.html")));
        assert_eq!(find(r, "/missing").unwrap_err().status(), 404);
        let bad = find(r, "/../x").unwrap_err();
        assert_eq!(bad.status(), 400);
        assert!(!bad.body().windows(6).any(|w| w == b"secret"));
        assert_eq!(sibling(r, &r.join("index.html"), ".gz"), None);
        // A directory is no variant.
        assert_eq!(sibling(r, &r.join("sub"), "/"), None);
    }
}
