#!/usr/bin/python3
"""The lessons stay true (label lessons).

1. Every lesson README (lessons/NN-name/README.md) has the ten `##` sections
   of the lesson format, in order, and no others.
2. Every checked command block runs and prints what the lesson shows:

       <!-- check -->            or   <!-- check: server -->
       ```console
       $ wslab frame decode 81 05 48 65 6c 6c 6f
       <the output>
       ```

   Lines starting with "$ " are commands (bash, cwd = the repository root,
   PATH starting with the directories of the wslab and wslab-viz under test);
   the lines after one, up to the next "$ " or the block's end, are its
   expected stdout+stderr. In expected output a line that is exactly "..."
   matches any number of lines, and "[...]" inside a line matches any text.
   `check: server` first starts `wslab serve` on a free port and writes its
   address for 127.0.0.1:8080 in the commands and the expected output.
   A ```console block in "Worked example" or "Try it" without a marker is a
   failure: show output checked, or use ```sh for commands not to be run.
3. Every lessons/*/*.jsonl trace replays in wslab-viz's headless mode
   (`wslab-viz --replay F --screenshot PNG` under an Xvfb started here) with
   exit status 0, and every `wslab-viz --replay lessons/...` a lesson shows
   names a file that exists; lessons 01-08 show one of their own.

    lessons_test.py WSLAB [--viz WSLAB_VIZ] [--root REPO] [--only lessons/03-framing]

Each block is reported as "lessons/03-framing/README.md:120: ok" or with a diff.
"""
import argparse
import difflib
import glob
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from harness import start_server, start_xvfb, stop_server  # noqa: E402

failures = []
passed = 0


def check(name, condition, detail=""):
    """One result: "NAME: ok", or "NAME: FAIL" and the detail indented."""
    global passed
    if condition:
        passed += 1
        print(f"{name}: ok")
    else:
        failures.append(name)
        print(f"{name}: FAIL" + ("\n    " + "\n    ".join(str(detail).split("\n")) if detail else ""))
    return condition


def summary():
    print(f"{passed} passed, {len(failures)} failed")
    for f in failures:
        print("failed: " + f)
    return 1 if failures else 0

SECTIONS = ["The problem", "Goals", "Concepts", "Worked example", "Try it", "Exercise",
            "Common mistakes and wrong beliefs", "Stretch goals", "Quiz", "Further reading"]
CHECKED_SECTIONS = {"Worked example", "Try it"}
COMMAND_TIMEOUT = 60
MARKER = re.compile(r"^\s*<!--\s*check(?::\s*(server))?\s*-->\s*$")
FENCE = re.compile(r"^\s*(```+|~~~+)\s*([\w+-]*)")


# ---------------------------------------------------------------------------
# Parsing a README into headings and command blocks.

class Block:
    def __init__(self, path, line, language, marker, section):
        self.path = path          # relative to the repository root
        self.line = line          # 1-based line of the opening fence
        self.language = language  # "console", "sh", ...
        self.marker = marker      # None, "check" or "server"
        self.section = section    # the enclosing "## " heading
        self.body = []


def parse_readme(path, text):
    """Returns (the "## " headings in order, the fenced blocks, marker problems)."""
    headings, blocks, problems = [], [], []
    lines = text.split("\n")
    section = None
    pending = None  # (line number, kind) of a marker waiting for its block
    block, fence = None, None
    for number, line in enumerate(lines, 1):
        if block is not None:
            if line.strip().startswith(fence) and line.strip().strip(fence[0]) == "":
                blocks.append(block)
                block = None
            else:
                block.body.append(line)
            continue
        m = FENCE.match(line)
        if m:
            fence = m.group(1)
            marker = None
            if pending:
                marker = pending[1]
                pending = None
            block = Block(path, number, m.group(2), marker, section)
            continue
        if line.startswith("## "):
            section = line[3:].strip()
            headings.append((number, section))
        mm = MARKER.match(line)
        if mm:
            if pending:
                problems.append(f"{path}:{pending[0]}: a check marker not followed by a ```console block")
            pending = (number, "server" if mm.group(1) else "check")
        elif pending and line.strip():
            problems.append(f"{path}:{pending[0]}: a check marker not followed by a ```console block")
            pending = None
    if block is not None:
        problems.append(f"{path}:{block.line}: a code block that is never closed")
    if pending:
        problems.append(f"{path}:{pending[0]}: a check marker not followed by a ```console block")
    return headings, blocks, problems


