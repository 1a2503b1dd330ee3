"""Token counts for providers that do not report their own (the extractive default): word pieces and
punctuation, about what a BPE tokenizer counts for English prose (slightly fewer)."""

from __future__ import annotations

import re

_PIECES = re.compile(r"\w{1,6}|[^\w\s]", re.UNICODE)


def count_tokens(text: str) -> int:
    """An estimate of `text`'s token count: a word is one token per 6 characters, punctuation one each."""
    return len(_PIECES.findall(text))
