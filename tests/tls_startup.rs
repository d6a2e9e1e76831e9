//! Starting with TLS: only one of `--tls-cert`/`--tls-key` is a usage error (exit 2); a
//! missing file, a file without a certificate (empty chain), one without a key, or a key that
//! does not fit the certificate is one `wsloop: ...` line naming the file, exit 1. Keys in
//! PKCS#8, PKCS#1 (RSA) and SEC1 (EC) are all served. The same errors with `--threads 2`.
#![cfg(feature = "tls")]

mod support;

use std::fs;
use std::process::Command;
use std::time::Duration;

use support::tls::{self, TestCa};
use support::{run_bounded, scratch_dir, Finished, ServerProcess};

fn wsloop(args: &[&str]) -> Finished {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wsloop"));
    cmd.args(["--port", "0"]).args(args).env("RUST_LOG", "info");
    let finished = run_bounded(&mut cmd, Duration::from_secs(30)).expect("run wsloop");
    assert!(
        finished.status.is_some(),
        "did not exit:\n{}",
        finished.transcript()
    );
    finished
}

fn fails(args: &[&str], code: i32, needle: &str) {
    let f = wsloop(args);
    assert_eq!(
        f.status.and_then(|s| s.code()),
        Some(code),
        "{}",
        f.transcript()
    );
    let lines: Vec<&str> = f.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line:\n{}", f.transcript());
    assert!(lines[0].starts_with("wsloop: "), "{}", f.transcript());
    assert!(
        lines[0].contains(needle),
        "{needle:?} missing: {}",
        lines[0]
    );
}

#[test]
fn bad_tls_flags_and_files_are_one_line_errors() {
    let dir = scratch_dir("tls_startup").join("errors");
    let ca = TestCa::new(&dir);
    let good = ca.issue("good", 1);
    let other = ca.issue("other", 2);
    let (cert, key) = (good.cert.to_str().unwrap(), good.key.to_str().unwrap());
    fails(&["--tls-cert", cert], 2, "--tls-cert needs --tls-key");
    fails(&["--tls-key", key], 2, "--tls-key needs --tls-cert");
    let missing = dir.join("missing.pem");
    let missing = missing.to_str().unwrap();
    fails(
        &["--tls-cert", missing, "--tls-key", key],
        1,
        "missing.pem: cannot read",
    );
    fails(
        &["--tls-cert", cert, "--tls-key", missing],
        1,
        "missing.pem: cannot read",
    );
    let empty = dir.join("empty.pem");
    fs::write(&empty, "").unwrap();
    let empty = empty.to_str().unwrap();
    fails(
        &["--tls-cert", empty, "--tls-key", key],
        1,
        "empty.pem: no certificate",
    );
    fails(
        &["--tls-cert", cert, "--tls-key", empty],
        1,
        "empty.pem: no PEM private key",
    );
    // The key of another certificate.
    fails(
        &["--tls-cert", cert, "--tls-key", other.key.to_str().unwrap()],
        1,
        "does not fit the certificate",
    );
    // A certificate file given as the key.
    fails(
        &["--tls-cert", cert, "--tls-key", cert],
        1,
        "no PEM private key",
    );
    // The same with several loops: the files are read once, before any loop starts.
    fails(
        &["--threads", "2", "--tls-cert", missing, "--tls-key", key],
        1,
        "missing.pem: cannot read",
    );
    fails(
        &[
            "--threads",
            "2",
            "--tls-cert",
            cert,
            "--tls-key",
            other.key.to_str().unwrap(),
        ],
        1,
        "does not fit the certificate",
    );
}

#[test]
fn pkcs8_pkcs1_and_sec1_keys_are_served() {
    let dir = scratch_dir("tls_startup").join("formats");
    let ca = TestCa::new(&dir);
    for (name, cert) in [
        ("pkcs8", ca.issue("pkcs8", 8)),
        ("sec1", ca.issue_sec1("sec1", 9)),
        ("pkcs1", ca.issue_rsa_pkcs1("pkcs1", 10)),
    ] {
        let server = ServerProcess::start_with(&cert.flags());
        let stream = tls::tls_connect(server.connect_addr(), ca.client_config(&[]))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            tls::peer_serial(&stream),
            tls::serial_bytes(cert.serial),
            "{name}"
        );
    }
}
