//! The server through real sockets: its Debug form, and the deadline heap under churn.

use super::*;

#[test]
fn debug_shows_address_protocols_and_load() {
    let addr = "127.0.0.1:0".parse().unwrap();
    let server = Server::bind(addr, Config::default(), crate::demo::table()).unwrap();
    let debug = format!("{server:?}");
    let expected = format!(
        "Server {{ local_addr: {}, protocols: {:?}, serves_files: false, tls: false, \
         connections: 0, tokens: None, shutting_down: false, .. }}",
        server.local_addr(),
        server.protocol_names()
    );
    assert_eq!(debug, expected);
}

/// One WebSocket from open to a clean close, by hand over a blocking socket.
fn open_and_close(addr: SocketAddr) {
    use std::io::{Read, Write};
    let mut socket = std::net::TcpStream::connect(addr).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    socket
        .write_all(
            b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        )
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") {
        socket.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "{head:?}");
    // A masked close frame (zero mask), then everything until the server's FIN.
    socket.write_all(&[0x88, 0x80, 0, 0, 0, 0]).unwrap();
    let mut rest = Vec::new();
    socket.read_to_end(&mut rest).unwrap();
    assert_eq!(rest.first(), Some(&0x88), "the server's close frame");
}

#[test]
fn the_deadline_heap_stays_small_while_connections_come_and_go() {
    let addr = "127.0.0.1:0".parse().unwrap();
    let mut server = Server::bind(addr, Config::default(), crate::demo::table()).unwrap();
    let mut poll = mio::Poll::new().unwrap();
    server.attach(&poll, None).unwrap();
    let addr = server.local_addr();
    // Each leaves two entries (head timeout, close timeout), none due for seconds.
    let connections = 3 * stale_sweep::SWEEP_FLOOR;
    let client = std::thread::spawn(move || (0..connections).for_each(|_| open_and_close(addr)));
    let mut events = mio::Events::with_capacity(64);
    let mut largest_heap = 0;
    let give_up = Instant::now() + Duration::from_secs(120);
    while !client.is_finished() && Instant::now() < give_up {
        poll.poll(&mut events, Some(Duration::from_millis(10)))
            .unwrap();
        for event in events.iter() {
            assert!(server.owns_token(event.token()));
            server.handle_event(event);
        }
        server.handle_timeouts();
        largest_heap = largest_heap.max(server.deadlines.len());
    }
    client
        .join()
        .expect("every connection opened and closed cleanly");
    assert!(
        largest_heap <= stale_sweep::SWEEP_FLOOR,
        "{largest_heap} entries for at most a few connections at a time"
    );
}
