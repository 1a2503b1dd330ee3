"""Chunks of a document's text: sections by Markdown heading, then `semchunk` within a token budget
(paragraphs first, then sentences, then words) with overlap; page numbers are kept, a chunk never
spans two PDF pages. Tokens are the embedding model's own word pieces."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

from core.documents.extraction import Extracted

#: word pieces per chunk: under all-MiniLM-L6-v2's 256-token window with room for [CLS]/[SEP]
CHUNK_TOKENS = 200
#: share of a chunk repeated at the start of the next one
OVERLAP = 0.15

_HEADING = re.compile(r"^(?=#{1,6}\s)", re.MULTILINE)
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Chunk:
    ordinal: int
    page: int | None
    text: str
    tokens: int


@lru_cache(maxsize=1)
def _tokenizer():
    from tokenizers import Tokenizer

    from core.embeddings.local_minilm import TOKENIZER_PATH

    tokenizer = Tokenizer.from_file(str(TOKENIZER_PATH))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def count_tokens(text: str) -> int:
    """Word pieces of `text` for the embedding model (without [CLS]/[SEP])."""
    return len(_tokenizer().encode(text, add_special_tokens=False).ids)


@lru_cache(maxsize=1)
def _chunker():
    import semchunk

    return semchunk.chunkerify(count_tokens, CHUNK_TOKENS)


def _sections(text: str) -> list[str]:
    """Markdown-style sections (a heading and its body); the whole text when there are none."""
    parts = [p.strip() for p in _HEADING.split(text)]
    return [p for p in parts if p]


def chunk_document(doc: Extracted, *, chunk_tokens: int = CHUNK_TOKENS) -> list[Chunk]:
    """The chunks of `doc`, in reading order, numbered from 0."""
    chunker = _chunker() if chunk_tokens == CHUNK_TOKENS else None
    if chunker is None:
        import semchunk

        chunker = semchunk.chunkerify(count_tokens, chunk_tokens)
    out: list[Chunk] = []
    for page in doc.pages:
        for section in _sections(page.text):
            with _LOCK:  # semchunk's memo cache is not thread-safe
                pieces = chunker(section, overlap=OVERLAP)
            for piece in pieces:
                piece = piece.strip()
                if piece:
                    out.append(Chunk(len(out), page.page, piece, count_tokens(piece)))
    return out
