//! A handle other threads use to ask the loop to do something — send to a connection,
//! broadcast to a protocol, shut down, reload the TLS certificate — through the one `Waker` of the `Poll` the server runs
//! in (the host's when embedded; wsloop's own in `Server::run`).

use crate::connection_id::ConnectionId;
use crate::protocol::Message;
use crate::topics::Publication;
use mio::Waker;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// What another thread asked for; carried out by the loop in `Server::handle_timeouts`.
#[derive(Debug)]
pub(crate) enum Command {
    Send(ConnectionId, Message),
    Broadcast(String, Message),
    Publish(Publication),
    Shutdown,
    /// Read the TLS certificate and key files again (`Server::reload_tls`).
    #[cfg(feature = "tls")]
    ReloadTls,
    /// Serve new handshakes with this config (`Server::set_tls_config`).
    #[cfg(feature = "tls")]
    SetTlsConfig(Arc<rustls::ServerConfig>),
    ShutdownNow,
}

/// The state a [`ServerHandle`] shares with its server.
#[derive(Debug)]
pub(crate) struct Shared {
    commands: Mutex<Vec<Command>>,
    /// `max_handle_requests`: a full queue refuses further requests.
    capacity: usize,
    /// `max_topic_bytes`, checked before a publication is framed.
    max_topic_bytes: usize,
    waker: Mutex<Option<Arc<Waker>>>,
    stopped: AtomicBool,
}

impl Shared {
    pub fn new(capacity: usize, max_topic_bytes: usize) -> Self {
        Shared {
            commands: Mutex::default(),
            capacity,
            max_topic_bytes,
            waker: Mutex::default(),
            stopped: AtomicBool::new(false),
        }
    }

    pub fn set_waker(&self, waker: Arc<Waker>) {
        *self.waker.lock().unwrap_or_else(PoisonError::into_inner) = Some(waker);
    }

    pub fn waker(&self) -> Option<Arc<Waker>> {
        self.waker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn take_commands(&self) -> Vec<Command> {
        std::mem::take(&mut *self.commands.lock().unwrap_or_else(PoisonError::into_inner))
    }

    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
    }
}

/// Why a [`ServerHandle`] request was refused (nothing was queued).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandleError {
    /// `max_handle_requests` requests already wait for the loop: it is falling behind. The
    /// request may succeed once the loop has picked those up.
    QueueFull,
    /// The server is gone (dropped); no request will be carried out again.
    Stopped,
    /// A topic name longer than `max_topic_bytes`.
    TopicNameTooLong,
}

impl fmt::Display for HandleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HandleError::QueueFull => {
                "the server's request queue is full (max_handle_requests requests wait)"
            }
            HandleError::Stopped => "the server has stopped",
            HandleError::TopicNameTooLong => "the topic name is longer than max_topic_bytes",
        })
    }
}

impl std::error::Error for HandleError {}

/// Asks a server, from any thread, to act. Cheap to clone; every call fails with
/// [`HandleError::Stopped`] once the server is gone, and with [`HandleError::QueueFull`] while
/// `max_handle_requests` requests already wait for the loop. `Ok` means queued, not done.
///
/// The loop picks requests up on its next tick: the handle wakes it through the `Waker` given
/// to [`Server::set_waker`](crate::Server::set_waker) (or `Server::run`'s own).
#[derive(Debug, Clone)]
pub struct ServerHandle {
    shared: Arc<Shared>,
}

impl ServerHandle {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        ServerHandle { shared }
    }

    /// Send `message` to one connection (ignored if it is not an open WebSocket by then).
    pub fn send(&self, to: ConnectionId, message: impl Into<Message>) -> Result<(), HandleError> {
        self.push(Command::Send(to, message.into()))
    }

    /// Send `message` to every open connection of `protocol`.
    pub fn broadcast(
        &self,
        protocol: &str,
        message: impl Into<Message>,
    ) -> Result<(), HandleError> {
        self.push(Command::Broadcast(protocol.to_owned(), message.into()))
    }

    /// Publish `message` to every subscriber of `topic` (see
    /// [`Context::publish`](crate::Context::publish)); it is framed here, on the caller's
    /// thread. [`HandleError::TopicNameTooLong`] past `max_topic_bytes`.
    pub fn publish(
        &self,
        topic: impl AsRef<[u8]>,
        message: impl Into<Message>,
    ) -> Result<(), HandleError> {
        let topic = topic.as_ref();
        if topic.len() > self.shared.max_topic_bytes {
            return Err(HandleError::TopicNameTooLong);
        }
        let topic = bytes::Bytes::copy_from_slice(topic);
        self.push(Command::Publish(Publication::new(topic, &message.into())))
    }

    /// Begin a graceful shutdown, as SIGTERM does.
    pub fn shutdown(&self) -> Result<(), HandleError> {
        self.push(Command::Shutdown)
    }

    /// Read the TLS certificate and key files again, as SIGHUP does (`Server::reload_tls`):
    /// new handshakes present the new certificate; a reload that fails is logged as a warning
    /// and keeps the old one.
    #[cfg(feature = "tls")]
    pub fn reload_tls(&self) -> Result<(), HandleError> {
        self.push(Command::ReloadTls)
    }

    /// Serve new handshakes with `config` from now on (`Server::set_tls_config`; open
    /// connections keep theirs). What the first of several loops does on SIGHUP for the others.
    #[cfg(feature = "tls")]
    pub fn set_tls_config(&self, config: Arc<rustls::ServerConfig>) -> Result<(), HandleError> {
        self.push(Command::SetTlsConfig(config))
    }

    /// Drop every connection now, as a second SIGTERM does.
    pub fn shutdown_now(&self) -> Result<(), HandleError> {
        self.push(Command::ShutdownNow)
    }

    fn push(&self, command: Command) -> Result<(), HandleError> {
        if self.shared.stopped.load(Ordering::Acquire) {
            return Err(HandleError::Stopped);
        }
        {
            let mut commands = self
                .shared
                .commands
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if commands.len() >= self.shared.capacity {
                return Err(HandleError::QueueFull);
            }
            commands.push(command);
        }
        let waker = self
            .shared
            .waker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(waker) = waker {
            // A failed wake only delays the command to the loop's next tick.
            let _ = waker.wake();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_refuses_and_a_stopped_server_refuses_everything() {
        let shared = Arc::new(Shared::new(2, 8));
        let handle = ServerHandle::new(shared.clone());
        let id = ConnectionId::new(1, 0);
        assert_eq!(handle.send(id, "a"), Ok(()));
        assert_eq!(handle.broadcast("echo", "b"), Ok(()));
        assert_eq!(
            handle.publish("123456789", "x"),
            Err(HandleError::TopicNameTooLong)
        );
        assert_eq!(
            handle.shutdown(),
            Err(HandleError::QueueFull),
            "the third request is over max_handle_requests"
        );
        assert_eq!(shared.take_commands().len(), 2);
        assert_eq!(
            handle.shutdown(),
            Ok(()),
            "room again once the loop took them"
        );
        shared.stop();
        assert_eq!(handle.send(id, "c"), Err(HandleError::Stopped));
    }

    #[test]
    fn errors_say_why() {
        assert_eq!(HandleError::Stopped.to_string(), "the server has stopped");
        let err: Box<dyn std::error::Error> = HandleError::QueueFull.into();
        assert!(err.to_string().contains("max_handle_requests"));
    }
}
