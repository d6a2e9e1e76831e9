//! Protocol timers (`Context::set_protocol_timer`), in-process with a test-only protocol: a
//! periodic timer started in `ProtocolInit` ticks a counter, and each tick reaches every
//! connection through `request_writeable_all` + `ServerWriteable`. `stop` cancels the timer
//! and the ticks stop. `ProtocolTimer` comes without a connection, and a one-shot timer fires
//! exactly once.

mod support;

use std::io::ErrorKind;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::inproc::InProcess;
use support::ws::{try_connect, Client};
use tungstenite::Message;
use wsloop::{Config, Context, Outcome, Protocol, ProtocolTable, Reason, SendError, TimerId};

const PERIOD: Duration = Duration::from_millis(30);

/// What the protocol saw, for the test to check.
#[derive(Debug, Default)]
struct Seen {
    /// Problems noticed inside callbacks (a test can't panic in the server's thread usefully).
    problems: Vec<String>,
    one_shot_fired: u32,
}

struct Ticker {
    periodic: Option<TimerId>,
    one_shot: Option<TimerId>,
    tick: u64,
    seen: Arc<Mutex<Seen>>,
}

/// The last tick this connection was sent.
type Sent = u64;

impl Protocol for Ticker {
    type Session = Sent;
    fn name(&self) -> &str {
        "ticker"
    }
    fn new_session(&mut self) -> Sent {
        0
    }
    fn callback(&mut self, cx: &mut Context<'_>, reason: Reason<'_, Sent>) -> Outcome {
        let mut seen = self.seen.lock().unwrap();
        match reason {
            Reason::ProtocolInit => {
                self.periodic = Some(cx.set_protocol_timer(PERIOD, Some(PERIOD)));
                self.one_shot = Some(cx.set_protocol_timer(Duration::from_millis(10), None));
            }
            Reason::ProtocolTimer { timer } => {
                if cx.connection_id().is_some() {
                    seen.problems
                        .push("ProtocolTimer came with a connection".into());
                }
                if cx.send_text("nobody") != Err(SendError::NoConnection) {
                    seen.problems
                        .push("send in ProtocolTimer was not NoConnection".into());
                }
                if Some(timer) == self.one_shot {
                    seen.one_shot_fired += 1;
                } else if Some(timer) == self.periodic {
                    self.tick += 1;
                    cx.request_writeable_all();
                } else {
                    seen.problems
                        .push(format!("unknown or cancelled timer {timer:?}"));
                }
            }
            Reason::Established { session } => *session = self.tick,
            Reason::ServerWriteable { session } if *session < self.tick => {
                *session = self.tick;
                let _ = cx.send_text(format!("tick {}", self.tick));
            }
            Reason::Receive { session, message } if message == "stop".into() => {
                if let Some(timer) = self.periodic.take() {
                    cx.cancel_protocol_timer(timer);
                }
                *session = self.tick;
                let _ = cx.send_text(format!("stopped {}", self.tick));
            }
            _ => {}
        }
        Outcome::Continue
    }
}

fn connect(server: &InProcess) -> Client {
    try_connect(server.addr, &["ticker"])
        .unwrap_or_else(|e| panic!("connect: {e}"))
        .0
}

/// The next text message, parsed as `"<word> <n>"`.
fn next(ws: &mut Client) -> (String, u64) {
    loop {
        match ws.read() {
            Ok(Message::Text(text)) => {
                let (word, n) = text.split_once(' ').expect("word and number");
                return (word.to_owned(), n.parse().expect("a number"));
            }
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            other => panic!("expected a text message, got {other:?}"),
        }
    }
}

/// Ticks that arrive within `quiet`; stops at the first silence of that length.
fn drain_ticks(ws: &mut Client, quiet: Duration) -> Vec<u64> {
    ws.get_mut().set_read_timeout(Some(quiet)).unwrap();
    let mut ticks = Vec::new();
    loop {
        match ws.read() {
            Ok(Message::Text(text)) => ticks.push(
                text.strip_prefix("tick ")
                    .unwrap_or_else(|| panic!("unexpected {text:?}"))
                    .parse()
                    .unwrap(),
            ),
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
            {
                return ticks
            }
            Err(e) => panic!("while draining ticks: {e}"),
        }
    }
}

#[test]
fn a_periodic_protocol_timer_ticks_every_connection_until_cancelled() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let server = {
        let seen = Arc::clone(&seen);
        InProcess::start(Config::default(), move || {
            ProtocolTable::new().with_protocol(Ticker {
                periodic: None,
                one_shot: None,
                tick: 0,
                seen,
            })
        })
    };
    let mut first = connect(&server);
    let mut second = connect(&server);

    // Five ticks on each connection, rising, one period or more apart.
    let started = Instant::now();
    let ticks: Vec<u64> = (0..5).map(|_| next(&mut first)).map(|(_, n)| n).collect();
    let elapsed = started.elapsed();
    assert!(ticks.windows(2).all(|w| w[0] < w[1]), "ticks {ticks:?}");
    let spread = ticks[4] - ticks[0];
    assert!(
        elapsed >= PERIOD * (spread as u32 - 1),
        "ticks {ticks:?} came in {elapsed:?}: faster than one per {PERIOD:?}"
    );
    let other: Vec<u64> = (0..5).map(|_| next(&mut second)).map(|(_, n)| n).collect();
    assert!(other.windows(2).all(|w| w[0] < w[1]), "ticks {other:?}");

    // Cancel: the reply names the last tick; nothing later arrives on either connection
    // (a quiet spell of several periods is how "no more ticks" shows).
    first.send(Message::text("stop")).unwrap();
    let last = loop {
        match next(&mut first) {
            (word, n) if word == "stopped" => break n,
            (_, n) => assert!(n >= ticks[4]),
        }
    };
    let quiet = PERIOD * 10;
    assert_eq!(
        drain_ticks(&mut first, quiet),
        Vec::<u64>::new(),
        "ticks after stop"
    );
    let late = drain_ticks(&mut second, quiet);
    assert!(
        late.iter().all(|&n| n <= last),
        "second connection got ticks {late:?} after the timer was cancelled at {last}"
    );

    let seen = seen.lock().unwrap();
    assert_eq!(seen.problems, Vec::<String>::new());
    assert_eq!(seen.one_shot_fired, 1, "the one-shot timer");
}
