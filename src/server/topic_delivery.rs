//! Delivering publications to this loop's subscribers. The publications of one topic that
//! a pass produced (a run) are packed once into one buffer of their frames
//! ([`topics::pack`]), and each subscriber takes it in one `send`, straight away, when
//! nothing is queued before it; what a full socket leaves, or what would have to wait behind
//! queued bytes, goes into the subscriber's queue by reference (never copied per
//! subscriber), and that subscriber is flushed on this tick's pending pass. The connection
//! whose callbacks published gets its own copy last, so a publisher waiting for its echo is
//! clocked by the whole fan-out (and the next run gathers everything it sent meanwhile). A
//! subscriber that has fallen more than `max_subscriber_backlog` behind is cut off here
//! (1008), without slowing the publisher or anyone else.
//!
//! Without a bus (one loop) publications are delivered here directly. With one, they go to
//! the bus, and this loop delivers what the bus hands back, its own included, so every loop
//! sees one order per topic (see [`Bus`]).

use super::Server;
use crate::config::Config;
use crate::conn::{Connection, Delivery};
use crate::stats::Stats;
use crate::topics::{self, Bus, LoopId, Packed, Publication};
use log::warn;
use slab::Slab;
use std::io::IoSlice;
use std::sync::Arc;

/// This loop's place on a bus.
#[derive(Debug)]
pub(super) struct BusLink {
    pub bus: Arc<dyn Bus>,
    pub id: LoopId,
    /// Reused for every take from the bus.
    inbox: Vec<Publication>,
}

impl BusLink {
    pub fn new(bus: Arc<dyn Bus>, id: LoopId) -> Self {
        BusLink {
            bus,
            id,
            inbox: Vec::new(),
        }
    }
}

impl Server {
    /// Deliver what callbacks (and handle requests) published since the last call, and,
    /// with a bus, what it has for this loop. `publisher`, if a subscriber, gets its copies
    /// last.
    pub(super) fn deliver_publications(&mut self, publisher: Option<usize>) {
        let topics = &mut self.services.loop_requests.topics;
        let Some(link) = self.bus.as_mut() else {
            let _ = topics.take_interest_changes();
            let outbox = topics.take_outbox();
            self.deliver_locally(&outbox, publisher);
            return;
        };
        // Interest first, so a subscribe before a publish in one callback sees that publish.
        for (topic, interested) in topics.take_interest_changes() {
            link.bus.set_interest(link.id, &topic, interested);
        }
        for publication in topics.take_outbox() {
            link.bus.publish(link.id, publication);
        }
        let mut inbox = std::mem::take(&mut link.inbox);
        link.bus.take(link.id, &mut inbox);
        self.deliver_locally(&inbox, publisher);
        inbox.clear();
        let Some(link) = self.bus.as_mut() else {
            return;
        };
        link.inbox = inbox;
        // Subscribers cut off above may have been a topic's last here.
        for (topic, interested) in self.services.loop_requests.topics.take_interest_changes() {
            link.bus.set_interest(link.id, &topic, interested);
        }
    }

    /// Deliver `publications`, in order, to this loop's subscribers of their topics.
    pub(super) fn deliver_locally(
        &mut self,
        publications: &[Publication],
        publisher: Option<usize>,
    ) {
        // A run of one topic goes to each subscriber in one write.
        for run in publications.chunk_by(|a, b| a.topic() == b.topic()) {
            self.deliver_run(run, publisher);
        }
    }

    /// Give `run`, publications of one topic, to every local subscriber of it: straight
    /// into its socket, or into its queue (see [`Connection::deliver`]).
    ///
    /// [`Connection::deliver`]: crate::conn::Connection::deliver
    fn deliver_run(&mut self, run: &[Publication], publisher: Option<usize>) {
        // The same bytes for every subscriber: packed, and their slices made, once.
        let packed = topics::pack(run);
        let slices = topics::slices(&packed);
        let mut fanout = Fanout {
            packed: &packed,
            slices: &slices,
            config: &self.services.config,
            stats: &mut self.services.stats,
            connections: &mut self.connections,
            pending: &mut self.pending,
            cut_off: Vec::new(),
        };
        // The publisher's own copy goes last: it is clocked by the whole fan-out.
        let mut publisher_subscribes = false;
        for &key in self
            .services
            .loop_requests
            .topics
            .subscribers(run[0].topic())
        {
            let key = key as usize;
            if Some(key) == publisher {
                publisher_subscribes = true;
            } else {
                fanout.to(key);
            }
        }
        if let Some(key) = publisher.filter(|_| publisher_subscribes) {
            fanout.to(key);
        }
        for key in fanout.cut_off {
            self.services.loop_requests.topics.remove_connection(key);
        }
    }
}

/// One run on its way to the subscribers.
struct Fanout<'a> {
    packed: &'a [Packed],
    slices: &'a [IoSlice<'a>],
    config: &'a Config,
    stats: &'a mut Stats,
    connections: &'a mut Slab<Connection>,
    pending: &'a mut Vec<usize>,
    /// Subscribers being closed for falling behind: their subscriptions end after the run.
    cut_off: Vec<usize>,
}

impl Fanout<'_> {
    /// Deliver the run to subscriber `key`; queue it for service if that has work left.
    fn to(&mut self, key: usize) {
        let Some(conn) = self.connections.get_mut(key) else {
            return;
        };
        let config = self.config;
        match conn.deliver(self.packed, self.slices, config, &mut self.stats.sent) {
            Delivery::Sent | Delivery::NotOpen => return,
            Delivery::Queued => {}
            Delivery::TooSlow => {
                warn!(
                    "{} subscriber too slow: more than max_subscriber_backlog ({}) topic \
                     bytes undelivered; closing with 1008",
                    conn.id(key),
                    config.max_subscriber_backlog
                );
                self.stats.slow_subscribers += 1;
                self.cut_off.push(key);
            }
            Delivery::Overflowed => self.cut_off.push(key),
        }
        if conn.enqueue() {
            self.pending.push(key);
        }
    }
}
