//! The protocol table: the HTTP entry first, then WebSocket subprotocols by name, each
//! stored type-erased so the loop can hold protocols with different session types.

use super::{Context, Fragment, Message, Outcome, Protocol, Reason, TimerId};
use crate::http::Request;
use log::error;
use std::any::Any;
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::Bytes;

/// Position of a protocol in the table (0 is the HTTP entry).
pub(crate) type ProtocolIndex = usize;

/// The protocols one server speaks, in libwebsockets' order: the HTTP entry first, then the
/// WebSocket subprotocols. A request that offers no subprotocol gets the default one (the first
/// WebSocket protocol added, unless [`ProtocolTable::with_default`] names another).
///
/// ```
/// use wsloop::demo::{Echo, Reverse};
/// use wsloop::ProtocolTable;
///
/// let table = ProtocolTable::new()
///     .with_protocol(Reverse::default())
///     .with_protocol(Echo);
/// assert_eq!(table.websocket_names(), ["dumb-increment-protocol", "echo"]);
/// ```
///
/// Names must be unique. The builder stays chainable: a name added twice is not added again
/// but remembered, and [`ProtocolTable::validate`] (which [`Server::bind`](crate::Server::bind)
/// and [`Server::from_listener`](crate::Server::from_listener) run) reports it, so such a
/// table never serves.
pub struct ProtocolTable {
    entries: Vec<Box<dyn ErasedProtocol>>,
    default_websocket: Option<ProtocolIndex>,
    /// Names given to `with_protocol` while already in the table, each once, in order.
    duplicates: Vec<String>,
}

/// The protocols by name (they are trait objects): the HTTP entry, the WebSocket ones in
/// table order, and the default.
impl std::fmt::Debug for ProtocolTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProtocolTable")
            .field("http", &self.name(0))
            .field("websocket", &self.websocket_names())
            .field(
                "default",
                &self.default_websocket().map(|index| self.name(index)),
            )
            .field("duplicates", &self.duplicates)
            .finish()
    }
}

impl Default for ProtocolTable {
    fn default() -> Self {
        Self::new()
    }
}

impl ProtocolTable {
    /// A table whose HTTP entry is [`HttpOnly`] (static files, no custom responses).
    pub fn new() -> Self {
        Self::with_http(HttpOnly)
    }

    /// A table whose HTTP entry is `http`: it receives `Reason::Http` for every plain HTTP
    /// request before static files are tried.
    pub fn with_http(http: impl Protocol) -> Self {
        ProtocolTable {
            entries: vec![Box::new(http)],
            default_websocket: None,
            duplicates: Vec::new(),
        }
    }

    /// Add a WebSocket subprotocol. A name already in the table makes the table invalid (see
    /// [`ProtocolTable::validate`]): a server refuses to start with it.
    pub fn with_protocol(mut self, protocol: impl Protocol) -> Self {
        let name = protocol.name();
        if self.find(name).is_some() {
            if !self.duplicates.iter().any(|duplicate| duplicate == name) {
                self.duplicates.push(name.to_owned());
            }
        } else {
            self.entries.push(Box::new(protocol));
        }
        self
    }

    /// `Err` naming every protocol added twice, else `Ok`. [`Server::bind`](crate::Server::bind)
    /// and [`Server::from_listener`](crate::Server::from_listener) fail with this message (as
    /// `io::ErrorKind::InvalidInput`); call it to check a table earlier.
    ///
    /// ```
    /// use wsloop::demo::Echo;
    /// use wsloop::ProtocolTable;
    ///
    /// let table = ProtocolTable::new().with_protocol(Echo).with_protocol(Echo);
    /// assert_eq!(
    ///     table.validate(),
    ///     Err(r#"protocol "echo" is in the table more than once"#.to_owned())
    /// );
    /// ```
    pub fn validate(&self) -> Result<(), String> {
        let names: Vec<String> = self.duplicates.iter().map(|n| format!("{n:?}")).collect();
        match names.as_slice() {
            [] => Ok(()),
            [name] => Err(format!("protocol {name} is in the table more than once")),
            names => Err(format!(
                "protocols {} are in the table more than once",
                names.join(", ")
            )),
        }
    }

    /// Make `name` the protocol for requests that offer no subprotocol.
    pub fn with_default(mut self, name: &str) -> Self {
        match self.find(name) {
            Some(index) => self.default_websocket = Some(index),
            None => error!("default protocol {name:?} is not in the table; keeping the first"),
        }
        self
    }

