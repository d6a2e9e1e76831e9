//! One loop's topic registry: which of its connections subscribe to which topics, the limits
//! on names and subscriptions, the publications waiting for the current callback to return,
//! and the topics this loop started or stopped caring about (for the bus).
//!
//! A connection that subscribed to nothing has no entry here and costs nothing; one that did
//! has one small vector, dropped with its last subscription or when the connection ends
//! ([`Topics::remove_connection`]). Subscribers are slab keys: the server removes a
//! connection's subscriptions before its key can be reused. Every operation is O(1) in the
//! number of subscribers of a topic (a swap-remove whose moved entry is re-pointed) and
//! O(subscriptions) of the one connection.

use super::{Publication, TopicError};
use bytes::Bytes;
use slab::Slab;
use std::collections::HashMap;

/// One topic with local subscribers.
#[derive(Debug)]
struct Topic {
    name: Bytes,
    /// Slab keys of the subscribed connections, in no particular order.
    subscribers: Vec<u32>,
}

/// One subscription of a connection: the topic, and where the connection sits in its list.
#[derive(Debug, Clone, Copy)]
struct Subscription {
    topic: u32,
    slot: u32,
}

/// The registry (see the module docs).
#[derive(Debug)]
pub(crate) struct Topics {
    ids: HashMap<Bytes, u32>,
    topics: Slab<Topic>,
    by_connection: HashMap<u32, Vec<Subscription>>,
    /// Published during the current callback; delivered once it returns.
    outbox: Vec<Publication>,
    /// Topics that gained their first or lost their last local subscriber (true: gained).
    interest: Vec<(Bytes, bool)>,
    max_topic_bytes: usize,
    max_subscriptions: usize,
}

impl Default for Topics {
    fn default() -> Self {
        let config = crate::Config::default();
        Topics::new(config.max_topic_bytes, config.max_subscriptions)
    }
}

impl Topics {
    pub fn new(max_topic_bytes: usize, max_subscriptions: usize) -> Self {
        Topics {
            ids: HashMap::new(),
            topics: Slab::new(),
            by_connection: HashMap::new(),
            outbox: Vec::new(),
            interest: Vec::new(),
            max_topic_bytes,
            max_subscriptions,
        }
    }

    /// Subscribe connection `key` to `name`; false if it already was.
    pub fn subscribe(&mut self, key: usize, name: &[u8]) -> Result<bool, TopicError> {
        self.check_name(name)?;
        let key = key as u32;
        let existing = self.ids.get(name).copied();
        let subscriptions = self.by_connection.entry(key).or_default();
        if existing.is_some_and(|id| subscriptions.iter().any(|sub| sub.topic == id)) {
            return Ok(false);
        }
        if subscriptions.len() >= self.max_subscriptions {
            if subscriptions.is_empty() {
                self.by_connection.remove(&key);
            }
            return Err(TopicError::TooManySubscriptions);
        }
        let id = existing.unwrap_or_else(|| {
            let name = Bytes::copy_from_slice(name);
            self.interest.push((name.clone(), true));
            let id = self.topics.insert(Topic {
                name: name.clone(),
                subscribers: Vec::new(),
            }) as u32;
            self.ids.insert(name, id);
            id
        });
        let topic = &mut self.topics[id as usize];
        subscriptions.push(Subscription {
            topic: id,
            slot: topic.subscribers.len() as u32,
        });
        topic.subscribers.push(key);
        Ok(true)
    }

    /// End connection `key`'s subscription to `name`; false if it had none.
    pub fn unsubscribe(&mut self, key: usize, name: &[u8]) -> bool {
        let key = key as u32;
        let Some(&id) = self.ids.get(name) else {
            return false;
        };
        let Some(subscriptions) = self.by_connection.get_mut(&key) else {
            return false;
        };
        let Some(index) = subscriptions.iter().position(|sub| sub.topic == id) else {
            return false;
        };
        let subscription = subscriptions.swap_remove(index);
        if subscriptions.is_empty() {
            self.by_connection.remove(&key);
        }
        self.remove_slot(subscription);
        true
    }

    /// End every subscription of connection `key` (it is closing or gone).
    pub fn remove_connection(&mut self, key: usize) {
        // Most servers have no subscriptions at all: no hashing for every closed connection.
        if self.by_connection.is_empty() {
            return;
        }
        let Some(subscriptions) = self.by_connection.remove(&(key as u32)) else {
            return;
        };
        for subscription in subscriptions {
            self.remove_slot(subscription);
        }
    }

    /// Queue a publication for delivery once the current callback returns.
    pub fn publish(&mut self, publication: Publication) -> Result<(), TopicError> {
        self.check_name(publication.topic())?;
        self.outbox.push(publication);
        Ok(())
    }

