#!/usr/bin/env python3
"""Lesson 07: Python's `websockets` (Debian: python3-websockets), which offers
permessage-deflate by default, against `wslab serve`'s echo: what each side
offered and accepted, and compressed messages both ways.

    python3 compressed_echo.py [ws://127.0.0.1:8080/ws]
"""
import asyncio
import sys

import websockets
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

URL = sys.argv[1] if len(sys.argv) > 1 else "ws://127.0.0.1:8080/ws"


async def session(title, **options):
    async with websockets.connect(URL, **options) as ws:
        print(title)
        print("  offered: ", ws.request_headers.get("Sec-WebSocket-Extensions", "(nothing)"))
        print("  accepted:", ws.response_headers.get("Sec-WebSocket-Extensions", "(nothing: no compression)"))
        written = []  # what this client writes to TCP: its frames, as on the wire
        write = ws.transport.write
        ws.transport.write = lambda data: (written.append(len(data)), write(data))[1]
        for message in ["Hello", "Hello", '{"type":"chat","text":"hello"} ' * 100]:
            written.clear()
            await ws.send(message)
            echo = await ws.recv()
            print(f"  {len(message):4} characters sent in a frame of {sum(written):3} bytes, "
                  f"echoed {'intact' if echo == message else 'DIFFERENT'}")


async def main():
    await session("websockets' defaults:")
    await session("no compression (compression=None):", compression=None)
    await session("asking for a 1 KiB server window and no client context takeover:", compression=None,
                  extensions=[ClientPerMessageDeflateFactory(server_max_window_bits=10,
                                                             client_no_context_takeover=True)])

asyncio.run(main())
