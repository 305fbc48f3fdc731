#!/usr/bin/python3
"""Interop with Python's `websockets` (Debian python3-websockets), both ways.

  1. `wslab serve` as the server, websockets as the client.
  2. websockets as the server, `wslab send` as the client.

websockets negotiates permessage-deflate (RFC 7692) by default, and so does
wslab, so most of this traffic is compressed; the compressed cases check
that it is (RSV1 on the frames wslab sends), with each negotiated parameter,
and that it is not with --no-deflate.

Run by CTest (label interop) as: python_websockets.py PATH/TO/wslab
Every step is bounded in time; all traffic stays on 127.0.0.1.
"""
import asyncio
import signal
import subprocess
import zlib

import websockets
from websockets.extensions.permessage_deflate import (ClientPerMessageDeflateFactory,
                                                      ServerPerMessageDeflateFactory)

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from harness import check, start_server, stop_server, summary  # noqa: E402

WSLAB = sys.argv[1]
TIMEOUT = 10


async def wslab_server_cases(base):
    # Echo of text and binary at the length-form boundaries (RFC 6455 §5.2).
    async with websockets.connect(base + "/ws", max_size=None, open_timeout=TIMEOUT) as ws:
        for size in (0, 1, 125, 126, 127, 65535, 65536, 1 << 20):
            text = ("é" * size)[:size] if size < 70000 else "x" * size
            await ws.send(text)
            reply = await asyncio.wait_for(ws.recv(), TIMEOUT)
            check(f"text echo, {size} characters", reply == text)
            data = bytes(i % 251 for i in range(size))
            await ws.send(data)
            reply = await asyncio.wait_for(ws.recv(), TIMEOUT)
            check(f"binary echo, {size} bytes", reply == data)
        # A fragmented message (websockets sends an iterable as fragments).
        await ws.send(["frag", "men", "ted"])
        check("fragmented text arrives whole", await asyncio.wait_for(ws.recv(), TIMEOUT) == "fragmented")
        # Ping: websockets waits for the pong with the same payload.
        pong = await ws.ping(b"are you there?")
        await asyncio.wait_for(pong, TIMEOUT)
        check("ping answered by a pong", True)
        await ws.close(code=1000, reason="bye")
        check("close 1000 echoed", ws.close_code == 1000, f"got {ws.close_code}")

    # Chat: every message goes to every chat client.
    async with websockets.connect(base + "/chat/ws") as a, websockets.connect(base + "/chat/ws") as b:
        await asyncio.sleep(0.1)
        await a.send("hello from a")
        got_a = await asyncio.wait_for(a.recv(), TIMEOUT)
        got_b = await asyncio.wait_for(b.recv(), TIMEOUT)
        check("chat broadcast reaches every client", got_a == got_b == "hello from a")

    # A rule broken on purpose: invalid UTF-8 in a text frame -> 1007.
    async with websockets.connect(base + "/ws") as ws:
        await ws.send(b"x")  # binary is fine
        await ws.recv()
        # websockets will not send invalid text, so write the frame by hand.
        frame = bytes([0x81, 0x82, 0, 0, 0, 0, 0xC0, 0xAF])
        ws.transport.write(frame)
        try:
            await asyncio.wait_for(ws.recv(), TIMEOUT)
        except websockets.ConnectionClosed:
            pass
        check("invalid UTF-8 is failed with 1007", ws.close_code == 1007, f"got {ws.close_code}")

    # Unknown resource -> 404, plain GET /ws -> 426.
    try:
        async with websockets.connect(base + "/nope/ws"):
            check("unknown resource refused", False)
    except websockets.InvalidStatusCode as e:
        check("unknown resource refused with 404", e.status_code == 404, str(e.status_code))


def watch_rsv1(ws):
    """Records, for each frame websockets reads, whether RSV1 was set (the
    permessage-deflate extension is the last to see a frame's raw bits)."""
    seen = []
    extension = ws.extensions[0]
    decode = extension.decode

    def recording(frame, *, max_size=None):
        seen.append((frame.opcode, frame.rsv1))
        return decode(frame, max_size=max_size)

    extension.decode = recording
    return seen


