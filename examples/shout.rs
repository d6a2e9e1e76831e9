//! A minimal wsloop server with a protocol of its own: `shout` answers every text message in
//! upper case and counts, per connection, how many it answered.
//!
//! Run: `cargo run --example shout`, then
//! `websocat --protocol shout ws://127.0.0.1:9001/` and type a line.

use wsloop::{Config, Context, Message, Outcome, Protocol, ProtocolTable, Reason, Server};

/// Upper-cases text; refuses binary with close code 1003.
struct Shout;

impl Protocol for Shout {
    /// Messages answered on this connection.
    type Session = u64;

    fn name(&self) -> &str {
        "shout"
    }

    fn new_session(&mut self) -> u64 {
        0
    }

    fn callback(&mut self, cx: &mut Context<'_>, reason: Reason<'_, u64>) -> Outcome {
        match reason {
            Reason::Receive {
                session,
                message: Message::Text(text),
            } => {
                *session += 1;
                let _ = cx.send_text(text.to_uppercase());
                Outcome::Continue
            }
            Reason::Receive { .. } => {
                Outcome::close(wsloop::CloseCode::Unsupported, "text only, please")
            }
            Reason::Closed { session, .. } => {
                println!("a client left after {session} messages");
                Outcome::Continue
            }
            _ => Outcome::Continue,
        }
    }
}

fn main() -> std::io::Result<()> {
    env_logger::init();
    let table = ProtocolTable::new().with_protocol(Shout);
    let addr = "127.0.0.1:9001".parse().expect("valid address");
    let server = Server::bind(addr, Config::default(), table)?;
    println!(
        "listening on ws://{}/ (protocol shout)",
        server.local_addr()
    );
    server.run()
}
