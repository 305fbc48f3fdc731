#!/usr/bin/python3
"""A real browser against the wslab server: headless Chromium (Debian's
`chromium`) opens the demo page served at "/", and the test clicks through
it like a person would -- wait for OPEN, type and send a message, see the
echo in the log, press Close, read the close code the page shows -- over
ws:// and over wss:// (a throw-away certificate the browser is told to
accept). Chromium is driven through its DevTools protocol, which is itself
a WebSocket: the test speaks it with Python's websockets.

Run by CTest (label browser) as: browser_chromium.py PATH/TO/wslab
"""
import asyncio
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request

import websockets

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from harness import check, start_server, stop_server, summary  # noqa: E402

WSLAB = sys.argv[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TIMEOUT = 20


def start_chromium(profile):
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", "--remote-debugging-port=0", "--ignore-certificate-errors",
            "about:blank"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port_file = os.path.join(profile, "DevToolsActivePort")
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if os.path.exists(port_file):
            with open(port_file) as f:
                lines = f.read().split()
            if lines:
                return proc, int(lines[0])
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("chromium did not open its DevTools port")


class Page:
    """One browser tab, driven through the DevTools protocol."""

    def __init__(self, ws):
        self.ws, self.next_id = ws, 0

    async def call(self, method, **params):
        self.next_id += 1
        my_id = self.next_id
        await self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), TIMEOUT))
            if message.get("id") == my_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    async def js(self, expression):
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    async def wait_for(self, expression, seconds=TIMEOUT):
        deadline = time.monotonic() + seconds
        value = None
        while time.monotonic() < deadline:
            value = await self.js(expression)
            if value:
                return value
            await asyncio.sleep(0.1)
        return value


async def demo_page(devtools_port, origin, label):
    with urllib.request.urlopen(f"http://127.0.0.1:{devtools_port}/json/list", timeout=TIMEOUT) as r:
        target = next(t for t in json.load(r) if t["type"] == "page")
    async with websockets.connect(target["webSocketDebuggerUrl"], max_size=None) as ws:
        page = Page(ws)
        await page.call("Page.navigate", url=origin + "/")
        opened = await page.wait_for("document.getElementById('state')?.textContent === 'OPEN'")
        check(f"{label}: the page's WebSocket reaches OPEN", opened)
        # Chromium offers permessage-deflate (RFC 7692) and wslab serve
        # accepts it: the page's messages below go compressed both ways.
        extensions = await page.js("ws.extensions")
        check(f"{label}: Chromium and wslab agree on permessage-deflate", extensions == "permessage-deflate",
              f"got {extensions!r}")
        await page.js("document.getElementById('text').value = 'hello from chromium';"
                      "document.querySelector('#form button').click(); true")
        echoed = await page.wait_for("document.getElementById('log').textContent.includes('< hello from chromium')")
        check(f"{label}: the echo shows in the page's log", echoed)
        await page.js("document.getElementById('close').click(); true")
        code = await page.wait_for("(t => t !== '-' && t)(document.getElementById('code').textContent)")
        # The server's answering Close echoes the code (RFC 6455 §5.5.1), so
        # the page's CloseEvent says 1000.
        check(f"{label}: the page reports close code 1000", code == "1000", f"got {code!r}")
        clean = await page.wait_for("document.getElementById('log').textContent.includes('closed: code 1000, clean')")
        check(f"{label}: the close was clean", clean)
        state = await page.wait_for("document.getElementById('state').textContent === 'CLOSED'")
        check(f"{label}: readyState ends CLOSED", state)


def main():
    if not os.path.exists(CHROMIUM):
        print("FAIL chromium is not installed (./bootstrap.sh deps installs it)")
        print("0 passed, 1 failed")
        return 1
    servers, chromium = [], None
    profile = tempfile.mkdtemp(prefix="wslab-chromium-")
    try:
        plain, plain_url = start_server(WSLAB)
        secure, secure_url = start_server(WSLAB, "--tls-self-signed")
        plain_addr, secure_addr = plain_url.split("//")[1], secure_url.split("//")[1]
        servers = [plain, secure]
        chromium, devtools = start_chromium(profile)
        asyncio.run(demo_page(devtools, f"http://{plain_addr}", "ws://"))
        asyncio.run(demo_page(devtools, f"https://{secure_addr}", "wss://"))
    finally:
        if chromium:
            chromium.kill()
            chromium.wait()
        for s in servers:
            stop_server(s)
        shutil.rmtree(profile, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
