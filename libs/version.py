"""The name and version Furrow reports in bad rows, the collector name and `/api/meta/server`."""

from importlib.metadata import PackageNotFoundError, version

ARTIFACT = "furrow"

try:
    VERSION = version("furrow")
except PackageNotFoundError:  # running from a source tree that was never installed
    VERSION = "0.0.0+source"
