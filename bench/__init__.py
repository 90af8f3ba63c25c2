"""`make bench`: speed and memory measured against the real servers, printed as a table and
written to `bench/report.json`. Each part is a module here with `run() -> list[Measurement]`."""
