"""Furrow's schema registry: an Iglu Server-compatible REST API on port 8081."""
