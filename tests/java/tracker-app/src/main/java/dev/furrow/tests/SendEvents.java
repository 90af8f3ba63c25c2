package dev.furrow.tests;

import com.snowplowanalytics.snowplow.tracker.Snowplow;
import com.snowplowanalytics.snowplow.tracker.Tracker;
import com.snowplowanalytics.snowplow.tracker.configuration.EmitterConfiguration;
import com.snowplowanalytics.snowplow.tracker.configuration.NetworkConfiguration;
import com.snowplowanalytics.snowplow.tracker.configuration.TrackerConfiguration;
import com.snowplowanalytics.snowplow.tracker.emitter.EmitterCallback;
import com.snowplowanalytics.snowplow.tracker.emitter.FailureType;
import com.snowplowanalytics.snowplow.tracker.events.EcommerceTransaction;
import com.snowplowanalytics.snowplow.tracker.events.EcommerceTransactionItem;
import com.snowplowanalytics.snowplow.tracker.events.Event;
import com.snowplowanalytics.snowplow.tracker.events.PageView;
import com.snowplowanalytics.snowplow.tracker.events.ScreenView;
import com.snowplowanalytics.snowplow.tracker.events.SelfDescribing;
import com.snowplowanalytics.snowplow.tracker.events.Structured;
import com.snowplowanalytics.snowplow.tracker.events.Timing;
import com.snowplowanalytics.snowplow.tracker.payload.SelfDescribingJson;
import com.snowplowanalytics.snowplow.tracker.payload.TrackerPayload;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Usage: SendEvents COLLECTOR_URL MARKER. Tracks one event of each type of the Snowplow Java
 * tracker, with a standard entity, waits until the collector has taken them all, and prints how
 * many events were tracked (exit 1 if any request failed).
 */
public final class SendEvents {
    public static void main(String[] arguments) throws InterruptedException {
        String collector = arguments[0];
        String marker = arguments[1];
        SelfDescribingJson geolocation = new SelfDescribingJson(
                "iglu:com.snowplowanalytics.snowplow/geolocation_context/jsonschema/1-1-0",
                Map.of("latitude", 40.4, "longitude", -3.7));
        List<SelfDescribingJson> entities = List.of(geolocation);
        List<Event> events = List.of(
                PageView.builder().pageUrl("https://shop.example.com/" + marker).pageTitle("Home")
                        .referrer("https://search.example/").customContext(entities).build(),
                Structured.builder().category("shop").action("add").label(marker).value(2.5)
                        .customContext(entities).build(),
                ScreenView.builder().name("home").id("screen-1").customContext(entities).build(),
                Timing.builder().category("load").variable("page").timing(230).label(marker)
                        .customContext(entities).build(),
                SelfDescribing.builder().eventData(new SelfDescribingJson(
                        "iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1",
                        Map.of("targetUrl", "https://shop.example.com/next")))
                        .customContext(entities).build(),
                EcommerceTransaction.builder().orderId(marker).totalValue(39.98).currency("EUR")
                        .items(EcommerceTransactionItem.builder().itemId(marker).sku("sku-1")
                                .price(19.99).quantity(2).build())
                        .customContext(entities).build());
        // A transaction is sent as itself and one event per item.
        int expected = events.size() + 1;
        CountDownLatch sent = new CountDownLatch(expected);
        AtomicInteger failures = new AtomicInteger();
        EmitterCallback callback = new EmitterCallback() {
            @Override
            public void onSuccess(List<TrackerPayload> payloads) {
                payloads.forEach(payload -> sent.countDown());
            }

            @Override
            public void onFailure(FailureType type, boolean willRetry, List<TrackerPayload> payloads) {
                failures.incrementAndGet();
                System.err.println("request failed: " + type + ", retry: " + willRetry);
            }
        };
        Tracker tracker = Snowplow.createTracker(
                new TrackerConfiguration("furrow-java", marker),
                new NetworkConfiguration(collector),
                new EmitterConfiguration().batchSize(4).callback(callback));
        events.forEach(tracker::track);
        tracker.getEmitter().flushBuffer();
        boolean done = sent.await(60, TimeUnit.SECONDS);
        tracker.close();
        if (!done || failures.get() > 0) {
            System.exit(1);
        }
        System.out.println(expected);
        System.exit(0);
    }
}
