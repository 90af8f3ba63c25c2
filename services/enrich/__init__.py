"""The enricher: raw collector payloads in, enriched events to `good` and bad rows to `bad` out."""
