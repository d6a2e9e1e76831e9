//! MIME types for static files, chosen by file extension.

use std::path::Path;

/// Extension (lowercase) to MIME type. Text types carry `charset=utf-8`.
const TABLE: &[(&str, &str)] = &[
    ("html", "text/html; charset=utf-8"),
    ("htm", "text/html; charset=utf-8"),
    ("css", "text/css; charset=utf-8"),
    ("js", "text/javascript; charset=utf-8"),
    ("mjs", "text/javascript; charset=utf-8"),
    ("json", "application/json"),
    ("txt", "text/plain; charset=utf-8"),
    ("svg", "image/svg+xml"),
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("ico", "image/x-icon"),
    ("wasm", "application/wasm"),
    ("woff", "font/woff"),
    ("woff2", "font/woff2"),
    ("pdf", "application/pdf"),
    ("xml", "application/xml"),
    ("mp4", "video/mp4"),
    ("webm", "video/webm"),
    ("map", "application/json"),
];

/// Fallback for unknown or missing extensions.
const DEFAULT: &str = "application/octet-stream";

/// The MIME type for `path` by its extension (case-insensitive);
/// `application/octet-stream` if unknown.
pub fn mime_type(path: &Path) -> &'static str {
    let Some(ext) = path.extension().and_then(|e| e.to_str()) else {
        return DEFAULT;
    };
    TABLE
        .iter()
        .find(|(e, _)| e.eq_ignore_ascii_case(ext))
        .map_or(DEFAULT, |(_, mime)| mime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        for (path, want) in [
            ("index.html", "text/html; charset=utf-8"),
            ("INDEX.HTM", "text/html; charset=utf-8"),
            ("a/b/style.css", "text/css; charset=utf-8"),
            ("app.js", "text/javascript; charset=utf-8"),
            ("mod.MJS", "text/javascript; charset=utf-8"),
            ("data.json", "application/json"),
            ("readme.txt", "text/plain; charset=utf-8"),
            ("logo.svg", "image/svg+xml"),
            ("a.png", "image/png"),
            ("a.JpG", "image/jpeg"),
            ("a.jpeg", "image/jpeg"),
            ("a.gif", "image/gif"),
            ("a.webp", "image/webp"),
            ("favicon.ico", "image/x-icon"),
            ("m.wasm", "application/wasm"),
            ("f.woff", "font/woff"),
            ("f.woff2", "font/woff2"),
            ("doc.pdf", "application/pdf"),
            ("feed.xml", "application/xml"),
            ("v.mp4", "video/mp4"),
            ("v.webm", "video/webm"),
            ("app.js.map", "application/json"),
            ("archive.tar.gz", DEFAULT),
            ("Makefile", DEFAULT),
            (".html", DEFAULT),
            ("dir.html/file", DEFAULT),
            ("", DEFAULT),
        ] {
            assert_eq!(mime_type(Path::new(path)), want, "{path}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_extension_is_default() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;
        let path = Path::new(OsStr::from_bytes(b"x.\xff"));
        assert_eq!(mime_type(path), DEFAULT);
    }
}
