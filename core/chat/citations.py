"""Citations in a streamed answer: `[n]` markers checked against the sources that were sent.

`CitationFilter` sits between the model's text deltas and the client: a marker that names a sent
source passes through (and yields a `citation` the first time), any other number is stripped from
the text; a marker split across two deltas is held back until it is complete.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.chat.provider import Source

# a marker with the spaces before it: a stripped one takes them along, also when the marker is a
# delta of its own (" [7]"), so no double space is left where it stood
_MARKER = re.compile(r" *\[(\d{1,4})\]")
# an unfinished marker at the end of a delta: "[", "[1", "[12"
_PARTIAL = re.compile(r" *\[\d{0,4}$")  # with the spaces before it (a stripped marker takes them)


@dataclass
class CitationFilter:
    sources: Mapping[int, Source]
    cited: list[int] = field(default_factory=list)
    _held: str = ""

    def feed(self, text: str) -> tuple[str, list[dict[str, Any]]]:
        """The text safe to send now, and the `citation` payloads first seen in it."""
        if not self._held and "[" not in text:  # most deltas: no marker, nothing held back
            return text, []
        text = self._held + text
        self._held = ""
        partial = _PARTIAL.search(text)
        if partial is not None:
            self._held = text[partial.start() :]
            text = text[: partial.start()]
        return self._resolve(text)

    def flush(self) -> tuple[str, list[dict[str, Any]]]:
        """Whatever was held back at the end of the answer (an unfinished marker is plain text)."""
        text, self._held = self._held, ""
        return self._resolve(text)

    def _resolve(self, text: str) -> tuple[str, list[dict[str, Any]]]:
        new: list[dict[str, Any]] = []

        def keep(match: re.Match[str]) -> str:
            n = int(match.group(1))
            source = self.sources.get(n)
            if source is None:
                return ""
            if n not in self.cited:
                self.cited.append(n)
                new.append(citation_payload(source))
            return match.group(0)

        cleaned = _MARKER.sub(keep, text)
        if cleaned != text:
            cleaned = re.sub(r" +([.,;:!?])", r"\1", re.sub(r"  +", " ", cleaned))
        return cleaned, new


def citation_payload(source: Source) -> dict[str, Any]:
    """The `citation` event's data."""
    return {"n": source.n, "assetId": source.asset_id, "page": source.page}
