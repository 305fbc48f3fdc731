#!/usr/bin/python3
"""Writes the seed corpora of the libFuzzer targets: tests/fuzz/corpus/<target>/.

    /usr/bin/python3 tests/fuzz/corpus/make_seeds.py

Each seed is named for what it holds. The frames are RFC 6455 §5.7's examples
and their neighbours (every header rule broken once), the handshakes §1.2's
and §4's, the UTF-8 cases Markus Kuhn's stress test and the Autobahn suite's
group 6 are made of, the close payloads every class of code of §7.4. The
layout of each target's input (its configuration bytes first) is described at
the top of tests/fuzz/fuzz_<target>.cpp. Files already there are kept: the
inputs of findings (named regression-*) are added by hand, not by this script.
"""
import os
import struct

ROOT = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def mask(payload, key):
    return bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def frame(opcode, payload, fin=True, key=None, rsv=0, length_form=None):
    """A frame as bytes; length_form forces 7/16/64 (non-minimal allowed)."""
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload)
    form = length_form or (7 if n <= 125 else 16 if n <= 0xFFFF else 64)
    m = 0x80 if key else 0
    if form == 7:
        head = bytes([b0, m | n])
    elif form == 16:
        head = bytes([b0, m | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, m | 127]) + struct.pack(">Q", n)
    if key:
        return head + bytes(key) + mask(payload, key)
    return head + payload


KEY = bytes([0x37, 0xFA, 0x21, 0x3D])  # RFC 6455 §5.7
HELLO = b"Hello"
KOSME = "κόσμε".encode()

# --- frame_decoder: [options][chunk seed] stream ---------------------------
# options: bit 0 client role; bits 1-3 allowed RSV; bits 4-6 frame size limit.
SERVER, CLIENT = 0x00, 0x01
fd = {
    # §5.7, as a client receives them (unmasked) and as a server does (masked)
    "rfc-5.7-text-unmasked": (CLIENT, bytes.fromhex("810548656c6c6f")),
    "rfc-5.7-text-masked": (SERVER, bytes.fromhex("818537fa213d7f9f4d5158")),
    "rfc-5.7-fragmented-text": (CLIENT, bytes.fromhex("010348656c80026c6f")),
    "rfc-5.7-ping": (CLIENT, bytes.fromhex("890548656c6c6f")),
    "rfc-5.7-pong-masked": (SERVER, bytes.fromhex("8a8537fa213d7f9f4d5158")),
    "rfc-5.7-binary-256": (CLIENT, frame(2, bytes(range(256)))),
    "rfc-5.7-binary-64k-header": (CLIENT, bytes.fromhex("827f0000000000010000") + b"abcdefgh"),
    "masked-binary-300": (SERVER, frame(2, bytes(range(256)) + bytes(44), key=KEY)),
    "empty-frames": (SERVER, frame(1, b"", key=KEY) + frame(9, b"", key=KEY) + frame(8, b"", key=KEY)),
    "close-1000-bye": (SERVER, frame(8, b"\x03\xe8bye", key=KEY)),
    "two-frames": (CLIENT, frame(1, HELLO) + frame(2, b"\x00\x01\x02")),
    # every header rule broken once
    "bad-rsv1": (CLIENT, frame(1, HELLO, rsv=4)),
    "rsv1-allowed": (CLIENT | (4 << 1), frame(1, HELLO, rsv=4)),
    "bad-rsv2-rsv3": (SERVER, frame(2, HELLO, key=KEY, rsv=3)),
    "bad-opcode-3": (CLIENT, frame(3, HELLO)),
    "bad-opcode-b": (SERVER, frame(0xB, HELLO, key=KEY)),
    "bad-control-size-126": (CLIENT, frame(9, bytes(126))),
    "bad-control-fragment": (CLIENT, frame(9, HELLO, fin=False)),
    "non-minimal-16": (CLIENT, frame(1, HELLO, length_form=16)),
    "non-minimal-64": (SERVER, frame(1, HELLO, key=KEY, length_form=64)),
    "length-msb-set": (CLIENT, bytes.fromhex("827f8000000000000000")),
    "unmasked-to-server": (SERVER, frame(1, HELLO)),
    "masked-to-client": (CLIENT, frame(1, HELLO, key=KEY)),
    "frame-too-big-125": (SERVER | (3 << 4), frame(2, bytes(126), key=KEY)),
    "frame-too-big-0": (CLIENT | (1 << 4), frame(2, b"x")),
    "good-then-bad": (CLIENT, frame(1, HELLO) + frame(3, b"")),
}
# chunk seeds in turn: all at once, a byte at a time, pieces of 0-8, of 0-520
for i, (name, (options, stream)) in enumerate(fd.items()):
    seed = (0, 1, 7, 200)[i % 4]
    write("frame_decoder", f"{name}-seed{seed}", bytes([options, seed]) + stream)

