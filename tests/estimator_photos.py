"""Real photographs for the estimator tests: those that ship inside the scikit-image wheel
(public-domain or freely licensed images; see skimage/data/README.txt), read as bytes."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import skimage
from PIL import Image

DATA = Path(skimage.__file__).parent / "data"


def photo_bytes(name: str, fmt: str | None = None) -> bytes:
    """The photo `name` (e.g. "coffee.png"), as it ships or re-encoded as `fmt` (JPEG, PNG, WEBP)."""
    path = DATA / name
    if fmt is None:
        return path.read_bytes()
    buf = io.BytesIO()
    Image.open(path).convert("RGB").save(buf, format=fmt, quality=90)
    return buf.getvalue()


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
