//! Which mio tokens belong to wsloop: one contiguous range chosen by whoever owns the `Poll`.
//! The listener takes the first token; connection `k` (its slab key) takes `first + 1 + k`.

use mio::Token;

/// Tokens of the standalone runner, which owns its `Poll`. An embedder picks its own base.
pub(crate) mod standalone {
    use mio::Token;
    /// SIGINT/SIGTERM.
    pub const SIGNALS: Token = Token(0);
    /// `ServerHandle` requests.
    pub const WAKER: Token = Token(1);
    /// The first token of the server's range.
    pub const SERVER_BASE: Token = Token(2);
}

/// What a token in the range stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Listener,
    Connection(usize),
}

/// `[base, base + 1 + max_connections)`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TokenRange {
    base: usize,
    connections: usize,
}

impl TokenRange {
    pub fn new(base: Token, max_connections: usize) -> Self {
        TokenRange {
            base: base.0,
            connections: max_connections,
        }
    }

    pub fn listener(&self) -> Token {
        Token(self.base)
    }

    pub fn connection(&self, key: usize) -> Token {
        Token(self.base + 1 + key)
    }

    /// The first token after the range.
    pub fn end(&self) -> usize {
        self.base + 1 + self.connections
    }

    pub fn classify(&self, token: Token) -> Option<Target> {
        match token.0.checked_sub(self.base)? {
            0 => Some(Target::Listener),
            offset if offset <= self.connections => Some(Target::Connection(offset - 1)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_map_both_ways_and_stay_in_range() {
        let range = TokenRange::new(Token(10), 3);
        assert_eq!(range.classify(Token(9)), None);
        assert_eq!(range.classify(Token(10)), Some(Target::Listener));
        assert_eq!(
            range.classify(range.connection(0)),
            Some(Target::Connection(0))
        );
        assert_eq!(
            range.classify(range.connection(2)),
            Some(Target::Connection(2))
        );
        assert_eq!(range.classify(Token(14)), None);
        assert_eq!(range.end(), 14);
    }
}
