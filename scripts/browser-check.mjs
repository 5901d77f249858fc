// Drives the echo server in headless Chromium and checks, as the page's own
// WebSocket objects report it: the page's form (open, echo, close), then one
// socket per check created in the page: readyState 0 → 1 → 2 → 3, text and
// binary echo, close(1000, reason), the server's close with 4001 and a Chinese
// reason, a dropped TCP connection (1006), invalid UTF-8 from the server, the
// subprotocol, and the declined permessage-deflate offer. The test paths are
// the echo server's (examples/echo_server.rs, docs/interop.md). With the
// server's log, it also checks the closes the server saw. Run by
// scripts/browser-check.sh.
//
//   node scripts/browser-check.mjs http://127.0.0.1:PORT/ SCREENSHOT.png [SERVER.log]
//
// PLAYWRIGHT_DIR names the folder where playwright-core is installed.
import { createRequire } from "node:module";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const [url, screenshot, serverLog] = process.argv.slice(2);
if (!url || !screenshot) {
  console.error("usage: node browser-check.mjs URL SCREENSHOT.png [SERVER.log]");
  process.exit(2);
}
const require = createRequire(path.join(path.resolve(process.env.PLAYWRIGHT_DIR ?? "scripts/.browser"), "x.js"));
const { chromium } = require("playwright-core");

const STEP_MS = 10_000;
const DELIBERATE = "Deliberate disconnection";
const CHINESE_REASON = "服务器关闭连接"; // examples/echo_server.rs, /test/close-4001
// The names of the checks that create their own socket.
const CLOSE_4001 = `server closes with 4001 ${JSON.stringify(CHINESE_REASON)}`;
const DROP = "server drops TCP: 1006, not clean";
const BAD_UTF8 = "invalid UTF-8 from the server fails the connection: error, no message, 1006, not clean";
const PROTOCOL = "subprotocol: socket.protocol is the one the server picked";
const DEFLATE = "permessage-deflate offered and declined: socket.extensions is empty, echo and close still work";
const profile = mkdtempSync(path.join(tmpdir(), "echo-chromium-"));
const results = [];

function check(ok, what, detail = "") {
  const line = `${ok ? "ok" : "FAIL"}: ${what}${detail ? ` (${detail})` : ""}`;
  console.log(line);
  results.push({ ok, line });
  return ok;
}

const show = (v) => JSON.stringify(v);
const text = (page, id) => page.locator(`#${id}`).textContent();

// Waits until the element's text is `want`; reports what it was if not.
async function expectText(page, id, want, what) {
  try {
    await page.waitForFunction(
      ([id, want]) => document.getElementById(id)?.textContent === want,
      [id, want],
      { timeout: STEP_MS },
    );
    return check(true, what, `#${id} = ${show(want)}`);
  } catch {
    return check(false, what, `#${id} is ${show(await text(page, id))}, want ${show(want)}`);
  }
}

// Waits for a received message equal to `message` in the page's log.
async function expectEcho(page, message) {
  try {
    await page.waitForFunction(
      (m) => [...document.querySelectorAll("#log li.in")].some((li) => li.dataset.text === m),
      message,
      { timeout: STEP_MS },
    );
    return check(true, "page: echoed", show(message));
  } catch {
    const got = await page.locator("#log li").allTextContents();
    return check(false, "page: echoed", `${show(message)} not among ${show(got)}`);
  }
}

