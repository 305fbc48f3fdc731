"""Shared by the Python test scripts (tests/app, tests/interop, tests/trace,
tests/visualiser, tests/lessons, tests/bench): checks that count, the closing
"N passed, N failed" line, `wslab serve` started on a free port and stopped
again, and an Xvfb of its own."""
import os
import re
import shutil
import subprocess
import time

TIMEOUT = 20
failures = []
passed = 0


def check(name, condition, detail=""):
    """Record one check; print "ok" or "FAIL" with the detail."""
    global passed
    if condition:
        passed += 1
        print(f"ok   {name}")
    else:
        failures.append(name)
        print(f"FAIL {name}\n     {detail}")
    return condition


def start_xvfb():
    """Xvfb on a free display (it picks one and tells us through -displayfd).
    Returns (process, ":N"), or (None, None) if Xvfb is missing or did not start."""
    if not shutil.which("Xvfb"):
        return None, None
    r, w = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                            pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    number = b""
    with os.fdopen(r, "rb") as f:
        while not number.endswith(b"\n"):
            chunk = f.read(1)
            if not chunk:
                break
            number += chunk
    if not number.strip():
        proc.kill()
        proc.wait()
        return None, None
    return proc, ":" + number.decode().strip()


def summary():
    """Print the closing line and return the exit status."""
    print(f"{passed} passed, {len(failures)} failed")
    if failures:
        print("failed: " + "; ".join(failures))
    return 1 if failures else 0


def start_server(wslab, *extra):
    """Start `wslab serve` on a free port; return (process, "ws://127.0.0.1:PORT")."""
    proc = subprocess.Popen([wslab, "serve", "--port", "0", "--log-level", "warning", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        m = re.search(r"listening on (wss?://[\w.:\[\]]+:\d+)", line or "")
        if m:
            return proc, m.group(1)
        if not line:
            break
    proc.kill()
    raise SystemExit(f"wslab serve did not report its address; stderr: {proc.stderr.read()}")


def stop_server(proc):
    """SIGTERM, then wait; returns the exit status (None if it had to be killed)."""
    proc.terminate()
    try:
        return proc.wait(TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None
