//! Arbitrary request paths through `static_files::resolve` against a fixed temporary root
//! that holds files, a directory with and one without `index.html`, a symlink leaving the root
//! (to /etc) and one staying inside, and a secret file next to the root.
//!
//! Invariant: any `Ok(path)` is a regular file inside the root (and never the secret).
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use wsloop::http::static_files::resolve;

fn root() -> &'static PathBuf {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let base = std::env::temp_dir().join(format!("wsloop-fuzz-static-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let root = base.join("www");
        std::fs::create_dir_all(root.join("sub/deeper")).unwrap();
        std::fs::create_dir_all(root.join("noindex")).unwrap();
        std::fs::write(root.join("index.html"), "index").unwrap();
        std::fs::write(root.join("a.txt"), "a").unwrap();
        std::fs::write(root.join("sub/index.html"), "sub").unwrap();
        std::fs::write(root.join("sub/deeper/b c.txt"), "b").unwrap();
        std::fs::write(root.join("noindex/x.js"), "x").unwrap();
        std::fs::write(base.join("secret.txt"), "secret").unwrap();
        std::os::unix::fs::symlink("/etc", root.join("etc")).unwrap();
        std::os::unix::fs::symlink("../secret.txt", root.join("leak.txt")).unwrap();
        std::os::unix::fs::symlink("sub", root.join("alias")).unwrap();
        root.canonicalize().unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(path) = std::str::from_utf8(data) else {
        return;
    };
    let root = root();
    if let Ok(found) = resolve(root, path) {
        assert!(
            found.starts_with(root),
            "{path:?} -> {} outside the root",
            found.display()
        );
        assert!(
            found.is_file(),
            "{path:?} -> {} is not a file",
            found.display()
        );
        assert_ne!(
            found.file_name().and_then(|n| n.to_str()),
            Some("secret.txt")
        );
        assert!(
            !found.starts_with("/etc"),
            "{path:?} -> {}",
            found.display()
        );
    }
});
