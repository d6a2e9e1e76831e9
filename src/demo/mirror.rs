//! `lws-mirror-protocol`: the libwebsockets test server's shared board. Every message a client
//! sends goes to every client of the same mirror instance, the sender included, in one order.
//! A client picks its instance with the query `?mirror=NAME` on the upgrade request
//! (`ws://host/?mirror=kitchen`); without one it joins [`DEFAULT_INSTANCE`].
//!
//! Built on topics: instance NAME is the topic `mirror/NAME`. A member subscribes when it is
//! established and publishes every message it receives; the topic's one order (across loops
//! too, see [`Bus`](crate::Bus)) is the board's order, and the message is framed once for all
//! members. A member too slow to keep up is closed with 1008 "subscriber too slow"
//! (`max_subscriber_backlog`) instead of pausing the senders, who may be on another loop.
//! ([`Ring`](crate::ring::Ring) remains for protocols that want lws' pausing model.)

use crate::{Context, Outcome, Protocol, Reason};

/// The instance of clients that name none.
pub const DEFAULT_INSTANCE: &str = "default";

/// The topic prefix of mirror instances: instance NAME is topic `mirror/NAME`.
pub const TOPIC_PREFIX: &str = "mirror/";

/// Longest instance name accepted (`?mirror=` with a longer one is refused with 400).
pub const MAX_INSTANCE_NAME: usize = 64;

/// The mirror protocol. It keeps no state of its own: the loop's topic registry knows the
/// members.
#[derive(Debug, Default)]
pub struct Mirror;

/// One member's state: its instance's topic, chosen in `FilterProtocolConnection`.
#[derive(Debug, Default)]
pub struct MirrorSession {
    topic: String,
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
                    Some(name) => session.topic = format!("{TOPIC_PREFIX}{name}"),
                    None => return Outcome::reject(400, "bad mirror instance name"),
                }
            }
            Reason::Established { session } => {
                // The name fits max_topic_bytes unless a deployer set it below 71 bytes.
                if let Err(err) = cx.subscribe(&session.topic) {
                    return Outcome::close(crate::CloseCode::Error, err.to_string());
                }
            }
            Reason::Receive { session, message } => {
                let _ = cx.publish(&session.topic, message);
            }
            _ => {}
        }
        Outcome::Continue
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
