//! Why a request head is refused, and the status each reason is answered with.

use std::fmt;

/// Why a request head was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadError {
    /// Syntax error or a request the server refuses to interpret; the text is a fixed,
    /// server-chosen description (never request bytes). Maps to 400.
    Malformed(&'static str),
    /// More header lines than allowed. Maps to 431.
    TooManyHeaders,
    /// An `HTTP/x.y` version other than 1.0 or 1.1. Maps to 505.
    UnsupportedVersion,
    /// Something the server does not implement (a transfer coding other than `chunked`,
    /// `CONNECT`); the text is fixed, as for `Malformed`. Maps to 501.
    NotImplemented(&'static str),
    /// An `Expect` other than `100-continue`. Maps to 417.
    ExpectationFailed,
}

impl HeadError {
    /// The HTTP status code to answer this error with: 400, 417, 431, 501 or 505.
    pub fn status(&self) -> u16 {
        match self {
            HeadError::Malformed(_) => 400,
            HeadError::ExpectationFailed => 417,
            HeadError::TooManyHeaders => 431,
            HeadError::NotImplemented(_) => 501,
            HeadError::UnsupportedVersion => 505,
        }
    }

    /// A fixed description for the response body (never request bytes).
    pub fn detail(&self) -> &'static str {
        match self {
            HeadError::Malformed(why) | HeadError::NotImplemented(why) => why,
            HeadError::TooManyHeaders => "too many request headers",
            HeadError::UnsupportedVersion => "unsupported HTTP version",
            HeadError::ExpectationFailed => "only Expect: 100-continue is supported",
        }
    }
}

impl fmt::Display for HeadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeadError::Malformed(why) => write!(f, "malformed request: {why}"),
            HeadError::TooManyHeaders => f.write_str("too many request headers"),
            HeadError::UnsupportedVersion => f.write_str("unsupported HTTP version"),
            HeadError::NotImplemented(what) => write!(f, "not implemented: {what}"),
            HeadError::ExpectationFailed => f.write_str("unsupported expectation"),
        }
    }
}

impl std::error::Error for HeadError {}