# --- message_assembler: [options][chunk seed] stream --------------------
# options: bit 0 client role; bit 1 built frames; bits 2-4 message limit.
ma = {
    "fragmented-hello": (CLIENT, [frame(1, b"Hel", fin=False), frame(0, b"lo")]),
    "ping-between-fragments": (CLIENT, [frame(1, b"Hel", fin=False), frame(9, b"p"), frame(0, b"lo")]),
    "close-between-fragments": (CLIENT, [frame(1, b"Hel", fin=False), frame(8, b"\x03\xe8")]),
    "utf8-split-across-frames": (CLIENT, [frame(1, KOSME[:3], fin=False), frame(0, KOSME[3:])]),
    "utf8-bad-in-second-fragment": (CLIENT, [frame(1, KOSME, fin=False), frame(0, b"ok\xed\xa0\x80edited")]),
    "utf8-ends-inside-character": (CLIENT, [frame(1, KOSME[:-1])]),
    "utf8-bad-first-byte": (SERVER, [frame(1, b"\xc0\xaf", key=KEY)]),
    "continuation-without-start": (CLIENT, [frame(0, HELLO)]),
    "text-inside-fragmented": (CLIENT, [frame(1, b"a", fin=False), frame(1, b"b")]),
    "binary-fragments-masked": (SERVER, [frame(2, b"\x00\xff", fin=False, key=KEY), frame(0, b"\x80", fin=False, key=KEY),
                                         frame(0, b"", key=KEY)]),
    "too-big-limit-4": (CLIENT | (5 << 2), [frame(1, b"abc", fin=False), frame(0, b"de")]),
    "too-big-limit-0": (CLIENT | (1 << 2), [frame(2, b"x")]),
    "empty-text": (SERVER, [frame(1, b"", key=KEY)]),
    "pong-and-text": (CLIENT, [frame(0xA, b"pong"), frame(1, HELLO)]),
}
for name, (options, frames) in ma.items():
    write("message_assembler", name, bytes([options, 3]) + b"".join(frames))
# built frames: [spec: bit 7 FIN, bits 0-2 opcode index][length][payload]...
# opcode index: 0 cont, 1 text, 2 binary, 3 close, 4 ping, 5 pong
built = {
    "built-fragmented-text-server": (SERVER | 2, bytes([0x01, 3]) + b"Hel" + bytes([0x04, 1]) + b"p" + bytes([0x80, 2]) + b"lo"),
    "built-kosme-split-client": (CLIENT | 2, bytes([0x01, 4]) + KOSME[:4] + bytes([0x80, len(KOSME) - 4]) + KOSME[4:]),
    "built-bad-utf8-server": (SERVER | 2, bytes([0x81, 4]) + b"a\xf4\x90b"),
    "built-close-limit-3": (CLIENT | 2 | (4 << 2), bytes([0x82, 3]) + b"abc" + bytes([0x83, 2]) + b"\x03\xe8"),
}
for name, (options, body) in built.items():
    write("message_assembler", name, bytes([options, 1]) + body)

