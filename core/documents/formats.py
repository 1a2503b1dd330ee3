"""What kind of document a file is, decided by its content (the extension must agree with it).

Accepted: PDF (`%PDF-` signature), DOCX (a ZIP holding `word/document.xml`), plain text and
Markdown (bytes that decode as text and hold no NUL or other binary control bytes). Anything else
is UnsupportedType (415); an accepted kind whose bytes cannot be read is refused by
`core.documents.extraction.read_info` (422).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

from core.errors import UnsupportedMediaType, ValidationFailed

PDF = "pdf"
DOCX = "docx"
TEXT = "txt"
MARKDOWN = "md"

CONTENT_TYPES = {
    PDF: "application/pdf",
    DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    TEXT: "text/plain",
    MARKDOWN: "text/markdown",
}
_EXTENSIONS = {".pdf": PDF, ".docx": DOCX, ".txt": TEXT, ".text": TEXT, ".md": MARKDOWN, ".markdown": MARKDOWN}
# binary signatures named in the refusal, so the caller learns what they sent
_SIGNATURES = (
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"RIFF", "a RIFF (WebP/WAV/AVI) file"), (b"\x1f\x8b", "a gzip archive"), (b"MZ", "a Windows executable"),
    (b"\x7fELF", "an ELF executable"), (b"\xd0\xcf\x11\xe0", "a legacy Office (OLE) file such as .doc"),
)


class UnsupportedType(UnsupportedMediaType):
    """The content is not a document type the store accepts (415)."""


@dataclass(frozen=True)
class DetectedType:
    kind: str

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.kind]


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return False
    return "word/document.xml" in names


def _looks_textual(data: bytes) -> bool:
    sample = data[:65536]
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with BOM
        return True
    allowed = {9, 10, 12, 13, 27}
    return not any(b < 32 and b not in allowed for b in sample)


def detect_type(data: bytes, filename: str | None) -> DetectedType:
    """The document kind of `data`; UnsupportedType (415) for other content, ValidationFailed (422)
    for an empty file or one whose extension names another kind than its content."""
    if not data:
        raise ValidationFailed("the file is empty")
    head = data.lstrip()[:8]
    if head.startswith(b"%PDF-"):
        kind = PDF
    elif data.startswith(b"PK\x03\x04"):
        if not _is_docx(data):
            raise UnsupportedType("a ZIP archive that is not a Word document (no word/document.xml)")
        kind = DOCX
    else:
        for signature, what in _SIGNATURES:
            if data.startswith(signature):
                raise UnsupportedType(f"the content is {what}; accepted: PDF, DOCX, TXT, Markdown")
        if not _looks_textual(data):
            raise UnsupportedType("the content is binary; accepted: PDF, DOCX, TXT, Markdown")
        kind = TEXT
    suffix = PurePath(filename or "").suffix.lower()
    named = _EXTENSIONS.get(suffix)
    if kind == TEXT and named in (TEXT, MARKDOWN):
        return DetectedType(named)
    if named is not None and named != kind:
        raise ValidationFailed(f"the file is named {suffix} but its content is {kind.upper()}")
    return DetectedType(kind)
