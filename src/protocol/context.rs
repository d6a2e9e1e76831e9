//! The handle a callback acts through: send, ask for a writeable callback, close, set a
//! timer, subscribe and publish to topics, learn who the peer is. It never exposes the socket.

use super::link::{ConnectionLink, Fragment, SendError, Sent};
use super::loop_requests::{LoopRequests, TimerChange, TimerId};
use super::{Message, ProtocolIndex};
use crate::connection_id::ConnectionId;
use crate::frame::{OP_BINARY, OP_TEXT};
use crate::payload_writer::PayloadWriter;
use crate::topics::{Publication, TopicError};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tungstenite::protocol::frame::coding::CloseCode;

/// The callback's handle on the loop and on the connection the reason is about.
pub struct Context<'a> {
    link: Option<ConnectionLink<'a>>,
    protocol: ProtocolIndex,
    loop_requests: &'a mut LoopRequests,
    now: Instant,
}

/// The connection (id, peer, queued bytes), the protocol's place in the table and the tick.
impl std::fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("connection_id", &self.connection_id())
            .field("peer_addr", &self.peer_addr())
            .field("queued_bytes", &self.queued_bytes())
            .field("protocol", &self.protocol)
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

impl<'a> Context<'a> {
    pub(crate) fn for_connection(
        link: ConnectionLink<'a>,
        protocol: ProtocolIndex,
        loop_requests: &'a mut LoopRequests,
        now: Instant,
    ) -> Self {
        Context {
            link: Some(link),
            protocol,
            loop_requests,
            now,
        }
    }

    pub(crate) fn for_protocol(
        protocol: ProtocolIndex,
        loop_requests: &'a mut LoopRequests,
        now: Instant,
    ) -> Self {
        Context {
            link: None,
            protocol,
            loop_requests,
            now,
        }
    }

    /// The loop's clock for this tick.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The connection's id (unique for the server's lifetime), if the reason is about one.
    pub fn connection_id(&self) -> Option<ConnectionId> {
        self.link.as_ref().map(|link| link.id)
    }

