"""A record's name key: the name folded for exact-name and name-prefix matching.

`kariz_name_key(text)` (migration 0012_name_match) is the one definition: lower case, accents
removed, every character that is not a letter or a digit dropped, so `Py-YAML`, `pyyaml` and
`py yaml` all meet on `pyyaml`. Search computes a query's key with that same SQL function; the
Python twin below only decides whether a query has a key worth matching (and its length), never
what matches.
"""

from __future__ import annotations

import unicodedata

#: names keys shorter than this are not matched by prefix (a one-letter prefix matches everything)
MIN_PREFIX_KEY = 2
#: a one-typo (fuzzy) match is tried only for keys at least this long
MIN_FUZZY_KEY = 5


def name_key(text: str) -> str:
    """The query's name key as PostgreSQL's `kariz_name_key` computes it (for deciding, not matching)."""
    folded = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in folded if ch.isalnum() and not unicodedata.combining(ch))
