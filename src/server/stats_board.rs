//! `/status` and `/metrics` for a process of several loops. Each loop counts alone, with no
//! lock or atomic; every `stats_share_interval` it posts a copy of its counters to the
//! [`StatsBoard`] the loops share. The loop that answers a request sums the others' copies
//! with its own live counters, and lists each loop (connections per loop show how the
//! kernel spread them). Cost: one lock and one copy of a loop's counters per interval, and
//! one lock per request.

use crate::stats::{LoopSummary, Stats};
use std::borrow::Cow;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Where the loops of one process post their counters (see the module docs). Give the same
/// board to every loop with [`Server::share_stats`](crate::Server::share_stats).
#[derive(Debug, Default)]
pub struct StatsBoard {
    /// The last copy posted by each loop, by seat.
    posted: Mutex<Vec<Option<Stats>>>,
}

impl StatsBoard {
    /// A board with no loops yet.
    pub fn new() -> Self {
        Self::default()
    }
}

/// One loop's place on a board.
#[derive(Debug)]
pub(crate) struct StatsSeat {
    board: Arc<StatsBoard>,
    index: usize,
    interval: Duration,
    next_post: Instant,
}

impl StatsSeat {
    /// Take the next seat on `board`; the loop posts every `interval`.
    pub fn take(board: Arc<StatsBoard>, interval: Duration, now: Instant) -> Self {
        let index = {
            let mut posted = lock(&board);
            posted.push(None);
            posted.len() - 1
        };
        StatsSeat {
            board,
            index,
            interval,
            next_post: now,
        }
    }

    /// When this loop posts next.
    pub fn next_post(&self) -> Instant {
        self.next_post
    }

    /// Post a copy of `stats` if the interval has passed.
    pub fn post_if_due(&mut self, now: Instant, stats: &Stats) {
        if now < self.next_post {
            return;
        }
        self.next_post = now + self.interval;
        lock(&self.board)[self.index] = Some(stats.clone());
    }

    /// The process's counters (every loop's, `own` live) and each loop's summary, by seat.
    pub fn gather(&self, own: &Stats) -> (Stats, Vec<LoopSummary>) {
        let posted = lock(&self.board);
        let mut total: Option<Stats> = None;
        let mut loops = Vec::with_capacity(posted.len());
        for (index, copy) in posted.iter().enumerate() {
            let stats = if index == self.index {
                own
            } else {
                match copy {
                    Some(copy) => copy,
                    // A loop that has not posted yet has nothing to count.
                    None => {
                        loops.push(LoopSummary::default());
                        continue;
                    }
                }
            };
            loops.push(stats.summary());
            match &mut total {
                Some(total) => total.add(stats),
                None => total = Some(stats.clone()),
            }
        }
        (total.unwrap_or_else(|| own.clone()), loops)
    }
}

/// What `/status` renders: the process's counters and each loop's summary.
pub(crate) fn process_view<'a>(
    own: &'a Stats,
    seat: Option<&StatsSeat>,
) -> (Cow<'a, Stats>, Vec<LoopSummary>) {
    match seat {
        Some(seat) => {
            let (total, loops) = seat.gather(own);
            (Cow::Owned(total), loops)
        }
        None => (Cow::Borrowed(own), vec![own.summary()]),
    }
}

fn lock(board: &StatsBoard) -> std::sync::MutexGuard<'_, Vec<Option<Stats>>> {
    board.posted.lock().unwrap_or_else(PoisonError::into_inner)
}
