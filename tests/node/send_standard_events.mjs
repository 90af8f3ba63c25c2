// Usage: node send_standard_events.mjs PORT MARKER
// Tracks one event of every kind the Node tracker has a builder for, over POST, then flushes;
// prints how many it tracked. Every schema involved is a standard one that Furrow has built in.
import {
  newTracker,
  buildAdClick,
  buildAdConversion,
  buildAdImpression,
  buildAddToCart,
  buildConsentGranted,
  buildConsentWithdrawn,
  buildEcommerceTransaction,
  buildEcommerceTransactionItem,
  buildFormFocusOrChange,
  buildFormSubmission,
  buildLinkClick,
  buildPagePing,
  buildPageView,
  buildRemoveFromCart,
  buildScreenView,
  buildSelfDescribingEvent,
  buildSiteSearch,
  buildSocialInteraction,
  buildStructEvent,
} from "@snowplow/node-tracker";

const [port, marker] = process.argv.slice(2);
const failures = [];
const tracker = newTracker(
  { namespace: "furrow-standard", appId: marker, encodeBase64: true },
  {
    endpoint: "127.0.0.1",
    protocol: "http",
    port: Number(port),
    eventMethod: "post",
    bufferSize: 5,
    onRequestFailure: (failure) => failures.push(failure.status ?? "network error"),
  },
);
const url = `https://shop.example.com/${marker}`;
const geolocation = {
  schema: "iglu:com.snowplowanalytics.snowplow/geolocation_context/jsonschema/1-1-0",
  data: { latitude: 48.85, longitude: 2.35, altitude: null },
};
const consent = {
  id: "terms",
  version: "3",
  name: "Terms of use",
  description: "What we do with your data",
};
const events = [
  buildPageView({ pageUrl: url, pageTitle: "Home", referrer: "https://search.example/" }),
  buildPagePing({ pageUrl: url, minXOffset: 0, maxXOffset: 10, minYOffset: 0, maxYOffset: 300 }),
  buildStructEvent({ category: "shop", action: "add", label: marker, property: "p", value: 2.5 }),
  buildScreenView({ name: "home", id: "screen-1" }),
  buildLinkClick({ targetUrl: `${url}/next`, elementId: "next", elementClasses: ["nav"] }),
  buildAdImpression({ impressionId: "i-1", costModel: "cpm", cost: 0.5, bannerId: "b-1" }),
  buildAdClick({ targetUrl: "https://ads.example/", clickId: "c-1", costModel: "cpc", cost: 1 }),
  buildAdConversion({ conversionId: "v-1", category: "shop", action: "buy", initialValue: 10 }),
  buildSocialInteraction({ action: "like", network: "mastodon", target: marker }),
  buildAddToCart({ sku: "sku-1", name: "Shoe", unitPrice: 19.99, quantity: 2, currency: "EUR" }),
  buildRemoveFromCart({ sku: "sku-1", quantity: 1 }),
  buildFormFocusOrChange({
    schema: "focus_form",
    formId: "signup",
    elementId: "email",
    nodeName: "INPUT",
    type: "email",
    value: "",
  }),
  buildFormFocusOrChange({
    schema: "change_form",
    formId: "signup",
    elementId: "email",
    nodeName: "INPUT",
    type: "email",
    value: "a@example.com",
  }),
  buildFormSubmission({
    formId: "signup",
    formClasses: ["wide"],
    elements: [{ name: "email", value: "a@example.com", nodeName: "INPUT", type: "email" }],
  }),
  buildSiteSearch({ terms: ["red", "shoes"], filters: { size: "42", sale: true }, totalResults: 9 }),
  // Consent events carry their document as an entity.
  buildConsentGranted({ ...consent, expiry: "2027-12-31T00:00:00Z" }),
  buildConsentWithdrawn({ ...consent, all: false }),
  buildEcommerceTransaction({ orderId: marker, total: 39.98, currency: "EUR" }),
  buildEcommerceTransactionItem({ orderId: marker, sku: "sku-1", price: 19.99, quantity: 2 }),
  buildSelfDescribingEvent({
    event: {
      schema: "iglu:com.snowplowanalytics.snowplow/timing/jsonschema/1-0-0",
      data: { category: "load", variable: "page", timing: 230 },
    },
  }),
];
for (const built of events) {
  const withEntities = "event" in built && "context" in built;
  const event = withEntities ? built.event : built;
  tracker.track(event, [geolocation, ...(withEntities ? built.context : [])]);
}
await tracker.flush();
if (failures.length > 0) {
  console.error(`requests failed: ${failures.join(", ")}`);
  process.exit(1);
}
console.log(events.length);
