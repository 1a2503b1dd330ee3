"""Sample files for ingestion tests: a real multi-page PDF with text, and hostile XML."""

from __future__ import annotations


def text_pdf(pages: list[str]) -> bytes:
    """A valid PDF whose pages show the given lines of text (Helvetica), readable by any PDF reader."""
    objects: list[bytes] = []
    n_pages = len(pages)
    font_id = 3 + 2 * n_pages
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n_pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    for i, text in enumerate(pages):
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = f"BT /F1 12 Tf 72 720 Td ({escaped}) Tj ET".encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    return pdf_of(objects)


def pdf_of(objects: list[bytes]) -> bytes:
    """A PDF file of `objects` (numbered from 1, the first the catalog) with its cross-reference table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


XXE_XML = b"""<?xml version="1.0"?>
<!DOCTYPE items [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<items><item><name>&secret;</name></item></items>
"""

BILLION_LAUGHS_XML = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<items><item><name>&lol4;</name></item></items>
"""

PRODUCTS_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<catalog xmlns="urn:example:catalog">
  <product sku="SS-M8-40-A2">
    <name>Stainless Steel Hex Head Bolt M8x40 ISO 4017</name>
    <price>0.12</price>
    <in_stock>true</in_stock>
    <tags><tag>bolt</tag><tag>stainless</tag></tags>
  </product>
  <product sku="W-M8">
    <name>Washer M8 DIN 125</name>
    <price>0.01</price>
    <in_stock>false</in_stock>
  </product>
</catalog>
"""
