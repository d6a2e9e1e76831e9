//! The request method as the server sees it: `GET`, `HEAD`, or any other token.

/// The request method. Only the methods the server acts on get their own variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    /// `GET`.
    Get,
    /// `HEAD`.
    Head,
    /// Any other (syntactically valid) method token, case preserved.
    Other(String),
}

impl Method {
    /// The method token as sent on the wire (methods are case-sensitive).
    pub fn as_str(&self) -> &str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Other(m) => m,
        }
    }

    /// Map a method token from the request line to a variant.
    pub(super) fn from_token(token: &str) -> Self {
        match token {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            other => Method::Other(other.to_owned()),
        }
    }
}
