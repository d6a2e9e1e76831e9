#!/usr/bin/env node
// Drive wsloop's lws demo pages in headless Chromium with playwright-core.
//
//   node browser_lws.mjs http://127.0.0.1:9000/ SCREENSHOT_DIR
//
// Env: CHROMIUM            browser binary (default /usr/bin/chromium)
//      BROWSER_TIMEOUT_MS  bound on each wait (default 15000); the whole run is bounded by
//                          6x that plus 30 s
//
// Checks:
//  increment.html: #status gets class "open"; #counter ticks upwards (5 pushes seen);
//    Reset brings it back below 5; "Ask the server to close" closes with 1000 "seeya".
//  mirror.html?mirror=browser in two tabs: both open; a line typed + Enter in tab 1 appears in
//    tab 2's #lines (and in tab 1's: the sender gets its own copy); a stroke drawn with the
//    mouse on tab 1's canvas is painted on tab 2's canvas.
//  No uncaught page errors. Screenshots: increment.png, mirror-tab1.png, mirror-tab2.png.
// Exit 0 all good, 1 a check failed, 2 could not run (no browser/lib).

import { mkdtempSync, rmSync, existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const base = process.argv[2];
if (!base || base === "-h" || base === "--help") {
  console.error("usage: node browser_lws.mjs http://127.0.0.1:PORT/ [SCREENSHOT_DIR]");
  process.exit(2);
}
const shots = resolve(process.argv[3] || ".");
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const timeout = Number(process.env.BROWSER_TIMEOUT_MS || 15000);
const LINE = "hello from tab 1";

function log(msg) {
  console.log(`browser_lws: ${msg}`);
}

let chromium;
try {
  ({ chromium } = await import("playwright-core"));
} catch (e) {
  console.error(`browser_lws: cannot load playwright-core (run 'npm ci' in tests/clients): ${e.message}`);
  process.exit(2);
}
if (!existsSync(executablePath)) {
  console.error(`browser_lws: no browser at ${executablePath} (apt-get install chromium)`);
  process.exit(2);
}

const userDataDir = mkdtempSync(join(tmpdir(), "wsloop-chromium-"));
let context = null;
function cleanup() {
  try {
    rmSync(userDataDir, { recursive: true, force: true });
  } catch {
    /* best effort */
  }
}
const watchdog = setTimeout(() => {
  console.error(`browser_lws: FAIL: whole run exceeded ${6 * timeout + 30000} ms`);
  cleanup();
  process.exit(1);
}, 6 * timeout + 30000);
watchdog.unref();

const failures = [];
const pageErrors = [];
function fail(msg) {
  failures.push(msg);
  log(`FAIL: ${msg}`);
}

async function open(path) {
  const page = await context.newPage();
  page.setDefaultTimeout(timeout);
  page.on("pageerror", (err) => pageErrors.push(`${path}: ${err}`));
  const resp = await page.goto(new URL(path, base).href, { waitUntil: "load", timeout });
  if (!resp || !resp.ok()) fail(`${path}: HTTP ${resp ? resp.status() : "none"}`);
  try {
    await page.waitForSelector("#status.open", { timeout });
  } catch {
    fail(`${path}: #status never got class "open"`);
  }
  return page;
}

async function check(what, fn) {
  try {
    await fn();
    log(`ok: ${what}`);
  } catch (e) {
    fail(`${what}: ${e.message.split("\n")[0]}`);
  }
}

async function increment() {
  const page = await open("increment.html");
  const counter = () => page.$eval("#counter", (el) => Number(el.textContent));
  await check("increment counter ticks", async () => {
    await page.waitForFunction(() => Number(document.getElementById("counter").textContent) >= 1);
    const first = await counter();
    await page.waitForFunction(
      (n) => Number(document.getElementById("counter").textContent) >= n + 5,
      first,
    );
    log(`counter went from ${first} to ${await counter()}`);
  });
  await check("increment reset", async () => {
    await page.waitForFunction(() => Number(document.getElementById("counter").textContent) >= 20);
    await page.click("#reset");
    await page.waitForFunction(() => Number(document.getElementById("counter").textContent) < 5);
    await page.waitForFunction(() => Number(document.getElementById("counter").textContent) >= 3);
  });
  await page.screenshot({ path: join(shots, "increment.png"), fullPage: true });
  await check("increment closeme", async () => {
    await page.click("#closeme");
    await page.waitForSelector("#status.closed");
    const reason = await page.textContent("#closed-reason");
    if (!/code 1000, reason seeya/.test(reason)) throw new Error(`closed with ${reason}`);
  });
  await page.screenshot({ path: join(shots, "increment-closed.png"), fullPage: true });
}

async function mirror() {
  const one = await open("mirror.html?mirror=browser");
  const two = await open("mirror.html?mirror=browser");
  await check("mirror: a line typed in tab 1 appears in both tabs", async () => {
    await one.fill("#line", LINE);
    await one.press("#line", "Enter");
    for (const page of [two, one]) {
      await page.locator("#lines li", { hasText: LINE }).first().waitFor({ state: "visible" });
    }
    if ((await one.inputValue("#line")) !== "") throw new Error("the input was not cleared");
  });
  await check("mirror: a stroke drawn in tab 1 is painted in tab 2", async () => {
    const box = await one.locator("#board").boundingBox();
    await one.mouse.move(box.x + 40, box.y + 40);
    await one.mouse.down();
    for (let i = 1; i <= 20; i++) {
      await one.mouse.move(box.x + 40 + i * 20, box.y + 40 + i * 8);
    }
    await one.mouse.up();
    await two.waitForFunction(() => {
      const c = document.getElementById("board");
      const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      let painted = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
      return painted > 500;
    });
  });
  await one.screenshot({ path: join(shots, "mirror-tab1.png"), fullPage: true });
  await two.screenshot({ path: join(shots, "mirror-tab2.png"), fullPage: true });
}

let exitCode = 1;
try {
  mkdirSync(shots, { recursive: true });
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    timeout,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 900, height: 700 },
  });
  await increment();
  await mirror();
  if (pageErrors.length) fail(`uncaught page errors: ${pageErrors.join(" | ")}`);
  log(`screenshots in ${shots}`);
  if (failures.length === 0) {
    log("OK: increment ticks/resets/closes, mirror shares lines and strokes between tabs");
    exitCode = 0;
  } else {
    console.error(`browser_lws: FAILED: ${failures.length} check(s):\n  ${failures.join("\n  ")}`);
  }
} catch (e) {
  console.error(`browser_lws: FAIL: ${e && e.stack ? e.stack : e}`);
} finally {
  if (context) {
    await Promise.race([context.close().catch(() => {}), new Promise((r) => setTimeout(r, 10000))]);
  }
  cleanup();
}
process.exit(exitCode);
