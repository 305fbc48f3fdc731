#!/usr/bin/python3
"""wslab-viz as a user runs it, under an Xvfb this script starts:

- live: it follows a real `wslab serve` while `wslab tour --once` walks
  through every chapter, and parses every event (none dropped);
- Composer: --compose "RSV1 set" --send puts the frame on a raw connection
  and the server's answer (close 1002) comes back, in the trace too;
- a server that is not there: the window keeps drawing and says so;
- no display: the same trace as ASCII bit diagrams;
- bad input: exit statuses 2 and 3 with messages that name the problem.

    viz_live_test.py WSLAB WSLAB_VIZ
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from harness import check, start_server, start_xvfb, stop_server, summary  # noqa: E402

wslab, viz = sys.argv[1], sys.argv[2]


def stats_of(output):
    m = re.search(r"^stats: (.*)$", output, re.M)
    return dict(kv.split("=") for kv in m.group(1).split()) if m else {}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


xvfb, display = start_xvfb()
if not xvfb:
    raise SystemExit("Xvfb is missing or did not start (Debian package xvfb; ./bootstrap.sh deps)")
env = dict(os.environ, DISPLAY=display)
tmp = tempfile.mkdtemp(prefix="wslab-viz-test-")
trace_file = os.path.join(tmp, "tour.jsonl")
server, url = start_server(wslab, "--trace-file", trace_file)
try:
    # Live: the viewer follows the tour from start to finish.
    png = os.path.join(tmp, "live.png")
    viewer = subprocess.Popen([viz, "--url", url + "/trace/ws", "--wait", "6", "--panel", "messages",
                               "--screenshot", png], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    time.sleep(1.0)
    tour = subprocess.run([wslab, "tour", "--url", url, "--once", "--pause", "0.1s"], capture_output=True, text=True,
                          timeout=60)
    check("the tour ran one round against the server", tour.returncode == 0, tour.stdout + tour.stderr)
    out, _ = viewer.communicate(timeout=60)
    stats = stats_of(out)
    check("live: wslab-viz exits 0 after its screenshot", viewer.returncode == 0, out)
    check("live: it was connected", "status: connected" in out, out)
    # Every event the server recorded reached the viewer (a tour round is
    # 14 frames: text, 3 fragments, binary, ping, a bad frame, close, and
    # the server's answers).
    with open(trace_file) as f:
        recorded = [line for line in f if line.strip()]
    frames = sum('"type":"frame"' in line for line in recorded)
    check("live: the viewer got every event the server recorded, in the same number",
          stats.get("events") == str(len(recorded)) and stats.get("frames_kept") == str(frames) and frames >= 14,
          f"{out}\nrecorded {len(recorded)} events, {frames} frames")
    check("live: every event parsed, none dropped",
          stats.get("parse_errors") == "0" and stats.get("viewer_dropped") == "0"
          and stats.get("source_dropped") == "0", out)
    check("live: the PNG is there", os.path.getsize(png) > 10000 if os.path.exists(png) else False)

    # The Composer: a frame with RSV1 set, sent on a raw connection.
    r = subprocess.run([viz, "--url", url + "/trace/ws", "--compose", "RSV1 set", "--send", "--wait", "2",
                        "--screenshot", os.path.join(tmp, "composer.png")], env=env, capture_output=True, text=True,
                       timeout=60)
    check("composer: the server answers RSV1 with close 1002 and closes TCP",
          r.returncode == 0 and re.search(r'composer: .*server: close 1002 .*then closed TCP', r.stdout), r.stdout + r.stderr)
    check("composer: the frame and the server's close came back in the trace",
          int(stats_of(r.stdout).get("frames_kept", 0)) >= 2, r.stdout)

    # Replay of the file the server recorded meanwhile.
    r = subprocess.run([viz, "--replay", trace_file, "--select", "3", "--panel", "frame",
                        "--screenshot", os.path.join(tmp, "replay.png")], env=env, capture_output=True, text=True,
                       timeout=60)
    check("replay: the server's --trace-file opens in wslab-viz", r.returncode == 0 and "diagram-origin:" in r.stdout,
          r.stdout + r.stderr)
finally:
    stop_server(server)

# A server that is not there: the window still draws, and says so.
r = subprocess.run([viz, "--url", f"ws://127.0.0.1:{free_port()}/trace/ws", "--wait", "1.5",
                    "--screenshot", os.path.join(tmp, "gone.png")], env=env, capture_output=True, text=True, timeout=30)
check("no server: wslab-viz keeps drawing and shows 'disconnected'",
      r.returncode == 0 and re.search(r"status: disconnected", r.stdout), r.stdout + r.stderr)

# No display: ASCII bit diagrams instead.
no_display = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
r = subprocess.run([viz, "--replay", trace_file], env=no_display, capture_output=True, text=True, timeout=30)
check("no display: it says so and prints the frames as ASCII bit diagrams",
      r.returncode == 0 and "no display" in (r.stdout + r.stderr) and "+-+-+-+-+" in r.stdout,
      (r.stdout + r.stderr)[:2000])
r = subprocess.run([viz, "--replay", trace_file, "--screenshot", "x.png"], env=no_display, capture_output=True,
                   text=True, timeout=30)
check("no display: --screenshot exits 4 and names xvfb-run", r.returncode == 4 and "xvfb-run" in r.stderr, r.stderr)

# Bad input.
bad = os.path.join(tmp, "bad.jsonl")
with open(trace_file) as f, open(bad, "w") as g:
    g.write(f.readline())
    g.write('{"type":"frame","conn":1}\n')
r = subprocess.run([viz, "--replay", bad], env=env, capture_output=True, text=True, timeout=30)
check("a bad trace line: exit 3, naming the file, the line and the field",
      r.returncode == 3 and re.search(r"bad\.jsonl:2: frame: field \"t\" missing", r.stderr), r.stderr)
r = subprocess.run([viz, "--frames", "0"], env=env, capture_output=True, text=True, timeout=30)
check("a bad option: exit 2 with the reason", r.returncode == 2 and "--frames" in r.stderr, r.stderr)
r = subprocess.run([viz, "--replay", trace_file, "--send"], env=env, capture_output=True, text=True, timeout=30)
check("--send with --replay: exit 2", r.returncode == 2 and "--send needs a live server" in r.stderr, r.stderr)

xvfb.terminate()
xvfb.wait()
shutil.rmtree(tmp, ignore_errors=True)
sys.exit(summary())
