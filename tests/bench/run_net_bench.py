#!/usr/bin/python3
"""The network benchmark: `wslab serve` against Boost.Beast and POCO.

    tests/bench/run_net_bench.py [BUILD_DIR] [--duration 5] [--repeat 1]
                                 [--servers wslab,beast,poco] [--scenarios a,b,c,d,e]
                                 (also: --servers wslab,wslab-traced for the cost of tracing)

Builds nothing: BUILD_DIR (default build/release) must hold a release build
with src/app/wslab and tests/bench/{loadgen,beast_echo,poco_echo}. Each
scenario starts a fresh server pinned to core 0 (taskset), runs loadgen pinned
to core 1, and stops the server. Scenarios (docs/performance.md, "Network"):

    a  1 connection, ping-pong, 16 B           latency and messages/s
    b  64 connections x 8 in flight x 16 B     small-message throughput
    c  8 connections x 4 in flight x 64 KiB    bulk throughput
    d  handshakes per second (32 at a time: connect, 101, close)
    e  10 000 idle connections                 server RSS per connection

Prints a Markdown table, then the ratios against Beast. With --repeat R each
cell is the median of R runs (servers interleaved, run by run). Every process
it starts is stopped on exit, Ctrl-C included.
"""
import argparse
import atexit
import os
import platform
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

IDLE_CONNECTIONS = 10_000
HANDSHAKE_SLOTS = 32

SCENARIOS = {
    "a": ("1 conn ping-pong 16 B", ["--mode", "echo", "--connections", "1", "--inflight", "1", "--size", "16"]),
    "b": ("64 conn x 8 in flight x 16 B", ["--mode", "echo", "--connections", "64", "--inflight", "8", "--size", "16"]),
    "c": ("8 conn x 4 in flight x 64 KiB",
          ["--mode", "echo", "--connections", "8", "--inflight", "4", "--size", "65536"]),
    "d": (f"handshakes ({HANDSHAKE_SLOTS} at a time)", ["--mode", "handshake", "--connections", str(HANDSHAKE_SLOTS)]),
    "e": (f"{IDLE_CONNECTIONS:,} idle connections".replace(",", " "),
          ["--mode", "idle", "--connections", str(IDLE_CONNECTIONS), "--hold", "3"]),
}

children: list[subprocess.Popen] = []


def stop(proc: subprocess.Popen, grace: float = 10.0) -> None:
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


def stop_all() -> None:
    for proc in list(children):
        stop(proc, grace=2.0)


def on_signal(signum, _frame):
    stop_all()
    sys.exit(128 + signum)


atexit.register(stop_all)
signal.signal(signal.SIGINT, on_signal)
signal.signal(signal.SIGTERM, on_signal)


def pinned(core: int | None, argv: list[str]) -> list[str]:
    return argv if core is None else ["taskset", "-c", str(core)] + argv


@dataclass
class Server:
    name: str
    argv: list[str]


def start_server(server: Server, core: int | None) -> tuple[subprocess.Popen, int]:
    """Starts a server and returns it with the port it printed. Its output goes
    to files (a pipe nobody reads could fill up and stall it)."""
    out = tempfile.TemporaryFile(mode="w+")
    err = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen(pinned(core, server.argv), stdout=out, stderr=err, text=True)
    children.append(proc)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and proc.poll() is None:
        out.seek(0)
        # "wslab: listening on ws://127.0.0.1:PORT  (...)" or "listening on PORT"
        m = re.search(r"listening on (?:ws://[^ ]*:)?(\d+)", out.read())
        if m:
            return proc, int(m.group(1))
        time.sleep(0.02)
    stop(proc, grace=1)
    err.seek(0)
    raise RuntimeError(f"{server.name} did not say where it listens: {err.read().strip()}")


@dataclass
class Run:
    values: dict = field(default_factory=dict)
    output: str = ""


def run_loadgen(loadgen: str, port: int, pid: int, args: list[str], duration: float, core: int | None) -> Run:
    argv = pinned(core, [loadgen, "--port", str(port), "--server-pid", str(pid), "--duration", str(duration)] + args)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 120)
    run = Run(output=done.stdout + done.stderr)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            run.values = dict(kv.split("=", 1) for kv in line.split()[1:])
    if not run.values:
        run.values = {"errors": "no result"}
    return run


def number(run: Run, key: str) -> float | None:
    try:
        return float(run.values[key])
    except (KeyError, ValueError):
        return None


