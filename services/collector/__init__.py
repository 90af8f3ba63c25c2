"""The Snowplow-compatible HTTP collector: tracker requests in, raw records out to Kafka."""
