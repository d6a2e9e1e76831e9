//! A connection as the loop lends it to callbacks, and the rules for queuing frames on it:
//! only on an open WebSocket, fragments in order, never past the outgoing cap; with
//! permessage-deflate agreed, whole messages of at least `deflate_min_bytes` are compressed
//! (RSV1 set) unless sent with `send_uncompressed`. Fragments go out as they are: the size of
//! a fragmented message is not known when its first frame leaves.

use super::Message;
use crate::conn::frame_reader::FrameReader;
use crate::connection_id::ConnectionId;
use crate::deflate::{Params, SharedDeflate, RSV1};
use crate::frame::{MAX_SERVER_HEADER, OP_BINARY, OP_CONTINUATION, OP_TEXT};
use crate::out_queue::OutQueue;
use crate::payload_writer::PayloadWriter;
use crate::stats::Traffic;
use crate::tick::Tick;
use crate::transport::Transport;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::Bytes;

/// Why a send was refused. Nothing was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// The callback is about the protocol as a whole (`ProtocolInit`, `ProtocolDestroy`).
    NoConnection,
    /// The connection is not an open WebSocket (an HTTP request, or a close is under way).
    NotOpen,
    /// The outgoing queue would pass `max_outgoing_bytes`: the peer is not reading. The
    /// connection is closed with 1008; wait for `ServerWriteable` before sending more.
    QueueFull,
    /// A whole message while a fragmented one is unfinished (or a continuation without a
    /// first fragment): the frames would interleave on the wire.
    FragmentOrder,
    /// The fill of a `send_*_with` call returned false: it took its message back.
    Withdrawn,
    /// The bytes a `send_text_with` fill wrote are not UTF-8 (RFC 6455 §8.1).
    InvalidUtf8,
    /// The fill of a `send_*_with` call wrote more or fewer bytes than it announced.
    WrongLength,
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SendError::NoConnection => "no connection in this callback",
            SendError::NotOpen => "the WebSocket is not open",
            SendError::QueueFull => "the outgoing queue is full",
            SendError::FragmentOrder => "fragments out of order",
            SendError::Withdrawn => "the message was withdrawn",
            SendError::InvalidUtf8 => "the text is not UTF-8",
            SendError::WrongLength => "the message was not the length announced",
        })
    }
}

impl std::error::Error for SendError {}

/// How the outgoing queue stands after a message was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// Below `outgoing_soft_limit`: keep sending.
    Flowing,
    /// Queued, but the queue is above `outgoing_soft_limit`: the peer reads slower than we
    /// send. Stop, [`request_writeable`](super::Context::request_writeable), and carry on in
    /// `ServerWriteable` (perhaps [`pause_reading`](super::Context::pause_reading) meanwhile).
    Congested,
}

/// What the callbacks of one connection asked the loop to do; carried out after each callback.
/// Kept small: it lives in every open connection.
#[derive(Debug, Default)]
pub(crate) struct SessionRequests {
    /// Close with this code and reason once the callback returns (boxed: rare, and a reason
    /// is a `String`).
    pub close: Option<Box<(CloseCode, String)>>,
    /// When the connection's `Timer` reason is due.
    pub timer: Option<Tick>,
    /// Deliver `ServerWriteable` once the connection can take more output.
    pub writeable: bool,
    /// A send hit `max_outgoing_bytes`.
    pub overflowed: bool,
    /// A fragmented message is being sent: only its continuations may follow.
    pub sending_fragments: bool,
    /// Do not read from the connection (rx flow control).
    pub rx_paused: bool,
}

/// The connection a callback is about, as the loop lends it to the [`Context`].
pub(crate) struct ConnectionLink<'a> {
    pub id: ConnectionId,
    /// For the peer's address, asked of the kernel when a callback wants it.
    pub transport: &'a Transport,
    /// An open WebSocket that may send; false while the connection is still HTTP, before the
    /// 101 is queued, and once a close frame is queued.
    pub open: bool,
    /// The loop's clock for this tick, for connection timers.
    pub tick: Tick,
    pub out: &'a mut OutQueue,
    pub requests: &'a mut SessionRequests,
    pub max_outgoing: usize,
    pub soft_limit: usize,
    /// The server's count of messages sent.
    pub sent: &'a mut Traffic,
    /// Set when the connection agreed permessage-deflate.
    pub deflate: Option<Compressing<'a>>,
}

/// What compressing one connection's messages takes, lent for one callback.
pub(crate) struct Compressing<'a> {
    pub params: Params,
    /// The loop's shared compressor (and its cache of recent messages).
    pub shared: &'a mut SharedDeflate,
    /// Where a takeover connection keeps its own compressor (the reader's box).
    pub reader: &'a mut FrameReader,
    /// Shorter messages go out uncompressed.
    pub min_bytes: usize,
}

impl Compressing<'_> {
    /// `payload` compressed, or `None` to send it as it is.
    fn compress(&mut self, payload: &[u8]) -> Option<&[u8]> {
        if payload.len() < self.min_bytes {
            return None;
        }
        let params = self.params;
        let own =
            (!params.shares_compressor()).then(|| self.reader.own_contexts().deflater(params));
        self.shared.compress(params, own, payload)
    }
}

