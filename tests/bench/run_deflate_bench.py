#!/usr/bin/python3
"""The echo round trip with permessage-deflate on and off: `wslab serve`
against Boost.Beast, each with and without the extension.

    tests/bench/run_deflate_bench.py [BUILD_DIR] [--duration 3] [--repeat 1]
                                     [--sizes 128,4096,65536,1048576] [--inflight 4]

Builds nothing: BUILD_DIR (default build/release) must hold src/app/wslab and
tests/bench/{deflate_echo,beast_echo}. For every server (wslab, wslab
--no-deflate, beast_echo --deflate, beast_echo), kind of message (text-like
JSON, random bytes) and size, it starts a fresh server pinned to core 0
(taskset), runs deflate_echo pinned to core 1 (one wslab client offering
permessage-deflate, K messages in flight, every echo checked), and stops the
server. The client is the same everywhere, so the servers' columns compare;
its own compression is part of every round trip with deflate on.

Prints a Markdown table: messages/s, payload MiB/s one way, wire bytes per
payload byte, server CPU per message, and with --repeat R the median of R
runs (servers interleaved run by run).
"""
import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_net_bench as nb  # noqa: E402  start_server(), stop(), pinned(): the same process handling


def run_client(client: str, port: int, pid: int, kind: str, size: int, inflight: int, duration: float,
               core: int | None) -> dict:
    argv = nb.pinned(core, [client, "--port", str(port), "--server-pid", str(pid), "--kind", kind, "--size", str(size),
                            "--inflight", str(inflight), "--duration", str(duration)])
    done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 120)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return {k: float(v) for k, v in (kv.split("=", 1) for kv in line.split()[1:])}
    return {"errors": float("nan"), "output": done.stdout + done.stderr}


def size_name(n: int) -> str:
    return f"{n >> 20} MiB" if n >= 1 << 20 else f"{n >> 10} KiB" if n >= 1024 else f"{n} B"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("build_dir", nargs="?", default="build/release")
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--sizes", default="128,4096,65536,1048576")
    parser.add_argument("--inflight", type=int, default=4)
    args = parser.parse_args()

    build = os.path.abspath(args.build_dir)
    wslab = os.path.join(build, "src/app/wslab")
    beast = os.path.join(build, "tests/bench/beast_echo")
    client = os.path.join(build, "tests/bench/deflate_echo")
    for path in (wslab, client):
        if not os.access(path, os.X_OK):
            print(f"run_deflate_bench: {path} is missing: build {build} first", file=sys.stderr)
            return 2
    base = [wslab, "serve", "--port", "0", "--log-level", "warning", "--ping-interval", "0"]
    servers = [nb.Server("wslab deflate", base), nb.Server("wslab off", base + ["--no-deflate"])]
    if os.access(beast, os.X_OK):
        servers += [nb.Server("beast deflate", [beast, "--port", "0", "--deflate"]),
                    nb.Server("beast off", [beast, "--port", "0"])]
    else:
        print(f"run_deflate_bench: {beast} is missing: wslab only", file=sys.stderr)

    cores = sorted(os.sched_getaffinity(0))
    server_core, client_core = (cores[0], cores[1]) if len(cores) >= 2 else (None, None)
    load = os.getloadavg()
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}  {len(cores)} cores, load average {load[0]:.2f} {load[1]:.2f} "
          f"{load[2]:.2f}; {args.inflight} in flight, {args.duration:g} s per run, median of {args.repeat}")
    print()
    print("| data | size | server | messages/s | MiB/s | wire / payload | server µs/msg | client µs/msg | errors |")
    print("|---|---|---|---|---|---|---|---|---|")
    sizes = [int(s) for s in args.sizes.split(",") if s]
    ratios = []
    for kind in ("text", "random"):
        for size in sizes:
            runs = {s.name: [] for s in servers}
            for _ in range(args.repeat):
                for server in servers:
                    proc, port = nb.start_server(server, server_core)
                    try:
                        runs[server.name].append(run_client(client, port, proc.pid, kind, size, args.inflight,
                                                            args.duration, client_core))
                    finally:
                        nb.stop(proc)
            medians = {}
            for name, rs in runs.items():
                ranked = sorted(rs, key=lambda r: r.get("rate", 0.0))
                r = ranked[len(ranked) // 2]
                medians[name] = r
                rate = r.get("rate", 0.0)
                per = lambda cores: f"{cores / rate * 1e6:.1f}" if rate else "-"  # noqa: E731
                wire = f"{r['wire_ratio']:.3f}" if "wire_ratio" in r else "-"
                if "compressed" in r and not r["compressed"] and "deflate" in name:
                    wire += " (not compressed!)"
                print(f"| {kind} | {size_name(size)} | {name} | {nb.fmt_rate(rate)} | {nb.fmt(r.get('mib_per_s'), 2)} | "
                      f"{wire} | {per(r.get('server_cpu', 0.0))} | {per(r.get('client_cpu', 0.0))} | "
                      f"{r.get('errors', 'no result'):g} |", flush=True)
            ratios.append((kind, size, medians))
    print()
    print("| data | size | wslab deflate / beast deflate | wslab deflate / wslab off | beast deflate / beast off |")
    print("|---|---|---|---|---|")

    def ratio(a: dict | None, b: dict | None) -> str:
        if not a or not b or not a.get("rate") or not b.get("rate"):
            return "-"
        return f"{a['rate'] / b['rate']:.2f}"

    for kind, size, m in ratios:
        print(f"| {kind} | {size_name(size)} | {ratio(m.get('wslab deflate'), m.get('beast deflate'))} | "
              f"{ratio(m.get('wslab deflate'), m.get('wslab off'))} | "
              f"{ratio(m.get('beast deflate'), m.get('beast off'))} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
