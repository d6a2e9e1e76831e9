//! HTTP/1.1: request heads, responses, static files (validators and conditional requests,
//! ranges, precompressed variants, bodies read from disk), MIME types, the WebSocket upgrade
//! and its extension negotiation.

pub mod accept_encoding;
pub mod bearer;
pub mod body;
mod body_framing;
pub mod date;
pub mod extensions;
pub mod file_cache;
pub mod file_entry;
pub mod file_request;
mod head_error;
mod method;
pub mod methods;
pub mod mime;
pub mod range;
pub mod reply;
pub mod request;
pub mod response;
pub mod static_files;
mod target;
mod token;
pub mod upgrade;
pub mod validators;

pub use date::HttpDate;
pub use file_request::FileRequest;
pub use reply::{FileRegion, Reply};
pub use request::{
    parse_head, BodyFraming, HeadError, Method, ParsedHead, Request, DEFAULT_MAX_HEADERS,
};
pub use response::{PreparedResponse, Response};
