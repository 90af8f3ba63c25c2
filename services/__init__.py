"""Furrow's services: collector, enricher, Elasticsearch sinks and log listener."""
