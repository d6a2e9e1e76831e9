//! [`ConnectionId`]: which connection a callback or a `ServerHandle` request is about.

use std::fmt;

/// A connection's id: unique for the server's lifetime (slab keys are reused, ids are not).
/// It also names the connection's slot, so the loop finds it without a lookup table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId {
    serial: u64,
    key: u32,
}

impl ConnectionId {
    pub(crate) fn new(serial: u64, key: usize) -> Self {
        ConnectionId {
            serial,
            key: key as u32,
        }
    }

    /// The id as a number (the connection's serial: 1 for the server's first connection).
    pub fn get(self) -> u64 {
        self.serial
    }

    pub(crate) fn key(self) -> usize {
        self.key as usize
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conn#{}", self.serial)
    }
}
