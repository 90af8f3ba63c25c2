// Usage: node send_events.mjs PORT get|post base64|plain MARKER
// Tracks a page view, a structured event and a self-describing event with an entity, then flushes.
import { newTracker, buildPageView, buildStructEvent, buildSelfDescribingEvent } from "@snowplow/node-tracker";

const [port, method, encoding, marker] = process.argv.slice(2);
const failures = [];
const tracker = newTracker(
  { namespace: "furrow-test", appId: marker, encodeBase64: encoding === "base64" },
  {
    endpoint: "127.0.0.1",
    protocol: "http",
    port: Number(port),
    eventMethod: method,
    bufferSize: method === "post" ? 3 : 1,
    onRequestFailure: (failure) => failures.push(failure.status ?? "network error"),
  },
);
const user = { schema: "iglu:com.acme/user/jsonschema/1-0-0", data: { plan: "pro" } };

tracker.track(buildPageView({ pageUrl: `https://shop.example.com/${marker}`, pageTitle: "Home" }));
tracker.track(buildStructEvent({ category: "shop", action: "add", label: marker, value: 2.5 }));
tracker.track(
  buildSelfDescribingEvent({
    event: { schema: "iglu:com.acme/checkout/jsonschema/1-0-0", data: { total: 12 } },
  }),
  [user],
);
await tracker.flush();
if (failures.length > 0) {
  console.error(`requests failed: ${failures.join(", ")}`);
  process.exit(1);
}
