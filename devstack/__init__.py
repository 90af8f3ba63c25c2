"""Fetch and run the real servers Furrow needs (Kafka, Elasticsearch, PostgreSQL) without Docker.

Every server keeps its data, logs and pid file under the run directory (`.run/` at the repo root);
downloads are cached outside the clone (Maven's local repository, `~/.cache/furrow`).
"""
