//! `--status`: off by default (`/status` and `/metrics` are plain 404s); on, `/status` is JSON
//! and `/metrics` Prometheus text, both counting an open WebSocket under its protocol and the
//! messages it exchanged, and the close once it is gone.

mod support;

use std::io::Read;

use support::http::get;
use support::ws::{connect_with, round_trip, Client};
use support::ServerProcess;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::CloseFrame;
use tungstenite::Message;

#[test]
fn status_endpoints_are_off_by_default() {
    let server = ServerProcess::start();
    for path in ["/status", "/metrics"] {
        let response = get(server.connect_addr(), path);
        assert_eq!(response.status, 404, "{path}: {response:?}");
    }
}

/// Close from our side with 1000 and wait until the server has dropped the connection.
fn close_and_wait(mut ws: Client) {
    ws.close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "done".into(),
    }))
    .unwrap();
    loop {
        match ws.read() {
            Ok(_) => {}
            Err(tungstenite::Error::ConnectionClosed) => break,
            Err(e) => panic!("closing: {e}"),
        }
    }
    // The server closes TCP once the handshake is over (read timeout bounds this).
    let mut rest = [0u8; 64];
    assert_eq!(
        ws.get_mut().read(&mut rest).unwrap(),
        0,
        "EOF after the close"
    );
}

#[test]
fn status_and_metrics_count_websockets_and_messages() {
    let server = ServerProcess::start_with(&["--status"]);
    let addr = server.connect_addr();
    let (mut ws, _) = connect_with(&server, &["echo"]);
    for text in ["hello", "world!"] {
        assert_eq!(
            round_trip(&mut ws, Message::text(text)),
            Message::text(text)
        );
    }

    let status = get(addr, "/status");
    assert_eq!(status.status, 200);
    assert_eq!(status.header("content-type"), Some("application/json"));
    assert_eq!(status.header("cache-control"), Some("no-store"));
    let json = status.body_text();
    assert!(
        json.starts_with('{') && json.trim_end().ends_with('}'),
        "{json}"
    );
    for part in [
        "\"OPEN\":1",
        "\"websockets\":{\"echo\":1}",
        "\"received\":{\"messages\":2,\"bytes\":11}",
        "\"sent\":{\"messages\":2,\"bytes\":11}",
    ] {
        assert!(json.contains(part), "/status lacks {part}: {json}");
    }

    let metrics = get(addr, "/metrics");
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/plain; version=0.0.4")),
        "{metrics:?}"
    );
    let text = metrics.body_text();
    for line in [
        "wsloop_connections{phase=\"OPEN\"} 1",
        "wsloop_websockets{protocol=\"echo\"} 1",
        "wsloop_messages_received_total 2",
        "wsloop_bytes_received_total 11",
        "wsloop_messages_sent_total 2",
        "# TYPE wsloop_connections gauge",
        "# TYPE wsloop_messages_received_total counter",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "/metrics lacks {line:?}:\n{text}"
        );
    }
    // The earlier /status request was answered and counted.
    assert!(
        text.lines()
            .any(|l| l == "wsloop_http_responses_total{status=\"200\"} 1"),
        "{text}"
    );

    close_and_wait(ws);
    let json = get(addr, "/status").body_text();
    for part in [
        "\"OPEN\":0",
        "\"websockets\":{\"echo\":0}",
        "\"closes\":{\"1000\":1}",
    ] {
        assert!(
            json.contains(part),
            "/status after the close lacks {part}: {json}"
        );
    }
    let text = get(addr, "/metrics").body_text();
    assert!(
        text.lines()
            .any(|l| l == "wsloop_closes_total{code=\"1000\"} 1"),
        "{text}"
    );
}
