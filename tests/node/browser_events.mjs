// Usage: [CHROMIUM=/usr/bin/chromium] node browser_events.mjs COLLECTOR_URL MARKER
// Serves a shop page that loads the browser tracker and its plugins (bundled with esbuild), opens
// it in Debian's Chromium (headless, driven by playwright-core), clicks a link, fills and submits
// a form, clicks a button, lets page pings run, then has the page track the rest. Prints the
// number of events the collector accepted, once the tracker has sent them all.
import http from "node:http";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { chromium } from "playwright-core";

const [collector, marker] = process.argv.slice(2);
const bundled = await build({
  entryPoints: [fileURLToPath(new URL("browser/page.mjs", import.meta.url))],
  bundle: true,
  format: "iife",
  write: false,
  logLevel: "error",
});
const page = `<!doctype html>
<html lang="en-GB">
<head><meta charset="utf-8"><title>Furrow shop</title></head>
<body>
  <a id="next" class="nav" href="#reviews">Reviews</a>
  <form id="signup" class="wide" onsubmit="event.preventDefault()">
    <input id="email" name="email" type="email">
    <textarea id="note" name="note"></textarea>
    <input id="send" type="submit" value="Sign up">
  </form>
  <button id="buy" class="primary" name="buy">Buy now</button>
  <div style="height: 3000px" id="reviews">Reviews</div>
  <script>window.FURROW = ${JSON.stringify({ collector, marker })};</script>
  <script>${bundled.outputFiles[0].text}</script>
</body>
</html>`;
const server = http.createServer((request, response) => {
  response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  response.end(page);
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const url = `http://127.0.0.1:${server.address().port}/shop/${marker}`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
try {
  const tab = await browser.newPage();
  const errors = [];
  tab.on("pageerror", (error) => errors.push(String(error)));
  await tab.goto(url);
  await tab.waitForFunction(() => window.FURROW && window.FURROW.sent >= 1);
  await tab.click("#next");
  await tab.fill("#email", "a@example.com");
  await tab.fill("#note", "hello");
  await tab.click("#send");
  await tab.click("#buy");
  await tab.mouse.wheel(0, 800);
  // Activity tracking sends page pings only after a heartbeat with activity in it.
  await tab.waitForTimeout(2500);
  await tab.mouse.move(10, 10);
  await tab.waitForTimeout(1200);
  await tab.evaluate(() => window.FURROW.trackTheRest());
  // Done once the count of accepted events stops moving.
  let sent = -1;
  for (let stable = 0; stable < 4; ) {
    await tab.waitForTimeout(500);
    const now = await tab.evaluate(() => window.FURROW.sent);
    stable = now === sent ? stable + 1 : 0;
    sent = now;
  }
  const failures = await tab.evaluate(() => window.FURROW.failures);
  if (failures.length > 0 || errors.length > 0) {
    console.error(`failed requests: ${failures.join(", ")}; page errors: ${errors.join("; ")}`);
    process.exitCode = 1;
  }
  console.log(sent);
} finally {
  await browser.close();
  server.close();
}
