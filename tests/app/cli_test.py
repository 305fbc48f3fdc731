#!/usr/bin/python3
"""The `wslab` command: outputs of the worked examples, and every error as one
clear line with its documented exit status (0 ok, 2 usage, 3 invalid input,
4 could not connect or listen, 5 abnormal close, 6 timeout).

Run by CTest (label app) as: cli_test.py PATH/TO/wslab
"""
import re
import socket
import subprocess

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from harness import check, start_server, stop_server, summary  # noqa: E402

WSLAB = sys.argv[1]


def run(*args, timeout=20):
    p = subprocess.run([WSLAB, *args], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def one_line_error(err):
    lines = [l for l in err.splitlines() if l.strip()]
    return len(lines) >= 1 and lines[0].startswith("wslab: ") and "Traceback" not in err and "terminate" not in err


# The worked examples the lessons print.
code, out, err = run("handshake", "accept", "dGhlIHNhbXBsZSBub25jZQ==")
check("handshake accept: the RFC's key", code == 0 and "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in out
      and "b37a4f2cc0624f1690f64606cf385945b2bec4ea" in out, out + err)
code, out, err = run("handshake", "accept", "A1EEou7Nnq6+BBZoAZqWlg==")
check("handshake accept: the course notes' key", code == 0 and "713f15ece2218612fcadb1598281a35380d1790f" in out
      and "cT8V7OIhhhL8rbFZgoGjU4DReQ8=" in out, out + err)
code, out, err = run("frame", "decode", "81", "85", "37", "fa", "21", "3d", "7f", "9f", "4d", "51", "58")
check("frame decode: the RFC's masked Hello", code == 0 and '"Hello"' in out and "Masking-key  37 fa 21 3d" in out
      and "0x1 text" in out, out + err)
code, out, err = run("frame", "encode", "--text", "Hello", "--mask", "37fa213d")
check("frame encode: the RFC's masked Hello", code == 0 and out.startswith("81 85 37 fa 21 3d 7f 9f 4d 51 58"), out + err)
code, out, err = run("frame", "encode", "--text", "Hello", "--length-form", "16")
check("frame encode: a non-minimal length is built and flagged", code == 0 and out.startswith("81 7e 00 05")
      and "NOT minimal" in out, out + err)
code, out, err = run("frame", "encode", "--close-code", "1000", "--text", "bye")
check("frame encode: a close frame", code == 0 and out.startswith("88 05 03 e8 62 79 65") and "1000 normal_closure" in out,
      out + err)
code, out, err = run("frame", "decode", "88", "82", "37", "fa", "21", "3d", "34", "12")
check("frame decode: a masked close 1000", code == 0 and "Close code   1000" in out, out + err)

# permessage-deflate (lesson 07): RFC 7692 §7.2.3's examples through `wslab deflate` / `wslab inflate`.
code, out, err = run("deflate", "Hello", "Hello")
check("deflate Hello Hello: RFC 7692 7.2.3.1 and 7.2.3.2, the second message refers back to the first",
      code == 0 and "f2 48 cd c9 c9 07 00 00 00 ff ff" in out and "frame, RSV1 set       c1 07 f2 48 cd c9 c9 07 00" in out
      and "c1 05 f2 00 11 00 00" in out, out + err)
code, out, err = run("deflate", "--no-context-takeover", "Hello", "Hello")
check("deflate --no-context-takeover: each Hello compressed alike (RFC 7692 7.1.1)",
      code == 0 and out.count("c1 07 f2 48 cd c9 c9 07 00") == 2 and "c1 05" not in out, out + err)
code, out, err = run("deflate", "--hex", "Hello", "", "Hello")
check("deflate --hex: one payload per line, the empty message as 00 (RFC 7692 7.2.3.6)",
      code == 0 and out == "f2 48 cd c9 c9 07 00\n00\nf2 00 11 00 00\n", out + err)
for payload, what in [("f2 48 cd c9 c9 07 00", "7.2.3.1 compressed"),
                      ("00 05 00 fa ff 48 65 6c 6c 6f 00", "7.2.3.3 a stored block"),
                      ("f3 48 cd c9 c9 07 00 00", "7.2.3.4 BFINAL set"),
                      ("f2 48 05 00 00 00 ff ff ca c9 c9 07 00", "7.2.3.5 two blocks")]:
    code, out, err = run("inflate", *payload.split())
    check(f"inflate RFC 7692 {what}: Hello", code == 0 and '48 65 6c 6c 6f  "Hello" (5 bytes)' in out
          and "append 00 00 ff ff" in out, out + err)
code, out, err = run("inflate", "f2", "48", "cd", "c9", "c9", "07", "00", "/", "f2", "00", "11", "00", "00")
check("inflate two messages with context takeover: Hello twice", code == 0 and out.count('"Hello"') == 2, out + err)
code, out, err = run("inflate", "--no-context-takeover", "f2 48 cd c9 c9 07 00/f2 00 11 00 00")
check("inflate --no-context-takeover: the second message reaches back into nothing -> 3 with 1007",
      code == 3 and out.count('"Hello"') == 1 and one_line_error(err) and "1007" in err
      and "RFC 7692 §7.2.2" in err, f"exit {code}: {out}{err}")
text = "permessage-deflate compresses each message " * 100
code, bomb, err = run("deflate", "--hex", "a" * 100000)
check("deflate --hex of 100000 a's: a few hundred hex digits", code == 0 and len(bomb.split()) < 200, bomb[:200] + err)
code, out, err = run("inflate", "--max-message", "64K", *bomb.split())
check("inflate a small bomb with --max-message 64K -> 3 with 1009 (RFC 6455 10.4)",
      code == 3 and one_line_error(err) and "1009" in err and "65536" in err, f"exit {code}: {out[-300:]}{err}")
code, out, err = run("inflate", *bomb.split())
check("inflate the same under the default limit: 100000 bytes", code == 0 and "(100000 bytes)" in out, out[-300:] + err)
messages = [text, "Hello", "", text[::-1]]
code, out, err = run("deflate", "--hex", "--window-bits", "9", *messages)
hexes = out.splitlines()
check("deflate --window-bits 9 --hex: one line per message", code == 0 and len(hexes) == 4, out + err)
code, out, err = run("inflate", "--window-bits", "9", " / ".join(hexes))
check("deflate then inflate with window bits 9: every message back, in order", code == 0
      and out.count("inflate  ") == 4 and "(4300 bytes)" in out and '"Hello" (5 bytes)' in out
      and "(0 bytes)" in out, out + err)
# With context takeover a message may refer back into the one before: 300
# random characters sent twice, the second a copy 300 bytes back. A receiver
# whose window is 2^8 = 256 bytes cannot follow it (RFC 7692 7.1.2); 2^9 can.
# (zlib checks distances against the window only for what earlier calls wrote,
# so the copy is in a second message here.)
far = os.urandom(150).hex()
code, out, err = run("deflate", "--hex", far, far)
first, second = out.splitlines()
code2, out2, err2 = run("inflate", "--window-bits", "8", first, "/", second)
check("a copy 300 bytes back in the previous message does not fit an 8-bit window: inflate -> 3 with 1007",
      code == 0 and code2 == 3 and out2.count("(300 bytes)") == 1 and "1007" in err2 and "too far back" in err2,
      f"exit {code2}: {out2}{err2}")
code2, out2, err2 = run("inflate", "--window-bits", "9", first, "/", second)
check("the same with a 9-bit window: both messages", code2 == 0 and out2.count("(300 bytes)") == 2, out2 + err2)
for args, needle in [(("deflate",), "usage: wslab deflate"),
                     (("inflate",), "usage: wslab inflate"),
                     (("deflate", "--window-bits", "7", "x"), '--window-bits: "7" is not a whole number from 8 to 15'),
                     (("inflate", "--window-bits", "16", "00"), '--window-bits: "16" is not a whole number from 8 to 15'),
                     (("inflate", "--hex", "00"), "--hex does not apply to `wslab inflate`"),
                     (("deflate", "--max-message", "1K", "x"), "--max-message does not apply to `wslab deflate`")]:
    code, out, err = run(*args)
    check(f"usage error {' '.join(args)} -> 2", code == 2 and needle in err and one_line_error(err), f"exit {code}: {err}")
code, out, err = run("inflate", "f2", "4")
check("inflate of an odd number of hex digits -> 3", code == 3 and one_line_error(err) and "odd number" in err, err)
code, out, err = run("inflate", "ff", "ff")
check("inflate of a reserved block type -> 3 with 1007", code == 3 and "1007" in err, f"exit {code}: {out}{err}")

code, out, err = run("demo")
check("demo runs every chapter", code == 0 and "Chapter 6" in out and "REJECTED: 1002" in out, err[-300:])
code, out, err = run("help", "serve")
check("help serve lists every limit with its default", code == 0 and all(
    o in out for o in ["--max-message", "(16M)", "--handshake-timeout", "(10s)", "--max-connections", "(10000)"]), out)

# Usage errors: exit 2, one line naming the problem.
for args, needle in [
    ((), "usage: wslab"),
    (("bogus",), "unknown command 'bogus'"),
    (("serve", "--port", "70000"), '--port: "70000" is not a whole number from 0 to 65535'),
    (("serve", "--max-message", "lots"), '--max-message: "lots" is not a size'),
    (("serve", "--handshake-timeout", "soon"), '--handshake-timeout: "soon" is not a duration'),
    (("serve", "--text", "x"), "--text does not apply to `wslab serve`"),
    (("serve", "--tls-cert", "a.pem"), "--tls-cert and --tls-key go together"),
    (("send", "ws://127.0.0.1:1/ws"), "usage: wslab send"),
    (("frame", "encode", "--text", "x", "--mask", "123"), "--mask"),
    (("serve", "--nope"), "Unknown option"),
]:
    code, out, err = run(*args)
    check(f"usage error {' '.join(args) or '(no arguments)'} -> 2", code == 2 and needle in (out + err)
          and (not args or one_line_error(err)), f"exit {code}: {err or out}")

# Invalid input: exit 3, the message names the rule.
code, out, err = run("frame", "decode", "8")
check("frame decode of an odd number of hex digits -> 3", code == 3 and one_line_error(err), err)
code, out, err = run("send", "http://127.0.0.1:1/ws", "hi")
check("send to a non-ws URL -> 3 naming the rule", code == 3 and "scheme" in err and "RFC 6455 §3" in err, err)
code, out, err = run("connect", "ws://example.com/#frag")
check("connect to a URL with a fragment -> 3", code == 3 and "fragment" in err, err)
code, out, err = run("serve", "--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.key")
check("serve with a missing certificate -> 3 naming the file", code == 3 and "/nonexistent." in err, err)

# Could not connect / listen: exit 4.
free = socket.socket()
free.bind(("127.0.0.1", 0))
port = free.getsockname()[1]
free.close()
code, out, err = run("send", f"ws://127.0.0.1:{port}/ws", "hi", "--timeout", "3s")
check("send to a closed port -> 4 with the reason", code == 4 and one_line_error(err)
      and re.search(r"refused|connect", err, re.I), f"exit {code}: {err}")
busy = socket.socket()
busy.bind(("127.0.0.1", 0))
busy.listen(1)
code, out, err = run("serve", "--port", str(busy.getsockname()[1]))
check("serve on a port in use -> 4 naming the address", code == 4 and "cannot listen on 127.0.0.1:" in err
      and one_line_error(err), f"exit {code}: {err}")
busy.close()

# A listener that accepts and never answers: the handshake times out, exit 4.
silent = socket.socket()
silent.bind(("127.0.0.1", 0))
silent.listen(1)
code, out, err = run("send", f"ws://127.0.0.1:{silent.getsockname()[1]}/ws", "hi", "--timeout", "1s")
check("send to a server that never answers the handshake -> 4 after the timeout", code == 4
      and "handshake" in err, f"exit {code}: {err}")
silent.close()

# connect and send against a live `wslab serve`.
server, base = start_server(WSLAB)
try:
    code, out, err = run("send", base + "/ws", "hello, wslab")
    check("send: the echo is printed, exit 0", code == 0 and out.strip() == "hello, wslab", f"exit {code}: {out}{err}")
    code, out, err = run("send", base + "/ws", "--binary", "00ff10")
    check("send --binary: the echo is printed as hex", code == 0 and "00 ff 10" in out, f"exit {code}: {out}{err}")
    code, out, err = run("send", base + "/nope/ws", "hi")
    check("send to an unknown resource: exit 4 naming the status", code == 4 and "404" in err, f"exit {code}: {err}")
    p = subprocess.run([WSLAB, "connect", base + "/ws"], input="hello\n/ping are you there\n/binary cafe\n/close 1000 bye\n",
                       capture_output=True, text=True, timeout=20)
    out = p.stdout
    check("connect: readyState, echo, pong, binary and the close are printed",
          p.returncode == 0 and "CONNECTING -> OPEN" in out and "< hello" in out and '< pong "are you there"' in out
          and "< binary, 2 bytes: ca fe" in out and "closed with 1000 (normal_closure)" in out and ", clean" in out,
          f"exit {p.returncode}: {out}{p.stderr}")
    p = subprocess.run([WSLAB, "connect", base + "/ws"], input="bye at end of input\n", capture_output=True, text=True,
                       timeout=20)
    check("connect: end of input closes cleanly", p.returncode == 0 and "closed with 1000" in p.stdout,
          f"exit {p.returncode}: {p.stdout}{p.stderr}")

    # The main job's halves: the scripted tour and the ASCII trace watcher.
    watch = subprocess.Popen([WSLAB, "watch", "--url", base + "/trace/ws", "--count", "12"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = watch.stdout.readline()
    check("watch: connects to /trace/ws and says so", first.startswith("watch: connected to " + base + "/trace/ws"),
          first + (watch.stderr.read() if watch.poll() is not None else ""))
    code, out, err = run("tour", "--url", base, "--pause", "0.05s", "--once", timeout=60)
    check("tour --once: one round through every chapter, exit 0", code == 0 and all(s in out for s in [
        "chapter 1, URI: " + base + "/ws", "chapter 2, handshake: GET /ws HTTP/1.1", "CONNECTING → OPEN",
        "chapter 3, framing: a text message in 3 fragments: 'Hel' 'lo, ' 'WebSocket'",
        "echoed as one message 'Hello, WebSocket'", "chapter 4, masking: a binary message de ad be ef 00 01",
        "chapter 5, heartbeat: ping 'are you there?' → pong 'are you there?'",
        "RSV1 set", "the server fails that connection: close 1002", "then closed TCP",
        "chapter 6, close: close 1000 'tour done' → the server answered close 1000", "OPEN → CLOSING → CLOSED, clean"]),
        f"exit {code}: {out}{err}")
    lines = [l for l in out.splitlines() if l.startswith("chapter") or l.startswith("the rules")]
    check("tour: one line per step, in the chapters' order", [l.split(":")[0] for l in lines] == [
        "chapter 1, URI", "chapter 2, handshake", "chapter 3, framing", "chapter 3, framing", "chapter 4, masking",
        "chapter 5, heartbeat", "the rules", "chapter 6, close"], out)
    try:
        wout, werr = watch.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        watch.kill()
        wout, werr = watch.communicate()
    check("watch --count 12: the tour's frames as bit diagrams, transitions as lines, exit 0", watch.returncode == 0
          and "0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1" in wout
          and "|F|R|R|R|opcode |M| Payload len |" in wout and ": CONNECTING → OPEN (handshake accepted" in wout
          and "received text frame, 16 bytes, masked" in wout and '"Hello, WebSocket"' in wout,
          f"exit {watch.returncode}: {wout[-2000:]}{werr}")
finally:
    stop_server(server)

# HSS-11 (RFC 6455 §4.2.1 item 2): --host-name NAME, repeatable, makes the
# server answer only requests whose Host names it; any other Host gets 421.
server, base = start_server(WSLAB, "--host-name", "127.0.0.1", "--host-name", "localhost")
try:
    code, out, err = run("send", base + "/ws", "named")
    check("serve --host-name: a request for a listed name is served", code == 0 and out.strip() == "named",
          f"exit {code}: {out}{err}")
    named_port = int(base.rsplit(":", 1)[1])
    answer = b""
    with socket.create_connection(("127.0.0.1", named_port), timeout=5) as sock:
        sock.sendall(b"GET /ws HTTP/1.1\r\nHost: evil.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    check("serve --host-name: another Host is answered 421 naming the rule",
          answer.startswith(b"HTTP/1.1 421 Misdirected Request\r\n") and "RFC 6455 §4.2.1".encode() in answer
          and b'Host \"evil.example\"' in answer, answer.decode(errors="replace"))
finally:
    stop_server(server)

# The tour without a server: it says so and retries; --once gives up after --timeout with 4.
code, out, err = run("tour", "--url", f"ws://127.0.0.1:{port}", "--once", "--timeout", "2s")
check("tour --once with no server: retries, then exit 4 naming the address", code == 4
      and "retrying after a random delay of up to 5 s" in out and f"cannot connect to ws://127.0.0.1:{port}/ws" in err, f"exit {code}: {out}{err}")
for args, needle in [(("tour", "extra"), "usage: wslab tour"), (("tour", "--pause", "soon"), '--pause: "soon" is not a duration'),
                     (("watch", "--count", "0"), "--count"), (("tour", "--count", "3"), "--count does not apply")]:
    code, out, err = run(*args)
    check(f"usage error {' '.join(args)} -> 2", code == 2 and needle in err and one_line_error(err), f"exit {code}: {err}")
code, out, err = run("tour", "--url", "http://127.0.0.1:8080")
check("tour with a non-ws URL -> 3 naming the rule", code == 3 and "RFC 6455 §3" in err, f"exit {code}: {err}")

# `wslab course` on a scratch course (a folder with lessons/ and CMakePresets.json;
# a lesson named like a chapter module in src/ has a check), with a stand-in
# `cmake` on PATH so that `course check` is quick and its result is known.
import json  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

course = tempfile.mkdtemp(prefix="wslab-course-")
try:
    for folder, text in [
        ("00-why-websocket", "# Lesson 0: why WebSocket\n\n## The problem\n\nPolling.\n"),
        ("03-framing", "# Chapter 3: frames\n\n## Worked example\n\n<!-- check -->\n```console\n"
         "$ wslab frame decode 81 00\n<!-- in code, kept -->\n```\n\nprose <!-- gone --> here\n<!-- two\nlines -->\n"
         "## Quiz\n\n1. Q?\n\n<details><summary>Answer</summary>\n\nThe secret answer.\n\n</details>\n"),
        ("08-capstone", "# Capstone: a chat\n"),
        ("notes", "# not a lesson\n"),
    ]:
        os.makedirs(os.path.join(course, "lessons", folder))
        with open(os.path.join(course, "lessons", folder, "README.md"), "w") as f:
            f.write(text)
    os.makedirs(os.path.join(course, "lessons", "05-heartbeat"))  # no README: not listed
    os.makedirs(os.path.join(course, "src", "framing"))
    with open(os.path.join(course, "CMakePresets.json"), "w") as f:
        f.write("{}\n")
    fake = os.path.join(course, "fakebin")
    os.makedirs(fake)
    with open(os.path.join(fake, "cmake"), "w") as f:
        f.write('#!/bin/sh\necho "fake cmake $*"\ncase "$*" in *--target*) exit "${FAKE_STATUS:-0}";; esac\n')
    os.chmod(os.path.join(fake, "cmake"), 0o755)
    progress_file = os.path.join(course, "build", "learner", "course-progress.json")

    def course_run(*args, cwd=course, env_extra=None, status=None):
        env = dict(os.environ)
        env.pop("WSLAB_ROOT", None)
        env.update(env_extra or {})
        if status is not None:
            env["PATH"] = fake + os.pathsep + env["PATH"]
            env["FAKE_STATUS"] = str(status)
        p = subprocess.run([WSLAB, "course", *args], capture_output=True, text=True, timeout=20, cwd=cwd, env=env)
        return p.returncode, p.stdout, p.stderr

    sub = os.path.join(course, "lessons", "03-framing")
    code, out, err = course_run("list", cwd=sub)
    rows = [l.split()[:2] for l in out.splitlines() if re.match(r"^\d\d  ", l)]
    check("course list (found upwards from a subfolder): the lessons with a README, in order", code == 0
          and rows == [["00", "why-websocket"], ["03", "framing"], ["08", "capstone"]] and "Chapter 3: frames" in out
          and re.search(r"^03 .*not started$", out, re.M) and re.search(r"^00 .*—$", out, re.M)
          and "0 of 1 chapter checks passed" in out, f"exit {code}: {out}{err}")
    code, out, err = course_run("show", "3")
    check("course show 3: comments stripped, code kept, the answer hidden", code == 0
          and "<!--" not in out.replace("<!-- in code, kept -->", "") and "<!-- in code, kept -->" in out
          and "```console" in out and "prose  here" in out and "two" not in out and "secret" not in out
          and "(answer hidden: wslab course show 3 --answers)" in out and "<details>" not in out, f"exit {code}: {out}{err}")
    code, out, err = course_run("show", "framing", "--answers")
    check("course show framing --answers: the answer without its tags", code == 0 and "The secret answer." in out
          and "Answer:" in out and "<summary>" not in out and "</details>" not in out, f"exit {code}: {out}{err}")
    code, out, err = course_run("next")
    check("course next with no progress: read lesson 00, then chapter 03 and its check command", code == 0
          and "wslab course show 0" in out and "next: chapter 03 framing" in out and "wslab course check 3" in out
          and "cmake --preset learner -DWSLAB_LEARNER=framing && cmake --build build/learner --target check_framing"
          in out, f"exit {code}: {out}{err}")
    code, out, err = course_run("check", "03", status=1)
    check("course check 03 (failing): runs the learner preset and check_framing, exit 1, recorded",
          code == 1 and "fake cmake --preset learner -DWSLAB_LEARNER=framing" in out
          and "fake cmake --build build/learner --target check_framing" in out and "FAILED" in out
          and json.load(open(progress_file))["chapters"]["framing"]["result"] == "failed", f"exit {code}: {out}{err}")
    code, out, err = course_run("list")
    check("course list after a failed check: failed on DATE", code == 0
          and re.search(r"^03 .*failed on \d{4}-\d\d-\d\d \d\d:\d\d$", out, re.M), out)
    code, out, err = course_run("check", "framing", status=0)
    check("course check framing (passing): exit 0, recorded", code == 0 and "PASSED" in out
          and json.load(open(progress_file))["chapters"]["framing"]["result"] == "passed", f"exit {code}: {out}{err}")
    course_run("show", "0")
    code, out, err = course_run("list")
    check("course list: passed on DATE, lesson 00 read once shown", code == 0
          and re.search(r"^03 .*passed on \d{4}-", out, re.M) and re.search(r"^00 .*read on \d{4}-", out, re.M)
          and "1 of 1 chapter checks passed" in out, out)
    code, out, err = course_run("next")
    check("course next when every check passed: the capstone", code == 0 and "every chapter check has passed" in out
          and "wslab course show 8" in out, f"exit {code}: {out}{err}")

    for args, needle in [(("check", "bogus"), "no chapter 'bogus' in the course (chapters: 00 why-websocket, 03 framing"),
                         (("check", "5"), "no chapter '5'"), (("show", "12"), "no chapter '12'"),
                         (("check", "0"), "has no check"), (("check", "8"), "has no check"),
                         ((), "usage: wslab course"), (("fly",), "unknown course command 'fly'"),
                         (("show",), "usage: wslab course show N"), (("list", "--answers"), "--answers does not apply")]:
        code, out, err = course_run(*args)
        check(f"course usage error {' '.join(args) or '(nothing)'} -> 2", code == 2 and needle in err
              and one_line_error(err), f"exit {code}: {out}{err}")
    code, out, err = course_run("check", "3", env_extra={"PATH": "/nonexistent"})
    check("course check without cmake on PATH -> 3 naming it", code == 3 and "cmake is not on PATH" in err,
          f"exit {code}: {out}{err}")
    with open(progress_file, "w") as f:
        f.write("{not json")
    code, out, err = course_run("list")
    check("course list with a damaged progress file -> 3 naming the file", code == 3 and progress_file in err
          and "delete it" in err and one_line_error(err), f"exit {code}: {out}{err}")
    code, out, err = course_run("list", cwd=tempfile.gettempdir())
    check("course outside the repository -> 3 saying where to run it", code == 3 and "WSLAB_ROOT" in err
          and one_line_error(err), f"exit {code}: {out}{err}")
    code, out, err = course_run("list", cwd=tempfile.gettempdir(), env_extra={"WSLAB_ROOT": course + "/nope"})
    check("course with a wrong WSLAB_ROOT -> 3 naming it", code == 3 and "WSLAB_ROOT=" + course + "/nope" in err,
          f"exit {code}: {out}{err}")
    code, out, err = course_run("next", cwd=tempfile.gettempdir(), env_extra={"WSLAB_ROOT": course})
    check("course with WSLAB_ROOT from anywhere", code == 3 and "not a progress file" in err, f"exit {code}: {err}")
finally:
    shutil.rmtree(course, ignore_errors=True)

# The real course: every lesson folder listed from the repository root.
repo = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
env = {k: v for k, v in os.environ.items() if k != "WSLAB_ROOT"}
p = subprocess.run([WSLAB, "course", "list"], capture_output=True, text=True, timeout=20, cwd=repo, env=env)
lessons = sorted(d[:2] for d in os.listdir(os.path.join(repo, "lessons"))
                 if re.match(r"^\d\d-", d) and os.path.isfile(os.path.join(repo, "lessons", d, "README.md")))
check("course list in the repository: every lesson with a README", p.returncode == 0
      and [l[:2] for l in p.stdout.splitlines() if re.match(r"^\d\d  ", l)] == lessons, p.stdout + p.stderr)

sys.exit(summary())