// Installed in the page before its own script. `probe(path, protocols)` opens
// a socket to the echo server and records its readyState at construction, in
// onopen and in onclose, every event, every message and the close event;
// `until` waits for a condition on that record.
function installProbe() {
  window.probe = (path, protocols) => {
    const ws = new WebSocket(`ws://${location.host}${path}`, protocols);
    ws.binaryType = "arraybuffer";
    const rec = { ws, states: [ws.readyState], events: [], messages: [], close: null };
    ws.onopen = () => {
      rec.events.push("open");
      rec.states.push(ws.readyState);
    };
    ws.onmessage = (e) => {
      rec.events.push("message");
      rec.messages.push(e.data);
    };
    ws.onerror = () => rec.events.push("error");
    ws.onclose = (e) => {
      rec.events.push("close");
      rec.states.push(ws.readyState);
      rec.close = { code: e.code, reason: e.reason, wasClean: e.wasClean };
    };
    rec.until = (what, done, ms = 10_000) =>
      new Promise((resolve, reject) => {
        const t0 = Date.now();
        const tick = () => {
          if (done()) resolve();
          else if (Date.now() - t0 > ms) reject(new Error(`no ${what} after ${ms} ms; events: ${rec.events}`));
          else setTimeout(tick, 5);
        };
        tick();
      });
    rec.opened = () => rec.until("open", () => rec.events.includes("open") || rec.close);
    rec.closed = () => rec.until("close", () => rec.close);
    // What the check reports back to Node (a WebSocket cannot be serialized).
    rec.summary = () => ({
      states: rec.states,
      events: rec.events,
      close: rec.close,
      protocol: ws.protocol,
      extensions: ws.extensions,
      messages: rec.messages.map((m) => (typeof m === "string" ? m : `<binary ${m.byteLength} bytes>`)),
    });
    return rec;
  };
}

// Runs one check's page code; a thrown error becomes a failed check.
async function inPage(page, what, fn, arg) {
  try {
    return await page.evaluate(fn, arg);
  } catch (e) {
    check(false, what, String(e).split("\n")[0]);
    return null;
  }
}

// Handshake headers as Chromium sent and received them (the page cannot see
// them), by socket URL, from the DevTools protocol.
async function watchHandshakes(context, page) {
  const byId = new Map();
  const cdp = await context.newCDPSession(page);
  const entry = (id) => byId.get(id) ?? byId.set(id, {}).get(id);
  cdp.on("Network.webSocketCreated", (e) => (entry(e.requestId).url = e.url));
  cdp.on("Network.webSocketWillSendHandshakeRequest", (e) => (entry(e.requestId).request = e.request.headers));
  cdp.on("Network.webSocketHandshakeResponseReceived", (e) => (entry(e.requestId).response = e.response.headers));
  await cdp.send("Network.enable");
  return (wsUrl) => [...byId.values()].find((h) => h.url === wsUrl) ?? {};
}

const header = (headers, name) =>
  Object.entries(headers ?? {}).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];

// The page's own form: what a person sees.
async function pageChecks(page) {
  if (await expectText(page, "ready-state", "1", "page: readyState becomes 1")) {
    await expectText(page, "ready-state-name", "OPEN", "page: readyState is named");
    for (const message of ["hello from Chromium", "héllo wörld — 你好 🚀"]) {
      await page.fill("#message", message);
      await page.click("#send");
      await expectEcho(page, message);
    }
  }
  await page.fill("#close-code", "1000");
  await page.fill("#close-reason", DELIBERATE);
  await page.click("#close");
  await expectText(page, "close-event-clean", "true", "page: wasClean");
  await expectText(page, "close-event-code", "1000", "page: close code");
  const shown = await page.locator("#close-event-reason").getAttribute("data-reason");
  check(shown === DELIBERATE, "page: close reason", show(shown));
  await expectText(page, "ready-state", "3", "page: readyState becomes 3");
}

