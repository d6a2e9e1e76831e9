//! HTTP/1.1: request heads, responses, static files, MIME types and the WebSocket upgrade.
