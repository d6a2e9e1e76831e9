//! Broadcast mode: S subscribers of one topic (the mirror's instance, uWebSockets' topic),
//! one of them also the publisher, keeping a window of K messages it has not yet received
//! back itself. Every message carries a stamp (its sequence number and send time) in its
//! first bytes, so every subscriber checks that it gets each message once, in order, and
//! times its delivery; the rest of the payload is checked byte for byte.

use crate::ws::{self, STAMP_BYTES};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

/// How many messages the publisher sent in all, once it has stopped (`u64::MAX` before):
/// the other client threads drain until each of their subscribers has that many.
static PUBLISHED: AtomicU64 = AtomicU64::new(u64::MAX);

/// The one clock every thread stamps and times against.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Nanoseconds since the shared epoch.
pub fn now_ns(now: Instant) -> u64 {
    now.saturating_duration_since(epoch()).as_nanos() as u64
}

/// A stamp's sequence number and send time.
pub fn read_stamp(stamp: &[u8; STAMP_BYTES]) -> (u64, u64) {
    let (seq, sent) = stamp.split_at(8);
    (
        u64::from_le_bytes(seq.try_into().unwrap()),
        u64::from_le_bytes(sent.try_into().unwrap()),
    )
}

/// The publishing connection's state: the masked frame it sends, restamped per message.
pub struct Publisher {
    template: Vec<u8>,
    /// Where the payload starts in `template`.
    payload_at: usize,
    pub window: usize,
    /// Messages sent that have not come back to the publisher yet.
    pub in_flight: usize,
    pub next_seq: u64,
}

impl Publisher {
    pub fn new(opcode: u8, body: &[u8], window: usize) -> Publisher {
        epoch();
        let template = ws::client_frame(opcode, body);
        Publisher {
            payload_at: template.len() - body.len(),
            template,
            window,
            in_flight: 0,
            next_seq: 0,
        }
    }

    /// Append the next message, stamped now, to `out`.
    pub fn push_next(&mut self, out: &mut Vec<u8>) {
        let mut stamp = [0u8; STAMP_BYTES];
        stamp[..8].copy_from_slice(&self.next_seq.to_le_bytes());
        stamp[8..].copy_from_slice(&now_ns(Instant::now()).to_le_bytes());
        let start = out.len();
        out.extend_from_slice(&self.template);
        ws::mask_at(&mut out[start + self.payload_at..], &stamp);
        self.next_seq += 1;
        self.in_flight += 1;
    }

    /// The publisher has stopped and its own copies are all back: tell the other threads.
    pub fn announce_total(&self) {
        PUBLISHED.store(self.next_seq, Ordering::Release);
    }
}

/// How many messages every subscriber must end up with, once the publisher has stopped.
pub fn published_total() -> Option<u64> {
    let total = PUBLISHED.load(Ordering::Acquire);
    (total != u64::MAX).then_some(total)
}
