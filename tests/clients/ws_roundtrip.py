#!/usr/bin/env python3
"""Round-trip checks for wsloop's WebSocket subprotocols with an independent client.

    python3 ws_roundtrip.py ws://127.0.0.1:9000/ [--timeout SECONDS]
    python3 ws_roundtrip.py wss://127.0.0.1:9000/ --ca ca.crt   (TLS, trusting that CA)
    python3 ws_roundtrip.py ws://127.0.0.1:9000/ --deflate no   (a build without deflate)

Uses the Python `websockets` library's asyncio client (pip install websockets): one thread
touches each socket. Its synchronous client reads in a background thread while the caller
writes, and over TLS 1.3 that races inside OpenSSL (an SSL object is not to be used from two
threads at once): about one wss:// connection in 700 never sent its request after the
server's session tickets arrived, and waited out the open timeout.
Checks, each on a fresh connection:
  * `dumb-increment-protocol` offered: selected, text reversed by grapheme clusters (ASCII,
    Unicode incl. combining marks and flags), trailing \\n / \\r\\n kept at the end, binary
    reversed bytewise, a 1 MiB text;
  * no subprotocol offered: none selected, still reversed (the default protocol);
  * `echo` offered: selected, text and binary come back unchanged;
  * only unknown subprotocols offered: the upgrade is refused with HTTP 400;
  * `echo` with permessage-deflate (websockets' default offer): negotiated, text and binary
    of 20 B to 1 MiB (JSON-like, incompressible, repetitive) come back unchanged;
    `dumb-increment-protocol` reverses compressed messages too. With `--deflate no` (a
    server built without permessage-deflate) the offer must be declined (no
    Sec-WebSocket-Extensions in the 101) and the same messages go uncompressed.
Every wait is bounded. Prints one line per check; exits 0 when all pass, 1 on any mismatch,
2 when the server cannot be reached or talked to at all.
"""

import argparse
import asyncio
import contextlib
import random
import sys
import time

try:
    import websockets
    from websockets.exceptions import ConnectionClosed, InvalidStatus
    from websockets.asyncio.client import connect
except ImportError as exc:  # pragma: no cover - reported to the caller
    sys.exit(f"ws_roundtrip: the Python 'websockets' package (>= 13) is required: {exc}")

DUMB = "dumb-increment-protocol"
ECHO = "echo"
MIB = 1024 * 1024


class Mismatch(Exception):
    pass


