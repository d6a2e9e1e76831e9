//! `lws-mirror-protocol`: the libwebsockets test server's shared board. Every message a client
//! sends goes to every client of the same mirror instance, the sender included, in the order
//! the server received them. A client picks its instance with the query `?mirror=NAME` on the
//! upgrade request (`ws://host/?mirror=kitchen`); without one it joins [`DEFAULT_INSTANCE`].
//!
//! Each instance stores a message once, in a [`Ring`] of [`RING_CAPACITY`] messages, and each
//! member keeps its own [`Tail`]. After a message is added every member of that instance (and
//! only of that instance: `request_writeable_for`) is asked for `ServerWriteable`, and each
//! member sends what it has not yet sent while its outgoing queue is below the soft limit.
//!
//! Flow control, as lws does it: when the ring is full because some member lags, a sender's
//! message is held in its session and the sender stops being read (`pause_reading`; TCP then
//! pushes back on it). When a member's progress frees room, every member is asked for
//! `ServerWriteable` once, and each paused sender adds its held message and resumes itself.
//! So memory stays at one ring per instance plus one held message per member, however fast
//! anyone sends.

use crate::ring::{Ring, Tail};
use crate::{ConnectionId, Context, Message, Outcome, Protocol, Reason, Sent};
use std::collections::{HashMap, VecDeque};

/// Messages an instance's ring holds.
pub const RING_CAPACITY: usize = 64;

/// The instance of clients that name none.
pub const DEFAULT_INSTANCE: &str = "default";

/// Longest instance name accepted (`?mirror=` with a longer one is refused with 400).
pub const MAX_INSTANCE_NAME: usize = 64;

/// The mirror protocol: its instances by name.
#[derive(Debug, Default)]
pub struct Mirror {
    instances: HashMap<String, Instance>,
}

/// One shared board.
#[derive(Debug)]
struct Instance {
    ring: Ring<Message>,
    /// The connections with a tail here.
    members: Vec<ConnectionId>,
    /// A push failed for lack of room; cleared (and everyone woken) when room frees.
    full: bool,
}

impl Instance {
    fn new() -> Self {
        Instance {
            ring: Ring::new(RING_CAPACITY),
            members: Vec::new(),
            full: false,
        }
    }

    /// Ask every member of this instance for `ServerWriteable`.
    fn wake_members(&self, cx: &mut Context<'_>) {
        for &member in &self.members {
            cx.request_writeable_for(member);
        }
    }
}

/// One member's state.
#[derive(Debug, Default)]
pub struct MirrorSession {
    /// The instance name, chosen in `FilterProtocolConnection`.
    instance: String,
    /// Position in the instance's ring, from `Established` to `Closed`.
    tail: Option<Tail>,
    /// Messages that found the ring full (in practice at most one: reading is paused after
    /// the first); reading resumes once they are all added.
    held: VecDeque<Message>,
}

impl Protocol for Mirror {
    type Session = MirrorSession;

    fn name(&self) -> &str {
        "lws-mirror-protocol"
    }

    fn new_session(&mut self) -> MirrorSession {
        MirrorSession::default()
    }

    fn callback(&mut self, cx: &mut Context<'_>, reason: Reason<'_, MirrorSession>) -> Outcome {
        match reason {
            Reason::FilterProtocolConnection { session, request } => {
                match instance_from_target(request.target()) {
                    Some(name) => session.instance = name.to_owned(),
                    None => return Outcome::reject(400, "bad mirror instance name"),
                }
            }
            Reason::Established { session } => {
                let instance = self
                    .instances
                    .entry(session.instance.clone())
                    .or_insert_with(Instance::new);
                instance.members.extend(cx.connection_id());
                session.tail = Some(instance.ring.add_tail());
            }
            Reason::Receive { session, message } => self.receive(cx, session, message),
            Reason::ServerWriteable { session } => self.writeable(cx, session),
            Reason::Closed { session, .. } => self.leave(cx, session),
            _ => {}
        }
        Outcome::Continue
    }
}

