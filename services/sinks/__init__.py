"""The Elasticsearch sinks: the `good`, `bad` and `logs` topics bulk-loaded into their indices."""
