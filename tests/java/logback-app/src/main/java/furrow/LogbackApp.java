package furrow;

import ch.qos.logback.classic.LoggerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Logs {@code args[0]} lines (default 10,000) tagged with {@code args[1]}: every tenth an error
 * with a stack trace, all of them with MDC fields. Stopping the logger context waits until the
 * appender has sent everything.
 */
public final class LogbackApp {
    private static final Logger LOG = LoggerFactory.getLogger(LogbackApp.class);

    public static void main(String[] args) {
        int count = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        String run = args.length > 1 ? args[1] : "manual";
        for (int number = 0; number < count; number++) {
            MDC.put("runId", run);
            MDC.put("requestId", "req-" + number);
            MDC.put("userId", "user-" + (number % 17));
            if (number % 10 == 0) {
                LOG.error("order {} failed", number, new IllegalStateException("payment declined for " + number));
            } else {
                LOG.info("order {} handled", number);
            }
            MDC.clear();
        }
        ((LoggerContext) LoggerFactory.getILoggerFactory()).stop();
    }
}