impl Mirror {
    fn receive(&mut self, cx: &mut Context<'_>, session: &mut MirrorSession, message: Message) {
        let Some(instance) = self.instances.get_mut(&session.instance) else {
            return;
        };
        if !session.held.is_empty() {
            // Already waiting for room: keep the order.
            session.held.push_back(message);
            return;
        }
        match instance.ring.push(message) {
            Ok(()) => instance.wake_members(cx),
            Err(message) => {
                instance.full = true;
                session.held.push_back(message);
                cx.pause_reading();
            }
        }
    }

    fn writeable(&mut self, cx: &mut Context<'_>, session: &mut MirrorSession) {
        let Some(instance) = self.instances.get_mut(&session.instance) else {
            return;
        };
        let Some(tail) = session.tail.as_ref() else {
            return;
        };
        // 1. Send this member what it has not had yet, until its queue is congested.
        while let Some(message) = instance.ring.peek(tail) {
            let sent = cx.send(message.clone());
            instance.ring.advance(tail);
            match sent {
                Ok(Sent::Flowing) => {}
                Ok(Sent::Congested) => {
                    if instance.ring.pending(tail) > 0 {
                        cx.request_writeable();
                    }
                    break;
                }
                // Closing (QueueFull closes with 1008): Closed removes the tail.
                Err(_) => return,
            }
        }
        // 2. A paused sender adds its held messages as room allows, and reads again.
        if !session.held.is_empty() {
            while instance.ring.has_room() {
                let Some(message) = session.held.pop_front() else {
                    break;
                };
                let _ = instance.ring.push(message);
                instance.wake_members(cx);
            }
            if session.held.is_empty() {
                cx.resume_reading();
            }
        }
        // 3. Room freed after a push failed: wake everyone once so paused senders get a turn.
        if instance.full && instance.ring.has_room() {
            instance.full = false;
            instance.wake_members(cx);
        } else if !session.held.is_empty() {
            // Still no room: whoever frees it wakes us (step 3 on their side).
            instance.full = true;
        }
    }

    fn leave(&mut self, cx: &mut Context<'_>, session: &mut MirrorSession) {
        let Some(instance) = self.instances.get_mut(&session.instance) else {
            return;
        };
        if let Some(tail) = session.tail.take() {
            instance.ring.remove_tail(tail);
            let id = cx.connection_id();
            instance.members.retain(|member| Some(*member) != id);
        }
        session.held.clear();
        if instance.members.is_empty() {
            self.instances.remove(&session.instance);
        } else if instance.full && instance.ring.has_room() {
            // The laggard left: paused senders can go on.
            instance.full = false;
            instance.wake_members(cx);
        }
    }
}

/// The instance a request-target names: `mirror=NAME` in the query, else the default.
/// `None` for a name that is empty, too long, or not made of `[A-Za-z0-9._-]`.
fn instance_from_target(target: &str) -> Option<&str> {
    let query = target.split_once('?').map_or("", |(_, query)| query);
    let query = query.split('#').next().unwrap_or_default();
    let Some(name) = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("mirror="))
    else {
        return Some(DEFAULT_INSTANCE);
    };
    let valid = !name.is_empty()
        && name.len() <= MAX_INSTANCE_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    valid.then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_names_come_from_the_query() {
        assert_eq!(instance_from_target("/"), Some(DEFAULT_INSTANCE));
        assert_eq!(instance_from_target("/?x=1"), Some(DEFAULT_INSTANCE));
        assert_eq!(instance_from_target("/?mirror=a"), Some("a"));
        assert_eq!(
            instance_from_target("/x?y=2&mirror=b-1.c_d"),
            Some("b-1.c_d")
        );
        assert_eq!(instance_from_target("/?mirror=a#frag"), Some("a"));
        assert_eq!(instance_from_target("/?mirror="), None);
        assert_eq!(instance_from_target("/?mirror=a%20b"), None);
        assert_eq!(
            instance_from_target(&format!("/?mirror={}", "n".repeat(65))),
            None
        );
    }
}