    /// The WebSocket subprotocol names, in table order.
    pub fn websocket_names(&self) -> Vec<&str> {
        self.entries[1..].iter().map(|entry| entry.name()).collect()
    }

    pub(crate) fn find(&self, name: &str) -> Option<ProtocolIndex> {
        (1..self.entries.len()).find(|&index| self.entries[index].name() == name)
    }

    pub(crate) fn default_websocket(&self) -> Option<ProtocolIndex> {
        self.default_websocket
            .or((self.entries.len() > 1).then_some(1))
    }

    pub(crate) fn name(&self, index: ProtocolIndex) -> &str {
        self.entries[index].name()
    }

    pub(crate) fn streams_fragments(&self, index: ProtocolIndex) -> bool {
        self.entries[index].streams_fragments()
    }

    pub(crate) fn compresses(&self, index: ProtocolIndex) -> bool {
        self.entries[index].compresses()
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn new_session(&mut self, index: ProtocolIndex) -> Box<dyn Any> {
        self.entries[index].new_session()
    }

    /// Deliver `event` to protocol `index`. A panic in the callback (a bug in the protocol) is
    /// caught here and logged with the protocol's name; the caller decides what it costs (the
    /// one connection, or startup for `ProtocolInit`). The protocol value itself is kept, as
    /// it was when the panic unwound.
    pub(crate) fn dispatch(
        &mut self,
        index: ProtocolIndex,
        cx: &mut Context<'_>,
        session: Option<&mut dyn Any>,
        event: Event<'_>,
    ) -> Result<Outcome, Panicked> {
        let what = event.name();
        let entry = &mut self.entries[index];
        let call = AssertUnwindSafe(|| entry.dispatch(cx, session, event));
        let panic = match IN_CALLBACK.with(|flag| {
            flag.set(true);
            let result = panic::catch_unwind(call);
            flag.set(false);
            result
        }) {
            Ok(outcome) => return Ok(outcome),
            Err(panic) => panic,
        };
        let message = panic
            .downcast_ref::<&str>()
            .map(|text| text.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(not a string)".into());
        let protocol = self.entries[index].name().to_owned();
        error!("protocol {protocol:?} panicked in {what}: {message}");
        Err(Panicked { protocol, message })
    }
}

thread_local! {
    static IN_CALLBACK: Cell<bool> = const { Cell::new(false) };
}

/// True while a protocol callback runs on this thread: for a panic hook that leaves the
/// report to wsloop (which logs the protocol's name and the message once, then closes that
/// one connection) instead of printing it a second time.
pub fn in_protocol_callback() -> bool {
    IN_CALLBACK.with(Cell::get)
}

/// A protocol callback panicked (already logged).
#[derive(Debug, Clone)]
pub(crate) struct Panicked {
    pub protocol: String,
    pub message: String,
}

/// A reason without its session: what the loop knows before the erased entry adds the typed
/// session back.
#[derive(Debug)]
pub(crate) enum Event<'a> {
    Init,
    Destroy,
    ProtocolTimer(TimerId),
    Http(&'a Request),
    HttpBody(&'a Request, &'a [u8]),
    HttpBodyDone(&'a Request),
    Filter(&'a Request),
    Established,
    Receive(Message),
    Fragment(Fragment),
    Pong(Bytes),
    Writeable,
    Timer,
    PeerClose(Option<CloseCode>, &'a str),
    Closed(CloseCode),
}

impl Event<'_> {
    /// The reason's name, as libwebsockets' users know it, for logs.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Event::Init => "ProtocolInit",
            Event::Destroy => "ProtocolDestroy",
            Event::ProtocolTimer(_) => "ProtocolTimer",
            Event::Http(_) => "Http",
            Event::HttpBody(..) => "HttpBody",
            Event::HttpBodyDone(_) => "HttpBodyCompletion",
            Event::Filter(_) => "FilterProtocolConnection",
            Event::Established => "Established",
            Event::Receive(_) => "Receive",
            Event::Fragment(_) => "ReceiveFragment",
            Event::Pong(_) => "ReceivePong",
            Event::Writeable => "ServerWriteable",
            Event::Timer => "Timer",
            Event::PeerClose(..) => "PeerInitiatedClose",
            Event::Closed(_) => "Closed",
        }
    }
}

trait ErasedProtocol {
    fn name(&self) -> &str;
    fn streams_fragments(&self) -> bool;
    fn compresses(&self) -> bool;
    fn new_session(&mut self) -> Box<dyn Any>;
    fn dispatch(
        &mut self,
        cx: &mut Context<'_>,
        session: Option<&mut dyn Any>,
        event: Event<'_>,
    ) -> Outcome;
}

impl<P: Protocol> ErasedProtocol for P {
    fn name(&self) -> &str {
        Protocol::name(self)
    }

    fn streams_fragments(&self) -> bool {
        Protocol::streams_fragments(self)
    }

    fn compresses(&self) -> bool {
        Protocol::compresses(self)
    }

    fn new_session(&mut self) -> Box<dyn Any> {
        Box::new(Protocol::new_session(self))
    }

    fn dispatch(
        &mut self,
        cx: &mut Context<'_>,
        session: Option<&mut dyn Any>,
        event: Event<'_>,
    ) -> Outcome {
        let session = session.and_then(|session| session.downcast_mut::<P::Session>());
        let reason = match (event, session) {
            (Event::Init, _) => Reason::ProtocolInit,
            (Event::Destroy, _) => Reason::ProtocolDestroy,
            (Event::ProtocolTimer(timer), _) => Reason::ProtocolTimer { timer },
            (Event::Http(request), _) => Reason::Http { request },
            (Event::HttpBody(request, data), Some(session)) => Reason::HttpBody {
                session,
                request,
                data,
            },
            (Event::HttpBodyDone(request), Some(session)) => {
                Reason::HttpBodyCompletion { session, request }
            }
            (Event::Filter(request), Some(session)) => {
                Reason::FilterProtocolConnection { session, request }
            }
            (Event::Established, Some(session)) => Reason::Established { session },
            (Event::Receive(message), Some(session)) => Reason::Receive { session, message },
            (Event::Fragment(fragment), Some(session)) => {
                Reason::ReceiveFragment { session, fragment }
            }
            (Event::Pong(payload), Some(session)) => Reason::ReceivePong { session, payload },
            (Event::Writeable, Some(session)) => Reason::ServerWriteable { session },
            (Event::Timer, Some(session)) => Reason::Timer { session },
            (Event::PeerClose(code, reason), Some(session)) => Reason::PeerInitiatedClose {
                session,
                code,
                reason,
            },
            (Event::Closed(code), Some(session)) => Reason::Closed { session, code },
            (event, None) => {
                error!(
                    "bug: {event:?} for protocol {:?} without its session",
                    self.name()
                );
                return Outcome::Continue;
            }
        };
        self.callback(cx, reason)
    }
}

/// The default HTTP entry (libwebsockets' "http-only"): no custom responses, so every plain
/// HTTP request falls through to the static files.
#[derive(Debug, Default)]
pub struct HttpOnly;

impl Protocol for HttpOnly {
    type Session = ();

    fn name(&self) -> &str {
        "http-only"
    }

    fn new_session(&mut self) {}

    fn callback(&mut self, _cx: &mut Context<'_>, _reason: Reason<'_, ()>) -> Outcome {
        Outcome::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::{Echo, Reverse};

    #[test]
    fn debug_names_the_protocols_and_the_default() {
        let table = ProtocolTable::new()
            .with_protocol(Reverse::default())
            .with_protocol(Echo)
            .with_default("echo");
        assert_eq!(
            format!("{table:?}"),
            "ProtocolTable { http: \"http-only\", \
             websocket: [\"dumb-increment-protocol\", \"echo\"], default: Some(\"echo\"), \
             duplicates: [] }"
        );
    }

    #[test]
    fn a_name_added_twice_is_kept_once_and_reported() {
        let table = ProtocolTable::new()
            .with_protocol(Echo)
            .with_protocol(Reverse::default())
            .with_protocol(Echo)
            .with_protocol(Reverse::default())
            .with_protocol(Echo);
        assert_eq!(table.websocket_names(), ["echo", "dumb-increment-protocol"]);
        assert_eq!(
            table.validate(),
            Err(
                "protocols \"echo\", \"dumb-increment-protocol\" are in the table more than once"
                    .to_owned()
            )
        );
        assert_eq!(ProtocolTable::new().with_protocol(Echo).validate(), Ok(()));
    }
}
