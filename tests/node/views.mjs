// The browser the console's view scripts drive: Debian's Chromium (headless, through
// playwright-core). `view` opens a page, lets `look` read what it shows, takes a screenshot
// and records every console error, page error or failed request the page met.
import { chromium } from "playwright-core";

export async function viewer(baseUrl, screenshots) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
  const seen = {};

  async function view(name, path, look, settled = "networkidle") {
    const tab = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const problems = [];
    tab.on("console", (message) => {
      if (message.type() === "error") problems.push(`console: ${message.text()}`);
    });
    tab.on("pageerror", (error) => problems.push(`page: ${error}`));
    tab.on("requestfailed", (request) => problems.push(`request: ${request.url()}`));
    tab.on("response", (response) => {
      if (response.status() >= 400) problems.push(`${response.status()}: ${response.url()}`);
    });
    await tab.goto(`${baseUrl}${path}`);
    await tab.waitForLoadState(settled);
    const found = await look(tab);
    await tab.screenshot({ path: `${screenshots}/${name}.png`, fullPage: true });
    seen[name] = { ...found, problems };
    await tab.close();
  }

  return { view, seen, close: () => browser.close() };
}

export const eventRows = (tab) => tab.locator("#events tbody tr[data-index]").count();
