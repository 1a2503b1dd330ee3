"""XML records under a named tag, parsed with defusedxml: entity declarations and external
references are refused, so XXE and entity-expansion ("billion laughs") files never expand."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as SafeET

from core.errors import InvalidInput
from core.ingestion.rows import ParsedRow, RowError
from core.ingestion.values import infer_value

_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if tag.startswith("{") else tag


MAX_DEPTH = 200  # elements inside one record; far past any real catalog, well inside Python's stack


class _TooDeep(Exception):
    pass


def _value(elem: Element, depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        raise _TooDeep
    children = list(elem)
    if not children and not elem.attrib:
        return infer_value(elem.text or "")
    out: dict[str, Any] = {_local(k): infer_value(v) for k, v in elem.attrib.items()}
    for child in children:
        key, value = _local(child.tag), _value(child, depth + 1)
        if value is None:
            continue
        if key in out:
            existing = out[key]
            out[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            out[key] = value
    text = (elem.text or "").strip()
    if text and children == []:
        out["value"] = infer_value(text)
    return out


def xml_rows(text: str, record_tag: str | None) -> Iterator[ParsedRow | RowError]:
    """Rows of the elements named `record_tag` (namespace ignored); `line` is the record number.

    InvalidInput without record_tag, for malformed XML, and for DTD entities or external references."""
    if not record_tag or not record_tag.strip():
        raise InvalidInput("record_tag is required for XML files: name the element that holds one record")
    tag = record_tag.strip()
    # the text is already decoded: drop its declaration so the parser does not re-decode it
    source = io.BytesIO(_DECLARATION.sub("", text, count=1).encode("utf-8"))
    number = 0
    try:
        for _event, elem in SafeET.iterparse(
            source, events=("end",), forbid_dtd=False, forbid_entities=True, forbid_external=True
        ):
            if _local(elem.tag) != tag:
                continue
            number += 1
            try:
                value = _value(elem)
            except _TooDeep:
                yield RowError(number, None, f"elements nest deeper than {MAX_DEPTH} levels")
            else:
                yield ParsedRow(number, value if isinstance(value, dict) else {"value": value})
            elem.clear()
    except defusedxml.EntitiesForbidden as exc:
        raise InvalidInput(
            f"XML refused: it declares the entity '{exc.name}'; entity declarations (external entities, "
            "entity expansion) are not accepted"
        ) from exc
    except defusedxml.ExternalReferenceForbidden as exc:
        raise InvalidInput("XML refused: it references an external resource, which is not accepted") from exc
    except defusedxml.DefusedXmlException as exc:
        raise InvalidInput(f"XML refused: {exc}") from exc
    except ParseError as exc:
        line, column = exc.position
        raise InvalidInput(
            f"malformed XML at line {line} column {column}: {exc.msg if hasattr(exc, 'msg') else exc}"
        ) from exc
    if number == 0:
        raise InvalidInput(f"no <{tag}> elements found in the XML file")
