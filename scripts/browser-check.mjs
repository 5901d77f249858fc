// Drives the echo server's page in headless Chromium: the socket opens, a
// text comes back, and a close with 1000 and a reason ends cleanly, as the
// page's CloseEvent reports it. Run by scripts/browser-check.sh.
//
//   node scripts/browser-check.mjs http://127.0.0.1:PORT/ SCREENSHOT.png
//
// PLAYWRIGHT_DIR names the folder where playwright-core is installed.
import { createRequire } from "node:module";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const [url, screenshot] = process.argv.slice(2);
if (!url || !screenshot) {
  console.error("usage: node browser-check.mjs URL SCREENSHOT.png");
  process.exit(2);
}
const require = createRequire(path.join(path.resolve(process.env.PLAYWRIGHT_DIR ?? "scripts/.browser"), "x.js"));
const { chromium } = require("playwright-core");

const STEP_MS = 10_000;
const profile = mkdtempSync(path.join(tmpdir(), "echo-chromium-"));
let failures = 0;

function check(ok, what, detail = "") {
  console.log(`${ok ? "ok" : "FAIL"}: ${what}${detail ? ` (${detail})` : ""}`);
  if (!ok) failures++;
  return ok;
}

const text = (page, id) => page.locator(`#${id}`).textContent();

// Waits until the element's text is `want`; reports what it was if not.
async function expectText(page, id, want, what) {
  try {
    await page.waitForFunction(
      ([id, want]) => document.getElementById(id)?.textContent === want,
      [id, want],
      { timeout: STEP_MS },
    );
    return check(true, what, `#${id} = ${JSON.stringify(want)}`);
  } catch {
    return check(false, what, `#${id} is ${JSON.stringify(await text(page, id))}, want ${JSON.stringify(want)}`);
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
    return check(true, "echoed", JSON.stringify(message));
  } catch {
    const got = await page.locator("#log li").allTextContents();
    return check(false, "echoed", `${JSON.stringify(message)} not among ${JSON.stringify(got)}`);
  }
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
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(STEP_MS);
  page.on("pageerror", (e) => check(false, "no error in the page", String(e)));
  const response = await page.goto(url);
  check(response?.status() === 200, "the page loads", `status ${response?.status()}`);

  if (await expectText(page, "ready-state", "1", "readyState becomes 1")) {
    await expectText(page, "ready-state-name", "OPEN", "readyState is named");
    for (const message of ["hello from Chromium", "héllo wörld — 你好 🚀"]) {
      await page.fill("#message", message);
      await page.click("#send");
      await expectEcho(page, message);
    }
  }

  const reason = "Deliberate disconnection";
  await page.fill("#close-code", "1000");
  await page.fill("#close-reason", reason);
  await page.click("#close");
  await expectText(page, "close-event-clean", "true", "wasClean");
  await expectText(page, "close-event-code", "1000", "close code");
  const shown = await page.locator("#close-event-reason").getAttribute("data-reason");
  check(shown === reason, "close reason", `${JSON.stringify(shown)}`);
  await expectText(page, "ready-state", "3", "readyState becomes 3");
  await expectText(page, "ready-state-name", "CLOSED", "readyState is named");
} catch (e) {
  check(false, "the browser session", String(e));
} finally {
  if (page) {
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`screenshot: ${screenshot}`);
  }
  await context?.close();
  rmSync(profile, { recursive: true, force: true });
}

console.log(failures === 0 ? "browser check: all checks passed" : `browser check: ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
