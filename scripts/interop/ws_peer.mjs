// Node's `ws` as the other side of our engine, for run.sh.
//
//   node ws_peer.mjs client BASE_URL REASON
//   node ws_peer.mjs server
//
// client: against the echo server, one connection per close case on
//   /test/close, offering permessage-deflate as `ws` does by default (the
//   server must decline it): text and binary echo at every size, a ping
//   answered by a pong with its payload, then the close (ours with the code and
//   the reason, or the server's, asked for with the text "close CODE REASON");
//   it checks the close frame it received.
// server: echoes every message; a text "close CODE REASON" makes it close so;
//   prints "listening on PORT", then one line per connection with the close
//   frame it received.
//
// WS_DIR names the folder where `ws` is installed. The data is made as in
// scripts/interop/common.py and examples/interop_client.rs.
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(path.resolve(process.env.WS_DIR ?? ".interop/node"), "x.js"));
const { WebSocket, WebSocketServer } = require("ws");

const SIZES = [0, 125, 126, 65535, 65536, 1 << 20];
const CODES = [1000, 1001, 3000, 4999];
const PING = Buffer.from("ping \x00\x01\xfe\xff", "latin1");
const PATTERN = "aé€😀"; // 1 + 2 + 3 + 4 bytes
const STEP_MS = 10_000;

// Text of exactly n UTF-8 bytes made of 1- to 4-byte characters, ASCII filling the last few bytes.
function textOf(n) {
  const unit = Buffer.byteLength(PATTERN);
  return PATTERN.repeat(Math.floor(n / unit)) + "a".repeat(n % unit);
}

// n bytes counting 0..250 over and over (a period that is not a power of two).
const binaryOf = (n) => Buffer.from(Array.from({ length: n }, (_, i) => i % 251));

// "close CODE REASON" as [code, reason], or null.
function closeRequest(text) {
  const m = /^close (\d+)(?: (.*))?$/s.exec(text);
  return m ? [Number(m[1]), m[2] ?? ""] : null;
}

let failed = 0;
function check(ok, what, detail = "") {
  if (!ok) failed++;
  console.log(`${ok ? "ok" : "FAIL"}: ${what}${detail && !ok ? ` (${detail})` : ""}`);
  return ok;
}

// Everything a client socket brings, as a queue to wait on.
function record(ws) {
  const queue = [];
  let wake = () => {};
  const push = (item) => {
    queue.push(item);
    wake();
  };
  ws.on("open", () => push({ kind: "open" }));
  ws.on("message", (data, isBinary) => push({ kind: isBinary ? "binary" : "text", data }));
  ws.on("pong", (data) => push({ kind: "pong", data }));
  ws.on("close", (code, reason) => push({ kind: "close", code, reason: reason.toString() }));
  ws.on("error", (e) => push({ kind: "error", error: String(e) }));
  return async function next() {
    const deadline = Date.now() + STEP_MS;
    while (queue.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) return { kind: "timeout" };
      await new Promise((resolve) => {
        wake = resolve;
        setTimeout(resolve, left);
      });
    }
    return queue.shift();
  };
}

const describe = (item) =>
  item.data !== undefined ? `${item.kind}, ${item.data.length} bytes` : JSON.stringify(item);

async function oneConnection(url, label, closer, code, reason) {
  const ws = new WebSocket(url, { maxPayload: 0 });
  const next = record(ws);
  let item = await next();
  const opened = item.kind === "open" && ws.protocol === "" && ws.extensions === "";
  const how = `${describe(item)}, protocol ${JSON.stringify(ws.protocol)}, extensions ${JSON.stringify(ws.extensions)}`;
  if (!check(opened, `${label}: opens, declining permessage-deflate`, how)) {
    ws.terminate();
    return;
  }
  for (const [make, kind] of [[textOf, "text"], [binaryOf, "binary"]]) {
    for (const n of SIZES) {
      const sent = make(n);
      ws.send(sent, { binary: kind === "binary" });
      item = await next();
      const same = item.kind === kind && Buffer.from(item.data).equals(Buffer.from(sent));
      check(same, `${label}: ${kind} echo, ${n} bytes`, describe(item));
    }
  }
  ws.ping(PING);
  item = await next();
  check(item.kind === "pong" && item.data.equals(PING), `${label}: pong carries the ping's payload`, describe(item));
  let what;
  if (closer === "client") {
    ws.close(code, reason);
    what = `${label}: we close with ${code}: the server answers ${code} and the reason`;
  } else {
    ws.send(`close ${code} ${reason}`);
    what = `${label}: the server closes with ${code} and the reason`;
  }
  item = await next();
  check(item.kind === "close" && item.code === code && item.reason === reason, what, describe(item));
  ws.terminate();
}

async function client(base, reason) {
  for (const closer of ["client", "server"]) {
    for (const code of CODES) {
      const label = `ws-client/${closer}-closes-${code}`;
      try {
        await oneConnection(`${base}/test/close?case=${label}`, label, closer, code, reason);
      } catch (e) {
        check(false, `${label}: the connection`, String(e));
      }
    }
  }
  process.exit(failed === 0 ? 0 : 1);
}

function server() {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, maxPayload: 0 });
  wss.on("listening", () => console.log(`listening on ${wss.address().port}`));
  wss.on("connection", (ws, request) => {
    ws.on("message", (data, isBinary) => {
      const close = isBinary ? null : closeRequest(data.toString());
      if (close) ws.close(...close);
      else ws.send(data, { binary: isBinary });
    });
    ws.on("close", (code, reason) => console.log(`closed ${request.url}: received ${code} "${reason}"`));
  });
}

const [mode, base, reason] = process.argv.slice(2);
if (mode === "client" && base && reason) await client(base.replace(/\/$/, ""), reason);
else if (mode === "server" && !base) server();
else {
  console.error("usage: node ws_peer.mjs client BASE_URL REASON  |  node ws_peer.mjs server");
  process.exit(2);
}
