"""PDF text, one row per page that has extractable text (pypdf)."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator

from pypdf import PdfReader
from pypdf._configuration import apply_configuration
from pypdf.errors import LimitReachedError, PdfReadError, PyPdfError

import core.settings
from core.errors import InvalidInput, PayloadTooLarge
from core.ingestion.rows import ParsedRow, RowError

log = logging.getLogger(__name__)
logging.getLogger("pypdf").setLevel(logging.ERROR)


def _too_large(what: str) -> PayloadTooLarge:
    return PayloadTooLarge(f"PDF refused: {what}; nothing was ingested")


def pdf_rows(data: bytes, filename: str | None = None) -> Iterator[ParsedRow | RowError]:
    """A row per page: name `<file> (page N)`, fields `page`, `text`, `file` and the title if any.

    InvalidInput for a file that is not a PDF, cannot be read, or is encrypted. PayloadTooLarge (413)
    for a decompression bomb: a stream inflating past `pdf_max_stream_bytes`, extracted text past
    `pdf_max_text_bytes`, or extraction past `pdf_time_budget_s`."""
    settings = core.settings.get_settings()
    # pypdf's limits live in a context variable: set them around every call, in whichever thread
    # consumes this generator
    budget = {"zlib_maximum_output_length": settings.pdf_max_stream_bytes,
              "lzw_maximum_output_length": settings.pdf_max_stream_bytes,
              "run_length_maximum_output_length": settings.pdf_max_stream_bytes,
              "array_based_stream_maximum_output_length": settings.pdf_max_stream_bytes,
              "stream_decoding_work_maximum_length": 4 * settings.pdf_max_stream_bytes}
    started = time.monotonic()
    text_bytes = 0
    if not data.lstrip()[:5] == b"%PDF-":
        raise InvalidInput("not a PDF: the file does not start with the %PDF- signature")
    try:
        with apply_configuration(**budget):
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                raise InvalidInput("the PDF is encrypted; upload an unencrypted copy")
            pages = list(reader.pages)
            title = (reader.metadata.title if reader.metadata else None) or None
    except LimitReachedError as exc:
        raise _too_large(f"its structure is past pypdf's limits ({exc})") from exc
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"unreadable PDF: {exc}") from exc
    label = filename or "document.pdf"
    for number, page in enumerate(pages, start=1):
        if time.monotonic() - started > settings.pdf_time_budget_s:
            raise _too_large(f"reading its text took over {settings.pdf_time_budget_s:g} s (page {number})")
        try:
            with apply_configuration(**budget):
                text = (page.extract_text() or "").strip()
        except LimitReachedError as exc:
            raise _too_large(
                f"page {number} inflates past {settings.pdf_max_stream_bytes} bytes ({exc})"
            ) from exc
        except Exception as exc:  # pypdf raises many kinds on damaged pages; one page must not sink the file
            yield RowError(number, None, f"page text could not be extracted: {exc}")
            continue
        if not text:
            yield RowError(number, None, "page has no extractable text")
            continue
        text_bytes += len(text)
        if text_bytes > settings.pdf_max_text_bytes:
            raise _too_large(f"its text is over {settings.pdf_max_text_bytes} bytes (page {number})")
        fields = {
            "name": f"{label} (page {number})",
            "page": number,
            "text": text.replace("\x00", ""),
            "file": label,
        }
        if title:
            fields["title"] = str(title)
        yield ParsedRow(number, fields)
