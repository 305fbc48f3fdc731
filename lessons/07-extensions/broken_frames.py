#!/usr/bin/env python3
"""Lesson 07: frames that break permessage-deflate's rules, sent by hand.

Each case opens its own connection to a `wslab serve` (offering
permessage-deflate unless the case says otherwise), sends one frame and
prints the Close the server answers with. Only the standard library: the
compression is Python's zlib, raw DEFLATE (wbits -15), as RFC 7692 §7.2.1 says.

    python3 broken_frames.py [ws://127.0.0.1:8080/ws]
"""
import base64
import os
import socket
import sys
import zlib
from urllib.parse import urlsplit

url = urlsplit(sys.argv[1] if len(sys.argv) > 1 else "ws://127.0.0.1:8080/ws")
HOST, PORT, PATH = url.hostname, url.port or 80, url.path or "/"


def deflate(message):
    """§7.2.1: DEFLATE with a sync flush, then the last 4 octets (00 00 ff ff) off."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = c.compress(message) + c.flush(zlib.Z_SYNC_FLUSH)
    assert data.endswith(b"\x00\x00\xff\xff")
    return data[:-4]


def connect(offer=True):
    s = socket.create_connection((HOST, PORT), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    extension = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" if offer else ""
    s.sendall((f"GET {PATH} HTTP/1.1\r\nHost: {HOST}:{PORT}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extension}\r\n").encode())
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        head += s.recv(1)
    agreed = b"permessage-deflate" in head.lower().split(b"sec-websocket-extensions:", 1)[-1].split(b"\r\n")[0]
    assert head.startswith(b"HTTP/1.1 101") and agreed == offer, head
    return s


def frame(first_octet, payload):
    """One client frame: masked (§5.3), any length."""
    n = len(payload)
    length = bytes([0x80 | n]) if n < 126 else (bytes([0x80 | 126]) + n.to_bytes(2, "big") if n < 65536
                                                else bytes([0x80 | 127]) + n.to_bytes(8, "big"))
    key = os.urandom(4)
    stream = (key * (n // 4 + 1))[:n]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big") if n else b""
    return bytes([first_octet]) + length + key + masked


def server_close(s):
    """The server's Close frame: its code and reason (skipping anything before it)."""
    def read(n):
        data = b""
        while len(data) < n:
            chunk = s.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data
    try:
        while True:
            b0, b1 = read(2)
            n = b1 & 0x7F
            if n == 126:
                n = int.from_bytes(read(2), "big")
            elif n == 127:
                n = int.from_bytes(read(8), "big")
            payload = read(n)
            if b0 & 0x0F == 0x8:
                return f'close {int.from_bytes(payload[:2], "big")} "{payload[2:].decode()}"'
    except (EOFError, OSError):
        return "closed TCP without a Close frame"


cases = [
    ("RSV1 on a ping (permessage-deflate agreed)", True, frame(0xC9, b"ping")),              # FIN, RSV1, ping
    ("RSV1 on a continuation frame", True, frame(0x41, deflate(b"Hel")) + frame(0xC0, b"lo")),
    ("RSV1 on a text frame, nothing negotiated", False, frame(0xC1, deflate(b"Hello"))),
    ("a payload that is not DEFLATE data", True, frame(0xC1, b"\xff\xff\xff\xff")),
    ("17 MiB of zeros in 17 KiB (limit 16 MiB)", True, frame(0xC2, deflate(bytes(17 << 20)))),
]
for name, offer, wire in cases:
    s = connect(offer)
    s.sendall(wire)
    print(f"{name + ':':44} {server_close(s)}")
    s.close()
