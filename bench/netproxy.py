"""A user-space network for the benchmarks: an asyncio HTTP/1.1 proxy before a store's S3.

This kernel has no sch_netem, so WAN conditions and faults are made here:

- `latency`: seconds added before each request is forwarded (CORS preflights included),
  standing in for one round trip;
- `bandwidth`: bytes per second each request body may flow at (per connection, the way a
  single TCP stream is limited by its window on a long path);
- `fault_rate` and `faults`: the share of part PUTs (PUT with `partNumber`) that fail and
  how: `503` (S3's SlowDown, with CORS headers as S3 sends them), `reset` (half the body
  read, then a TCP RST) or `stall` (the body read, then no answer for `stall_seconds`).

Every part PUT is recorded (part number, upload id, bytes that arrived, outcome, times),
bytes of bodies cut short included, so a benchmark can tell how much was sent twice; a
whole-object PUT is recorded the same way under `puts`. `body_end` is when the last body
byte went upstream: the time on the wire, without what the server does afterwards;
`reused` says the connection had carried a request before (a browser re-sends a request
by itself when such a connection is reset, so the page never sees that failure).
The proxy answers `GET /__bench/stats` and `POST /__bench/config` (JSON; `?keep=1` changes
settings without clearing the records) itself.

Run: python -m bench.netproxy PORT UPSTREAM_URL
"""
from __future__ import annotations

import asyncio
import json
import random
import socket
import struct
import sys
import time
import urllib.parse

CHUNK = 64 * 1024
RCVBUF = 256 * 1024
DEFAULTS = {"latency": 0.0, "bandwidth": 0, "fault_rate": 0.0,
            "faults": ["503", "reset", "stall"], "stall_seconds": 20.0, "seed": 1}


