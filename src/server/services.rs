//! What every connection's pass borrows from the server: the protocol table, the limits, the
//! counters, the static files, the socket read buffer, the message arena, the shared
//! permessage-deflate codec, the clock and the cached `Date`. [`Services::env`] lends
//! them to one pass as the connection's `Env`.

use crate::config::Config;
use crate::conn::Env;
use crate::deflate::SharedDeflate;
use crate::http::date::DateCache;
use crate::http::file_cache::FileCache;
use crate::protocol::{LoopRequests, ProtocolTable};
use crate::stats::Stats;
use crate::tick::{Clock, Tick};
use crate::topics::Topics;
use bytes::BytesMut;
use std::time::Instant;

/// What every connection's pass borrows from the server.
pub(crate) struct Services {
    pub(super) config: Config,
    pub(super) table: ProtocolTable,
    /// The www root and its in-memory cache, once `serve_files` was called.
    pub(super) files: Option<FileCache>,
    /// What callbacks asked of the loop as a whole during the current pass.
    pub(super) loop_requests: LoopRequests,
    pub(super) stats: Stats,
    /// This loop's seat on the process's stats board, when loops share one.
    pub(super) stats_seat: Option<super::stats_board::StatsSeat>,
    /// The socket read buffer, lent to each read pass; allocated once, on the first read.
    scratch: BytesMut,
    /// Small received payloads are carved from it (see `conn::frame_reader`).
    arena: BytesMut,
    /// The shared permessage-deflate codec, lent to each pass like the read buffer.
    deflate: SharedDeflate,
    /// Connection deadlines are ticks of this clock.
    pub(super) clock: Clock,
    /// The `Date` every HTTP response carries, formatted once a second.
    date: DateCache,
    pub(super) shutting_down: bool,
}

impl Services {
    /// Services whose clock starts at `epoch` (the server passes `Instant::now()`; unit tests
    /// pass an instant they then move forward themselves).
    pub(crate) fn new(config: Config, table: ProtocolTable, epoch: Instant) -> Self {
        let deflate = SharedDeflate::new(config.deflate_cache_bytes);
        Services {
            table,
            files: None,
            loop_requests: LoopRequests::with_topics(Topics::new(
                config.max_topic_bytes,
                config.max_subscriptions,
            )),
            stats: Stats::new(epoch),
            stats_seat: None,
            scratch: BytesMut::new(),
            arena: BytesMut::new(),
            deflate,
            clock: Clock::new(epoch),
            date: DateCache::new(epoch),
            config,
            shutting_down: false,
        }
    }

    /// Serve static files from `files` (what `Server::serve_files` sets up), for unit tests
    /// of the connection state machine.
    #[cfg(test)]
    pub(crate) fn set_files(&mut self, files: FileCache) {
        self.files = Some(files);
    }

    /// The view of the server a connection's pass gets at `now` (`now_ms` on the clock);
    /// `incoming_held_by_others` is what every other connection holds of the incoming budget.
    pub(crate) fn env(
        &mut self,
        now: Instant,
        now_ms: u64,
        incoming_held_by_others: usize,
    ) -> Env<'_> {
        Env {
            table: &mut self.table,
            requests: &mut self.loop_requests,
            stats: &mut self.stats,
            stats_seat: self.stats_seat.as_ref(),
            scratch: &mut self.scratch,
            arena: &mut self.arena,
            deflate: &mut self.deflate,
            config: &self.config,
            files: self.files.as_mut(),
            date: &mut self.date,
            now,
            tick: Tick::from_millis(now_ms),
            incoming_held_by_others,
            shutting_down: self.shutting_down,
        }
    }
}