// One socket per check, created in the page.
async function socketChecks(page, handshake, origin) {
  // readyState at construction, in onopen, right after close(), in onclose; the close event.
  const life = await inPage(page, "readyState 0 → 1 → 2 → 3", async (reason) => {
    const p = probe("/?check=lifecycle");
    await p.opened();
    p.ws.close(1000, reason);
    p.states.push(p.ws.readyState); // right after close(): CLOSING
    await p.closed();
    return p.summary();
  }, DELIBERATE);
  if (life) {
    check(show(life.states) === "[0,1,2,3]", "readyState 0 → 1 → 2 → 3", `saw ${life.states.join(" → ")}`);
    const c = life.close;
    check(
      c?.code === 1000 && c?.reason === DELIBERATE && c?.wasClean === true,
      `close(1000, ${show(DELIBERATE)}) ends cleanly with that code and reason`,
      `close event ${show(c)}`,
    );
  }

  const texts = ["hello", "", "héllo wörld — 你好 🚀", "ü€😀".repeat(30_000)];
  const echoedText = await inPage(page, "text echo", async (texts) => {
    const p = probe("/?check=text");
    await p.opened();
    for (const t of texts) p.ws.send(t);
    await p.until("echoes", () => p.messages.length >= texts.length || p.close);
    p.ws.close();
    const wrong = texts.flatMap((t, i) => (p.messages[i] === t ? [] : [`#${i} (${t.length} chars)`]));
    return { wrong, count: p.messages.length };
  }, texts);
  if (echoedText) {
    check(
      echoedText.wrong.length === 0 && echoedText.count === texts.length,
      "text echo",
      echoedText.wrong.length ? `wrong: ${echoedText.wrong.join(", ")}` : `${texts.length} texts up to 270,000 bytes`,
    );
  }

  const sizes = [0, 1, 125, 126, 65535, 65536, 1 << 20];
  const echoedBinary = await inPage(page, "binary echo", async (sizes) => {
    const p = probe("/?check=binary");
    await p.opened();
    const data = (n) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff);
    for (const n of sizes) p.ws.send(data(n));
    await p.until("echoes", () => p.messages.length >= sizes.length || p.close);
    p.ws.close();
    const same = (got, want) =>
      got instanceof ArrayBuffer && got.byteLength === want.length && new Uint8Array(got).every((b, i) => b === want[i]);
    const wrong = sizes.filter((n, i) => !same(p.messages[i], data(n)));
    return { wrong, count: p.messages.length };
  }, sizes);
  if (echoedBinary) {
    check(
      echoedBinary.wrong.length === 0 && echoedBinary.count === sizes.length,
      "binary echo",
      echoedBinary.wrong.length ? `wrong at sizes ${echoedBinary.wrong.join(", ")}` : `sizes ${sizes.join(", ")}`,
    );
  }

  const server4001 = await inPage(page, CLOSE_4001, async () => {
    const p = probe("/test/close-4001");
    await p.closed();
    return p.summary();
  });
  if (server4001) {
    const c = server4001.close;
    check(
      c?.code === 4001 && c?.reason === CHINESE_REASON && c?.wasClean === true && server4001.events[0] === "open",
      CLOSE_4001,
      `events ${server4001.events.join(", ")}; close event ${show(c)}`,
    );
  }

  const dropped = await inPage(page, DROP, async () => {
    const p = probe("/test/drop");
    await p.opened();
    p.ws.send("the server drops the connection now");
    await p.closed();
    return p.summary();
  });
  if (dropped) {
    const c = dropped.close;
    check(
      c?.code === 1006 && c?.wasClean === false && dropped.messages.length === 0,
      DROP,
      `events ${dropped.events.join(", ")}; close event ${show(c)}`,
    );
  }

  const badUtf8 = await inPage(page, BAD_UTF8, async () => {
    const p = probe("/test/bad-utf8");
    await p.closed();
    return p.summary();
  });
  if (badUtf8) {
    const c = badUtf8.close;
    check(
      badUtf8.messages.length === 0 && badUtf8.events.includes("error") && c?.code === 1006 && c?.wasClean === false,
      BAD_UTF8,
      `events ${badUtf8.events.join(", ")}; close event ${show(c)}`,
    );
  }

  const protocols = ["chat.v2", "echo.v1"];
  const chosen = await inPage(page, PROTOCOL, async (protocols) => {
    const p = probe("/?check=protocol", protocols);
    await p.opened();
    p.ws.close();
    await p.closed();
    return p.summary();
  }, protocols);
  if (chosen) {
    check(
      chosen.protocol === "chat.v2" && chosen.close?.wasClean,
      PROTOCOL,
      `offered ${show(protocols)}; protocol ${show(chosen.protocol)}`,
    );
  }

  const deflate = await inPage(page, DEFLATE, async () => {
    const p = probe("/?check=deflate");
    await p.opened();
    p.ws.send("x".repeat(1000));
    await p.until("echo", () => p.messages.length || p.close);
    p.ws.close(1000);
    await p.closed();
    return p.summary();
  });
  if (deflate) {
    const h = handshake(`ws://${origin}/?check=deflate`);
    const offered = header(h.request, "Sec-WebSocket-Extensions") ?? "";
    const answered = header(h.response, "Sec-WebSocket-Extensions");
    check(
      offered.includes("permessage-deflate") &&
        answered === undefined &&
        deflate.extensions === "" &&
        deflate.events[0] === "open" &&
        deflate.messages[0] === "x".repeat(1000) &&
        deflate.close?.code === 1000 &&
        deflate.close?.wasClean,
      DEFLATE,
      `offered ${show(offered)}; answered ${show(answered ?? null)}; extensions ${show(deflate.extensions)}; ` +
        `events ${deflate.events.join(", ")}`,
    );
  }
}

