#!/usr/bin/python3
"""Interop with Python's `websockets` (Debian python3-websockets), both ways.

  1. `wslab serve` as the server, websockets as the client.
  2. websockets as the server, `wslab send` as the client.

Run by CTest (label interop) as: python_websockets.py PATH/TO/wslab
Every step is bounded in time; all traffic stays on 127.0.0.1.
"""
import asyncio
import signal
import subprocess

import websockets

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


def main():
    proc, base = start_server(WSLAB)
    try:
        asyncio.run(wslab_server_cases(base))
        asyncio.run(shutdown_case(proc, base))
    finally:
        if proc.poll() is None:
            stop_server(proc)
    asyncio.run(wslab_client_cases())
    return summary()


if __name__ == "__main__":
    sys.exit(main())
