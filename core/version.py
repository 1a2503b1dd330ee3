"""The running Kariz version."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("kariz")
except PackageNotFoundError:  # running from a tree that was never installed
    VERSION = "0.0.0"
