//! The binary's command line: `--help`, `--version`, a usage error (exit 2, one `wsloop:` line
//! on stderr; also for a duration past 7 days or a size that overflows), and startup failures
//! (missing www dir, port in use: exit 1 with a clear message, never a panic).

mod support;

use std::net::TcpListener;
use std::process::Command;
use std::time::Duration;

use support::{run_bounded, Finished};

const LIMIT: Duration = Duration::from_secs(30);

fn wsloop(args: &[&str]) -> Finished {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wsloop"));
    cmd.args(args).env("RUST_LOG", "info");
    let finished = run_bounded(&mut cmd, LIMIT).expect("run wsloop");
    assert!(
        finished.status.is_some(),
        "wsloop {args:?} did not exit:\n{}",
        finished.transcript()
    );
    finished
}

fn code(f: &Finished) -> Option<i32> {
    f.status.and_then(|s| s.code())
}

/// Exactly one line on stderr, starting with `wsloop: `, and no panic.
fn one_error_line(f: &Finished) -> String {
    assert!(!f.stderr.contains("panicked"), "{}", f.transcript());
    let lines: Vec<&str> = f.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "want one stderr line:\n{}", f.transcript());
    assert!(lines[0].starts_with("wsloop: "), "{}", f.transcript());
    lines[0].to_string()
}

#[test]
fn help_exits_0_and_lists_the_flags() {
    for flag in ["--help", "-h"] {
        let f = wsloop(&[flag]);
        assert_eq!(code(&f), Some(0), "{}", f.transcript());
        for name in [
            "--port",
            "--bind",
            "--www",
            "--max-message-bytes",
            "--max-head-bytes",
            "--head-timeout",
            "--close-timeout",
        ] {
            assert!(
                f.stdout.contains(name),
                "{flag}: {name} missing:\n{}",
                f.stdout
            );
        }
        assert!(f.stderr.is_empty(), "{}", f.transcript());
    }
    // --help wins even after other flags (and nothing is started).
    let f = wsloop(&["--port", "0", "--help"]);
    assert_eq!(code(&f), Some(0));
    assert!(!f.stdout.contains("listening on"), "{}", f.transcript());
}

#[test]
fn version_prints_name_and_version() {
    for flag in ["--version", "-V"] {
        let f = wsloop(&[flag]);
        assert_eq!(code(&f), Some(0), "{}", f.transcript());
        assert_eq!(
            f.stdout.trim(),
            format!("wsloop {}", env!("CARGO_PKG_VERSION"))
        );
    }
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let f = wsloop(&["--frobnicate"]);
    assert_eq!(code(&f), Some(2), "{}", f.transcript());
    let line = one_error_line(&f);
    assert!(line.contains("--frobnicate"), "{line}");
    assert!(f.stdout.is_empty(), "{}", f.transcript());
}

#[test]
fn bad_flag_values_are_usage_errors() {
    for args in [
        &["--port", "99999"][..],
        &["--port"],
        &["--max-message-bytes", "lots"],
        &["--head-timeout", "soon"],
        &["--bind", "not-an-ip"],
        &["--max-frame-bytes", "0"],
    ] {
        let f = wsloop(args);
        assert_eq!(code(&f), Some(2), "{args:?}: {}", f.transcript());
        one_error_line(&f);
    }
}

/// The cleartext-only build (`--no-default-features`) has no permessage-deflate: asking for
/// it is a usage error that names the missing cargo feature.
#[test]
#[cfg(not(feature = "deflate"))]
fn deflate_in_a_build_without_it_is_a_usage_error_naming_the_feature() {
    for args in [&["--deflate", "shared"][..], &["--deflate=takeover"]] {
        let f = wsloop(args);
        assert_eq!(code(&f), Some(2), "{args:?}: {}", f.transcript());
        let line = one_error_line(&f);
        assert!(line.starts_with("wsloop: --deflate "), "{line}");
        assert!(line.contains("cargo feature `deflate`"), "{line}");
    }
}

#[test]
fn out_of_range_durations_and_sizes_are_usage_errors_naming_the_flag() {
    for args in [
        &["--ping-interval", "1e19s"][..],
        &["--ping-interval", "1e400"],
        &["--head-timeout=604801s"],
        &["--shutdown-timeout", "99999999999999999999ms"],
        &["--static-recheck-interval", "NaN"],
        &["--max-message-bytes", "99999999999G"],
        &["--max-incoming-buffered-bytes", "18446744073709551615"],
    ] {
        let f = wsloop(args);
        assert_eq!(code(&f), Some(2), "{args:?}: {}", f.transcript());
        let line = one_error_line(&f);
        let flag = args[0].split('=').next().unwrap();
        assert!(line.contains(flag), "{args:?}: {line}");
        assert!(!f.stdout.contains("listening on"), "{}", f.transcript());
    }
}

#[test]
fn missing_www_dir_exits_1_with_a_clear_message() {
    let f = wsloop(&["--port", "0", "--www", "/nonexistent/wsloop-www"]);
    assert_eq!(code(&f), Some(1), "{}", f.transcript());
    let line = one_error_line(&f);
    assert!(line.contains("/nonexistent/wsloop-www"), "{line}");
    assert!(!f.stdout.contains("listening on"), "{}", f.transcript());
}

#[test]
fn www_that_is_a_file_exits_1() {
    let file = support::repo_root().join("Cargo.toml");
    let f = wsloop(&["--port", "0", "--www", file.to_str().unwrap()]);
    assert_eq!(code(&f), Some(1), "{}", f.transcript());
    let line = one_error_line(&f);
    assert!(line.contains("not a directory"), "{line}");
}

#[test]
fn port_in_use_exits_1_with_a_clear_message() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let port = taken.local_addr().unwrap().port().to_string();
    let www = support::www_dir();
    let f = wsloop(&["--port", &port, "--www", www.to_str().unwrap()]);
    assert_eq!(code(&f), Some(1), "{}", f.transcript());
    let line = one_error_line(&f);
    assert!(line.contains(&port), "{line}");
    assert!(
        line.contains("cannot listen") || line.to_lowercase().contains("in use"),
        "{line}"
    );
    assert!(!f.stdout.contains("listening on"), "{}", f.transcript());
    drop(taken);
}
