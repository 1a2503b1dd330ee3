"""Identifier-like tokens: part numbers, SKUs, standards (`ISO 4017`), codes with digits and dashes.

A record's identifiers are stored normalised (upper case, separators removed) in `records.identifiers`,
so `SS-M8-40-A2`, `ss m8 40 a2` and `SSM840A2` all meet on `SSM840A2`. Query classification uses the
same rules, so what a record exposes as an identifier is exactly what a query can match exactly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from core.records.content import is_iso_date

MAX_IDENTIFIERS = 32
MAX_IDENTIFIER_LENGTH = 64
#: marks a leading part of an identifier (`M8*` of `M8x40`): full text indexes it as the token `m8`,
#: so a query word matches the start of a part number, while the exact match (`identifiers @>`)
#: never equals it (normalised queries hold no `*`)
PART_MARK = "*"

# bodies that issue standards: "ISO 4017", "DIN-933", "EN 10204:2004", "ASTM A193"
STANDARD_BODIES = frozenset(
    [
        "ISO",
        "IEC",
        "DIN",
        "EN",
        "ASTM",
        "ANSI",
        "ASME",
        "SAE",
        "JIS",
        "BS",
        "UL",
        "NF",
        "GB",
        "MIL",
        "IEEE",
        "NEMA",
        "API",
        "IPC",
        "ETSI",
        "RFC",
    ]
)
_NON_ALNUM = re.compile(r"[^0-9A-Z]+")
_SEPARATORS = str.maketrans("", "", " -_./:#\t")
# a token of letters/digits joined by - _ . / :  ("SS-M8-40-A2", "M8x40", "x86_64", "10204:2004")
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[-_./:][A-Za-z0-9]+)*")
_DIGIT = re.compile(r"\d")
# letter runs, digit runs and separators of a raw code token
_RUNS = re.compile(r"[A-Za-z]+|[0-9]+|[^A-Za-z0-9]+")
_LETTER = re.compile(r"[A-Za-z]")
# a whole value made only of identifier-ish characters
_CODE_VALUE = re.compile(r"^[A-Za-z0-9]+(?:[\s\-_./:#]+[A-Za-z0-9]+)*$")


def normalize_identifier(text: str) -> str:
    """The canonical form of an identifier: upper case, every non-alphanumeric character removed."""
    upper = text.upper().translate(_SEPARATORS)
    if upper.isascii() and upper.isalnum():
        return upper
    return _NON_ALNUM.sub("", upper)


def _is_code_token(token: str) -> bool:
    """A single token that reads as a code: digits mixed with letters or separators, or a long number."""
    if len(token) < 3 or len(token) > MAX_IDENTIFIER_LENGTH or not _DIGIT.search(token):
        return False
    if token.isdigit():
        return len(token) >= 5  # a bare number is a code only when long (EAN, order numbers)
    return not is_iso_date(token)


def looks_like_identifier(text: str) -> bool:
    """True when the whole text is an identifier (a part number, SKU, standard or code), not prose."""
    value = text.strip()
    if not value or len(value) > MAX_IDENTIFIER_LENGTH or not _DIGIT.search(value):
        return False
    if not _CODE_VALUE.match(value) or is_iso_date(value):
        return False
    tokens = value.split()
    if len(tokens) == 1:
        return _is_code_token(tokens[0])
    if tokens[0].upper() in STANDARD_BODIES and len(tokens) <= 3:
        return True  # "ISO 4017", "DIN EN 933"
    # several short tokens: "ss m8 40 a2" is a spaced part number, "M8 bolt" is a keyword query
    with_digits = sum(1 for t in tokens if _DIGIT.search(t))
    return len(tokens) <= 6 and with_digits >= 2 and with_digits * 2 >= len(tokens)


def leading_parts(token: str) -> list[str]:
    """The leading alphanumeric parts of a code token, normalised and marked with PART_MARK: every
    prefix that ends a digit run followed by more of the token and holds a letter
    (`M8x40` -> `M8*`; `SS-M8-40-A2` -> `SSM8*`, `SSM840*`)."""
    runs = _RUNS.findall(token)
    parts: list[str] = []
    prefix = ""
    for i, run in enumerate(runs[:-1]):
        if run[0].isalnum():
            prefix += run.upper()
        if run.isdigit() and _LETTER.search(prefix) and len(prefix) >= 2:
            parts.append(prefix + PART_MARK)
        if i >= 8:  # long codes: the first parts are the ones people type
            break
    return parts


def _text_identifiers(text: str, out: dict[str, None]) -> None:
    body = None
    for token in _TOKEN.findall(text):
        if body is not None and _DIGIT.search(token):
            out[normalize_identifier(body + token)] = None  # a standard: "ISO 4017" -> ISO4017
        elif _is_code_token(token):
            out[normalize_identifier(token)] = None
            out.update(dict.fromkeys(leading_parts(token)))
        body = token if token.upper() in STANDARD_BODIES else None


@lru_cache(maxsize=65536)
def _string_identifiers(value: str) -> tuple[str, ...]:
    # catalog columns repeat the same values (materials, standards, countries): cached
    if not _DIGIT.search(value):
        return ()
    out: dict[str, None] = {}
    if looks_like_identifier(value):
        out[normalize_identifier(value)] = None
        if " " not in value:
            out.update(dict.fromkeys(leading_parts(value)))
            return tuple(out)  # a single code token: the token scan would find the same
    _text_identifiers(value, out)
    return tuple(out)


def _value_identifiers(value: Any, out: dict[str, None]) -> None:
    if isinstance(value, str):
        for identifier in _string_identifiers(value):
            out[identifier] = None
    elif isinstance(value, int) and not isinstance(value, bool):
        if abs(value) >= 100_000:  # EAN/GTIN and other numeric codes parsed as numbers
            out[str(abs(value))] = None
    elif isinstance(value, Mapping):
        for item in value.values():
            _value_identifiers(item, out)
    elif isinstance(value, list | tuple):
        for item in value:
            _value_identifiers(item, out)


def extract_identifiers(name: str, data: Mapping[str, Any] | None) -> list[str]:
    """The record's normalised identifiers, in order of appearance, unique, at most 32.

    Taken from the name and every value of `data` (nested too): whole values that are codes,
    standards anywhere in text, and code-like tokens inside text; then, marked with PART_MARK, the
    leading parts of code tokens (for prefix matches in full text, never exact ones).
    """
    out: dict[str, None] = dict.fromkeys(_string_identifiers(name))
    if data:
        for value in data.values():
            if type(value) is str:  # the common case, without the dispatch below
                for identifier in _string_identifiers(value):
                    out[identifier] = None
            elif type(value) is not float and type(value) is not bool:
                _value_identifiers(value, out)
    out.pop("", None)
    exact = [i for i in out if not i.endswith(PART_MARK)]
    parts = [i for i in out if i.endswith(PART_MARK) and i[:-1] not in out]
    return (exact + parts)[:MAX_IDENTIFIERS]


_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def one_typo_variants(identifier: str) -> list[str]:
    """Every normalised identifier one typo from `identifier` (a character added, dropped or replaced,
    or two neighbours swapped), itself excluded: what a misspelt part number may have been meant as.
    A normalised identifier of n characters has about 72n of them (some 600 for `SSM840A2`)."""
    variants: dict[str, None] = {}
    for i in range(len(identifier) + 1):
        head, tail = identifier[:i], identifier[i:]
        for ch in _ALPHABET:
            variants[head + ch + tail] = None  # added
            if tail:
                variants[head + ch + tail[1:]] = None  # replaced
        if tail:
            variants[head + tail[1:]] = None  # dropped
        if len(tail) >= 2:
            variants[head + tail[1] + tail[0] + tail[2:]] = None  # swapped
    variants.pop(identifier, None)
    return list(variants)
