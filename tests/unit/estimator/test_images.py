"""Image checks before analysis: format by content, full decode, bounded dimensions, no polyglots."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from core.estimator.images import (
    ANALYSIS_SIDE,
    MAX_IMAGE_BYTES,
    check_count,
    check_image,
    decode_text_image,
)
from tests.estimator_bad_images import corrupt_png, gif, huge_png, polyglot_jpeg, truncated, zip_archive
from tests.estimator_photos import b64, data_url, photo_bytes


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_jpeg_png_and_webp_are_accepted_by_their_bytes(fmt: str) -> None:
    image = check_image(photo_bytes("coffee.png", fmt), 0)
    assert (image.format, image.width, image.height) == (fmt, 600, 400)
    assert image.rgb.mode == "RGB"


def test_a_large_photo_keeps_its_size_and_is_analysed_smaller() -> None:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.open(io.BytesIO(photo_bytes("motorcycle_left.png"))).convert("RGB").resize((3000, 2000)).save(buf, "JPEG")
    image = check_image(buf.getvalue(), 3)
    assert (image.width, image.height) == (3000, 2000)
    assert max(image.rgb.size) <= ANALYSIS_SIDE


@pytest.mark.parametrize("data", [gif(), b"just some text", b"%PDF-1.7\n...", zip_archive()],
                         ids=["gif", "text", "pdf", "zip"])
def test_other_kinds_of_file_are_415(data: bytes) -> None:
    with pytest.raises(UnsupportedMediaType):
        check_image(data, 0)


@pytest.mark.parametrize("data", [
    truncated(photo_bytes("coffee.png", "JPEG")),
    truncated(photo_bytes("coffee.png")),
    truncated(photo_bytes("coffee.png", "WEBP")),
    corrupt_png(),
    polyglot_jpeg(),
    photo_bytes("coffee.png") + b"<?php system($_GET['c']); ?>",
], ids=["truncated-jpeg", "truncated-png", "truncated-webp", "corrupt-png", "polyglot-jpeg-zip", "polyglot-png-php"])
def test_broken_and_polyglot_images_are_422(data: bytes) -> None:
    with pytest.raises(ValidationFailed):
        check_image(data, 0)


@pytest.mark.parametrize("size", [(20_000, 20_000), (7_000, 7_000)], ids=["side", "pixels"])
def test_decompression_bombs_are_refused_before_decoding(size: tuple[int, int]) -> None:
    data = huge_png(*size)
    assert len(data) < 1_000_000
    with pytest.raises(ValidationFailed, match="beyond the limit"):
        check_image(data, 0)


def test_more_than_ten_megabytes_is_413() -> None:
    data = photo_bytes("coffee.png", "JPEG")
    with pytest.raises(PayloadTooLarge):
        check_image(data + b"\x00" * (MAX_IMAGE_BYTES + 1 - len(data)), 0)


def test_text_forms_base64_and_data_urls_but_no_remote_urls() -> None:
    png = photo_bytes("coffee.png")
    assert decode_text_image(b64(png), 0) == png
    assert decode_text_image(data_url(png), 0) == png
    wrapped = "\r\n".join(b64(png)[i:i + 76] for i in range(0, len(b64(png)), 76))  # as MIME tools wrap it
    assert decode_text_image(wrapped, 0) == png
    for url in ("http://example.com/a.jpg", "https://example.com/a.jpg", "HTTPS://x/y.png", "file:///etc/passwd"):
        with pytest.raises(InvalidInput, match="remote URLs"):
            decode_text_image(url, 0)
    with pytest.raises(UnsupportedMediaType):
        decode_text_image("data:text/html;base64,PGgxPg==", 0)
    with pytest.raises(InvalidInput, match="base64"):
        decode_text_image("not base64 at all!", 0)
    with pytest.raises(InvalidInput, match="base64"):
        decode_text_image(b64(png) + "=", 0)  # padding past the end


def test_one_to_ten_images() -> None:
    with pytest.raises(InvalidInput):
        check_count(0)
    with pytest.raises(PayloadTooLarge):
        check_count(11)
    check_count(1)
    check_count(10)


def test_a_sideways_phone_photo_is_analysed_upright() -> None:
    import io

    from PIL import Image

    upright = Image.open(io.BytesIO(photo_bytes("motorcycle_left.png"))).convert("RGB")  # 741 x 500
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to view": stored sideways, as phones do
    buf = io.BytesIO()
    upright.transpose(Image.Transpose.ROTATE_90).save(buf, "JPEG", exif=exif)
    image = check_image(buf.getvalue(), 0)
    assert (image.width, image.height) == (741, 500)
    assert image.rgb.size == (741, 500)
    diff = sum(abs(a - b) for a, b in zip(image.rgb.resize((64, 43)).tobytes(), upright.resize((64, 43)).tobytes(), strict=True))
    assert diff / (64 * 43 * 3) < 12  # the same picture, not a rotated one
