//! HTTP/1.1: request heads, responses, static files, MIME types and the WebSocket upgrade.

pub mod request;
mod token;

pub use request::{HeadError, Method, ParsedHead, Request};
