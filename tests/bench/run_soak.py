#!/usr/bin/python3
"""The soak: 1 000 000 echoed messages across 100 connections that come and go,
against `wslab serve` running as a separate process.

    tests/bench/run_soak.py [BUILD_DIR] [--messages 1000000] [--warmup 100000]
                            [--connections 100] [--max-size 1M] [--seed N]
                            [--rss-tolerance 10] [--ping-interval 1s]
                            [--checkpoints 5] [--default-malloc]

Builds nothing: BUILD_DIR (default build/release) must hold src/app/wslab and
tests/bench/soak. Starts `wslab serve --port 0` (heartbeat on: a Ping every
--ping-interval to idle peers, so the server's timers churn with the
connections), runs tests/bench/soak against it (see soak.cpp for what every
connection does and what is checked), then stops the server with SIGTERM.

The server runs with GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072:
glibc's own starting threshold, held fixed. By default glibc raises the
threshold each time a large block is freed, after which blocks up to 32 MiB
come from the heap and stay resident once freed; with messages up to 1 MiB
the server's RSS at two quiet moments then differs by up to a third with no
leak at all (docs/performance.md, "Soak", has both series). Held fixed,
blocks of 128 KiB and more are mapped and unmapped, so RSS follows what the
server holds; a leak still shows, mapped or not. --default-malloc runs
without it.

Passes (exit status 0) only if soak met every target (zero errors; server RSS
at the end within --rss-tolerance % of its value after the warm-up; no
connection left open on the server; all messages echoed), the server exited
0 on SIGTERM, and its log (warning level) holds exactly one "1006: TCP
connection closed without a close frame" per connection the generator ended
abruptly and nothing else. Every process it starts is stopped on exit,
Ctrl-C included.
"""
import argparse
import atexit
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

children: list[subprocess.Popen] = []


def stop(proc: subprocess.Popen, grace: float = 15.0) -> int:
    """SIGTERM (a graceful stop), then SIGKILL if it takes over `grace` s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc in children:
        children.remove(proc)
    return proc.returncode


def stop_all() -> None:
    for proc in list(children):
        stop(proc, grace=2.0)


def on_signal(signum, _frame):
    stop_all()
    sys.exit(128 + signum)


atexit.register(stop_all)
signal.signal(signal.SIGINT, on_signal)
signal.signal(signal.SIGTERM, on_signal)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("build_dir", nargs="?", default="build/release")
    parser.add_argument("--messages", default="1000000", help="echoes after the warm-up (default 1000000)")
    parser.add_argument("--warmup", default="100000", help="echoes before the first RSS reading (default 100000)")
    parser.add_argument("--connections", default="100")
    parser.add_argument("--max-size", default="1M", help="largest message (default 1M)")
    parser.add_argument("--seed", default="0", help="0: from the clock (printed, to replay)")
    parser.add_argument("--rss-tolerance", default="10", help="percent (default 10)")
    parser.add_argument("--ping-interval", default="1s", help="the server's --ping-interval (default 1s)")
    parser.add_argument("--timeout", default="1800", help="seconds for the whole run (default 1800)")
    parser.add_argument("--checkpoints", default="5", help="quiet RSS readings during the soak (default 5)")
    parser.add_argument("--default-malloc", action="store_true",
                        help="run the server without GLIBC_TUNABLES (glibc's sliding mmap threshold)")
    args = parser.parse_args()

    build = os.path.abspath(args.build_dir)
    wslab = os.path.join(build, "src/app/wslab")
    soak = os.path.join(build, "tests/bench/soak")
    for path in (wslab, soak):
        if not os.access(path, os.X_OK):
            print(f"run_soak: {path} is missing: build it first "
                  f"(cmake --build {args.build_dir} --target wslab soak)", file=sys.stderr)
            return 2

    # The server's log goes to a file (a pipe nobody reads could fill up and
    # stall it); warnings and errors only: a clean run logs nothing.
    log = tempfile.TemporaryFile(mode="w+")
    env = dict(os.environ)
    tunables = "" if args.default_malloc else "glibc.malloc.mmap_threshold=131072"
    if tunables:
        env["GLIBC_TUNABLES"] = tunables
    server = subprocess.Popen([wslab, "serve", "--port", "0", "--log-level", "warning",
                               "--ping-interval", args.ping_interval, "--pong-timeout", "10s"],
                              stdout=log, stderr=subprocess.STDOUT, text=True, env=env)
    children.append(server)
    port = None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and server.poll() is None and port is None:
        log.seek(0)
        m = re.search(r"listening on ws://[^ ]*:(\d+)", log.read())
        port = int(m.group(1)) if m else None
        time.sleep(0.02)
    if port is None:
        stop(server, grace=1)
        log.seek(0)
        print(f"run_soak: the server did not say where it listens:\n{log.read()}", file=sys.stderr)
        return 1

    print(f"run_soak: wslab serve (pid {server.pid}) on port {port}, --ping-interval {args.ping_interval}, "
          f"GLIBC_TUNABLES={tunables or '(none)'}", flush=True)
    started = time.monotonic()
    argv = [soak, "--port", str(port), "--server-pid", str(server.pid), "--messages", args.messages,
            "--warmup", args.warmup, "--connections", args.connections, "--max-size", args.max_size,
            "--seed", args.seed, "--rss-tolerance", args.rss_tolerance, "--timeout", args.timeout,
            "--checkpoints", args.checkpoints]
    try:
        result = subprocess.run(argv, timeout=float(args.timeout) + 120, stdout=subprocess.PIPE, text=True)
        print(result.stdout, end="", flush=True)
        soak_status = result.returncode
        values = {}
        for line in result.stdout.splitlines():
            if line.startswith("RESULT "):
                values = dict(kv.split("=", 1) for kv in line.split()[1:])
    except subprocess.TimeoutExpired:
        print("run_soak: soak did not finish in time", file=sys.stderr)
        soak_status, values = 1, {}
    server_status = stop(server)
    elapsed = time.monotonic() - started

    # The server's side of every close: each connection the generator ended
    # abruptly (dropped, reset, cut mid-frame, half-closed) is one warning
    # "1006: TCP connection closed without a close frame" (RFC 6455 §7.1.5);
    # a clean close or an abandoned handshake logs nothing. Any other line at
    # warning level or above is something the run did not ask for.
    log.seek(0)
    server_log = [line for line in log.read().splitlines() if "listening on" not in line and line.strip()]
    abnormal = [line for line in server_log if "1006: TCP connection closed without a close frame" in line]
    other = [line for line in server_log if line not in abnormal]
    abrupt = int(values.get("abrupt", "-1"))
    print(f"run_soak: server exit status {server_status}; its log: {len(abnormal)} warnings of a 1006 close "
          f"(the generator ended {abrupt} connections abruptly), {len(other)} other lines")
    for line in other[:20]:
        print(f"  server: {line}")
    checks = [
        (soak_status == 0, "soak met its targets"),
        (server_status == 0, "the server stopped cleanly on SIGTERM (exit status 0)"),
        (len(abnormal) == abrupt, "one 1006 per abrupt ending, none for a clean close"),
        (not other, "nothing else in the server's log"),
    ]
    for met, what in checks:
        print(f"  {'met:   ' if met else 'MISSED:'} {what}")
    ok = all(met for met, _ in checks)
    print(f"run_soak: {'PASS' if ok else 'FAIL'} in {elapsed:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
