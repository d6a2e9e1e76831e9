//! HTTP/1.1: request heads, responses, static files, MIME types and the WebSocket upgrade.

pub mod mime;
pub mod request;
pub mod response;
pub mod static_files;
mod token;

pub use request::{HeadError, Method, ParsedHead, Request};
pub use response::Response;
