"""`furrow forward`: good events to HTTP endpoints, Amplitude and Kafka topics."""