    /// The peer's address, if the reason is about a connection.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        // Asked of the kernel (one system call) rather than kept in every connection.
        self.link.as_ref()?.transport.peer_addr().ok()
    }

    /// Bytes queued for this connection and not yet taken by the kernel.
    pub fn queued_bytes(&self) -> usize {
        self.link.as_ref().map_or(0, |link| link.out.len())
    }

    /// Queue a whole message. It reaches the socket when the callback returns (the loop
    /// batches every message of one tick into as few writes as it can). [`Sent::Congested`]
    /// says the peer is falling behind; past `max_outgoing_bytes` the send fails with
    /// [`SendError::QueueFull`] and the connection is closed with 1008.
    ///
    /// With permessage-deflate agreed, a message of at least `deflate_min_bytes` is
    /// compressed (a broadcast once for every recipient that agreed the same parameters).
    pub fn send(&mut self, message: impl Into<Message>) -> Result<Sent, SendError> {
        self.link
            .as_mut()
            .ok_or(SendError::NoConnection)?
            .send_message(&message.into(), true)
    }

    /// [`send`](Context::send) this one message uncompressed even where permessage-deflate
    /// was agreed (e.g. data already compressed, or a secret next to attacker-chosen text in
    /// the same message: compression lets its length leak it).
    pub fn send_uncompressed(&mut self, message: impl Into<Message>) -> Result<Sent, SendError> {
        self.link
            .as_mut()
            .ok_or(SendError::NoConnection)?
            .send_message(&message.into(), false)
    }

    /// Send one fragment of a message (RFC 6455 §5.4), for protocols that stream: the first
    /// fragment opens the message, continuations follow, `last` ends it. No whole message may
    /// be sent in between ([`SendError::FragmentOrder`]). Fragments are never compressed.
    pub fn send_fragment(&mut self, fragment: Fragment) -> Result<Sent, SendError> {
        self.link
            .as_mut()
            .ok_or(SendError::NoConnection)?
            .send_fragment(&fragment)
    }
    /// Queue a text message, framed straight from `text` (no allocation in steady state).
    pub fn send_text(&mut self, text: impl AsRef<str>) -> Result<Sent, SendError> {
        self.link
            .as_mut()
            .ok_or(SendError::NoConnection)?
            .send_data(OP_TEXT, text.as_ref().as_bytes(), true)
    }

    /// Queue a text message of `len` bytes that `fill` writes straight into the outgoing
    /// queue, where it will be sent: no reply buffer, no copy, no zero-filling (the reverse
    /// protocol writes its reply this way). `fill` appends exactly `len` bytes to the
    /// [`PayloadWriter`] and returns false to take the message back
    /// ([`SendError::Withdrawn`], nothing queued; other than `len` bytes:
    /// [`SendError::WrongLength`]). The bytes are checked as UTF-8
    /// ([`SendError::InvalidUtf8`]; text the writer saw to be ASCII needs no second look);
    /// with permessage-deflate agreed, a message it would compress is filled into a scratch
    /// buffer first.
    pub fn send_text_with(
        &mut self,
        len: usize,
        fill: impl FnOnce(&mut PayloadWriter<'_>) -> bool,
    ) -> Result<Sent, SendError> {
        self.send_with(OP_TEXT, len, fill)
    }

    /// [`send_text_with`](Context::send_text_with) for a binary message (no UTF-8 check).
    pub fn send_binary_with(
        &mut self,
        len: usize,
        fill: impl FnOnce(&mut PayloadWriter<'_>) -> bool,
    ) -> Result<Sent, SendError> {
        self.send_with(OP_BINARY, len, fill)
    }

    fn send_with(
        &mut self,
        opcode: u8,
        len: usize,
        fill: impl FnOnce(&mut PayloadWriter<'_>) -> bool,
    ) -> Result<Sent, SendError> {
        self.link
            .as_mut()
            .ok_or(SendError::NoConnection)?
            .send_data_with(opcode, len, fill)
    }

    /// Queue a binary message, framed straight from `data`.
    pub fn send_binary(&mut self, data: impl AsRef<[u8]>) -> Result<Sent, SendError> {
        self.link
            .as_mut()
            .ok_or(SendError::NoConnection)?
            .send_data(OP_BINARY, data.as_ref(), true)
    }

    /// Stop reading from this connection (libwebsockets' rx flow control): nothing more is
    /// received until [`resume_reading`](Context::resume_reading), and TCP pushes back on a
    /// peer that keeps sending.
    pub fn pause_reading(&mut self) {
        if let Some(link) = self.link.as_mut() {
            link.requests.rx_paused = true;
        }
    }

    /// Read from this connection again after [`pause_reading`](Context::pause_reading).
    pub fn resume_reading(&mut self) {
        if let Some(link) = self.link.as_mut() {
            link.requests.rx_paused = false;
        }
    }

    /// True while reading is paused.
    pub fn is_reading_paused(&self) -> bool {
        self.link
            .as_ref()
            .is_some_and(|link| link.requests.rx_paused)
    }

    /// Ask for one `ServerWriteable` callback when the connection can take more output
    /// (libwebsockets' `lws_callback_on_writable`). It sends nothing by itself.
    pub fn request_writeable(&mut self) {
        if let Some(link) = self.link.as_mut() {
            link.requests.writeable = true;
        }
    }

    /// Start the close handshake with `code` and `reason` once the callback returns. Messages
    /// queued before it are sent first; sends after it are refused.
    pub fn close(&mut self, code: CloseCode, reason: &str) {
        if let Some(link) = self.link.as_mut() {
            link.requests.close = Some(Box::new((code, reason.to_owned())));
        }
    }

    /// Deliver one `Timer` reason to this connection after `delay` (replacing any earlier one).
    /// (Delays past about 24 days are shortened to that.)
    pub fn set_timer(&mut self, delay: Duration) {
        if let Some(link) = self.link.as_mut() {
            link.requests.timer = Some(link.tick.after(delay));
        }
    }

    /// Cancel the connection's pending timer, if any.
    pub fn cancel_timer(&mut self) {
        if let Some(link) = self.link.as_mut() {
            link.requests.timer = None;
        }
    }

    /// Deliver `Reason::ProtocolTimer` to this protocol after `delay`, then every `every` if
    /// given, until [`cancel_protocol_timer`](Context::cancel_protocol_timer). Delays and
    /// periods past [`MAX_TIMEOUT`](crate::config::MAX_TIMEOUT) are shortened to it.
    pub fn set_protocol_timer(&mut self, delay: Duration, every: Option<Duration>) -> TimerId {
        let id = self.loop_requests.new_timer_id();
        self.loop_requests.timer_changes.push(TimerChange::Start {
            id,
            protocol: self.protocol,
            due: self.now + delay.min(crate::config::MAX_TIMEOUT),
            every: every
                .filter(|period| !period.is_zero())
                .map(|period| period.min(crate::config::MAX_TIMEOUT)),
        });
        id
    }

    /// Stop a protocol timer; a cancelled timer never fires again.
    pub fn cancel_protocol_timer(&mut self, timer: TimerId) {
        self.loop_requests
            .timer_changes
            .push(TimerChange::Cancel(timer));
    }

    /// Subscribe this connection to `topic` (a name of up to `max_topic_bytes` bytes): every
    /// message published to it from now on, on any loop, is queued for this connection, in
    /// the topic's one order, until [`unsubscribe`](Context::unsubscribe) or the connection
    /// closes. `Ok(false)` if it already was subscribed. A subscriber whose undelivered topic
    /// bytes pass `max_subscriber_backlog` is closed with 1008 "subscriber too slow".
    pub fn subscribe(&mut self, topic: impl AsRef<[u8]>) -> Result<bool, TopicError> {
        let key = self.subscriber_key()?;
        self.loop_requests.topics.subscribe(key, topic.as_ref())
    }

    /// End this connection's subscription to `topic`; false if it had none. Nothing published
    /// after this call reaches it.
    pub fn unsubscribe(&mut self, topic: impl AsRef<[u8]>) -> bool {
        match self.subscriber_key() {
            Ok(key) => self.loop_requests.topics.unsubscribe(key, topic.as_ref()),
            Err(_) => false,
        }
    }

    /// Publish `message` to every subscriber of `topic`, on every loop, this connection too if
    /// it subscribes. It is framed once, here; delivery starts when the callback returns. A
    /// subscriber that cannot keep up is closed (see [`subscribe`](Context::subscribe)); the
    /// publisher is never slowed down by one.
    pub fn publish(
        &mut self,
        topic: impl AsRef<[u8]>,
        message: impl Into<Message>,
    ) -> Result<(), TopicError> {
        let topic = topic.as_ref();
        self.loop_requests.topics.check_name(topic)?;
        let publication = Publication::new(bytes::Bytes::copy_from_slice(topic), &message.into());
        self.loop_requests.topics.publish(publication)
    }

    fn subscriber_key(&self) -> Result<usize, TopicError> {
        let link = self.link.as_ref().ok_or(TopicError::NoConnection)?;
        if !link.open {
            // Not yet a WebSocket (filtering) or no longer one: nothing could be delivered.
            return Err(TopicError::NoConnection);
        }
        Ok(link.id.key())
    }

    /// Ask for `ServerWriteable` on another connection (one this protocol learned the id of,
    /// e.g. a member of a group), without waking the rest. Ignored if it is gone or not open.
    pub fn request_writeable_for(&mut self, connection: ConnectionId) {
        self.loop_requests.writeable_ids.push(connection);
    }

    /// Ask for `ServerWriteable` on every open connection of this protocol
    /// (libwebsockets' `lws_callback_on_writable_all_protocol`), e.g. after adding to a
    /// shared [`Ring`](crate::ring::Ring).
    pub fn request_writeable_all(&mut self) {
        if !self.loop_requests.writeable_all.contains(&self.protocol) {
            self.loop_requests.writeable_all.push(self.protocol);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_without_a_connection() {
        let mut requests = LoopRequests::default();
        let now = Instant::now();
        let cx = Context::for_protocol(1, &mut requests, now);
        assert_eq!(
            format!("{cx:?}"),
            format!(
                "Context {{ connection_id: None, peer_addr: None, queued_bytes: 0, protocol: 1, \
                 now: {now:?}, .. }}"
            )
        );
    }
}
