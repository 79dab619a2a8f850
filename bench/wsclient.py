"""A minimal graphql-transport-ws subscriber for the fan-out benchmark.

The ``websockets`` client spends a hundred-odd microseconds of Python per received message
(frame parsing, assembling, a task wake-up, ``recv``) before a benchmark could read its clock;
a thousand of them on a 2-core machine shared with the server measured mostly themselves. This
one is an ``asyncio.Protocol``: the arrival time is read once per ``data_received``, frames are
split there (and inflated when the server compresses), and JSON is parsed only after the run.

    sub = await Subscriber.connect("127.0.0.1", port, payload, events=5, deflate=True)
    await sub.done
    for arrived, text in sub.messages: ...
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
import time
import zlib
from typing import Any

NEXT = b'"type":"next"'


class Subscriber(asyncio.Protocol):
    def __init__(self, events: int) -> None:
        self.events = events
        self.messages: list[tuple[float, bytes]] = []  # (arrival, text) of every `next`
        loop = asyncio.get_running_loop()
        self.upgraded: asyncio.Future[None] = loop.create_future()
        self.acked: asyncio.Future[None] = loop.create_future()
        self.done: asyncio.Future[None] = loop.create_future()
        self._buffer = b""
        self._inflate: Any = None
        self._transport: asyncio.Transport | None = None

    @classmethod
    async def connect(
        cls, host: str, port: int, payload: dict[str, Any], *, events: int, deflate: bool
    ) -> Subscriber:
        loop = asyncio.get_running_loop()
        _, sub = await loop.create_connection(lambda: cls(events), host, port)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            "GET /graphql HTTP/1.1",
            f"Host: {host}:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            "Sec-WebSocket-Protocol: graphql-transport-ws",
        ]
        if deflate:
            lines.append("Sec-WebSocket-Extensions: permessage-deflate")
        sub._write_raw(("\r\n".join(lines) + "\r\n\r\n").encode())
        await asyncio.wait_for(sub.upgraded, 60)
        sub.send({"type": "connection_init", "payload": {}})
        await asyncio.wait_for(sub.acked, 60)
        sub.send({"type": "subscribe", "id": "1", "payload": payload})
        return sub

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        for f in (self.upgraded, self.acked, self.done):
            if not f.done():
                f.set_exception(ConnectionError(f"connection lost: {exc}"))

    def data_received(self, data: bytes) -> None:
        arrived = time.time()
        self._buffer += data
        if not self.upgraded.done():
            head, sep, rest = self._buffer.partition(b"\r\n\r\n")
            if not sep:
                return
            if not head.startswith(b"HTTP/1.1 101"):
                self.upgraded.set_exception(ConnectionError(head.decode(errors="replace")))
                return
            if b"permessage-deflate" in head.lower():
                self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
            self._buffer = rest
            self.upgraded.set_result(None)
        while (frame := self._frame()) is not None:
            self._on_frame(arrived, *frame)

    def _frame(self) -> tuple[int, bool, bytes] | None:
        buf = self._buffer
        if len(buf) < 2:
            return None
        size, start = buf[1] & 0x7F, 2
        if size == 126:
            if len(buf) < 4:
                return None
            size, start = struct.unpack("!H", buf[2:4])[0], 4
        elif size == 127:
            if len(buf) < 10:
                return None
            size, start = struct.unpack("!Q", buf[2:10])[0], 10
        if len(buf) < start + size:
            return None
        self._buffer = buf[start + size :]
        return buf[0] & 0x0F, bool(buf[0] & 0x40), buf[start : start + size]

    def _on_frame(self, arrived: float, opcode: int, compressed: bool, body: bytes) -> None:
        if opcode == 0x9:  # ping
            self._write_frame(0xA, body)
            return
        if opcode != 0x1:
            return
        if compressed:
            body = self._inflate.decompress(body + b"\x00\x00\xff\xff")
        if not self.acked.done():
            if b"connection_ack" in body:
                self.acked.set_result(None)
        elif NEXT in body:
            self.messages.append((arrived, body))
            if len(self.messages) == self.events and not self.done.done():
                self.done.set_result(None)

    def send(self, message: dict[str, Any]) -> None:
        self._write_frame(0x1, json.dumps(message).encode())

    def _write_frame(self, opcode: int, body: bytes) -> None:
        mask = os.urandom(4)
        n = len(body)
        if n < 126:
            head = bytes([0x80 | opcode, 0x80 | n])
        elif n < 65536:
            head = bytes([0x80 | opcode, 0x80 | 126]) + struct.pack("!H", n)
        else:
            head = bytes([0x80 | opcode, 0x80 | 127]) + struct.pack("!Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(body))
        self._write_raw(head + mask + masked)

    def _write_raw(self, data: bytes) -> None:
        assert self._transport is not None
        self._transport.write(data)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
