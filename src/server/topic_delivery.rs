//! Delivering publications to this loop's subscribers: each publication's one frame goes into
//! every subscriber's queue by reference, and the subscribers are flushed on this tick's
//! pending pass, so many publications of one tick leave in one `writev` per subscriber. A
//! subscriber that has fallen more than `max_subscriber_backlog` behind is cut off here
//! (1008), without slowing the publisher or anyone else.
//!
//! Without a bus (one loop) publications are delivered here directly. With one, they go to
//! the bus, and this loop delivers what the bus hands back, its own included, so every loop
//! sees one order per topic (see [`Bus`]).

use super::Server;
use crate::conn::Delivery;
use crate::topics::{Bus, LoopId, Publication};
use log::warn;
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
    /// with a bus, what it has for this loop.
    pub(super) fn deliver_publications(&mut self) {
        let topics = &mut self.services.loop_requests.topics;
        let Some(link) = self.bus.as_mut() else {
            let _ = topics.take_interest_changes();
            for publication in topics.take_outbox() {
                self.deliver_locally(&publication);
            }
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
        for publication in inbox.drain(..) {
            self.deliver_locally(&publication);
        }
        let Some(link) = self.bus.as_mut() else {
            return;
        };
        link.inbox = inbox;
        // Subscribers cut off above may have been a topic's last here.
        for (topic, interested) in self.services.loop_requests.topics.take_interest_changes() {
            link.bus.set_interest(link.id, &topic, interested);
        }
    }

    /// Put `publication` into the queue of every local subscriber of its topic.
    pub(super) fn deliver_locally(&mut self, publication: &Publication) {
        let mut cut_off = Vec::new();
        let topics = &self.services.loop_requests.topics;
        for &key in topics.subscribers(publication.topic()) {
            let key = key as usize;
            let Some(conn) = self.connections.get_mut(key) else {
                continue;
            };
            match conn.deliver(publication, &self.services.config) {
                Delivery::Queued => self.services.stats.sent.count(publication.payload_len()),
                Delivery::NotOpen => continue,
                Delivery::TooSlow => {
                    warn!(
                        "{} subscriber too slow: more than max_subscriber_backlog ({}) topic \
                         bytes undelivered; closing with 1008",
                        conn.id(key),
                        self.services.config.max_subscriber_backlog
                    );
                    self.services.stats.slow_subscribers += 1;
                    cut_off.push(key);
                }
                Delivery::Overflowed => cut_off.push(key),
            }
            if conn.enqueue() {
                self.pending.push(key);
            }
        }
        for key in cut_off {
            self.services.loop_requests.topics.remove_connection(key);
        }
    }
}