// What the server's log says it saw of the browser's sockets.
function serverChecks(log) {
  const closed = (target) =>
    log.split("\n").find((l) => l.includes(` ${target}: closed, `))?.replace(/^.*?: closed, /, "") ?? "(none)";
  const expect = (target, want, what) => {
    const got = closed(target);
    check(got === want, `server saw ${what}`, got);
  };
  expect("/?check=lifecycle", `code 1000 (Normal Closure), reason ${show(DELIBERATE)}, clean true`, "the close 1000");
  expect("/test/close-4001", `code 4001, reason ${show(CHINESE_REASON)}, clean true`, "its 4001 echoed");
  expect("/test/drop", `code 1006 (Abnormal Closure), reason "", clean false`, "its own drop");
  // RFC 6455 §7.4.1 has 1007 for this; Chromium sends 1002 "Invalid UTF-8 in text frame". Either says why.
  const bad = closed("/test/bad-utf8");
  check(
    /^code 100[27] \(.*\), reason ".*UTF-8.*", clean true$/.test(bad),
    "server saw the browser fail the connection: a close frame with 1002 or 1007 naming UTF-8",
    bad,
  );
}

// Lists the results in the page, so the screenshot shows them.
async function showResults(page) {
  await page.evaluate((lines) => {
    const section = document.createElement("section");
    section.innerHTML = "<h2>Browser check</h2><ol id='checks' style='font: 13px ui-monospace, monospace'></ol>";
    for (const line of lines) {
      const li = document.createElement("li");
      li.textContent = line;
      li.style.color = line.startsWith("ok") ? "#063" : "#b00";
      section.querySelector("ol").appendChild(li);
    }
    document.body.appendChild(section);
  }, results.map((r) => r.line));
}

// A fresh profile: Playwright passes it to Chromium as --user-data-dir.
let context;
let page;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    timeout: 30_000,
    viewport: { width: 900, height: 820 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  await context.addInitScript(installProbe);
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(STEP_MS);
  page.on("pageerror", (e) => check(false, "no error in the page", String(e)));
  const handshake = await watchHandshakes(context, page);
  const response = await page.goto(url);
  check(response?.status() === 200, "page: loads", `status ${response?.status()}`);
  await pageChecks(page);
  await socketChecks(page, handshake, new URL(url).host);
} catch (e) {
  check(false, "the browser session", String(e));
}
if (serverLog) {
  // The server logs a close after it has written its last bytes; give the last socket a moment.
  await new Promise((r) => setTimeout(r, 300));
  serverChecks(readFileSync(serverLog, "utf8"));
}
try {
  if (page) {
    await showResults(page);
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`screenshot: ${screenshot}`);
  }
} catch (e) {
  console.log(`no screenshot: ${e}`);
} finally {
  await context?.close();
  rmSync(profile, { recursive: true, force: true });
}

const failed = results.filter((r) => !r.ok).length;
console.log(`browser check: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