def commands_of(body):
    """[(command, [expected lines])] from a console block's lines."""
    steps = []
    continuing = False
    for line in body:
        if continuing:
            steps[-1][0] += "\n" + line
            continuing = line.endswith("\\")
        elif line.startswith("$ "):
            steps.append([line[2:], []])
            continuing = line.endswith("\\")
        elif steps:
            steps[-1][1].append(line)
        elif line.strip():
            return None  # output before any command
    return [(c, e) for c, e in steps]


# ---------------------------------------------------------------------------
# Comparing output with the wildcards.

def line_pattern(expected):
    return re.compile("^" + ".*".join(re.escape(part) for part in expected.split("[...]")) + "$")


def trimmed(lines):
    lines = [l.rstrip() for l in lines]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return lines


def matches(expected, actual):
    """Whether actual (lines) fits expected (lines, with "..." and "[...]")."""
    expected, actual = trimmed(expected), trimmed(actual)
    patterns = [None if e.strip() == "..." else line_pattern(e) for e in expected]
    # reachable[j]: expected[:i] can match actual[:j]
    reachable = [True] + [False] * len(actual)
    for p in patterns:
        nxt = [False] * (len(actual) + 1)
        for j in range(len(actual) + 1):
            if p is None:
                nxt[j] = reachable[j] or (j > 0 and nxt[j - 1])
            else:
                nxt[j] = j > 0 and reachable[j - 1] and bool(p.match(actual[j - 1]))
        reachable = nxt
    return reachable[len(actual)]


# ---------------------------------------------------------------------------
# Running.

