#!/usr/bin/python3
"""The trace from the command line: `wslab serve --trace-file`, `wslab connect
--trace-file` (the client's own side), `--no-trace`, and the errors.

    trace_cli_test.py WSLAB
"""
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
import urllib.error
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from harness import check, start_server, stop_server, summary  # noqa: E402

wslab = sys.argv[1]
tmp = tempfile.mkdtemp(prefix="wslab-trace-cli-")


def events_of(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def kinds(events, conn=None):
    return [e["type"] + ("/" + e["dir"] if "dir" in e else "") for e in events
            if conn is None or e.get("conn") == conn]


server_file = os.path.join(tmp, "server.jsonl")
client_file = os.path.join(tmp, "client.jsonl")
server, url = start_server(wslab, "--trace-file", server_file)
try:
    r = subprocess.run([wslab, "connect", url + "/ws", "--trace-file", client_file], input="hello\n",
                       capture_output=True, text=True, timeout=20)
    check("wslab connect --trace-file: the session runs as usual", r.returncode == 0 and "< hello" in r.stdout,
          r.stdout + r.stderr)
finally:
    status = stop_server(server)
check("wslab serve --trace-file: exits 0 on SIGTERM", status == 0, str(status))

client = events_of(client_file)
check("the client's trace: hello from wslab connect, version 1",
      client[0]["type"] == "hello" and client[0]["source"] == "wslab connect" and client[0]["v"] == 1, str(client[0]))
# The handshake and OPEN first, the close event last; in between, whether the
# echo arrives before or after the client's Close (stdin ended) is timing.
k = kinds(client)
check("the client's trace: its side, in order",
      k[:5] == ["hello", "open", "handshake/sent", "handshake/received", "transition"] and k[-1] == "close"
      and sorted(k[5:-1]) == sorted(["frame/sent", "frame/sent", "frame/received", "frame/received",
                                     "transition", "transition"]), str(k))
sent = [e for e in client if e["type"] == "frame" and e["dir"] == "sent"]
check("the client's frames are masked with a key, the server's are not (§5.1)",
      all(e["mask"] and e["masking_key"] for e in sent)
      and all(not e["mask"] and e["masking_key"] is None for e in client if e["type"] == "frame" and e["dir"] == "received"),
      str(sent))
# wslab connect and wslab serve agree on permessage-deflate (RFC 7692): the
# frame has RSV1 set and its payload, as on the wire, is "hello" deflated.
payload = bytes.fromhex(sent[0]["preview"].replace(" ", ""))
check("the client's text frame carries its payload both ways (§5.3), compressed (RFC 7692 §7.2.1)",
      sent[0]["rsv1"] and zlib.decompressobj(-15).decompress(payload + b"\x00\x00\xff\xff") == b"hello"
      and sent[0]["preview_masked"] != sent[0]["preview"], str(sent[0]))
# The trace records what the compressed bytes stand for (docs/trace-format.md):
# the frame ends its message, so it carries the size and the text inflated.
texts = [e for e in client if e["type"] == "frame" and e["opcode_name"] == "text"]
check("the client's compressed text frames, both ways, carry compressed and the message inflated (RFC 7692 §6)",
      len(texts) == 2 and all(e.get("compressed") is True and e.get("uncompressed_size") == 5
                              and e.get("uncompressed_preview") == "68 65 6c 6c 6f" for e in texts), str(texts))
check("the client's control frames carry no compression fields (RFC 7692 §6.1)",
      all("compressed" not in e and "uncompressed_size" not in e
          for e in client if e["type"] == "frame" and e["opcode"] >= 8), str(client))

server_events = events_of(server_file)
conns = sorted({e["conn"] for e in server_events if "conn" in e})
check("the server's trace: one connection, the same story from the other side",
      len(conns) == 1 and kinds(server_events, conns[0]) == [
          "open", "handshake/received", "handshake/sent", "transition", "frame/received", "frame/sent",
          "frame/received", "frame/sent", "transition", "transition", "close"],
      str(kinds(server_events)))
server_texts = [e for e in server_events if e["type"] == "frame" and e["opcode_name"] == "text"]
check("the server's trace has the same text inflated, received and echoed",
      [(e["dir"], e.get("compressed"), e.get("uncompressed_preview")) for e in server_texts]
      == [("received", True, "68 65 6c 6c 6f"), ("sent", True, "68 65 6c 6c 6f")], str(server_texts))
check("both sides saw the same Sec-WebSocket-Key and accept",
      [e for e in client if e["type"] == "handshake" and e["request"]][0]["accept"]
      == [e for e in server_events if e["type"] == "handshake" and e["request"]][0]["accept"])

# --no-trace: /trace/ws is not there.
server, url = start_server(wslab, "--no-trace")
try:
    r = subprocess.run([wslab, "send", url + "/trace/ws", "x"], capture_output=True, text=True, timeout=20)
    check("--no-trace: /trace/ws answers 404", r.returncode != 0 and "404" in r.stdout + r.stderr, r.stdout + r.stderr)
finally:
    stop_server(server)

# Errors name the file.
r = subprocess.run([wslab, "serve", "--port", "0", "--trace-file", "/nonexistent-dir/t.jsonl"],
                   capture_output=True, text=True, timeout=20)
check("serve --trace-file in a missing folder: exit 3 naming the file",
      r.returncode == 3 and "/nonexistent-dir/t.jsonl" in r.stderr, r.stderr)
r = subprocess.run([wslab, "connect", "ws://127.0.0.1:9/ws", "--trace-file", "/nonexistent-dir/c.jsonl"],
                   capture_output=True, text=True, timeout=20)
check("connect --trace-file in a missing folder: exit 3 naming the file",
      r.returncode == 3 and "/nonexistent-dir/c.jsonl" in r.stderr, r.stderr)
r = subprocess.run([wslab, "serve", "--trace-preview", "x"], capture_output=True, text=True, timeout=20)
check("--trace-preview x: a usage error", r.returncode == 2 and "trace-preview" in r.stderr, r.stderr)

sys.exit(summary())
