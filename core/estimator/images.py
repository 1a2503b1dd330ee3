"""Uploaded images, checked before anything is analysed: the format comes from the bytes (JPEG, PNG
or WebP, whatever the name or declared type says), the whole image is decoded (corrupt and truncated
files are refused), dimensions are bounded before decoding (decompression bombs), and nothing may
follow the image's own end (polyglot files: an archive, a script or a page appended to a picture).
"""

from __future__ import annotations

import binascii
import hashlib
import io
import re
import struct
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import InvalidInput, KarizError, PayloadTooLarge, UnsupportedMediaType, ValidationFailed

MAX_IMAGES = 10
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_SIDE = 12_000  # pixels on either side
MAX_PIXELS = 40_000_000  # a 40 MP photo is the largest a phone takes
ANALYSIS_SIDE = 1024  # the detector sees at most this; the original size is kept for the answer

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[\w.+-]+=[\w.+-]+)*);base64,", re.I)


class UnsupportedImage(UnsupportedMediaType):
    """Not a JPEG, PNG or WebP by content (415)."""


@dataclass(frozen=True)
class CheckedImage:
    """One accepted image: its bytes, real format, size, and an RGB copy bounded for analysis."""

    index: int
    data: bytes
    format: str
    width: int
    height: int
    rgb: Image.Image
    sha256: str

    @property
    def content_type(self) -> str:
        return FORMATS[self.format]


def decode_text_image(text: str, index: int) -> bytes:
    """The bytes of an image given as base64 or a `data:image/...;base64,` URL; remote URLs refused."""
    value = text.strip()
    lowered = value[:16].lower()
    if lowered.startswith(("http://", "https://", "ftp://", "file:", "//")):
        raise InvalidInput(f"image {index}: remote URLs are not fetched; send the image itself (base64 or a data URL)")
    if lowered.startswith("data:"):
        match = _DATA_URL.match(value[:200])
        if match is None:
            raise InvalidInput(f"image {index}: a data URL must be data:image/...;base64,...")
        mime = (match.group("mime") or "").lower()
        if not mime.startswith("image/"):
            raise UnsupportedImage(f"image {index}: data URL of type '{mime or 'none'}' is not an image")
        value = value[match.end():]
    if len(value) > (MAX_IMAGE_BYTES * 4) // 3 + 8:
        raise PayloadTooLarge(f"image {index} exceeds {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    try:
        return binascii.a2b_base64(value, strict_mode=True)
    except (binascii.Error, ValueError):
        pass
    try:  # wrapped base64 (line breaks, spaces): strip the whitespace once, only then (a regex pass over
        # megabytes of text cost more than decoding the image)
        return binascii.a2b_base64("".join(value.split()), strict_mode=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(f"image {index}: not valid base64") from None


def check_count(n: int) -> None:
    """1-10 images: none is 400, more than ten 413."""
    if n < 1:
        raise InvalidInput("send at least one image in 'images'")
    if n > MAX_IMAGES:
        raise PayloadTooLarge(f"at most {MAX_IMAGES} images a request ({n} sent)")


def _sniff(data: bytes) -> str | None:
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def _png_end(data: bytes) -> int:
    pos = 8
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        pos += 12 + length
        if kind == b"IEND":
            return pos
    raise ValidationFailed("the PNG is truncated (no IEND chunk)")


def _webp_end(data: bytes) -> int:
    (size,) = struct.unpack("<I", data[4:8])
    end = 8 + size + (size & 1)
    if end > len(data) + (size & 1):
        raise ValidationFailed("the WebP is truncated")
    return min(end, len(data))


def _jpeg_end(data: bytes) -> int:
    """Offset just past the EOI marker, walking segments and entropy-coded scans."""
    n, pos = len(data), 2
    while pos < n:
        if data[pos] != 0xFF:
            raise ValidationFailed("the JPEG is corrupt (bad marker)")
        while pos < n and data[pos] == 0xFF:
            pos += 1
        if pos >= n:
            break
        marker = data[pos]
        pos += 1
        if marker == 0xD9:
            return pos
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue
        if pos + 2 > n:
            break
        (length,) = struct.unpack(">H", data[pos:pos + 2])
        pos += length
        if marker == 0xDA:  # scan data runs to the next marker that is not stuffing or a restart
            while True:
                j = data.find(b"\xff", pos)
                if j < 0 or j + 1 >= n:
                    raise ValidationFailed("the JPEG is truncated")
                nxt = data[j + 1]
                if nxt == 0x00 or 0xD0 <= nxt <= 0xD7 or nxt == 0xFF:
                    pos = j + 2 if nxt != 0xFF else j + 1
                    continue
                pos = j
                break
    raise ValidationFailed("the JPEG is truncated (no end-of-image marker)")


_ENDS = {"JPEG": _jpeg_end, "PNG": _png_end, "WEBP": _webp_end}


def check_image(data: bytes, index: int) -> CheckedImage:
    """Accept one image or raise: 413 too large, 415 not JPEG/PNG/WebP, 422 corrupt, truncated,
    polyglot or of absurd dimensions."""
    if len(data) > MAX_IMAGE_BYTES:
        raise PayloadTooLarge(f"image {index} exceeds {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    if not data:
        raise InvalidInput(f"image {index} is empty")
    kind = _sniff(data)
    if kind is None:
        raise UnsupportedImage(f"image {index} is not a JPEG, PNG or WebP image")
    try:
        end = _ENDS[kind](data)
    except (ValidationFailed, struct.error) as exc:
        message = exc.message if isinstance(exc, ValidationFailed) else "the image is corrupt"
        raise ValidationFailed(f"image {index}: {message}") from None
    if data[end:].strip(b"\x00"):
        raise ValidationFailed(f"image {index}: {len(data) - end} bytes follow the end of the {kind} image "
                               "(a polyglot file); send the picture alone")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=[kind])
            width, height = im.size
            if width < 1 or height < 1 or width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
                raise ValidationFailed(f"image {index}: {width}x{height} pixels is beyond the limit "
                                       f"({MAX_SIDE} a side, {MAX_PIXELS // 1_000_000} MP)")
            if kind == "JPEG":
                im.draft("RGB", (ANALYSIS_SIDE, ANALYSIS_SIDE))  # decode at a reduced scale: same checks, less work
            im.load()
            # phones store pictures sideways with an EXIF orientation: analyse what a viewer sees
            orientation = im.getexif().get(0x0112)
            if orientation in (5, 6, 7, 8):  # a quarter turn: the viewer's width is the height
                width, height = height, width
            # copies only where needed: a transpose for a turned photo, a conversion for non-RGB modes
            rgb = ImageOps.exif_transpose(im) if orientation not in (None, 1) else im
            if rgb.mode != "RGB":
                rgb = rgb.convert("RGB")
    except KarizError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationFailed(f"image {index}: its dimensions are beyond the limit ({MAX_SIDE} a side, "
                               f"{MAX_PIXELS // 1_000_000} MP): a decompression bomb") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, struct.error) as exc:
        raise ValidationFailed(f"image {index}: the {kind} data is corrupt or truncated ({type(exc).__name__})") from None
    if max(rgb.size) > ANALYSIS_SIDE:
        rgb.thumbnail((ANALYSIS_SIDE, ANALYSIS_SIDE), Image.Resampling.BILINEAR)
    return CheckedImage(index=index, data=data, format=kind, width=width, height=height, rgb=rgb,
                        sha256=hashlib.sha256(data).hexdigest())
