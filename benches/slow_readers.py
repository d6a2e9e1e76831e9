#!/usr/bin/env python3
"""Server memory while slow clients download one large static file (issue 13).

Starts a server on a free port over a temporary www holding one file, fetches it once whole
(warm-up: page cache, the server's buffers), then starts READERS clients that each read the
first MiB slowly and stop; while all are stalled mid-transfer the server's RSS is sampled;
then they read the rest and every length is checked. Prints RSS before, the peak during and
after, in KiB.

    python3 benches/slow_readers.py -- target/release/wsloop --port {port} --www {www}
    python3 benches/slow_readers.py --nginx
    python3 benches/slow_readers.py --size-mib 24 --readers 20 -- /tmp/old-wsloop --port {port} --www {www}

{port}, {www} and {run} (a scratch folder) are filled in. tests/http_large_files.rs asserts
the same figure for wsloop in CI; this script compares it with other builds and with nginx.
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRST_PART = 1 << 20


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, within=10.0):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port} after {within} s")


def download(port, size, pause=None):
    """GET /big.bin; with `pause` (paused-counter, lock, go-event), stop after FIRST_PART."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("closed before the head")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(head.decode(errors="replace"))
    got = len(body)
    while pause and got < FIRST_PART:
        chunk = sock.recv(16384)
        got += len(chunk)
        time.sleep(0.002)
    if pause:
        counter, lock, go = pause
        with lock:
            counter[0] += 1
        go.wait(60)
    while True:
        chunk = sock.recv(1 << 20)
        if not chunk:
            break
        got += len(chunk)
    sock.close()
    if got != size:
        raise RuntimeError(f"got {got} of {size} bytes")
    return got


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument("--size-mib", type=int, default=24)
    parser.add_argument("--nginx", action="store_true", help="run nginx (benches/peers/nginx)")
    parser.add_argument("command", nargs="*", help="server command line")
    args = parser.parse_args()
    size = args.size_mib << 20
    run = tempfile.mkdtemp(prefix="slow-readers-")
    www = os.path.join(run, "www")
    os.mkdir(www)
    with open(os.path.join(www, "big.bin"), "wb") as f:
        f.write(bytes(i % 251 for i in range(251)) * (size // 251) + b"x" * (size % 251))
    port = free_port()
    if args.nginx:
        with open(os.path.join(REPO, "benches/peers/nginx/nginx.conf.in")) as template:
            conf = template.read()
        conf = conf.replace("@PORT@", str(port)).replace("@WWW@", www).replace("@RUN@", run)
        with open(os.path.join(run, "nginx.conf"), "w") as f:
            f.write(conf)
        command = ["/usr/sbin/nginx", "-c", os.path.join(run, "nginx.conf"), "-e",
                   os.path.join(run, "nginx-error.log")]
    else:
        command = [part.format(port=port, www=www, run=run) for part in args.command]
    env = dict(os.environ, RUST_LOG="warn")
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    try:
        wait_listening(port)
        download(port, size)
        before = rss_kib(server.pid)
        counter, lock, go = [0], threading.Lock(), threading.Event()
        errors = []

        def reader():
            try:
                download(port, size, (counter, lock, go))
            except Exception as err:  # reported below
                errors.append(err)

        threads = [threading.Thread(target=reader) for _ in range(args.readers)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while counter[0] < args.readers and not errors and time.monotonic() < deadline:
            time.sleep(0.02)
        peak = 0
        for _ in range(10):
            peak = max(peak, rss_kib(server.pid))
            time.sleep(0.05)
        go.set()
        for t in threads:
            t.join()
        after = rss_kib(server.pid)
        if errors:
            raise errors[0]
        name = "nginx" if args.nginx else os.path.basename(command[0])
        print(f"{name}: {args.readers} readers of {args.size_mib} MiB: RSS {before} KiB before, "
              f"{peak} KiB peak (+{peak - before} KiB), {after} KiB after")
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    sys.exit(main())
