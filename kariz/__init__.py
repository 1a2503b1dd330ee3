"""Kariz: `import kariz` gives the Python SDK (`kariz.Client`, `kariz.AsyncClient`, exceptions)."""

from kariz.sdk import *  # noqa: F403 - the SDK's public names are the package's
from kariz.sdk import __all__  # noqa: F401
