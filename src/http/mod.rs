//! HTTP/1.1: request heads, responses, static files, MIME types, the WebSocket upgrade and
//! its extension negotiation.

pub mod bearer;
pub mod body;
pub mod extensions;
pub mod file_cache;
pub mod methods;
pub mod mime;
pub mod request;
pub mod response;
pub mod static_files;
mod target;
mod token;
pub mod upgrade;

pub use request::{
    parse_head, BodyFraming, HeadError, Method, ParsedHead, Request, DEFAULT_MAX_HEADERS,
};
pub use response::{PreparedResponse, Response};
