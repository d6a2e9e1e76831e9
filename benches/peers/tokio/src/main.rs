//! `dumb-increment-protocol` on tokio-tungstenite: every text message reversed by grapheme
//! clusters (a trailing line break stays at the end), binary reversed bytewise, like wsloop's
//! demo. One `current_thread` runtime, one task per connection, default WebSocket config.
//! `peer-tokio --port N` (0 = any).

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use unicode_segmentation::UnicodeSegmentation;

const PROTOCOL: &str = "dumb-increment-protocol";

fn reverse_text(text: &str) -> String {
    let (body, end) = if let Some(b) = text.strip_suffix("\r\n") {
        (b, "\r\n")
    } else if let Some(b) = text.strip_suffix('\n') {
        (b, "\n")
    } else {
        (text, "")
    };
    let mut out = String::with_capacity(text.len());
    if body.is_ascii() && !body.contains('\r') {
        out.extend(body.bytes().rev().map(char::from));
    } else {
        out.extend(body.graphemes(true).rev());
    }
    out.push_str(end);
    out
}

async fn serve(stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let pick = |req: &Request, mut resp: Response| {
        let offered = req
            .headers()
            .get_all("sec-websocket-protocol")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|p| p.trim() == PROTOCOL);
        if offered {
            resp.headers_mut().insert(
                "sec-websocket-protocol",
                HeaderValue::from_static(PROTOCOL),
            );
        }
        Ok(resp)
    };
    let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(stream, pick).await else {
        return;
    };
    while let Some(Ok(msg)) = ws.next().await {
        let reply = match msg {
            Message::Text(text) => Message::text(reverse_text(&text)),
            Message::Binary(data) => Message::binary(data.iter().rev().copied().collect::<Vec<u8>>()),
            Message::Close(_) => break,
            _ => continue,
        };
        if ws.send(reply).await.is_err() {
            return;
        }
    }
    let _ = ws.close(None).await;
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let mut port = 0u16;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--port" {
            port = args.next().and_then(|v| v.parse().ok()).expect("--port N");
        }
    }
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}/", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(serve(stream));
    }
}