def median_run(runs: list[Run]) -> Run:
    """The run with the median headline figure (so its columns belong together)."""
    key = "rss_per_conn_b" if "rss_per_conn_b" in runs[0].values else "rate"
    ranked = sorted(runs, key=lambda r: number(r, key) or 0.0)
    return ranked[len(ranked) // 2]


def fmt_rate(v: float | None) -> str:
    if v is None:
        return "-"
    if v >= 1e6:
        return f"{v / 1e6:.2f} M"
    if v >= 1e3:
        return f"{v / 1e3:.1f} k"
    return f"{v:.0f}"


def fmt(v: float | None, digits: int = 1) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def ratio_cell(pairs: list[tuple[float | None, float | None]]) -> str:
    """Median of numerator / denominator over the rounds, "(low-high)" when there are several."""
    ratios = sorted(a / b for a, b in pairs if a and b)
    if not ratios:
        return "-"
    median = statistics.median(ratios)
    return f"{median:.2f}" if len(ratios) == 1 else f"{median:.2f} ({ratios[0]:.2f}-{ratios[-1]:.2f})"


def cpu_per_op(run: Run) -> float | None:
    """Server CPU seconds per message or handshake."""
    server_cpu, rate = number(run, "server_cpu"), number(run, "rate")
    return server_cpu / rate if server_cpu is not None and rate else None


def headline(scenario: str, run: Run) -> float | None:
    """The figure a scenario is judged by: messages/s, MiB/s, handshakes/s or bytes per connection."""
    if scenario == "c":
        return number(run, "mib_per_s")
    if scenario == "e":
        return number(run, "rss_per_conn_b")
    return number(run, "rate")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("build_dir", nargs="?", default="build/release")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per scenario (default 5)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per cell, median reported (default 1)")
    parser.add_argument("--servers", default="wslab,beast,poco")
    parser.add_argument("--scenarios", default="a,b,c,d,e")
    args = parser.parse_args()

    build = os.path.abspath(args.build_dir)
    wslab = os.path.join(build, "src/app/wslab")
    bench = os.path.join(build, "tests/bench")
    loadgen = os.path.join(bench, "loadgen")
    for path in (wslab, loadgen):
        if not os.access(path, os.X_OK):
            print(f"run_net_bench: {path} is missing: build {build} first (cmake --build {build})", file=sys.stderr)
            return 2

    # 10 000 idle connections take 10 000 descriptors in the server and as many
    # in the generator: raise the soft limit to the hard one (inherited).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = IDLE_CONNECTIONS + 1024
    if hard != resource.RLIM_INFINITY and hard < want:
        print(f"run_net_bench: RLIMIT_NOFILE hard limit {hard} < {want}: scenario e will fail", file=sys.stderr)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else want, hard))

    cores = sorted(os.sched_getaffinity(0))
    server_core, loadgen_core = (cores[0], cores[1]) if len(cores) >= 2 else (None, None)
    if server_core is None:
        print("run_net_bench: one core only: server and loadgen are not pinned apart", file=sys.stderr)

    servers = {
        "wslab": Server("wslab", [wslab, "serve", "--port", "0", "--log-level", "warning", "--ping-interval", "0",
                                  "--max-connections", str(IDLE_CONNECTIONS * 2)]),
        # The same server with the trace on (every frame a JSON event, written
        # by the trace thread): what tracing costs when someone is watching.
        "wslab-traced": Server("wslab-traced", [wslab, "serve", "--port", "0", "--log-level", "warning",
                                                "--ping-interval", "0", "--max-connections", str(IDLE_CONNECTIONS * 2),
                                                "--trace-file", "/dev/null"]),
        "beast": Server("beast", [os.path.join(bench, "beast_echo"), "--port", "0"]),
        "poco": Server("poco", [os.path.join(bench, "poco_echo"), "--port", "0"]),
    }
    chosen = [s for s in args.servers.split(",") if s]
    for name in list(chosen):
        if name not in servers:
            print(f"run_net_bench: unknown server {name}", file=sys.stderr)
            return 2
        if not os.access(servers[name].argv[0], os.X_OK):
            print(f"run_net_bench: {servers[name].argv[0]} is missing: {name} skipped", file=sys.stderr)
            chosen.remove(name)
    scenarios = [s for s in args.scenarios.split(",") if s in SCENARIOS]

    def poco_threads(scenario: str) -> str:
        # A thread per connection: enough for every connection the scenario opens.
        connections = int(SCENARIOS[scenario][1][SCENARIOS[scenario][1].index("--connections") + 1])
        return str(connections + 64)

    load_before = os.getloadavg()
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}  {platform.node()}  {cpu_model()}  {len(cores)} cores, "
          f"load average {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}")
    print(f"# server on core {server_core}, loadgen on core {loadgen_core}; {args.duration:g} s per run, "
          f"{args.repeat} run(s) per cell (median)")

    results: dict[tuple[str, str], list[Run]] = {}
    for scenario in scenarios:
        title, scenario_args = SCENARIOS[scenario]
        for attempt in range(args.repeat):
            for name in chosen:
                server = servers[name]
                if name == "poco":
                    server = Server(name, server.argv + ["--threads", poco_threads(scenario)])
                proc, port = start_server(server, server_core)
                try:
                    run = run_loadgen(loadgen, port, proc.pid, scenario_args, args.duration, loadgen_core)
                finally:
                    stop(proc)
                results.setdefault((scenario, name), []).append(run)
                v = run.values
                print(f"# {scenario} {name:5} run {attempt + 1}: " + " ".join(f"{k}={v[k]}" for k in v if k != "mode"),
                      flush=True)
                if v.get("errors") not in ("0", None):
                    print("#   " + run.output.strip().replace("\n", "\n#   "), flush=True)
    load_after = os.getloadavg()

    print()
    # server CPU: cores busy (1.00 = one core the whole time); µs/op: server
    # CPU time per message or handshake, the figure least moved by other load.
    print("| scenario | server | rate /s | MiB/s | p50 µs | p99 µs | server CPU | server µs/op | loadgen CPU "
          "| errors | RSS per conn |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    chosen_runs = {key: median_run(runs) for key, runs in results.items()}
    for scenario in scenarios:
        title = SCENARIOS[scenario][0]
        for name in chosen:
            run = chosen_runs[(scenario, name)]
            rate = number(run, "rate")
            per_conn = number(run, "rss_per_conn_b")
            server_cpu = number(run, "server_cpu")
            per_op = cpu_per_op(run) * 1e6 if cpu_per_op(run) is not None else None
            cells = [f"({scenario}) {title}", name,
                     fmt_rate(rate) if scenario != "e" else "-",
                     fmt(number(run, "mib_per_s")) if scenario in ("a", "b", "c") else "-",
                     fmt(number(run, "p50_us")) if scenario != "e" else "-",
                     fmt(number(run, "p99_us")) if scenario != "e" else "-",
                     fmt(server_cpu, 2) if scenario != "e" else "-",
                     fmt(per_op, 1 if per_op is not None and per_op < 100 else 0) if scenario != "e" else "-",
                     fmt(number(run, "loadgen_cpu"), 2) if scenario != "e" else "-",
                     run.values.get("errors", "-"),
                     f"{per_conn / 1024:.1f} KiB ({run.values.get('opened')} open)" if per_conn is not None else "-"]
            print("| " + " | ".join(cells) + " |")

    if "beast" in chosen:
        print()
        print("Ratios against Beast, higher is better: the headline figure (messages/s; MiB/s for (c);")
        print("handshakes/s; for (e) Beast's RSS per connection / this server's), and server CPU per")
        print("operation (Beast's µs/op / this server's: how much less CPU the server spends per message")
        print("or handshake). Each ratio compares runs of the same round (run one after the other) and")
        print("the median over the rounds is shown, with the lowest and highest in brackets.")
        print()
        others = [n for n in chosen if n != "beast"]
        print("| scenario | " + " | ".join(f"{n} / beast | {n} CPU/op" for n in others) + " |")
        print("|---|" + "---|---|" * len(others))
        for scenario in scenarios:
            cells = []
            for name in others:
                pairs = list(zip(results[(scenario, name)], results[(scenario, "beast")]))
                if scenario == "e":
                    cells.append(ratio_cell([(headline(scenario, b), headline(scenario, m)) for m, b in pairs]))
                    cells.append("-")
                else:
                    cells.append(ratio_cell([(headline(scenario, m), headline(scenario, b)) for m, b in pairs]))
                    cells.append(ratio_cell([(cpu_per_op(b), cpu_per_op(m)) for m, b in pairs]))
            print(f"| ({scenario}) {SCENARIOS[scenario][0]} | " + " | ".join(cells) + " |")
    print()
    print(f"# load average after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    return 0


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    sys.exit(main())
