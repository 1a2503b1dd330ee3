"""Log lines that user input cannot forge: control characters in a message are escaped.

A request path, query, file name or record value can carry `\\r\\n`, ANSI escapes or other control
characters; logged raw, they would start a fake log line or repaint a terminal.
`EscapeControlsFilter` escapes them in the message (its arguments included) while tracebacks stay
multi-line, and `configure_logging` puts it on every handler the API process logs through.
"""

from __future__ import annotations

import logging
import re

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# C0 controls, DEL, C1 controls and the Unicode line/paragraph separators
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_controls(text: str) -> str:
    """`text` with every control character written as an escape (`\\n`, `\\r`, `\\t`, `\\x1b`, `\\u2028`)."""
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(lambda m: _NAMED.get(m.group(), m.group().encode("unicode_escape").decode("ascii")), text)


class EscapeControlsFilter(logging.Filter):
    """A handler filter that escapes control characters in the message (its arguments included),
    whatever formatter the handler uses; tracebacks come from the code, not the caller, and stay
    multi-line. Escaping is idempotent, so a record passing two handlers is escaped once."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        escaped = escape_controls(message)
        if escaped is not message:
            record.msg, record.args = escaped, None
        return True


def configure_logging(level: int = logging.INFO, loggers: tuple[str, ...] = ("uvicorn", "uvicorn.error")) -> None:
    """Root logging at `level`, and an EscapeControlsFilter on every handler of the root logger and
    of `loggers` (the ASGI server's own)."""
    logging.basicConfig(level=level, format=FORMAT)
    for logger in [logging.getLogger(), *(logging.getLogger(name) for name in loggers)]:
        for handler in logger.handlers:
            if not any(isinstance(f, EscapeControlsFilter) for f in handler.filters):
                handler.addFilter(EscapeControlsFilter())
