//! wsloop: a single-threaded, readiness-based WebSocket + HTTP server.
pub mod http;
