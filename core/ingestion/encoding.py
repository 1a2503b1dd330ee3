"""Text encodings of uploaded files: BOMs first, then strict UTF-8, then charset-normalizer's guess."""

from __future__ import annotations

import codecs

import charset_normalizer

from core.errors import InvalidInput

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16: its BOM starts with the UTF-16 LE one
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_SAMPLE = 256 * 1024


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding name) for a file's bytes.

    UTF-8 (with or without BOM) and UTF-16/32 with BOM are read exactly; anything else is decoded
    with the encoding charset-normalizer finds most plausible, and cp1252 / Latin-1 as the last resort.
    InvalidInput when a file announces an encoding by its BOM and then breaks it.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise InvalidInput(
                    f"the file starts with a {encoding} byte-order mark but is not valid {encoding}: {exc.reason} at byte {exc.start}"
                ) from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    candidates = [_guess(data[:_SAMPLE]), "cp1252"]
    for encoding in filter(None, candidates):
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("latin-1"), "latin-1"  # every byte sequence is Latin-1


def _guess(sample: bytes) -> str | None:
    """charset-normalizer's best encoding; among equally plausible ones cp1252, the usual Western one
    (Latin-1 text reads equally well as cp1250 or cp1257, which would turn è into č)."""
    matches = list(charset_normalizer.from_bytes(sample))
    if not matches:
        return None
    best = (matches[0].chaos, -matches[0].coherence)
    tied = {m.encoding for m in matches if (m.chaos, -m.coherence) == best}
    return "cp1252" if "cp1252" in tied else matches[0].encoding