    /// Check a topic name against `max_topic_bytes`.
    pub fn check_name(&self, name: &[u8]) -> Result<(), TopicError> {
        if name.len() > self.max_topic_bytes {
            return Err(TopicError::NameTooLong);
        }
        Ok(())
    }

    /// The publications queued since the last call.
    pub fn take_outbox(&mut self) -> Vec<Publication> {
        std::mem::take(&mut self.outbox)
    }

    pub fn has_outbox(&self) -> bool {
        !self.outbox.is_empty()
    }

    /// Topics that gained their first (true) or lost their last (false) local subscriber
    /// since the last call, in that order.
    pub fn take_interest_changes(&mut self) -> Vec<(Bytes, bool)> {
        std::mem::take(&mut self.interest)
    }

    pub fn has_interest_changes(&self) -> bool {
        !self.interest.is_empty()
    }

    /// The slab keys of `name`'s local subscribers (empty if it has none).
    pub fn subscribers(&self, name: &[u8]) -> &[u32] {
        self.ids
            .get(name)
            .map_or(&[], |&id| &self.topics[id as usize].subscribers)
    }

    /// Topics with at least one local subscriber.
    pub fn topic_count(&self) -> usize {
        self.topics.len()
    }

    /// Subscriptions of all local connections.
    pub fn subscription_count(&self) -> usize {
        self.by_connection.values().map(Vec::len).sum()
    }

    /// Take one subscriber out of a topic's list; the last one moves into its slot.
    fn remove_slot(&mut self, subscription: Subscription) {
        let Subscription { topic: id, slot } = subscription;
        let topic = &mut self.topics[id as usize];
        topic.subscribers.swap_remove(slot as usize);
        if let Some(&moved) = topic.subscribers.get(slot as usize) {
            let moved_subs = self
                .by_connection
                .get_mut(&moved)
                .expect("every subscriber has its subscriptions");
            if let Some(sub) = moved_subs.iter_mut().find(|sub| sub.topic == id) {
                sub.slot = slot;
            }
        }
        if topic.subscribers.is_empty() {
            let topic = self.topics.remove(id as usize);
            self.ids.remove(&topic.name);
            self.interest.push((topic.name, false));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(topics: &Topics, name: &[u8]) -> Vec<u32> {
        let mut keys = topics.subscribers(name).to_vec();
        keys.sort_unstable();
        keys
    }

    #[test]
    fn subscribe_unsubscribe_and_close_keep_both_indexes_straight() {
        let mut topics = Topics::new(8, 3);
        for key in 0..5 {
            assert_eq!(topics.subscribe(key, b"a"), Ok(true));
        }
        assert_eq!(topics.subscribe(1, b"a"), Ok(false), "already subscribed");
        assert_eq!(topics.subscribe(1, b"b"), Ok(true));
        assert!(topics.unsubscribe(0, b"a"));
        assert!(!topics.unsubscribe(0, b"a"));
        topics.remove_connection(1);
        assert_eq!(sorted(&topics, b"a"), [2, 3, 4]);
        assert!(topics.subscribers(b"b").is_empty());
        assert!(topics.unsubscribe(4, b"a"));
        assert!(topics.unsubscribe(2, b"a"));
        assert_eq!(sorted(&topics, b"a"), [3]);
        assert_eq!(topics.subscription_count(), 1);
        assert_eq!(topics.topic_count(), 1);
        let changes: Vec<_> = topics.take_interest_changes();
        assert_eq!(
            changes,
            [
                (Bytes::from_static(b"a"), true),
                (Bytes::from_static(b"b"), true),
                (Bytes::from_static(b"b"), false)
            ]
        );
    }

    #[test]
    fn limits_are_enforced_and_leave_nothing_behind() {
        let mut topics = Topics::new(4, 2);
        assert_eq!(topics.subscribe(7, b"12345"), Err(TopicError::NameTooLong));
        assert_eq!(topics.subscribe(7, b"x"), Ok(true));
        assert_eq!(topics.subscribe(7, b"y"), Ok(true));
        assert_eq!(
            topics.subscribe(7, b"z"),
            Err(TopicError::TooManySubscriptions)
        );
        assert!(topics.subscribers(b"z").is_empty());
        let mut zero = Topics::new(4, 0);
        assert!(zero.subscribe(1, b"x").is_err());
        assert_eq!(zero.by_connection.len(), 0);
    }

    #[test]
    fn many_cycles_leave_the_registry_empty() {
        let mut topics = Topics::new(16, 4);
        for round in 0..100_000usize {
            let key = round % 50;
            topics.subscribe(key, b"room").unwrap();
            topics
                .subscribe(key, format!("own{key}").as_bytes())
                .unwrap();
            topics.remove_connection(key);
        }
        assert_eq!(topics.topic_count(), 0);
        assert!(topics.by_connection.is_empty() && topics.ids.is_empty());
    }
}