/// One fragment of a message: sent with [`Context::send_fragment`](super::Context::send_fragment),
/// or received as `Reason::ReceiveFragment` by protocols that stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment {
    /// The fragment's payload. Text fragments may split a UTF-8 character; the whole message
    /// must be valid UTF-8.
    pub data: Bytes,
    /// Binary (true) or text (false); only the first fragment's kind reaches the wire.
    pub binary: bool,
    /// The first fragment of the message.
    pub first: bool,
    /// The last fragment of the message.
    pub last: bool,
}

impl ConnectionLink<'_> {
    /// Queue a whole message; `compress` allows permessage-deflate for it.
    pub fn send_message(&mut self, message: &Message, compress: bool) -> Result<Sent, SendError> {
        match message {
            Message::Text(text) => self.send_data(OP_TEXT, text.as_bytes(), compress),
            Message::Binary(data) => self.send_data(OP_BINARY, data, compress),
        }
    }

    /// Queue a whole message from a slice (nothing is allocated in steady state).
    pub fn send_data(
        &mut self,
        opcode: u8,
        payload: &[u8],
        compress: bool,
    ) -> Result<Sent, SendError> {
        self.check_open()?;
        if self.requests.sending_fragments {
            return Err(SendError::FragmentOrder);
        }
        self.queue(opcode, true, payload, compress)
    }

    /// Queue a whole message of `len` bytes that `fill` writes in place in the outgoing queue
    /// (into a scratch buffer first when it is to be compressed). A text message is checked as
    /// UTF-8 before it is committed (not looked at again if the writer saw only ASCII).
    pub fn send_data_with(
        &mut self,
        opcode: u8,
        len: usize,
        fill: impl FnOnce(&mut PayloadWriter<'_>) -> bool,
    ) -> Result<Sent, SendError> {
        self.check_open()?;
        if self.requests.sending_fragments {
            return Err(SendError::FragmentOrder);
        }
        let text = opcode == OP_TEXT;
        let mut refused = SendError::Withdrawn;
        let fill_checked = |payload: &mut PayloadWriter<'_>| {
            if !fill(payload) {
                return false;
            }
            if payload.len() != len {
                refused = SendError::WrongLength;
            } else if text && !payload.is_ascii() && std::str::from_utf8(payload.written()).is_err()
            {
                refused = SendError::InvalidUtf8;
            } else {
                return true;
            }
            false
        };
        let compressing = self.deflate.as_ref().is_some_and(|d| len >= d.min_bytes);
        if compressing {
            let mut payload = Vec::with_capacity(len);
            if !fill_checked(&mut PayloadWriter::new(&mut payload)) {
                return Err(refused);
            }
            return self.queue(opcode, true, &payload, true);
        }
        if self.out.len() + len + MAX_SERVER_HEADER > self.max_outgoing {
            self.requests.overflowed = true;
            return Err(SendError::QueueFull);
        }
        if self.out.push_frame_with(opcode, true, len, fill_checked) {
            Ok(self.counted(len))
        } else {
            Err(refused)
        }
    }

    /// Queue one fragment, in order.
    pub fn send_fragment(&mut self, fragment: &Fragment) -> Result<Sent, SendError> {
        self.check_open()?;
        if fragment.first == self.requests.sending_fragments {
            return Err(SendError::FragmentOrder);
        }
        let opcode = match (fragment.first, fragment.binary) {
            (false, _) => OP_CONTINUATION,
            (true, true) => OP_BINARY,
            (true, false) => OP_TEXT,
        };
        let sent = self.queue(opcode, fragment.last, &fragment.data, false)?;
        self.requests.sending_fragments = !fragment.last;
        Ok(sent)
    }

    fn check_open(&mut self) -> Result<(), SendError> {
        if !self.open || self.requests.close.is_some() {
            return Err(SendError::NotOpen);
        }
        Ok(())
    }

    /// Frame `payload` (compressed if `compress` and deflate was agreed) straight into the
    /// outgoing queue, within the cap, and report how full the queue is.
    fn queue(
        &mut self,
        opcode: u8,
        fin: bool,
        payload: &[u8],
        compress: bool,
    ) -> Result<Sent, SendError> {
        let compressed = match self.deflate.as_mut() {
            Some(deflate) if compress => deflate.compress(payload),
            _ => None,
        };
        let (first_byte, wire) = match compressed {
            Some(compressed) => (opcode | RSV1, compressed),
            None => (opcode, payload),
        };
        if self.out.len() + wire.len() + MAX_SERVER_HEADER > self.max_outgoing {
            self.requests.overflowed = true;
            return Err(SendError::QueueFull);
        }
        self.out.push_frame(first_byte, fin, wire);
        Ok(self.counted(payload.len()))
    }

    /// Count a queued message of `len` bytes; how full the queue is now.
    fn counted(&mut self, len: usize) -> Sent {
        self.sent.count(len);
        if self.out.len() > self.soft_limit {
            Sent::Congested
        } else {
            Sent::Flowing
        }
    }
}
