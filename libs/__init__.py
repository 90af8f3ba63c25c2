"""Code shared by every Furrow service: configuration, Kafka pipes, logging and metrics."""
