//! Path traversal against a www root built for the test: next to it lies a secret file, and
//! inside it a symlink points at that file and another at the parent directory. Every
//! traversal vector must answer 400 or 404 and never the secret's content; legitimate files
//! (including a symlink that stays inside the root) are still served.

mod support;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use support::http::{self, contains};
use support::{scratch_dir, ServerProcess};

const SECRET: &[u8] = b"TOP-SECRET-7f3a9c: this must never be served";

/// base/secret, base/www/{index.html, a/file.txt, sub/index.html, link_out -> ../secret,
/// dir_out -> .., link_in -> a/file.txt, evil/index.html -> ../../secret}
struct Tree {
    base: PathBuf,
    www: PathBuf,
}

impl Tree {
    fn new() -> Tree {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let base = scratch_dir(&format!("traversal-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let www = base.join("www");
        for dir in ["a", "sub", "evil"] {
            fs::create_dir_all(www.join(dir)).unwrap();
        }
        fs::write(base.join("secret"), SECRET).unwrap();
        fs::write(www.join("index.html"), b"<p>root index</p>").unwrap();
        fs::write(www.join("a/file.txt"), b"inside file").unwrap();
        fs::write(www.join("sub/index.html"), b"sub index").unwrap();
        symlink(base.join("secret"), www.join("link_out")).unwrap();
        symlink(&base, www.join("dir_out")).unwrap();
        symlink(www.join("a/file.txt"), www.join("link_in")).unwrap();
        symlink(base.join("secret"), www.join("evil/index.html")).unwrap();
        Tree { base, www }
    }

    fn start(&self) -> ServerProcess {
        // A later --www overrides the default one ServerProcess passes.
        ServerProcess::start_with(&["--www", self.www.to_str().expect("utf-8 path")])
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.base);
    }
}

#[test]
fn legitimate_paths_are_served() {
    let tree = Tree::new();
    let server = tree.start();
    for (path, body) in [
        ("/", &b"<p>root index</p>"[..]),
        ("/a/file.txt", b"inside file"),
        ("/sub/", b"sub index"),
        ("/./a/./file.txt", b"inside file"),
        ("//a//file.txt", b"inside file"),
        ("/%61/file%2etxt", b"inside file"),
        ("/link_in", b"inside file"),
    ] {
        let response = http::get(server.connect_addr(), path);
        assert_eq!(response.status, 200, "{path}: {response:?}");
        assert_eq!(response.body, body, "{path}");
    }
}

#[test]
fn traversal_vectors_never_leak_the_secret() {
    let tree = Tree::new();
    let server = tree.start();
    let secret_abs = tree.base.join("secret");
    let secret_abs = secret_abs.to_str().unwrap();
    let absolute = format!("/{secret_abs}"); // "//tmp/.../secret"
    let vectors: Vec<&str> = vec![
        "/../secret",
        "/../../secret",
        "/a/../../secret",
        "/./../secret",
        "/%2e%2e/secret",
        "/%2E%2E/secret",
        "/.%2e/secret",
        "/%2e./secret",
        "/..%2fsecret",
        "/..%2Fsecret",
        "/%2e%2e%2fsecret",
        "/a/%2e%2e%2f%2e%2e%2fsecret",
        "/a/..%5c..%5csecret",
        "/..%5csecret",
        "/..\\secret",
        "/%252e%252e/secret",
        "//etc/passwd",
        "///etc/passwd",
        "/%2fetc%2fpasswd",
        &absolute,
        "/%00",
        "/index.html%00.txt",
        "/index.html%00",
        "/link_out",
        "/dir_out/secret",
        "/dir_out/",
        "/evil/",
        "/evil",
        "/a/file.txt/..",
        "/a/file.txt%2f..%2f..%2f..%2fsecret",
    ];
    for path in vectors {
        let response = http::get(server.connect_addr(), path);
        assert!(
            matches!(response.status, 400 | 404),
            "{path}: expected 400 or 404, got {response:?}"
        );
        assert!(
            !contains(&response.body, &SECRET[..16]),
            "{path}: the outside file was served"
        );
        assert!(
            !contains(&response.body, b"root:"),
            "{path}: /etc/passwd was served"
        );
    }
}

#[test]
fn symlink_out_of_the_root_is_404() {
    let tree = Tree::new();
    let server = tree.start();
    for path in ["/link_out", "/dir_out/secret", "/evil/"] {
        let response = http::get(server.connect_addr(), path);
        assert_eq!(response.status, 404, "{path}: {response:?}");
    }
}

#[test]
fn nul_and_encoded_separators_are_400() {
    let tree = Tree::new();
    let server = tree.start();
    for path in [
        "/%00",
        "/index.html%00.txt",
        "/..%2fsecret",
        "/a%2ffile.txt",
        "/a/..%5c..%5csecret",
        "/%zz",
        "/%ff",
    ] {
        let response = http::get(server.connect_addr(), path);
        assert_eq!(response.status, 400, "{path}: {response:?}");
    }
}

#[test]
fn head_requests_follow_the_same_rules() {
    let tree = Tree::new();
    let server = tree.start();
    for (path, want) in [
        ("/link_out", 404),
        ("/../secret", 400),
        ("/a/file.txt", 200),
    ] {
        let req = format!("HEAD {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        let response = http::request(server.connect_addr(), req.as_bytes(), true);
        assert_eq!(response.status, want, "HEAD {path}: {response:?}");
    }
}
