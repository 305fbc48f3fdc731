#!/usr/bin/python3
"""Can wslab-viz keep up with a busy server? (docs/performance.md, "Visualiser")

    tests/bench/viz_stream_bench.py [BUILD_DIR] [--rates 1000,5000,10000,20000] [--seconds 8] [--frames 10000]

For each rate R (frames per second in the trace): a fresh `wslab serve`, an
Xvfb, `wslab-viz` following /trace/ws (its live source and Store, drawing
the default layout at its usual pace), and a Python `websockets` client
that sends R/2 text messages a second to /ws for SECONDS (each message and
its echo are 2 frames; 3 trace events more per message are not counted).
wslab-viz takes its screenshot at the end and prints what it had; the
script prints, per rate: frames offered, frames the viewer saw, their ratio
(the peer here is the offered load itself: 1.00 = kept up), events the
server dropped for the viewer, and the viewer's peak RSS.
Needs BUILD_DIR (default build/release) with src/app/wslab and
visualiser/wslab-viz, Xvfb, and /usr/bin/python3 with websockets.
"""
import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from harness import start_server, start_xvfb, stop_server  # noqa: E402

import websockets  # noqa: E402


async def load(url, rate, seconds):
    """rate messages a second to the echo for `seconds`; returns messages sent."""
    async with websockets.connect(url, max_queue=None, compression=None) as ws:
        async def drain():
            try:
                async for _ in ws:
                    pass
            except websockets.ConnectionClosed:
                pass
        reader = asyncio.create_task(drain())
        start = time.monotonic()
        sent = 0
        while (elapsed := time.monotonic() - start) < seconds:
            due = int(elapsed * rate)
            while sent < due:
                await ws.send(f"load {sent}")
                sent += 1
            await asyncio.sleep(0.002)
        await ws.close()
        reader.cancel()
        return sent


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("build_dir", nargs="?", default="build/release")
    p.add_argument("--rates", default="1000,5000,10000,20000", help="frames per second, comma-separated")
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--frames", type=int, default=10000, help="wslab-viz --frames (its ring)")
    a = p.parse_args()
    wslab = os.path.join(a.build_dir, "src/app/wslab")
    viz = os.path.join(a.build_dir, "visualiser/wslab-viz")
    for path in (wslab, viz):
        if not os.access(path, os.X_OK):
            sys.exit(f"viz_stream_bench: {path} is missing: build {a.build_dir} first")

    xvfb, display = start_xvfb()
    if not xvfb:
        sys.exit("viz_stream_bench: Xvfb is missing or did not start")
    env = dict(os.environ, DISPLAY=display)
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}  {os.cpu_count()} cores, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; {a.seconds:g} s per rate, ring {a.frames} frames")
    print("| frames/s offered | frames offered | frames seen by wslab-viz | seen / offered | dropped by the server "
          "| wslab-viz peak RSS |")
    print("|---:|---:|---:|---:|---:|---:|")
    try:
        for rate in [int(x) for x in a.rates.split(",") if x]:
            server, url = start_server(wslab)
            png = tempfile.mktemp(suffix=".png")
            try:
                viewer = subprocess.Popen([viz, "--url", url + "/trace/ws", "--frames", str(a.frames),
                                           "--wait", str(a.seconds + 3), "--screenshot", png],
                                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                time.sleep(1.5)  # connected and drawing
                sent = asyncio.run(load(url + "/ws", rate / 2, a.seconds))
                _, status, usage = os.wait4(viewer.pid, 0)
                out = viewer.stdout.read()
                viewer.returncode = os.waitstatus_to_exitcode(status)
                m = re.search(r"^stats: (.*)$", out, re.M)
                stats = dict(kv.split("=") for kv in m.group(1).split()) if m else {}
                seen = int(stats.get("frames_kept", 0)) + int(stats.get("evicted", 0))
                offered = 2 * sent
                print(f"| {rate} | {offered} | {seen} | {seen / offered if offered else 0:.2f} | "
                      f"{stats.get('source_dropped', '?')} | {usage.ru_maxrss / 1024:.0f} MiB |", flush=True)
                if viewer.returncode != 0:
                    print(f"#   wslab-viz exited {viewer.returncode}: {out.strip()}")
            finally:
                stop_server(server)
                if os.path.exists(png):
                    os.remove(png)
    finally:
        xvfb.terminate()
        xvfb.wait()


if __name__ == "__main__":
    main()
