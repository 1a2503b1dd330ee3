"""Hostile and broken images for the estimator tests, built from real photos."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from tests.estimator_photos import photo_bytes


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def huge_png(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of `width` x `height` white pixels: tiny on the wire, huge in memory."""
    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def zip_archive() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("payload.html", "<script>alert(1)</script>")
    return buf.getvalue()


def polyglot_jpeg() -> bytes:
    """A real JPEG with a ZIP archive appended (opens as a picture and as an archive)."""
    return photo_bytes("coffee.png", "JPEG") + zip_archive()


def truncated(data: bytes, keep: float = 0.6) -> bytes:
    return data[: int(len(data) * keep)]


def gif() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.open(io.BytesIO(photo_bytes("coffee.png"))).convert("P").save(buf, format="GIF")
    return buf.getvalue()


def corrupt_png() -> bytes:
    """A PNG whose compressed pixel data was overwritten (CRCs fixed, so only decoding finds it)."""
    data = bytearray(photo_bytes("coffee.png"))
    pos = data.index(b"IDAT") + 4
    data[pos + 200: pos + 2200] = bytes((i * 7) % 251 for i in range(2000))
    return bytes(data)