# --- utf8: [chunk seed] text ------------------------------------------------
utf8 = {
    "kosme": KOSME,
    "ascii-long": b"The quick brown fox jumps over the lazy dog",
    "ascii-then-bad-at-9": b"abcdefghi\xff",
    "boundaries-first": "\u0000\u0080\u0800\U00010000".encode("utf-8", "surrogatepass"),
    "boundaries-last": "\u007f\u07ff\uffff\U0010ffff".encode(),
    "other-boundaries": "\ud7ff\ue000\ufffd\U0010fffe".encode(),
    "continuation-alone": b"\x80",
    "continuation-bf": b"\xbf",
    "overlong-slash-2": b"\xc0\xaf",
    "overlong-slash-3": b"\xe0\x80\xaf",
    "overlong-slash-4": b"\xf0\x80\x80\xaf",
    "overlong-max-2": b"\xc1\xbf",
    "overlong-max-3": b"\xe0\x9f\xbf",
    "overlong-max-4": b"\xf0\x8f\xbf\xbf",
    "surrogate-high": b"\xed\xa0\x80",
    "surrogate-low": b"\xed\xbf\xbf",
    "surrogate-pair": b"\xed\xa0\x80\xed\xb0\x80",
    "above-10ffff": b"\xf4\x90\x80\x80",
    "f5": b"\xf5\x80\x80\x80",
    "fe-ff": b"\xfe\xff",
    "truncated-3": b"\xe2\x82",
    "truncated-4-in-text": b"ab\xf0\x9f\x98 cd",
    "euro-split": b"\xe2\x82\xac\xe2\x82\xac",
    "lone-lead-then-ascii": b"\xce\x41",
    "emoji": "😀 κόσμε ✓".encode(),
    "mixed-long": ("ascii " * 3 + "κόσμε" + "x" * 17 + "€").encode(),
}
for i, (name, text) in enumerate(utf8.items()):
    seed = (0, 1, 5)[i % 3]
    write("utf8", f"{name}-seed{seed}", bytes([seed]) + text)

# --- handshake_request: [limits][chunk seed] bytes ---------------------------
RFC_REQUEST = (
    b"GET /chat HTTP/1.1\r\n"
    b"Host: server.example.com\r\n"
    b"Upgrade: websocket\r\n"
    b"Connection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Origin: http://example.com\r\n"
    b"Sec-WebSocket-Protocol: chat, superchat\r\n"
    b"Sec-WebSocket-Version: 13\r\n\r\n"
)


def edit(base, old, new):
    assert old in base, old
    return base.replace(old, new)


