// Layer 3: the page the server shows at "/": the browser's own WebSocket
// client (the WHATWG API) talking to this server's echo at /ws, so a learner
// can watch readyState go CONNECTING → OPEN → CLOSING → CLOSED and see the
// close code. The same page works over ws:// and wss://.
#include "wslab/net/server.hpp"

namespace wslab::net {

std::string_view demo_page() {
  static constexpr std::string_view kPage = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>wslab echo</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 44rem; margin: 2rem auto; padding: 0 1rem; }
  #state { font-weight: bold; }
  #log { border: 1px solid #ccc; height: 18rem; overflow-y: auto; padding: .5rem;
         font-family: ui-monospace, monospace; white-space: pre-wrap; }
  .sent { color: #06c; } .received { color: #080; } .info { color: #666; }
</style>
</head>
<body>
<h1>wslab echo</h1>
<p>readyState: <span id="state">-</span> &middot; close code: <span id="code">-</span></p>
<form id="form">
  <input id="text" size="40" placeholder="a message" autocomplete="off">
  <button>Send</button>
  <button type="button" id="close">Close</button>
  <button type="button" id="connect">Reconnect</button>
</form>
<div id="log"></div>
<script>
const names = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'];
const log = document.getElementById('log');
const state = document.getElementById('state');
let ws = null;

function line(cls, text) {
  const div = document.createElement('div');
  div.className = cls;
  div.textContent = new Date().toLocaleTimeString() + '  ' + text;
  log.appendChild(div);
  log.scrollTop = log.scrollHeight;
}

function connect() {
  const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws';
  ws = new WebSocket(url);
  line('info', 'connecting to ' + url);
  ws.onopen = () => line('info', 'open');
  ws.onmessage = (e) => line('received', '< ' + e.data);
  ws.onerror = () => line('info', 'error (the close event tells more)');
  ws.onclose = (e) => {
    document.getElementById('code').textContent = e.code + (e.reason ? ' ' + e.reason : '');
    line('info', 'closed: code ' + e.code + (e.wasClean ? ', clean' : ', not clean'));
  };
}

// readyState is a property, not an event: show it live.
setInterval(() => { state.textContent = ws ? names[ws.readyState] : '-'; }, 100);

document.getElementById('form').onsubmit = (e) => {
  e.preventDefault();
  const text = document.getElementById('text');
  if (!ws || ws.readyState !== WebSocket.OPEN) { line('info', 'not open'); return; }
  ws.send(text.value);
  line('sent', '> ' + text.value);
  text.value = '';
};
document.getElementById('close').onclick = () => { if (ws) ws.close(1000, 'bye'); };
document.getElementById('connect').onclick = () => {
  if (ws && ws.readyState !== WebSocket.CLOSED) ws.close();
  connect();
};
connect();
</script>
</body>
</html>
)html";
  return kPage;
}

}  // namespace wslab::net
