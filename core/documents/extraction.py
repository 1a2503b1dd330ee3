"""Text out of documents: PDF per page (pypdf), DOCX paragraphs and tables (python-docx), TXT and
Markdown with encoding detection. A document that yields no text is an error saying why."""

from __future__ import annotations

import io
import logging
import zipfile
from dataclasses import dataclass

from core.documents.formats import DOCX, MARKDOWN, PDF, TEXT
from core.errors import ValidationFailed
from core.ingestion.encoding import decode_text

logging.getLogger("pypdf").setLevel(logging.ERROR)


class ExtractionFailed(ValidationFailed):
    """The file's text cannot be read (encrypted, corrupt, scanned without text)."""

    code = "EXTRACTION_FAILED"


@dataclass(frozen=True)
class PageText:
    page: int | None  # 1-based PDF page; None for formats without pages
    text: str


@dataclass(frozen=True)
class Extracted:
    kind: str
    pages: list[PageText]
    page_count: int | None
    title: str | None


@dataclass(frozen=True)
class DocumentInfo:
    page_count: int | None  # PDF pages; None for formats without pages (or an encrypted PDF)
    title: str | None


def read_info(kind: str, data: bytes) -> DocumentInfo:
    """A document's page count and title, read without extracting its text; ExtractionFailed (422)
    when the bytes of that kind cannot be opened (a damaged PDF, a DOCX with broken parts). An
    encrypted PDF opens, with nothing known: its sync fails with the reason."""
    if kind == PDF:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError, PyPdfError

        try:
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                return DocumentInfo(None, None)
            return DocumentInfo(len(reader.pages), _pdf_title(reader))
        except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
            raise ExtractionFailed(f"unreadable PDF: {exc}") from None
    if kind == DOCX:
        title = _open_docx(data).core_properties.title or None
        return DocumentInfo(None, title[:500] if title else None)
    if kind == MARKDOWN:
        return DocumentInfo(None, _markdown_title(decode_text(data)[0]))
    return DocumentInfo(None, None)


def extract(kind: str, data: bytes) -> Extracted:
    """The text of a document of `kind`; ExtractionFailed with the reason when there is none."""
    if kind == PDF:
        return _pdf(data)
    if kind == DOCX:
        return _docx(data)
    if kind in (TEXT, MARKDOWN):
        text, _ = decode_text(data)
        text = text.replace("\x00", "").strip()
        if not text:
            raise ExtractionFailed("the file holds no text")
        title = _markdown_title(text) if kind == MARKDOWN else None
        return Extracted(kind, [PageText(None, text)], None, title)
    raise ExtractionFailed(f"unsupported document kind {kind!r}")


def _pdf(data: bytes) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError, PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ExtractionFailed("the PDF is encrypted; upload an unencrypted copy")
        pages = list(reader.pages)
        title = _pdf_title(reader)
    except ExtractionFailed:
        raise
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ExtractionFailed(f"unreadable PDF: {exc}") from None
    texts: list[PageText] = []
    for number, page in enumerate(pages, start=1):
        try:
            text = (page.extract_text() or "").replace("\x00", "").strip()
        except Exception:  # pypdf raises many kinds on a damaged page; the other pages still count
            continue
        if text:
            texts.append(PageText(number, text))
    if not texts:
        raise ExtractionFailed(
            f"the PDF has no extractable text on any of its {len(pages)} page(s) (a scan without OCR?)"
        )
    return Extracted(PDF, texts, len(pages), title)


def _pdf_title(reader) -> str | None:
    title = str((reader.metadata.title if reader.metadata else None) or "").strip()
    return title[:500] or None


def _open_docx(data: bytes):
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        return docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ExtractionFailed(f"corrupt DOCX: {exc}") from None
    except Exception as exc:  # lxml raises XMLSyntaxError on damaged parts
        raise ExtractionFailed(f"corrupt DOCX: {type(exc).__name__}: {exc}") from None


def _docx(data: bytes) -> Extracted:
    document = _open_docx(data)
    blocks: list[str] = []
    for paragraph in document.paragraphs:
        text = paragraph.text.strip()
        if not text:
            continue
        style = (paragraph.style.name or "") if paragraph.style is not None else ""
        if style.startswith("Heading"):
            level = style.removeprefix("Heading").strip()
            text = "#" * (int(level) if level.isdigit() else 1) + " " + text
        blocks.append(text)
    for table in document.tables:
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells if c.text.strip()]
            if cells:
                blocks.append(" | ".join(cells))
    text = "\n\n".join(blocks).strip()
    if not text:
        raise ExtractionFailed("the DOCX holds no text")
    title = document.core_properties.title or None
    return Extracted(DOCX, [PageText(None, text)], None, title[:500] if title else None)


def _markdown_title(text: str) -> str | None:
    for line in text.splitlines()[:50]:
        if line.startswith("# "):
            return line[2:].strip()[:500] or None
    return None
