#!/usr/bin/env node
// Drive wsloop's test page (www/index.html) in headless Chromium with playwright-core.
//
//   node browser_page.mjs http://127.0.0.1:9000/ [SCREENSHOT.png]
//
// Env: WSLOOP_SCREENSHOT   screenshot path when not given as argv[3]
//                          (default: ./wsloop-browser-page.png)
//      CHROMIUM            browser binary (default /usr/bin/chromium, Debian's package)
//      BROWSER_TIMEOUT_MS  bound on each wait (default 15000); the whole run is bounded by
//                          4x that plus 30 s
//      WSLOOP_DEFLATE      0: the server is built without permessage-deflate, so the page
//                          must show "(none)" (default 1: it must show permessage-deflate)
//
// Checks: the page loads; #status gets class "open" (the page's
// new WebSocket(url, 'dumb-increment-protocol') opened) and its computed color is green-ish;
// typing "Hello, world!" + Enter in #message sends it (li.sent) and clears the box; an
// li.received "!dlrow ,olleH" arrives; the Reconnect button opens a new connection; the page
// shows permessage-deflate as negotiated (#extensions, from ws.extensions) and a 3000-char
// message (compressed both ways) comes back reversed; no uncaught page errors. Exit 0 all good, 1 a check failed, 2 could not run (no browser/lib).

