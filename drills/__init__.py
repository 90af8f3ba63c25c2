"""Fault drills: the whole pipeline under load, one component or server broken and mended
mid-stream, then every event answered 200 accounted for in Elasticsearch (`make drill`)."""
