//! Checks for topic fan-out across clients (and instances): every client publishes, every
//! client must see all messages once, in one order, each sender's in the order it sent them.
#![allow(dead_code)]

use super::ws::{next_data, Client};
use tungstenite::Message;

/// The next message, which must be text.
pub fn next_text(ws: &mut Client) -> String {
    match next_data(ws) {
        Message::Text(text) => text.to_string(),
        other => panic!("expected text, got {other:?}"),
    }
}

/// Each client sends `rounds` messages `WHO:ROUND` (round by round, all clients), then reads
/// them all back; panics unless every client saw the same sequence holding each message
/// once and each sender's messages in order. Returns that sequence.
pub fn exchange_in_one_order(clients: &mut [Client], rounds: usize) -> Vec<String> {
    for round in 0..rounds {
        for (who, ws) in clients.iter_mut().enumerate() {
            ws.send(Message::text(format!("{who}:{round}"))).unwrap();
        }
    }
    let total = clients.len() * rounds;
    let seen: Vec<Vec<String>> = clients
        .iter_mut()
        .map(|ws| (0..total).map(|_| next_text(ws)).collect())
        .collect();
    for (who, other) in seen.iter().enumerate().skip(1) {
        assert_eq!(
            &seen[0], other,
            "client 0 and client {who} disagree on the order"
        );
    }
    for who in 0..clients.len() {
        let own: Vec<&String> = seen[0]
            .iter()
            .filter(|m| m.starts_with(&format!("{who}:")))
            .collect();
        let sent: Vec<String> = (0..rounds).map(|r| format!("{who}:{r}")).collect();
        assert_eq!(
            own,
            sent.iter().collect::<Vec<_>>(),
            "sender {who}: each message once, in order"
        );
    }
    seen.into_iter().next().unwrap_or_default()
}
