//! The floor: a mio loop that upgrades, then answers each client frame with a pre-built
//! server frame of the same opcode and length (payload bytes are not computed). The upper
//! bound for any WebSocket server on this machine. `peer-floor --port N` (0 = any).

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use slab::Slab;
use std::collections::HashMap;
use std::io::{self, Read, Write};

const LISTENER: Token = Token(usize::MAX);

#[derive(Default)]
struct Conn {
    open: bool,
    head: Vec<u8>,
    hdr: [u8; 14],
    hdr_len: usize,
    /// Payload bytes of the current frame still to skip (mask key included in the header).
    skip: u64,
    out: Vec<u8>,
    closing: bool,
}

struct Cached {
    frames: HashMap<(u8, u64), Vec<u8>>,
}

impl Cached {
    fn frame(&mut self, opcode: u8, len: u64) -> &[u8] {
        self.frames.entry((opcode, len)).or_insert_with(|| {
            let mut f = vec![0x80 | opcode];
            if len < 126 {
                f.push(len as u8);
            } else if len <= 0xffff {
                f.push(126);
                f.extend_from_slice(&(len as u16).to_be_bytes());
            } else {
                f.push(127);
                f.extend_from_slice(&len.to_be_bytes());
            }
            f.resize(f.len() + len as usize, b'x');
            f
        })
    }
}

fn handshake(head: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(head).ok()?;
    let mut key = None;
    let mut protocol = None;
    for line in text.split("\r\n").skip(1) {
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if name.eq_ignore_ascii_case("sec-websocket-key") {
            key = Some(value.trim());
        } else if name.eq_ignore_ascii_case("sec-websocket-protocol") {
            protocol = value.split(',').next().map(str::trim);
        }
    }
    let accept = tungstenite::handshake::derive_accept_key(key?.as_bytes());
    let mut resp = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n"
    );
    if let Some(p) = protocol {
        resp.push_str(&format!("Sec-WebSocket-Protocol: {p}\r\n"));
    }
    resp.push_str("\r\n");
    Some(resp.into_bytes())
}

/// Walk the client frames in `data`, appending a reply for each data frame to `out`.
fn frames(conn: &mut Conn, mut data: &[u8], cache: &mut Cached) {
    while !data.is_empty() {
        if conn.skip > 0 {
            let n = conn.skip.min(data.len() as u64);
            conn.skip -= n;
            data = &data[n as usize..];
            continue;
        }
        let need = if conn.hdr_len < 2 {
            2
        } else {
            2 + 4
                + match conn.hdr[1] & 0x7f {
                    126 => 2,
                    127 => 8,
                    _ => 0,
                }
        };
        if conn.hdr_len < need {
            let take = (need - conn.hdr_len).min(data.len());
            conn.hdr[conn.hdr_len..conn.hdr_len + take].copy_from_slice(&data[..take]);
            conn.hdr_len += take;
            data = &data[take..];
            if conn.hdr_len < need || need == 2 {
                continue;
            }
        }
        let opcode = conn.hdr[0] & 0x0f;
        let len = match conn.hdr[1] & 0x7f {
            126 => u16::from_be_bytes([conn.hdr[2], conn.hdr[3]]) as u64,
            127 => u64::from_be_bytes(conn.hdr[2..10].try_into().unwrap()),
            n => n as u64,
        };
        conn.hdr_len = 0;
        conn.skip = len;
        match opcode {
            1 | 2 => conn.out.extend_from_slice(cache.frame(opcode, len)),
            8 => {
                conn.out.extend_from_slice(&[0x88, 0x02, 0x03, 0xe8]);
                conn.closing = true;
            }
            _ => {}
        }
    }
}

/// Returns false when the connection is done.
fn service(conn: &mut Conn, sock: &mut TcpStream, buf: &mut [u8], cache: &mut Cached) -> bool {
    loop {
        match sock.read(buf) {
            Ok(0) => return false,
            Ok(n) => {
                if conn.open {
                    frames(conn, &buf[..n], cache);
                } else {
                    conn.head.extend_from_slice(&buf[..n]);
                    if let Some(end) = conn.head.windows(4).position(|w| w == b"\r\n\r\n") {
                        let Some(resp) = handshake(&conn.head[..end + 4]) else {
                            return false;
                        };
                        let rest = conn.head.split_off(end + 4);
                        conn.head = Vec::new();
                        conn.out.extend_from_slice(&resp);
                        conn.open = true;
                        frames(conn, &rest, cache);
                    }
                }
                if n < buf.len() {
                    break;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
    while !conn.out.is_empty() {
        match sock.write(&conn.out) {
            Ok(n) => {
                conn.out.drain(..n);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
    !conn.closing
}

fn main() -> io::Result<()> {
    let mut port = 0u16;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--port" {
            port = args.next().and_then(|v| v.parse().ok()).expect("--port N");
        }
    }
    let mut listener = TcpListener::bind(([127, 0, 0, 1], port).into())?;
    println!("listening on http://{}/", listener.local_addr()?);
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut events = Events::with_capacity(1024);
    let mut conns: Slab<(TcpStream, Conn)> = Slab::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut cache = Cached {
        frames: HashMap::new(),
    };
    loop {
        if let Err(e) = poll.poll(&mut events, None) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        for event in events.iter() {
            if event.token() == LISTENER {
                loop {
                    match listener.accept() {
                        Ok((mut sock, _)) => {
                            let _ = sock.set_nodelay(true);
                            let entry = conns.vacant_entry();
                            poll.registry().register(
                                &mut sock,
                                Token(entry.key()),
                                Interest::READABLE | Interest::WRITABLE,
                            )?;
                            entry.insert((sock, Conn::default()));
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => {
                            eprintln!("accept: {e}");
                            break;
                        }
                    }
                }
                continue;
            }
            let key = event.token().0;
            let Some((sock, conn)) = conns.get_mut(key) else {
                continue;
            };
            if !service(conn, sock, &mut buf, &mut cache) {
                let (mut sock, _) = conns.remove(key);
                let _ = poll.registry().deregister(&mut sock);
            }
        }
    }
}
