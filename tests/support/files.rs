//! Static-file test helpers: a fresh www folder holding given files, requests with extra
//! headers over raw TCP, and curl (a real client) with a bounded run time.

use super::http::{request, HttpResponse};
use super::{scratch_dir, ServerProcess};
use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The longest a curl run may take.
const CURL_MAX_TIME_SECS: &str = "30";

/// A fresh www folder for `test` holding `files` (name, content).
pub fn www(test: &str, files: &[(&str, &[u8])]) -> PathBuf {
    let dir = scratch_dir("www-files").join(format!("{test}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    for (name, content) in files {
        fs::write(dir.join(name), content).unwrap();
    }
    dir
}

/// A server for the files of `www`, with `extra` arguments.
pub fn serve(www: &Path, extra: &[&str]) -> ServerProcess {
    let mut args = vec!["--www", www.to_str().expect("UTF-8 path")];
    args.extend_from_slice(extra);
    ServerProcess::start_with(&args)
}

/// `len` bytes that differ from one offset to the next (so a shifted range shows).
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// The bytes of `METHOD path HTTP/1.1` with `Host`, `headers` and, if `close`,
/// `Connection: close`.
pub fn request_bytes(method: &str, path: &str, headers: &[(&str, &str)], close: bool) -> Vec<u8> {
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: test\r\n");
    for (name, value) in headers {
        text += &format!("{name}: {value}\r\n");
    }
    if close {
        text += "Connection: close\r\n";
    }
    text += "\r\n";
    text.into_bytes()
}

/// One GET with `headers` on a new connection.
pub fn get_with(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
    request(addr, &request_bytes("GET", path, headers, true), false)
}

/// What curl printed: the response heads it was given (`-D -`, several when it followed
/// redirects or got a 100), the body, and its exit status.
pub struct Curl {
    pub heads: String,
    pub body: Vec<u8>,
    pub success: bool,
}

impl Curl {
    /// The status of the last response.
    pub fn status(&self) -> u16 {
        let line = self
            .heads
            .lines()
            .rfind(|l| l.starts_with("HTTP/"))
            .unwrap_or_default();
        line.split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    /// A header of the last response (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        let last = self.heads.rsplit("HTTP/").next().unwrap_or_default();
        last.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Run `curl -sS -D - -o BODY ARGS...`; the body is read back from a file, so binary bodies
/// survive.
pub fn curl(test: &str, args: &[&str]) -> Curl {
    let body_path = scratch_dir("curl").join(format!("{test}-{}.body", std::process::id()));
    let _ = fs::remove_file(&body_path);
    let output = Command::new("curl")
        .args(["-sS", "--max-time", CURL_MAX_TIME_SECS, "-D", "-", "-o"])
        .arg(&body_path)
        .args(args)
        .output()
        .expect("run curl (installed by .ci/run)");
    Curl {
        heads: String::from_utf8_lossy(&output.stdout).replace("\r\n", "\n"),
        body: fs::read(&body_path).unwrap_or_default(),
        success: output.status.success(),
    }
}
