"""PDF text, one row per page that has extractable text (pypdf)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

from pypdf import PdfReader
from pypdf.errors import PdfReadError, PyPdfError

from core.errors import InvalidInput
from core.ingestion.rows import ParsedRow, RowError

log = logging.getLogger(__name__)
logging.getLogger("pypdf").setLevel(logging.ERROR)


def pdf_rows(data: bytes, filename: str | None = None) -> Iterator[ParsedRow | RowError]:
    """A row per page: name `<file> (page N)`, fields `page`, `text`, `file` and the title if any.

    InvalidInput for a file that is not a PDF, cannot be read, or is encrypted."""
    if not data.lstrip()[:5] == b"%PDF-":
        raise InvalidInput("not a PDF: the file does not start with the %PDF- signature")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise InvalidInput("the PDF is encrypted; upload an unencrypted copy")
        pages = list(reader.pages)
        title = (reader.metadata.title if reader.metadata else None) or None
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"unreadable PDF: {exc}") from exc
    label = filename or "document.pdf"
    for number, page in enumerate(pages, start=1):
        try:
            text = (page.extract_text() or "").strip()
        except Exception as exc:  # pypdf raises many kinds on damaged pages; one page must not sink the file
            yield RowError(number, None, f"page text could not be extracted: {exc}")
            continue
        if not text:
            yield RowError(number, None, "page has no extractable text")
            continue
        fields = {
            "name": f"{label} (page {number})",
            "page": number,
            "text": text.replace("\x00", ""),
            "file": label,
        }
        if title:
            fields["title"] = str(title)
        yield ParsedRow(number, fields)
