// Usage: [CHROMIUM=/usr/bin/chromium] node console_views.mjs CONSOLE_URL SCREENSHOT_DIR QUERY_JSON
// Opens each view of the Furrow console in Debian's Chromium (headless, driven by
// playwright-core), takes a screenshot of it, and prints as JSON what each showed and every
// console error, page error or failed request it met. QUERY_JSON names the event ids and app id
// the views are asked about.
import { eventRows as rows, viewer } from "./views.mjs";

const [consoleUrl, screenshots, queryJson] = process.argv.slice(2);
const query = JSON.parse(queryJson);
const { view, seen, close } = await viewer(consoleUrl, screenshots);

try {
  // First: the event is made just before this script runs, and a tail looks back 30 s only.
  const tailPath = `/tail?kind=good&app_id=${encodeURIComponent(query.tail.source.app_id)}`;
  await view("tail", tailPath, async (tab) => {
    // The event is written only once the page listens for it.
    await tab.waitForSelector("#tail-state:text('live')");
    const { index, id, source } = query.tail;
    const written = await fetch(`${query.elasticsearch}/${index}/_doc/${id}?refresh=true`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(source),
    });
    if (!written.ok) throw new Error(`indexing the tail's event: ${written.status}`);
    const row = tab.locator(`#tail tbody tr[data-event-id="${source.event_id}"]`);
    await row.waitFor({ timeout: 20000 });
    return { shown: await tab.locator("#tail tbody tr").evaluateAll((trs) => trs.map((tr) => tr.dataset.eventId)) };
  }, "load");
  await view("events", "/events?last=1h", async (tab) => {
    await tab.waitForSelector("#histogram .uplot canvas");
    await tab.locator("#events tbody tr[data-index]").first().click();
    return { rows: await rows(tab), panel: await tab.locator("#json-panel").textContent() };
  });
  await view("events-filtered", `/events?last=1h&app_id=${encodeURIComponent(query.app_id)}&kind=good`, async (tab) => {
    await tab.waitForSelector("#histogram .uplot canvas");
    return { rows: await rows(tab) };
  });
  const latitude = "contexts_com_snowplowanalytics_snowplow_geolocation_context_1.latitude";
  await view("events-columns", `/events?last=1h&event_name=page_view&columns=${latitude}`, async (tab) => ({
    picked: await tab.locator("#events .picked").allTextContents(),
  }));
  await view("events-histogram-click", "/events?last=1h", async (tab) => {
    // Clicking the fullest bar narrows the range to it: the page reloads with from and to.
    const series = Object.values(JSON.parse(await tab.locator("#histogram-data").textContent()));
    const counts = series[0].map((_, index) => series.reduce((sum, points) => sum + points[index][1], 0));
    const fullest = counts.indexOf(Math.max(...counts));
    const over = await tab.locator("#histogram .u-over").boundingBox();
    // The last bar stands on the right edge: click just inside it.
    const x = over.x + Math.min((fullest / (counts.length - 1)) * over.width, over.width - 2);
    await Promise.all([tab.waitForURL(/from=/), tab.mouse.click(x, over.y + over.height - 3)]);
    await tab.waitForSelector("#histogram .uplot canvas");
    return { url: tab.url(), rows: await rows(tab), bar: counts[fullest] };
  });
  await view("bad", "/bad?last=1h", async (tab) => ({
    sparklines: await tab.locator(".sparkline canvas").count(),
    groups: await tab.locator("#groups tbody tr").evaluateAll((trs) =>
      trs.map((tr) => Array.from(tr.querySelectorAll("td")).slice(0, 4).map((td) => td.textContent.trim())),
    ),
  }));
  await view("schemas", "/schemas?last=1h", async (tab) => ({
    schemas: await tab.locator("#schemas tbody tr").count(),
  }));
  await view("logs", "/logs?last=1h", async (tab) => {
    const lines = await tab.locator("#logs tbody tr").count();
    // A level's link narrows the lines to it.
    await Promise.all([tab.waitForURL(/level=ERROR/), tab.locator("#levels a", { hasText: "ERROR" }).click()]);
    return { lines, errors: await tab.locator("#logs tbody tr").count() };
  });
  await view("pipeline", "/pipeline", async (tab) => ({
    states: await tab.locator("#components td.state").allTextContents(),
    kafkaProblem: await tab.locator("#kafka-problem").count(),
    rates: await tab.locator("#rates-note, #rates-over").allTextContents(),
    latencyProblem: await tab.locator("#latency-problem").count(),
  }));
  for (const [name, eventId] of Object.entries(query.lookups)) {
    await view(`lookup-${name}`, `/lookup?event_id=${encodeURIComponent(eventId)}`, async (tab) => ({
      status: await tab.locator("#status strong").textContent(),
    }));
  }
} finally {
  await close();
}
console.log(JSON.stringify(seen));