def short(value, limit=120):
    """repr() of a message, cut in the middle when long, with its length."""
    r = repr(value)
    if len(r) > limit:
        r = r[: limit // 2] + " ... " + r[-limit // 2 :]
    kind = "str" if isinstance(value, str) else type(value).__name__
    return f"{r} ({kind}, len {len(value) if value is not None else 0})"


def big_text():
    """About 1 MiB (UTF-8) built from grapheme clusters whose reversal is known without a
    segmentation library: ASCII, precomposed and combining-mark letters, flag pairs."""
    units = ["a", "b", "c", "x", "y", "z", " ", "0", "9", "ñ", "ü", "é", "e\u0301",
             "n\u0303", "中", "文", "🇫🇷", "🇩🇪", "🇯🇵", "😀"]
    rng = random.Random(6455)
    out, size = [], 0
    while size < MIB:
        u = rng.choice(units)
        out.append(u)
        size += len(u.encode("utf-8"))
    return "".join(out), "".join(reversed(out))


def json_like(rng, size):
    """`size` bytes of chat-like JSON: realistic for compression, neither random nor uniform."""
    names = ["ann", "bob", "chloé", "dmitri", "eve"]
    words = ["hello", "the", "build", "is", "green", "again", "see", "you", "at", "noon", "ok"]
    out = []
    n = 0
    while n < size:
        line = ('{"id":%d,"user":"%s","text":"%s"},' %
                (rng.randrange(10 ** 6), rng.choice(names),
                 " ".join(rng.choice(words) for _ in range(rng.randrange(2, 12)))))
        out.append(line)
        n += len(line.encode("utf-8"))
    data = "".join(out).encode("utf-8")[:size]
    return data.decode("utf-8", "ignore").ljust(size, " ")[:size]


class Runner:
    def __init__(self, url, timeout, deflate=True):
        self.url = url
        self.timeout = timeout
        self.deflate = deflate
        self.ssl = None
        self.failures = []
        self.passed = 0

    def ok(self, name):
        self.passed += 1
        print(f"ok    {name}", flush=True)

    def fail(self, name, why):
        self.failures.append(name)
        print(f"FAIL  {name}: {why}", flush=True)

    async def open(self, stack, subprotocols, compression=None):
        """Connect; the connection is closed (close handshake, bounded) when `stack` exits.
        Used as a context manager so it works alike across websockets versions."""
        return await stack.enter_async_context(connect(
            self.url,
            subprotocols=subprotocols,
            open_timeout=self.timeout,
            close_timeout=self.timeout,
            ssl=self.ssl,
            max_size=4 * MIB,
            compression=compression,
        ))

    async def roundtrip(self, ws, name, sent, expected):
        try:
            await ws.send(sent)
            got = await asyncio.wait_for(ws.recv(), self.timeout)
        except (TimeoutError, asyncio.TimeoutError):
            self.fail(name, f"no reply within {self.timeout}s to {short(sent)}")
            raise Mismatch(name)
        except ConnectionClosed as exc:
            self.fail(name, f"connection closed while waiting for the reply: {exc}")
            raise Mismatch(name)
        if type(got) is not type(expected) or got != expected:
            self.fail(name, f"sent {short(sent)}\n        expected {short(expected)}\n"
                            f"        got      {short(got)}")
        else:
            self.ok(name)

    async def session(self, label, offer, want_protocol, cases, compression=None):
        """One connection: check the negotiated subprotocol (and permessage-deflate when
        `compression` offers it), then each (name, sent, expected)."""
        t0 = time.monotonic()
        try:
            async with contextlib.AsyncExitStack() as stack:
                try:
                    ws = await self.open(stack, offer, compression)
                except InvalidStatus as exc:
                    self.fail(f"{label}: connect",
                              f"upgrade refused: HTTP {exc.response.status_code}")
                    return
                except (OSError, TimeoutError, websockets.exceptions.WebSocketException) as exc:
                    self.fail(f"{label}: connect", f"{type(exc).__name__}: {exc}")
                    return
                if ws.subprotocol != want_protocol:
                    self.fail(f"{label}: subprotocol",
                              f"expected {want_protocol!r}, server selected {ws.subprotocol!r}")
                else:
                    self.ok(f"{label}: subprotocol is {want_protocol!r}")
                if compression:
                    agreed = ws.response.headers.get("Sec-WebSocket-Extensions", "")
                    if not self.deflate:
                        if agreed:
                            self.fail(f"{label}: extensions",
                                      f"a build without deflate agreed to {agreed!r}")
                        else:
                            self.ok(f"{label}: permessage-deflate declined (not in this build)")
                    elif agreed.startswith("permessage-deflate"):
                        self.ok(f"{label}: extensions {agreed!r}")
                    else:
                        self.fail(f"{label}: extensions", f"no permessage-deflate: {agreed!r}")
                try:
                    for name, sent, expected in cases:
                        await self.roundtrip(ws, f"{label}: {name}", sent, expected)
                except Mismatch:
                    pass  # state unknown after a missing reply; stop this session
        except Exception as exc:  # noqa: BLE001 - a failing close handshake is reported
            self.fail(f"{label}: close", f"{type(exc).__name__}: {exc}")
        print(f"      ({label}: {time.monotonic() - t0:.2f}s)", flush=True)

    async def refused(self, label, offer, want_status):
        async with contextlib.AsyncExitStack() as stack:
            try:
                ws = await self.open(stack, offer)
            except InvalidStatus as exc:
                status = exc.response.status_code
                if status == want_status:
                    self.ok(f"{label}: refused with HTTP {status}")
                else:
                    self.fail(label, f"expected HTTP {want_status}, got HTTP {status}")
                return
            except (OSError, TimeoutError, websockets.exceptions.WebSocketException) as exc:
                self.fail(label,
                          f"expected HTTP {want_status}, got {type(exc).__name__}: {exc}")
                return
            got = ws.subprotocol
        self.fail(label, f"expected HTTP {want_status}, but the upgrade succeeded "
                         f"(subprotocol {got!r})")


async def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("url", help="WebSocket URL, e.g. ws://127.0.0.1:9000/")
    ap.add_argument("--timeout", type=float, default=10.0, help="bound on every wait (s)")
    ap.add_argument("--ca", help="for wss://: trust only this CA certificate (PEM)")
    ap.add_argument("--deflate", choices=["yes", "no"], default="yes",
                    help="whether the server offers permessage-deflate (default yes)")
    args = ap.parse_args()

    print(f"ws_roundtrip: {args.url} with websockets {websockets.__version__}, "
          f"python {sys.version.split()[0]}", flush=True)
    r = Runner(args.url, args.timeout, deflate=args.deflate == "yes")
    if args.ca:
        import ssl
        r.ssl = ssl.create_default_context(cafile=args.ca)

    # Reachability first: a server that is not there is a broken run, not a list of mismatches.
    try:
        async with contextlib.AsyncExitStack() as stack:
            await r.open(stack, [DUMB])
    except InvalidStatus:
        pass  # reachable; the session below reports it properly
    except (OSError, TimeoutError, websockets.exceptions.WebSocketException) as exc:
        print(f"ws_roundtrip: cannot connect to {args.url}: {type(exc).__name__}: {exc}",
              file=sys.stderr)
        return 2

    big, big_reversed = big_text()
    binary = bytes(range(256)) + b"\x00\xff wsloop"
    reverse_cases = [
        ("ascii", "Hello, world!", "!dlrow ,olleH"),
        ("single char", "a", "a"),
        ("empty text", "", ""),
        ("latin n-tilde", "añb", "bña"),
        ("flags stay whole", "🇫🇷🇩🇪", "🇩🇪🇫🇷"),
        ("combining mark stays on its base", "e\u0301x", "xe\u0301"),
        ("CJK", "中文字", "字文中"),
        ("trailing \\n stays at the end", "Hello\n", "olleH\n"),
        ("trailing \\r\\n stays at the end", "abc\r\n", "cba\r\n"),
        ("binary reversed bytewise", binary, binary[::-1]),
        ("binary single byte", b"\x7f", b"\x7f"),
        ("1 MiB text", big, big_reversed),
        ("still open after a big message", "ok?", "?ko"),
    ]
    await r.session(DUMB, [DUMB], DUMB, reverse_cases)

    await r.session("no subprotocol offered", None, None, [
        ("ascii reversed (default protocol)", "Hello, world!", "!dlrow ,olleH"),
        ("unicode reversed", "añb", "bña"),
        ("binary reversed", b"\x01\x02\x03", b"\x03\x02\x01"),
    ])

    await r.session(ECHO, [ECHO], ECHO, [
        ("ascii unchanged", "Hello, world!", "Hello, world!"),
        ("unicode unchanged", "🇫🇷🇩🇪 e\u0301x añb", "🇫🇷🇩🇪 e\u0301x añb"),
        ("trailing newline unchanged", "line\n", "line\n"),
        ("binary unchanged", binary, binary),
        ("1 MiB text unchanged", big, big),
    ])

    await r.session("echo preferred over unknown", ["no-such-protocol", ECHO], ECHO, [
        ("ascii unchanged", "abc", "abc"),
    ])

    await r.refused("only unknown subprotocols offered", ["no-such-protocol"], 400)

    rng = random.Random(7692)
    deflate_cases = []
    for size in [20, 1000, 1024, 4096, 65536, MIB]:
        text = json_like(rng, size)
        noise = rng.randbytes(size)
        repetitive = (b"wsloop " * (size // 7 + 1))[:size]
        deflate_cases += [
            (f"{size} B JSON-like text", text, text),
            (f"{size} B random binary", noise, noise),
            (f"{size} B repetitive binary", repetitive, repetitive),
        ]
    await r.session("echo, permessage-deflate", [ECHO], ECHO, deflate_cases, compression="deflate")
    await r.session(f"{DUMB}, permessage-deflate", [DUMB], DUMB, [
        ("4 KiB text reversed", "ab" * 2048, "ba" * 2048),
        ("small text reversed", "Hello, world!", "!dlrow ,olleH"),
        ("1 MiB text reversed", big, big_reversed),
    ], compression="deflate")

    total = r.passed + len(r.failures)
    if r.failures:
        print(f"ws_roundtrip: {len(r.failures)} of {total} checks FAILED:\n  "
              + "\n  ".join(r.failures), file=sys.stderr)
        return 1
    if total == 0:
        print("ws_roundtrip: no check ran", file=sys.stderr)
        return 1
    print(f"ws_roundtrip: all {total} checks passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
