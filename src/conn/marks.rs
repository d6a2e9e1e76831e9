//! A connection's yes/no state, packed into one byte: what the transport's last events said
//! (readable, writable, the peer's FIN) and what the server's loop noted about it (more work
//! left, queued for service, a wake-up scheduled). One byte beside the 4-byte deadline tick
//! instead of six `bool`s spread over two structs: it keeps a TLS build's slab entry at 96
//! bytes (`an_idle_websocket_connection_is_small`).

/// One of a connection's [`Marks`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Mark {
    /// The last event said readable and no read has hit `WouldBlock` since.
    Readable = 1,
    /// The last event said writable and no write has hit `WouldBlock` since.
    Writable = 1 << 1,
    /// An event reported the peer's FIN: reads go on to end of stream, even after a short one.
    PeerFinSeen = 1 << 2,
    /// A budget ran out with work left: service again next tick without waiting for an event.
    MoreWork = 1 << 3,
    /// Already in the server's list of connections to service without an event.
    Queued = 1 << 4,
    /// The server's timer heap holds a wake-up for the connection (at `Wire::scheduled_at`).
    Scheduled = 1 << 5,
}

/// A set of [`Mark`]s.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Marks(u8);

impl Marks {
    pub fn has(self, mark: Mark) -> bool {
        self.0 & mark as u8 != 0
    }

    pub fn set(&mut self, mark: Mark, on: bool) {
        if on {
            self.0 |= mark as u8;
        } else {
            self.0 &= !(mark as u8);
        }
    }

    /// Set `mark` to `on`; whether it was set before.
    pub fn replace(&mut self, mark: Mark, on: bool) -> bool {
        let was = self.has(mark);
        self.set(mark, on);
        was
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mark_is_its_own_bit() {
        let all = [
            Mark::Readable,
            Mark::Writable,
            Mark::PeerFinSeen,
            Mark::MoreWork,
            Mark::Queued,
            Mark::Scheduled,
        ];
        for mark in all {
            let mut marks = Marks::default();
            assert!(!marks.replace(mark, true));
            for other in all {
                assert_eq!(marks.has(other), other == mark, "{mark:?} set, {other:?}");
            }
            assert!(marks.replace(mark, false));
            assert_eq!(marks, Marks::default());
        }
    }
}