def run_block(block, steps, env, root, wslab):
    """Runs a block's commands; returns None if all fit, else a report."""
    server, address = None, None
    if block.marker == "server":
        server, base = start_server(wslab)
        address = base.split("//", 1)[1]
    try:
        for command, expected in steps:
            if address:
                command = command.replace("127.0.0.1:8080", address)
                expected = [e.replace("127.0.0.1:8080", address) for e in expected]
            try:
                p = subprocess.run(["bash", "-c", command], cwd=root, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=COMMAND_TIMEOUT)
                actual = p.stdout.decode("utf-8", "replace").split("\n")
            except subprocess.TimeoutExpired as e:
                out = (e.stdout or b"").decode("utf-8", "replace")
                return f"$ {command}\n  did not finish in {COMMAND_TIMEOUT}s; its output so far:\n{out}"
            if not matches(expected, actual):
                diff = difflib.unified_diff(trimmed(expected), trimmed(actual), "the lesson shows", "wslab prints now",
                                            lineterm="", n=2)
                return f"$ {command}\n" + "\n".join("  " + d for d in diff)
    finally:
        if server:
            stop_server(server)
    return None


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("wslab")
    ap.add_argument("--viz", help="wslab-viz; without it the replays and blocks using wslab-viz are skipped")
    ap.add_argument("--root", default=os.path.normpath(os.path.join(here, "..", "..")))
    ap.add_argument("--only", action="append", default=[], help="a lesson folder (repeatable)")
    a = ap.parse_args()
    root = os.path.abspath(a.root)
    wslab = os.path.abspath(a.wslab)
    viz = os.path.abspath(a.viz) if a.viz else None
    if viz and not os.access(viz, os.X_OK):
        print(f"wslab-viz {viz} is not there: replays skipped")
        viz = None

    readmes = sorted(glob.glob(os.path.join(root, "lessons", "[0-9][0-9]-*", "README.md")))
    traces = sorted(glob.glob(os.path.join(root, "lessons", "[0-9][0-9]-*", "*.jsonl")))
    if a.only:
        wanted = [os.path.normpath(os.path.join(root, o)) for o in a.only]
        readmes = [r for r in readmes if os.path.dirname(r) in wanted]
        traces = [t for t in traces if os.path.dirname(t) in wanted]
    print(f"{len(readmes)} lesson READMEs, {len(traces)} lesson traces")

    env = dict(os.environ)
    dirs = [os.path.dirname(wslab)] + ([os.path.dirname(viz)] if viz else [])
    env["PATH"] = os.pathsep.join(dirs + [env.get("PATH", "")])
    env["LC_ALL"] = "C.UTF-8"
    env.pop("WSLAB_ROOT", None)
    xvfb, display = (start_xvfb() if viz else (None, None))
    if viz and not xvfb:
        check("Xvfb starts (Debian package xvfb), for wslab-viz", False, "Xvfb is missing or did not start")
        viz = None
    if display:
        env["DISPLAY"] = display
    env.pop("WAYLAND_DISPLAY", None)

    try:
        blocks_run = 0
        for readme in readmes:
            rel = os.path.relpath(readme, root)
            folder = os.path.basename(os.path.dirname(readme))
            with open(readme, encoding="utf-8") as f:
                text = f.read()
            headings, blocks, problems = parse_readme(rel, text)

            # 1. The ten sections, in order, and no others.
            names = [h for _, h in headings]
            extra = [f"{rel}:{n}: '## {h}' is not a section of the lesson format" for n, h in headings
                     if h not in SECTIONS]
            ok = names == SECTIONS
            detail = "\n     ".join(extra) or f"{rel}: the sections are {names}, the format's are {SECTIONS}"
            check(f"{rel}: the ten sections, in order", ok, detail)
            for p in problems:
                check(p, False, "")

            # 2. The checked blocks.
            for b in blocks:
                where = f"{rel}:{b.line}"
                if b.marker is None:
                    if b.language == "console" and b.section in CHECKED_SECTIONS:
                        check(f"{where}: a ```console block in '{b.section}' has no check marker", False,
                              "mark it <!-- check --> (or <!-- check: server -->) so its output is compared, "
                              "or make it ```sh if it must not be run")
                    continue
                if b.language != "console":
                    check(f"{where}: a check marker on a ```{b.language} block", False, "checked blocks are ```console")
                    continue
                steps = commands_of(b.body)
                if not steps:
                    check(f"{where}: a checked block with commands", False, "a checked block starts with a '$ ' line")
                    continue
                if not viz and any(re.search(r"\bwslab-viz\b", c) for c, _ in steps):
                    print(f"{where}: skipped (wslab-viz is not built)")
                    continue
                report = run_block(b, steps, env, root, wslab)
                blocks_run += 1
                check(where, report is None, report)

            # 3a. Every replay a lesson shows names a trace that is there; 01-08 show their own.
            shown = re.findall(r"wslab-viz\s+--replay\s+(\S+\.jsonl)", text)
            for path in sorted(set(shown)):
                check(f"{rel}: shows --replay {path}, which exists", os.path.isfile(os.path.join(root, path)),
                      f"no file {path}")
            if folder[:2] != "00":
                check(f"{rel}: shows wslab-viz --replay of one of its own traces",
                      any(p.startswith(f"lessons/{folder}/") for p in shown), f"no 'wslab-viz --replay lessons/{folder}/"
                      "....jsonl' in the README")
        print(f"{blocks_run} checked blocks run")

        # 3b. Every lesson trace replays.
        if not viz:
            print("wslab-viz is not built (or not given with --viz): the lesson traces' replays are skipped")
        else:
            with tempfile.TemporaryDirectory() as tmp:
                for trace in traces:
                    rel = os.path.relpath(trace, root)
                    png = os.path.join(tmp, os.path.basename(trace) + ".png")
                    try:
                        p = subprocess.run([viz, "--replay", trace, "--screenshot", png], cwd=root, env=env,
                                           capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
                        ok = p.returncode == 0 and os.path.isfile(png) and os.path.getsize(png) > 0
                        detail = f"exit {p.returncode}: {p.stdout[-800:]}{p.stderr[-800:]}"
                    except subprocess.TimeoutExpired:
                        ok, detail = False, f"did not finish in {COMMAND_TIMEOUT}s"
                    check(f"{rel}: replays in wslab-viz (exit 0, a screenshot)", ok, detail)
    finally:
        if xvfb:
            xvfb.terminate()
            xvfb.wait()
    return summary()


if __name__ == "__main__":
    sys.exit(main())
