//! A bounded FIFO read by many consumers at their own pace (libwebsockets' `lws_ring`): a
//! broadcast is stored once, and each connection keeps only its position (a [`Tail`]).
//! Items every tail has passed are dropped when room is needed; while the slowest tail still
//! needs the oldest item, the ring is full and the producer must wait (rx flow control) or
//! drop the laggard.

use slab::Slab;
use std::collections::VecDeque;

/// One consumer's position in a [`Ring`]. Not `Clone`: give it back with
/// [`Ring::remove_tail`] when the consumer goes.
#[derive(Debug)]
pub struct Tail(usize);

/// A bounded FIFO with one read position per consumer.
///
/// ```
/// use wsloop::ring::Ring;
///
/// let mut ring = Ring::new(2);
/// let alice = ring.add_tail();
/// let bob = ring.add_tail();
/// ring.push("hello").unwrap();
/// ring.push("world").unwrap();
/// assert_eq!(ring.push("!"), Err("!")); // bob and alice still need "hello"
///
/// assert_eq!(ring.peek(&alice), Some(&"hello"));
/// ring.advance(&alice);
/// ring.advance(&bob);
/// ring.push("!").unwrap(); // "hello" is dropped now that both passed it
/// assert_eq!(ring.pending(&alice), 2);
/// ```
#[derive(Debug)]
pub struct Ring<T> {
    items: VecDeque<T>,
    /// Sequence number of `items[0]`.
    first_seq: u64,
    capacity: usize,
    /// Each consumer's next sequence number to read.
    tails: Slab<u64>,
}

impl<T> Ring<T> {
    /// A ring holding at most `capacity` items (at least 1).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Ring {
            items: VecDeque::with_capacity(capacity),
            first_seq: 0,
            capacity,
            tails: Slab::new(),
        }
    }

    /// Items currently stored.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The most items the ring holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Consumers with a tail.
    pub fn consumers(&self) -> usize {
        self.tails.len()
    }

    /// A new consumer, positioned to read the next item pushed (not the backlog).
    pub fn add_tail(&mut self) -> Tail {
        Tail(self.tails.insert(self.next_seq()))
    }

    /// A consumer left; items only it still needed can go.
    pub fn remove_tail(&mut self, tail: Tail) {
        self.tails.try_remove(tail.0);
    }

    /// Add an item; `Err(item)` when the slowest consumer still needs every stored item.
    pub fn push(&mut self, item: T) -> Result<(), T> {
        if !self.has_room() {
            return Err(item);
        }
        self.items.push_back(item);
        Ok(())
    }

    /// True if a push would succeed now (drops items every consumer has passed to make room).
    pub fn has_room(&mut self) -> bool {
        if self.items.len() >= self.capacity {
            self.cull();
        }
        self.items.len() < self.capacity
    }

    /// The next item for `tail`, if any.
    pub fn peek(&self, tail: &Tail) -> Option<&T> {
        let seq = *self.tails.get(tail.0)?;
        self.items.get(usize::try_from(seq - self.first_seq).ok()?)
    }

    /// Move `tail` past the item [`peek`](Ring::peek) returned.
    pub fn advance(&mut self, tail: &Tail) {
        let next = self.next_seq();
        if let Some(seq) = self.tails.get_mut(tail.0) {
            *seq = (*seq + 1).min(next);
        }
    }

    /// How many items `tail` has yet to read.
    pub fn pending(&self, tail: &Tail) -> usize {
        self.tails
            .get(tail.0)
            .map_or(0, |&seq| (self.next_seq() - seq) as usize)
    }

    fn next_seq(&self) -> u64 {
        self.first_seq + self.items.len() as u64
    }

    /// Drop every item all consumers have read: O(consumers), and only when full.
    fn cull(&mut self) {
        let oldest_needed = self
            .tails
            .iter()
            .map(|(_, &seq)| seq)
            .min()
            .unwrap_or_else(|| self.next_seq());
        while self.first_seq < oldest_needed && self.items.pop_front().is_some() {
            self.first_seq += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_tail_reads_every_item_in_order() {
        let mut ring = Ring::new(4);
        let fast = ring.add_tail();
        let slow = ring.add_tail();
        for n in 0..4 {
            ring.push(n).unwrap();
        }
        let mut seen = Vec::new();
        while let Some(&n) = ring.peek(&fast) {
            seen.push(n);
            ring.advance(&fast);
        }
        assert_eq!(seen, [0, 1, 2, 3]);
        assert_eq!(ring.pending(&slow), 4);
        assert_eq!(ring.push(4), Err(4), "slow still needs item 0");
        ring.advance(&slow);
        ring.push(4).unwrap();
        assert_eq!(ring.peek(&fast), Some(&4));
        assert_eq!(ring.peek(&slow), Some(&1));
    }

    #[test]
    fn a_leaving_consumer_frees_what_only_it_needed() {
        let mut ring = Ring::new(2);
        let stays = ring.add_tail();
        let leaves = ring.add_tail();
        ring.push('a').unwrap();
        ring.push('b').unwrap();
        ring.advance(&stays);
        ring.advance(&stays);
        assert!(!ring.has_room());
        ring.remove_tail(leaves);
        assert!(ring.has_room());
        assert_eq!(ring.len(), 0);
    }

    #[test]
    fn a_new_tail_starts_after_the_backlog() {
        let mut ring = Ring::new(3);
        let first = ring.add_tail();
        ring.push(1).unwrap();
        let late = ring.add_tail();
        assert_eq!(ring.peek(&late), None);
        ring.push(2).unwrap();
        assert_eq!(ring.peek(&late), Some(&2));
        assert_eq!(ring.peek(&first), Some(&1));
    }

    #[test]
    fn with_no_consumers_old_items_make_way() {
        let mut ring = Ring::new(1);
        ring.push(1).unwrap();
        ring.push(2).unwrap();
        assert_eq!(ring.len(), 1);
    }
}