class Proxy:
    def __init__(self, upstream: str):
        parsed = urllib.parse.urlsplit(upstream)
        self.host, self.port = parsed.hostname, parsed.port or 80
        self.configure({})

    def configure(self, settings: dict) -> None:
        self.settings = {**DEFAULTS, **settings}
        self.random = random.Random(self.settings["seed"])
        self.parts: list[dict] = []
        self.puts: list[dict] = []
        self.requests = 0

    def stats(self) -> dict:
        return {"settings": self.settings, "requests": self.requests, "parts": self.parts,
                "puts": self.puts}

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # A window of about one bandwidth-delay product (8 MiB/s x 50 ms), not loopback's
        # megabytes, so a page that goes away leaves part bodies cut short, as on a WAN.
        writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        served = 0  # requests already answered on this connection
        try:
            while await self.one_request(reader, writer, served):
                served += 1
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            if not writer.is_closing():
                writer.close()

    async def one_request(self, reader, writer, served: int) -> bool:
        """Serve one request on the client connection; False when the connection ends."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = [tuple(h.split(":", 1)) for h in lines[1:] if ":" in h]
        lookup = {k.strip().lower(): v.strip() for k, v in headers}
        length = int(lookup.get("content-length", "0") or 0)
        if target.startswith("/__bench/"):
            body = await reader.readexactly(length)
            return await self.control(method, target, body, writer)
        self.requests += 1
        settings = self.settings
        if settings["latency"]:
            await asyncio.sleep(settings["latency"])
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query)
        record = None
        fault = None
        if method == "PUT" and "partNumber" in query:
            record = {"part": int(query["partNumber"][0]), "upload": query["uploadId"][0],
                      "size": length, "received": 0, "outcome": "", "start": time.time(),
                      "body_end": 0.0, "end": 0.0, "reused": served > 0}
            self.parts.append(record)
            if self.random.random() < settings["fault_rate"]:
                fault = self.random.choice(settings["faults"])
        elif method == "PUT":
            record = {"size": length, "received": 0, "outcome": "", "start": time.time(),
                      "body_end": 0.0, "end": 0.0}
            self.puts.append(record)
        if lookup.get("expect", "").lower() == "100-continue":
            # boto3 waits for this before sending a body; upstream never sees the Expect.
            headers = [h for h in headers if h[0].strip().lower() != "expect"]
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        try:
            if fault == "reset":
                await self.pipe_body(reader, None, length // 2, record)
                record["outcome"], record["end"] = "reset", time.time()
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
                return False
            if fault == "stall":
                await self.pipe_body(reader, None, length, record)
                record["outcome"] = "stall"
                await asyncio.sleep(settings["stall_seconds"])
                record["end"] = time.time()
                writer.transport.abort()
                return False
            if fault == "503":
                await self.pipe_body(reader, None, length, record)
                record["outcome"], record["end"] = "503", time.time()
                body = (b"<Error><Code>SlowDown</Code><Message>injected by bench proxy"
                        b"</Message></Error>")
                cors = ""
                if "origin" in lookup:
                    cors = (f"Access-Control-Allow-Origin: {lookup['origin']}\r\n"
                            "Access-Control-Expose-Headers: ETag\r\nVary: Origin\r\n")
                writer.write((f"HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\n"
                              f"{cors}Content-Length: {len(body)}\r\n\r\n").encode() + body)
                await writer.drain()
                return True
            return await self.forward(method, target, headers, length, reader, writer, record)
        except (ConnectionError, asyncio.IncompleteReadError):
            if record is not None and not record["outcome"]:
                record["outcome"], record["end"] = "client-gone", time.time()
            raise

    async def pipe_body(self, reader, upstream, length: int, record: dict | None) -> None:
        """Move `length` body bytes from the client (to upstream, if any) at the cap."""
        cap = self.settings["bandwidth"]
        started, moved = time.monotonic(), 0
        while moved < length:
            chunk = await reader.read(min(CHUNK, length - moved))
            if not chunk:
                raise asyncio.IncompleteReadError(b"", length - moved)
            moved += len(chunk)
            if record is not None:
                record["received"] = moved
            if upstream is not None:
                upstream.write(chunk)
                await upstream.drain()
            if cap:
                ahead = moved / cap - (time.monotonic() - started)
                if ahead > 0:
                    await asyncio.sleep(ahead)
        if record is not None:
            record["body_end"] = time.time()

    async def forward(self, method, target, headers, length, reader, writer, record) -> bool:
        up_reader, up_writer = await asyncio.open_connection(self.host, self.port)
        try:
            out = [f"{method} {target} HTTP/1.1"]
            # Host goes through unchanged: SigV4 signs it, and a real store (Ceph RGW)
            # refuses a request whose Host is not the one the client signed.
            out += [f"{k}:{v}" for k, v in headers
                    if k.strip().lower() not in ("connection", "keep-alive")]
            out += ["Connection: close", "", ""]
            up_writer.write("\r\n".join(out).encode("latin-1"))
            await self.pipe_body(reader, up_writer, length, record)
            head = await up_reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            kept = [h for h in lines[1:] if h and h.split(":", 1)[0].strip().lower()
                    not in ("connection", "keep-alive")]
            lookup = {h.split(":", 1)[0].strip().lower(): h.split(":", 1)[1].strip()
                      for h in kept if ":" in h}
            no_body = method == "HEAD" or status in (204, 304) or status < 200
            if no_body:
                body, framed = b"", True
            elif "content-length" in lookup:
                body, framed = await up_reader.readexactly(int(lookup["content-length"])), True
            else:  # chunked or close-delimited: relay to EOF, then close our side too
                body, framed = await up_reader.read(), False
            if not framed:
                kept.append("Connection: close")
            writer.write(("\r\n".join([lines[0], *kept, "", ""])).encode("latin-1") + body)
            await writer.drain()
            if record is not None:
                record["outcome"], record["end"] = str(status), time.time()
            return framed
        finally:
            up_writer.close()

    async def control(self, method, target, body, writer) -> bool:
        if method == "POST" and target.startswith("/__bench/config"):
            if "keep=1" in target:  # change settings, keep the records
                self.settings.update(json.loads(body or b"{}"))
            else:
                self.configure(json.loads(body or b"{}"))
        answer = json.dumps(self.stats()).encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     + f"Content-Length: {len(answer)}\r\n\r\n".encode() + answer)
        await writer.drain()
        return True


async def main(port: int, upstream: str) -> None:
    proxy = Proxy(upstream)
    server = await asyncio.start_server(proxy.handle, "127.0.0.1", port, limit=1 << 20)
    print(f"bench proxy on 127.0.0.1:{port} -> {upstream}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
