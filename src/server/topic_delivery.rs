//! Delivering publications to this loop's subscribers: each publication's one frame goes into
//! every subscriber's queue by reference, and the subscribers are flushed on this tick's
//! pending pass, so many publications of one tick leave in one `writev` per subscriber. A
//! subscriber that has fallen more than `max_subscriber_backlog` behind is cut off here
//! (1008), without slowing the publisher or anyone else.

use super::Server;
use crate::conn::Delivery;
use crate::topics::Publication;
use log::warn;

impl Server {
    /// Deliver what callbacks (and handle requests) published since the last call.
    pub(super) fn deliver_publications(&mut self) {
        let topics = &mut self.services.loop_requests.topics;
        // Only a bus between loops needs to know which topics this loop listens to.
        let _ = topics.take_interest_changes();
        for publication in topics.take_outbox() {
            self.deliver_locally(&publication);
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