import { mkdtempSync, rmSync, existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

const SENT = "Hello, world!";
const EXPECTED = "!dlrow ,olleH";

const url = process.argv[2];
if (!url || url === "-h" || url === "--help") {
  console.error("usage: node browser_page.mjs http://127.0.0.1:PORT/ [SCREENSHOT.png]");
  process.exit(2);
}
const screenshot = resolve(
  process.argv[3] || process.env.WSLOOP_SCREENSHOT || "wsloop-browser-page.png",
);
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const timeout = Number(process.env.BROWSER_TIMEOUT_MS || 15000);
const deflate = (process.env.WSLOOP_DEFLATE || "1") !== "0";

function log(msg) {
  console.log(`browser_page: ${msg}`);
}

let chromium;
try {
  ({ chromium } = await import("playwright-core"));
} catch (e) {
  console.error(
    `browser_page: cannot load playwright-core (run 'npm ci' in tests/clients): ${e.message}`,
  );
  process.exit(2);
}
if (!existsSync(executablePath)) {
  console.error(`browser_page: no browser at ${executablePath} (apt-get install chromium)`);
  process.exit(2);
}

const userDataDir = mkdtempSync(join(tmpdir(), "wsloop-chromium-"));
let context = null;
let exitCode = 1;

function cleanup() {
  try {
    rmSync(userDataDir, { recursive: true, force: true });
  } catch {
    /* best effort */
  }
}

// Hard bound on the whole run, whatever hangs.
const watchdog = setTimeout(
  () => {
    console.error(`browser_page: FAIL: whole run exceeded ${4 * timeout + 30000} ms`);
    cleanup();
    process.exit(1);
  },
  4 * timeout + 30000,
);
watchdog.unref();

function isGreenish(rgb) {
  const m = /rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(rgb);
  if (!m) return false;
  const [r, g, b] = m.slice(1, 4).map(Number);
  return g >= 80 && g > r + 40 && g > b + 20;
}

async function statusInfo(page) {
  return page.$eval("#status", (el) => ({
    text: el.textContent,
    className: el.className,
    color: getComputedStyle(el).color,
    background: getComputedStyle(el).backgroundColor,
  }));
}

async function logEntries(page) {
  return page.$$eval("#log li", (lis) => lis.map((li) => `${li.className}: ${li.textContent}`));
}

async function run() {
  const failures = [];
  const pageErrors = [];
  const fail = (msg) => {
    failures.push(msg);
    console.log(`browser_page: FAIL: ${msg}`);
  };

  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    timeout,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      // https:// with the tests' own CA (wss:// follows: the page picks it over https).
      ...(url.startsWith("https:") ? ["--ignore-certificate-errors"] : []),
    ],
    ignoreHTTPSErrors: url.startsWith("https:"),
    viewport: { width: 900, height: 600 },
  });
  log(`chromium ${context.browser()?.version() ?? "(persistent context)"} from ${executablePath}`);
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(timeout);
  page.on("pageerror", (err) => pageErrors.push(String(err)));
  page.on("console", (msg) => {
    if (msg.type() === "error") log(`console error: ${msg.text()}`);
  });

  const resp = await page.goto(url, { waitUntil: "load", timeout });
  log(`GET ${url} -> HTTP ${resp ? resp.status() : "(no response)"}, title ${JSON.stringify(await page.title())}`);
  if (!resp || !resp.ok()) fail(`page load returned HTTP ${resp ? resp.status() : "none"}`);

  // 1. The socket opens: #status gets class "open" and shows green.
  try {
    await page.waitForSelector("#status.open", { timeout });
  } catch {
    fail(`#status never got class "open" within ${timeout} ms`);
  }
  const st = await statusInfo(page);
  log(`status: text ${JSON.stringify(st.text)}, class ${JSON.stringify(st.className)}, color ${st.color}, background ${st.background}`);
  if (!st.className.split(/\s+/).includes("open")) {
    // Nothing else can work; still take the screenshot below.
  } else {
    if (!isGreenish(st.color)) fail(`#status is open but its color ${st.color} is not green`);
    else log("status color is green");

    // 2. Type the message and press Enter.
    const input = page.locator("#message");
    await input.click();
    await input.pressSequentially(SENT);
    await input.press("Enter");
    try {
      await page
        .locator("#log li.received")
        .filter({ hasText: new RegExp(`^${EXPECTED.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`) })
        .first()
        .waitFor({ state: "visible", timeout });
      log(`received ${JSON.stringify(EXPECTED)}`);
    } catch {
      fail(`no li.received with text ${JSON.stringify(EXPECTED)} within ${timeout} ms`);
    }
    const sentCount = await page.locator("#log li.sent", { hasText: SENT }).count();
    if (sentCount < 1) fail(`no li.sent with text ${JSON.stringify(SENT)}`);
    const left = await input.inputValue();
    if (left !== "") fail(`#message was not cleared after Enter (still ${JSON.stringify(left)})`);

    // 3. Reconnect opens a fresh connection that also works.
    await page.click("#reconnect");
    try {
      await page.waitForSelector("#status.open", { timeout });
      await input.fill("añb");
      await input.press("Enter");
      await page
        .locator("#log li.received")
        .filter({ hasText: /^bña$/ })
        .first()
        .waitFor({ state: "visible", timeout });
      log("reconnect: open again, 'añb' -> 'bña'");
    } catch {
      fail(`after clicking #reconnect: no open socket / no reply within ${timeout} ms`);
    }

    // 4. permessage-deflate: the page shows what was negotiated (nothing from a build
    //    without it), and a message past the server's 1 KiB minimum (compressed both ways
    //    when negotiated) round-trips.
    const extensions = (await page.locator("#extensions").textContent()) || "";
    log(`extensions shown: ${JSON.stringify(extensions)}`);
    if (deflate && !extensions.startsWith("permessage-deflate")) {
      fail(`#extensions is ${JSON.stringify(extensions)}, not permessage-deflate`);
    }
    if (!deflate && extensions !== "(none)") {
      fail(`#extensions is ${JSON.stringify(extensions)} from a build without deflate`);
    }
    const long = "abc, ".repeat(600);
    const reversed = [...long].reverse().join("");
    await input.fill(long);
    await input.press("Enter");
    try {
      await page
        .locator("#log li.received")
        .filter({ hasText: reversed })
        .first()
        .waitFor({ state: "visible", timeout });
      log(`${deflate ? "compressed " : ""}round trip: ${long.length} chars reversed`);
    } catch {
      fail(`no reply to the ${long.length}-char message within ${timeout} ms`);
    }
  }

  for (const line of await logEntries(page)) log(`log  ${line}`);
  if (pageErrors.length) fail(`uncaught page errors: ${pageErrors.join(" | ")}`);

  mkdirSync(dirname(screenshot), { recursive: true });
  await page.screenshot({ path: screenshot, fullPage: true });
  log(`screenshot saved to ${screenshot}`);
  return failures;
}

try {
  const failures = await run();
  if (failures.length === 0) {
    log("OK: page opened the WebSocket, showed green, round-tripped the message");
    exitCode = 0;
  } else {
    console.error(`browser_page: FAILED: ${failures.length} check(s):\n  ${failures.join("\n  ")}`);
    exitCode = 1;
  }
} catch (e) {
  console.error(`browser_page: FAIL: ${e && e.stack ? e.stack : e}`);
  exitCode = 1;
} finally {
  if (context) {
    await Promise.race([
      context.close().catch(() => {}),
      new Promise((r) => setTimeout(r, 10000)),
    ]);
  }
  cleanup();
}
process.exit(exitCode);
