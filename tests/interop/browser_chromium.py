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
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

import websockets

WSLAB = sys.argv[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TIMEOUT = 20
failures, passed = [], 0


def check(name, condition, detail=""):
    global passed
    if condition:
        passed += 1
        print(f"ok   {name}")
    else:
        failures.append(name)
        print(f"FAIL {name} {detail}")


def start_server(*extra):
    proc = subprocess.Popen([WSLAB, "serve", "--port", "0", "--log-level", "warning", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        m = re.search(r"listening on wss?://([\d.]+:\d+)", line or "")
        if m:
            return proc, m.group(1)
        if not line:
            break
    proc.kill()
    raise SystemExit("wslab serve did not start: " + proc.stderr.read())


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
        plain, plain_addr = start_server()
        secure, secure_addr = start_server("--tls-self-signed")
        servers = [plain, secure]
        chromium, devtools = start_chromium(profile)
        asyncio.run(demo_page(devtools, f"http://{plain_addr}", "ws://"))
        asyncio.run(demo_page(devtools, f"https://{secure_addr}", "wss://"))
    finally:
        if chromium:
            chromium.kill()
            chromium.wait()
        for s in servers:
            s.send_signal(signal.SIGTERM)
            try:
                s.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                s.kill()
        shutil.rmtree(profile, ignore_errors=True)
    print(f"{passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