def masked_frame(first_byte, payload):
    """A client frame written by hand, masked with the key 00 00 00 00 (so
    the payload goes as it is)."""
    n = len(payload)
    if n < 126:
        head = bytes([first_byte, 0x80 | n])
    elif n < 65536:
        head = bytes([first_byte, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([first_byte, 0x80 | 127]) + n.to_bytes(8, "big")
    return head + b"\0\0\0\0" + payload


def raw_deflate(data):
    """permessage-deflate's payload for `data` (RFC 7692 §7.2.1)."""
    c = zlib.compressobj(wbits=-15)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    return out[:-4]


async def compressed_server_cases(base, no_deflate_base):
    # The default offer: "permessage-deflate; client_max_window_bits".
    async with websockets.connect(base + "/ws", max_size=None, open_timeout=TIMEOUT) as ws:
        names = [e.name for e in ws.extensions]
        check("compressed: wslab serve accepts websockets' permessage-deflate offer",
              names == ["permessage-deflate"], str(ws.extensions))
        seen = watch_rsv1(ws)
        text = "compress me, " * 80000  # about 1 MiB
        await ws.send(text)
        check("compressed: a 1 MiB text echo", await asyncio.wait_for(ws.recv(), TIMEOUT) == text)
        data = bytes(i * 7 % 256 for i in range(100000))
        await ws.send(data)
        check("compressed: a binary echo", await asyncio.wait_for(ws.recv(), TIMEOUT) == data)
        await ws.send(["frag", "men", "ted"])
        check("compressed: a fragmented message", await asyncio.wait_for(ws.recv(), TIMEOUT) == "fragmented")
        await ws.send("")
        check("compressed: an empty message", await asyncio.wait_for(ws.recv(), TIMEOUT) == "")
        pong = await ws.ping(b"ping")
        await asyncio.wait_for(pong, TIMEOUT)
        data_frames = [rsv1 for opcode, rsv1 in seen if opcode in (0x1, 0x2)]
        check("compressed: wslab's echoes carry RSV1", len(data_frames) >= 4 and all(data_frames), str(seen))
        check("compressed: wslab's pong has no RSV1", (0xA, False) in seen, str(seen))
        # An uncompressed message (no RSV1) on a compressed connection is fine (RFC 7692 §6).
        ws.transport.write(masked_frame(0x81, b"plain"))
        check("compressed: an uncompressed frame is echoed", await asyncio.wait_for(ws.recv(), TIMEOUT) == "plain")

    # Each parameter, asked by the client; the server follows (RFC 7692 §7.1).
    for params in ({"server_no_context_takeover": True}, {"client_no_context_takeover": True},
                   {"server_max_window_bits": 10}, {"server_max_window_bits": 8},
                   {"client_max_window_bits": 9},
                   {"server_no_context_takeover": True, "client_no_context_takeover": True,
                    "server_max_window_bits": 11, "client_max_window_bits": 12}):
        factory = ClientPerMessageDeflateFactory(**params)
        async with websockets.connect(base + "/ws", extensions=[factory], open_timeout=TIMEOUT) as ws:
            ext = ws.extensions[0] if ws.extensions else None
            ok = ext is not None
            if ok and params.get("server_no_context_takeover"):
                ok = ext.remote_no_context_takeover
            if ok and params.get("client_no_context_takeover"):
                ok = ext.local_no_context_takeover
            if ok and "server_max_window_bits" in params:
                ok = ext.remote_max_window_bits == params["server_max_window_bits"]
            if ok and "client_max_window_bits" in params:
                ok = ext.local_max_window_bits <= params["client_max_window_bits"]
            message = "window " * 5000
            for _ in range(3):  # the same message again: context takeover, or none
                await ws.send(message)
                ok = ok and await asyncio.wait_for(ws.recv(), TIMEOUT) == message
            check(f"compressed: negotiated and echoed with {params}", ok, repr(ext))

    # Without the offer, no compression.
    async with websockets.connect(base + "/ws", compression=None, open_timeout=TIMEOUT) as ws:
        await ws.send("plain")
        check("compressed: a client that does not offer it gets plain messages",
              ws.extensions == [] and await asyncio.wait_for(ws.recv(), TIMEOUT) == "plain")
    # A server with --no-deflate declines the offer.
    async with websockets.connect(no_deflate_base + "/ws", open_timeout=TIMEOUT) as ws:
        await ws.send("plain")
        check("compressed: wslab serve --no-deflate declines websockets' offer",
              ws.extensions == [] and await asyncio.wait_for(ws.recv(), TIMEOUT) == "plain", str(ws.extensions))

    # Rules broken on purpose, frames written by hand.
    for name, frame, expected in (
            ("RSV1 on a ping fails with 1002", masked_frame(0xC9, b""), 1002),
            ("RSV1 on a continuation frame fails with 1002",
             masked_frame(0x41, raw_deflate(b"Hel")) + masked_frame(0xC0, b"\0"), 1002),
            ("compressed invalid UTF-8 fails with 1007", masked_frame(0xC1, raw_deflate(b"ok \xc0\xaf")), 1007),
            ("a payload that does not inflate fails with 1007", masked_frame(0xC2, b"\xff\xff\xff"), 1007),
            ("a 20 MiB bomb in 20 KiB fails with 1009", masked_frame(0xC2, raw_deflate(bytes(20 << 20))), 1009)):
        async with websockets.connect(base + "/ws", open_timeout=TIMEOUT) as ws:
            ws.transport.write(frame)
            try:
                await asyncio.wait_for(ws.recv(), TIMEOUT)
            except websockets.ConnectionClosed:
                pass
            check("compressed: " + name, ws.close_code == expected, f"got {ws.close_code}")


async def shutdown_case(proc, base):
    async with websockets.connect(base + "/ws") as ws:
        await ws.send("still here")
        await ws.recv()
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(ws.recv(), TIMEOUT)
        except websockets.ConnectionClosed:
            pass
        check("graceful shutdown sends 1001", ws.close_code == 1001, f"got {ws.close_code}")
    try:
        code = proc.wait(TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = None
    check("wslab serve exits 0 after SIGTERM", code == 0, f"exit {code}")


async def echo_handler(ws, path=None):
    if (path or getattr(ws, "path", None)) == "/extensions":  # says what was negotiated, then echoes
        await ws.recv()
        await ws.send(repr(ws.extensions))
    async for message in ws:
        await ws.send(message)


async def wslab_client_cases():
    async with websockets.serve(echo_handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        url = f"ws://127.0.0.1:{port}/"

        async def send(*args):
            proc = await asyncio.create_subprocess_exec(WSLAB, "send", url, *args,
                                                        stdout=asyncio.subprocess.PIPE,
                                                        stderr=asyncio.subprocess.PIPE)
            out, err = await asyncio.wait_for(proc.communicate(), TIMEOUT)
            return proc.returncode, out.decode(), err.decode()

        code, out, err = await send("hello, websockets")
        check("wslab send: text echoed by websockets", code == 0 and "hello, websockets" in out, out + err)
        code, out, err = await send("--binary", "00ff10")
        check("wslab send: binary echoed by websockets", code == 0 and "00 ff 10" in out, out + err)

    # permessage-deflate: wslab's client offers it, websockets accepts.
    async with websockets.serve(echo_handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        code, out, err = await run_send(f"ws://127.0.0.1:{port}/extensions", "which?")
        check("compressed: wslab send negotiates permessage-deflate with websockets",
              code == 0 and "PerMessageDeflate" in out, out + err)
        code, out, err = await run_send(f"ws://127.0.0.1:{port}/extensions", "which?", "--no-deflate")
        check("compressed: wslab send --no-deflate does not offer it", code == 0 and out.strip() == "[]", out + err)
        text = "compressed by wslab, inflated by websockets; " * 2000
        code, out, err = await run_send(f"ws://127.0.0.1:{port}/", text)
        check("compressed: wslab send, a 90 KB text echoed", code == 0 and out.strip() == text.strip(), err)

    # websockets' server asking for small windows and no context takeover.
    factory = ServerPerMessageDeflateFactory(server_no_context_takeover=True, client_no_context_takeover=True,
                                             server_max_window_bits=9, client_max_window_bits=9)
    async with websockets.serve(echo_handler, "127.0.0.1", 0, extensions=[factory]) as server:
        port = server.sockets[0].getsockname()[1]
        code, out, err = await run_send(f"ws://127.0.0.1:{port}/extensions", "which?")
        check("compressed: websockets' server_max_window_bits=9, client_max_window_bits=9, no takeover",
              code == 0 and "remote_max_window_bits=9" in out and "local_max_window_bits=9" in out
              and "local_no_context_takeover=True" in out, out + err)
        text = "".join(f"line {i}: the quick brown fox\n" for i in range(3000))
        code, out, err = await run_send(f"ws://127.0.0.1:{port}/", text)
        check("compressed: wslab's 9-bit window deflate inflates in websockets", code == 0 and out == text + "\n",
              err)


async def run_send(url, *args):
    proc = await asyncio.create_subprocess_exec(WSLAB, "send", url, *args, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), TIMEOUT)
    return proc.returncode, out.decode(), err.decode()


def main():
    proc, base = start_server(WSLAB)
    plain, plain_base = start_server(WSLAB, "--no-deflate")
    try:
        asyncio.run(wslab_server_cases(base))
        asyncio.run(compressed_server_cases(base, plain_base))
        asyncio.run(shutdown_case(proc, base))
    finally:
        if proc.poll() is None:
            stop_server(proc)
        if plain.poll() is None:
            stop_server(plain)
    asyncio.run(wslab_client_cases())
    return summary()


if __name__ == "__main__":
    sys.exit(main())
