// Usage: [CHROMIUM=/usr/bin/chromium] node tracked_views.mjs UI_URL SCREENSHOT_DIR QUERY_JSON
// Opens the event views of a console fed by a real tracker (the pipeline's, or the one
// `furrow micro` serves under /micro/ui) in Debian's Chromium (headless, driven by
// playwright-core), takes a screenshot of each, and prints as JSON what each showed and every
// console error, page error or failed request it met. QUERY_JSON names the app id the tracker
// sent as, the event id the live tail must show, and the collector to send that event to once
// the tail listens.
import { eventRows as rows, viewer } from "./views.mjs";

const [uiUrl, screenshots, queryJson] = process.argv.slice(2);
const query = JSON.parse(queryJson);
const app = encodeURIComponent(query.app_id);
const { view, seen, close } = await viewer(uiUrl, screenshots);

try {
  await view("tail", `/tail?app_id=${app}`, async (tab) => {
    // The event is sent only once the page listens for it, as a tracker's pixel request.
    await tab.waitForSelector("#tail-state:text('live')");
    const pixel = new URLSearchParams({
      e: "pv", p: "web", tv: "js-test", aid: query.app_id, eid: query.tail_id,
      url: "https://shop.example.com/tail",
    });
    const sent = await fetch(`${query.collector}/i?${pixel}`);
    if (!sent.ok) throw new Error(`sending the tail's event: ${sent.status}`);
    const row = tab.locator(`#tail tbody tr[data-event-id="${query.tail_id}"]`);
    await row.waitFor({ timeout: 20000 });
    return { shown: await tab.locator("#tail tbody tr").evaluateAll((trs) => trs.map((tr) => tr.dataset.eventId)) };
  }, "load");
  await view("events", `/events?last=1h&app_id=${app}`, async (tab) => {
    await tab.waitForSelector("#histogram .uplot canvas");
    await tab.locator("#events tbody tr[data-index]").first().click();
    return {
      rows: await rows(tab),
      panel: await tab.locator("#json-panel").textContent(),
      nav: await tab.locator("nav a").allTextContents(),
    };
  });
  await view("events-good", `/events?last=1h&app_id=${app}&kind=good`, async (tab) => {
    await tab.waitForSelector("#histogram .uplot canvas");
    return { rows: await rows(tab) };
  });
  await view("bad", `/bad?last=1h&app_id=${app}`, async (tab) => ({
    sparklines: await tab.locator(".sparkline canvas").count(),
    groups: await tab.locator("#groups tbody tr").evaluateAll((trs) =>
      trs.map((tr) => [0, 2, 3].map((index) => tr.querySelectorAll("td")[index].textContent.trim())),
    ),
  }));
  await view("schemas", "/schemas?last=1h", async (tab) => ({
    schemas: await tab.locator("#schemas tbody tr").count(),
    directory: await tab.locator("#schemas tbody tr", { hasText: "schema directory" }).count(),
  }));
  await view("lookup", `/lookup?event_id=${encodeURIComponent(query.tail_id)}`, async (tab) => ({
    status: await tab.locator("#status strong").textContent(),
  }));
} finally {
  await close();
}
console.log(JSON.stringify(seen));
