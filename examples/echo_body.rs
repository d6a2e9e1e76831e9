//! An HTTP server that echoes request bodies: every `POST`, `PUT`, ... is answered `200` with
//! the body it sent (read piece by piece as it arrives, `Reason::HttpBody`, then answered at
//! `Reason::HttpBodyCompletion`); `GET` and `HEAD` serve `./www`. A subject for HTTP
//! conformance suites that send bodies; `tests/http_bodies.rs` drives the same protocol.
//!
//! Run: `cargo run --example echo_body -- --port 9003 [--max-body-bytes N] [--body-timeout SECONDS]`,
//! then
//!
//! ```text
//! $ curl -s -d 'hello' http://127.0.0.1:9003/anything
//! hello
//! $ curl -s -T big.bin -H 'Transfer-Encoding: chunked' http://127.0.0.1:9003/ | cmp - big.bin
//! ```

use std::time::Duration;
use wsloop::demo::EchoBody;
use wsloop::{Config, ProtocolTable, Server};

fn main() -> std::io::Result<()> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let mut port = 9003u16;
    let mut config = Config::default();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_default();
        match flag.as_str() {
            "--port" => port = value.parse().map_err(invalid)?,
            "--max-body-bytes" => config.max_body_bytes = value.parse().map_err(invalid)?,
            "--body-timeout" => {
                config.body_timeout = Duration::from_secs_f64(value.parse().map_err(invalid)?)
            }
            _ => return Err(invalid(format!("unknown argument {flag:?}"))),
        }
    }
    let addr = ([127, 0, 0, 1], port).into();
    let server =
        Server::bind(addr, config, ProtocolTable::with_http(EchoBody))?.serve_files("www")?;
    println!(
        "listening on http://{}/ (bodies echoed)",
        server.local_addr()
    );
    server.run()
}

fn invalid(err: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, err.to_string())
}
