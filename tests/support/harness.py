"""Shared by the Python test scripts (tests/app, tests/interop): checks that
count, the closing "N passed, N failed" line, and `wslab serve` started on a
free port and stopped again."""
import re
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
