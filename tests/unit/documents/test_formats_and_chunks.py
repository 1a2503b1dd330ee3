"""Document kinds by content, and chunks that keep pages and stay within the token budget."""

from __future__ import annotations

import pytest

from core.documents.chunking import CHUNK_TOKENS, chunk_document
from core.documents.extraction import Extracted, PageText
from core.documents.formats import UnsupportedType, detect_type
from core.errors import ValidationFailed


def test_kind_follows_content_and_the_extension_must_agree() -> None:
    assert detect_type(b"%PDF-1.7\n...", "a.pdf").kind == "pdf"
    assert detect_type(b"%PDF-1.7\n...", None).kind == "pdf"
    assert detect_type(b"# Title\n", "notes.md").kind == "md"
    assert detect_type(b"plain words", "notes.txt").kind == "txt"
    assert detect_type("\ufeffbom text".encode("utf-16"), "u16.txt").kind == "txt"
    with pytest.raises(ValidationFailed, match="named .pdf"):
        detect_type(b"just text", "report.pdf")
    with pytest.raises(ValidationFailed, match="named .docx"):
        detect_type(b"%PDF-1.4", "letter.docx")
    with pytest.raises(UnsupportedType, match="JPEG"):
        detect_type(b"\xff\xd8\xff\xe0rest", "photo.txt")
    with pytest.raises(ValidationFailed, match="empty"):
        detect_type(b"", "x.txt")


def test_chunks_keep_pages_overlap_and_fit_the_budget() -> None:
    paragraph = " ".join(f"Sentence number {i} talks about tide {i * 7}." for i in range(80))
    doc = Extracted("pdf", [PageText(1, paragraph), PageText(2, "Short second page.")], 2, None)
    chunks = chunk_document(doc)
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    assert chunks[-1].page == 2 and chunks[-1].text == "Short second page."
    first_page = [c for c in chunks if c.page == 1]
    assert len(first_page) >= 2
    assert all(c.tokens <= CHUNK_TOKENS for c in chunks)
    # overlap: the start of a chunk repeats the end of the one before it on the same page
    last_sentence = first_page[0].text.rsplit("Sentence", 1)[1]
    assert "Sentence" + last_sentence in first_page[1].text


def test_markdown_headings_start_new_chunks() -> None:
    text = "# Mooring\n\nPontoon C.\n\n# Fees\n\nPay at the office."
    chunks = chunk_document(Extracted("md", [PageText(None, text)], None, "Mooring"))
    assert [c.text for c in chunks] == ["# Mooring\n\nPontoon C.", "# Fees\n\nPay at the office."]