req = {
    "rfc-1.2": RFC_REQUEST,
    "rfc-1.2-then-frame": RFC_REQUEST + bytes.fromhex("818537fa213d7f9f4d5158"),
    "extensions": edit(RFC_REQUEST, b"Sec-WebSocket-Version: 13\r\n",
                       b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate; "
                       b"client_max_window_bits, permessage-deflate; server_max_window_bits=\"10\"\r\n"),
    "bad-extensions": edit(RFC_REQUEST, b"Sec-WebSocket-Version: 13\r\n",
                           b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: a;;b, =\r\n"),
    "version-8": edit(RFC_REQUEST, b"Version: 13", b"Version: 8"),
    "no-key": edit(RFC_REQUEST, b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", b""),
    "short-key": edit(RFC_REQUEST, b"dGhlIHNhbXBsZSBub25jZQ==", b"dGhlIHNhbXBsZQ=="),
    "two-keys": edit(RFC_REQUEST, b"Origin", b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin"),
    "post": edit(RFC_REQUEST, b"GET ", b"POST "),
    "http-1.0": edit(RFC_REQUEST, b"HTTP/1.1", b"HTTP/1.0"),
    "absolute-target": edit(RFC_REQUEST, b"GET /chat ", b"GET http://server.example.com/chat?x=1 "),
    "lf-only": RFC_REQUEST.replace(b"\r\n", b"\n"),
    "leading-blank-lines": b"\r\n\r\n" + RFC_REQUEST,
    "obs-fold": edit(RFC_REQUEST, b"Connection: Upgrade\r\n", b"Connection: keep-alive,\r\n Upgrade\r\n"),
    "connection-list": edit(RFC_REQUEST, b"Connection: Upgrade", b"Connection: keep-alive, Upgrade"),
    "no-host": edit(RFC_REQUEST, b"Host: server.example.com\r\n", b""),
    "space-before-colon": edit(RFC_REQUEST, b"Host:", b"Host :"),
    "no-colon": edit(RFC_REQUEST, b"Origin: http://example.com", b"Origin http://example.com"),
    "duplicate-subprotocol": edit(RFC_REQUEST, b"chat, superchat", b"chat, chat"),
    "minimal": b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
               b"Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    "plain-http": b"GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n",
    "unfinished": RFC_REQUEST[:60],
}
for name, text in req.items():
    write("handshake_request", name, bytes([0, 0]) + text)
write("handshake_request", "rfc-1.2-bytewise", bytes([0, 1]) + RFC_REQUEST)
write("handshake_request", "rfc-1.2-pieces", bytes([0, 9]) + RFC_REQUEST)
write("handshake_request", "small-limits-fits", bytes([0x80 | 0x28 | 7, 200]) + req["minimal"])
write("handshake_request", "small-limits-too-many-lines", bytes([0x80 | 0x78 | 2, 3]) + RFC_REQUEST)
write("handshake_request", "small-limits-too-long", bytes([0x80 | 0x08 | 7, 0]) + RFC_REQUEST)

# --- handshake_response: [options][chunk seed] bytes ---------------------------
# options: bits 0-1 which request was sent (0 none offered, 1 subprotocols,
# 2 subprotocols + permessage-deflate); bit 7 small limits.
RFC_RESPONSE = (
    b"HTTP/1.1 101 Switching Protocols\r\n"
    b"Upgrade: websocket\r\n"
    b"Connection: Upgrade\r\n"
    b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
    b"Sec-WebSocket-Protocol: chat\r\n\r\n"
)
NO_PROTOCOL = edit(RFC_RESPONSE, b"Sec-WebSocket-Protocol: chat\r\n", b"")
resp = {
    "rfc-1.2": (1, RFC_RESPONSE),
    "rfc-1.2-then-frame": (1, RFC_RESPONSE + bytes.fromhex("810548656c6c6f")),
    "no-subprotocol": (0, NO_PROTOCOL),
    "deflate": (2, edit(RFC_RESPONSE, b"Protocol: chat\r\n",
                        b"Protocol: chat\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=15\r\n")),
    "unrequested-extension": (1, edit(RFC_RESPONSE, b"Protocol: chat\r\n",
                                      b"Protocol: chat\r\nSec-WebSocket-Extensions: x-webkit-deflate-frame\r\n")),
    "unrequested-subprotocol": (0, RFC_RESPONSE),
    "other-subprotocol": (1, edit(RFC_RESPONSE, b"Protocol: chat", b"Protocol: mqtt")),
    "wrong-accept": (0, edit(NO_PROTOCOL, b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", b"dGhlIHNhbXBsZSBub25jZQ==")),
    "two-accepts": (0, edit(NO_PROTOCOL, b"Upgrade: websocket\r\n",
                            b"Upgrade: websocket\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n")),
    "status-200": (0, edit(NO_PROTOCOL, b"101 Switching Protocols", b"200 OK")),
    "no-upgrade": (0, edit(NO_PROTOCOL, b"Upgrade: websocket\r\n", b"")),
    "upgrade-case": (0, edit(NO_PROTOCOL, b"Upgrade: websocket", b"upgrade: WebSocket")),
    "connection-list": (0, edit(NO_PROTOCOL, b"Connection: Upgrade", b"Connection: keep-alive, upgrade")),
    "lf-only": (1, RFC_RESPONSE.replace(b"\r\n", b"\n")),
    "bad-status-line": (0, edit(NO_PROTOCOL, b"HTTP/1.1 101", b"HTTP/1.1 1O1")),
}
for name, (which, text) in resp.items():
    write("handshake_response", name, bytes([which, 0]) + text)
write("handshake_response", "rfc-1.2-bytewise", bytes([1, 1]) + RFC_RESPONSE)
# 0xB5: small limits of 8 * 0x30 = 384 bytes and 5 lines; request 1
write("handshake_response", "small-limits", bytes([0xB5, 7]) + RFC_RESPONSE)

# --- uri: the text --------------------------------------------------------------
uris = {
    "chat": "ws://example.com/chat",
    "wss-default-port": "wss://example.com:443/",
    "ipv6-port-query": "ws://[::1]:9000/x?y=1",
    "ipv6-embedded-ipv4": "wss://[2001:db8::1.2.3.4]/",
    "ipv6-full": "ws://[2001:0db8:0000:0000:0000:ff00:0042:8329]",
    "upper-case": "WS://Example.COM/Path",
    "query-only": "ws://host?query=1&b",
    "percent": "ws://h%41st/%7Epath?q=%20",
    "ipv4": "ws://192.168.0.1:8080",
    "sub-delims": "ws://a!$&'()*+,;=b/p:@!$&'()*+,;=",
    "fragment": "ws://example.com/#frag",
    "escaped-hash": "ws://example.com/%23",
    "http": "http://example.com/",
    "no-slashes": "ws:example.com",
    "userinfo": "ws://user:pass@example.com/",
    "port-0": "ws://example.com:0",
    "port-65536": "ws://example.com:65536",
    "port-leading-zeros": "ws://example.com:00080/",
    "empty-port": "ws://example.com:/",
    "empty-host": "ws://:80/",
    "ipv6-zone": "ws://[fe80::1%25eth0]/",
    "ipv6-unbracketed": "ws://::1/",
    "space": "ws://exa mple.com/",
    "non-ascii": "ws://exämple.com/",
    "bad-percent": "ws://example.com/%G0",
}
for name, text in uris.items():
    write("uri", name, text.encode())

# --- close_payload: the payload --------------------------------------------------
closes = {
    "empty": b"",
    "one-byte": b"\x03",
    "1000": struct.pack(">H", 1000),
    "1000-bye": struct.pack(">H", 1000) + b"bye",
    "1001-kosme": struct.pack(">H", 1001) + KOSME,
    "1004": struct.pack(">H", 1004),
    "1005": struct.pack(">H", 1005),
    "1006": struct.pack(">H", 1006),
    "1014": struct.pack(">H", 1014),
    "1015": struct.pack(">H", 1015),
    "1016": struct.pack(">H", 1016),
    "2999": struct.pack(">H", 2999),
    "3000": struct.pack(">H", 3000),
    "4999": struct.pack(">H", 4999),
    "5000": struct.pack(">H", 5000),
    "0": struct.pack(">H", 0),
    "999": struct.pack(">H", 999),
    "bad-utf8-reason": struct.pack(">H", 1000) + b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited",
    "reason-ends-inside": struct.pack(">H", 1000) + b"ab\xe2\x82",
    "125-bytes": struct.pack(">H", 1000) + b"r" * 123,
    "126-bytes": struct.pack(">H", 1000) + b"r" * 124,
}
for name, payload in closes.items():
    write("close_payload", name, payload)

# --- frame_roundtrip: [FIN RSV opcode][options][key x4][chunk seed] payload ----------
# options: bit 0 a long payload (65536 + 2 more bytes of length, the rest
# repeated); bits 1-2 the explicit length form (0 7-bit, 1 16-bit, 2 64-bit).
def rt(b0, options, payload, seed=0, key=KEY):
    return bytes([b0, options]) + key + bytes([seed]) + payload


rts = {
    "text-hello": rt(0x81, 0, HELLO),
    "text-hello-pieces": rt(0x81, 0, HELLO, seed=1),
    "fragment-start": rt(0x01, 0, HELLO, seed=3),
    "ping": rt(0x89, 0, HELLO),
    "close-1000": rt(0x88, 0, b"\x03\xe8"),
    "binary-256-16bit": rt(0x82, 2, bytes(range(256)), seed=130),
    "binary-125-explicit-16bit": rt(0x82, 2, bytes(125)),
    "text-explicit-64bit": rt(0x81, 4, HELLO),
    "long-64bit": rt(0x82, 0x19 | 4, b"\x00\x10" + b"pattern", seed=255),
    "control-126": rt(0x89, 0, bytes(126)),
    "control-fragmented": rt(0x09, 0, HELLO),
    "reserved-opcode-3": rt(0x83, 0, HELLO),
    "reserved-opcode-f": rt(0x8F, 0, b""),
    "rsv-all": rt(0xF2, 0, HELLO),
    "empty": rt(0x80, 0, b""),
}
for name, data in rts.items():
    write("frame_roundtrip", name, data)

# --- inflater: [options][chunk seed] then messages, each [length u16 BE] bytes -----
# options: bits 0-2 window bits 8+n, bit 3 no context takeover, bits 4-6 the
# limit (0 16 MiB, 1 0, 2 1, 3 5, 4 100, 5 4096, 6 65536, 7 1 MiB), bit 7
# round trip (the messages are plain data, compressed by the Deflater first).
import zlib


def deflate_raw(message, wbits=15):
    c = zlib.compressobj(6, zlib.DEFLATED, -wbits)
    out = c.compress(message) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


def msgs(*payloads):
    return b"".join(struct.pack(">H", len(p)) + p for p in payloads)


def inf(options, seed, *payloads):
    return bytes([options, seed]) + msgs(*payloads)


RFC_HELLO = bytes.fromhex("f248cdc9c90700")            # RFC 7692 §7.2.3.1
RFC_HELLO_AGAIN = bytes.fromhex("f20011000000")[:5]     # §7.2.3.2: f2 00 11 00 00
RFC_STORED = bytes.fromhex("000500faff48656c6c6f00")    # §7.2.3.3 (a stored block)
RFC_BFINAL = bytes.fromhex("f348cdc9c9070000")          # §7.2.3.4 (BFINAL, then 00)


def two_blocks(a, b):  # one message, a sync flush inside it (a block boundary mid-message)
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    out = c.compress(a) + c.flush(zlib.Z_SYNC_FLUSH) + c.compress(b) + c.flush(zlib.Z_SYNC_FLUSH)
    return out[:-4]


bomb = deflate_raw(bytes(1 << 20))
text = ("The quick brown fox jumps over the lazy dog. " * 40).encode()
infl = {
    "rfc-7.2.3.1-hello": inf(7, 0, RFC_HELLO),
    "rfc-7.2.3.2-takeover": inf(7, 0, RFC_HELLO, RFC_HELLO_AGAIN),
    "rfc-7.2.3.2-takeover-pieces": inf(7, 1, RFC_HELLO, RFC_HELLO_AGAIN),
    "rfc-7.2.3.2-no-takeover-refused": inf(7 | 8, 0, RFC_HELLO, RFC_HELLO_AGAIN),
    "rfc-7.2.3.3-stored": inf(7, 3, RFC_STORED),
    "rfc-7.2.3.4-bfinal": inf(7, 0, RFC_BFINAL, RFC_HELLO_AGAIN),
    "two-blocks": inf(7, 5, two_blocks(b"Hel", b"lo")),
    "rfc-7.2.3.6-empty": inf(7, 0, b"\x00"),
    "truncated": inf(7, 0, RFC_HELLO[:4]),
    "not-deflate": inf(7, 0, b"\xff\xff\xff\xff"),
    "bomb-1mib-limit-64k": inf(7 | (6 << 4), 200, bomb),
    "bomb-1mib-limit-1mib": inf(7 | (7 << 4), 0, bomb),
    "text-limit-100": inf(7 | (4 << 4), 9, deflate_raw(text)),
    "text-window-9": inf(1, 17, deflate_raw(text, 9), deflate_raw(text, 9)),
    "text-window-8-takeover": inf(0, 140, deflate_raw(text, 9)),
    "hello-limit-5": inf(7 | (3 << 4), 0, RFC_HELLO),
    "hello-limit-0": inf(7 | (1 << 4), 0, RFC_HELLO, b"\x00"),
    "round-trip-text": bytes([0x80 | 7, 3]) + msgs(text, text, b"", b"Hello"),
    "round-trip-window-8": bytes([0x80 | 0, 150]) + msgs(text, bytes(range(256)) * 3),
    "round-trip-no-takeover-9": bytes([0x80 | 8 | 1, 1]) + msgs(text[:300], text[:300]),
    "round-trip-utf8": bytes([0x80 | 7, 0]) + msgs("κόσμε € 😀 ".encode() * 20),
}
for name, data in infl.items():
    write("inflater", name, data)

print("seed corpora written under", ROOT)
