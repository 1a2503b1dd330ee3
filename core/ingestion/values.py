"""Typed values from text cells: integers, decimals, booleans; ISO dates and everything else stay text."""

from __future__ import annotations

import math
import re
from typing import Any

_INT = re.compile(r"[+-]?(?:0|[1-9]\d{0,14})")  # up to 15 digits: exact in every JSON client
_DECIMAL = re.compile(r"[+-]?(?:0|[1-9]\d*)?(?:\.\d+)?(?:[eE][+-]?\d+)?")
_NUMERIC_START = frozenset("0123456789+-.")


def infer_value(text: str) -> Any:
    """The typed value of a text cell: None for blank, int, float, True/False, or the stripped text.

    Codes that only look numeric keep their text: leading zeros (`007`), more than 15 digits,
    thousands separators, `NaN` and infinities.
    """
    s = text.strip()
    if not s:
        return None
    first = s[0]
    if first in _NUMERIC_START:
        if _INT.fullmatch(s):
            return int(s)
        is_decimal = "." in s or "e" in s or "E" in s  # a long or zero-led integer is a code
        if is_decimal and any(ch.isdigit() for ch in s) and _DECIMAL.fullmatch(s):
            # "01.5" has a leading zero before digits: a code, not a number
            digits = s.lstrip("+-")
            if not (len(digits) > 1 and digits[0] == "0" and digits[1].isdigit()):
                value = float(s)
                if math.isfinite(value):
                    return value
        return s
    if len(s) in (4, 5):
        low = s.lower()
        if low == "true":
            return True
        if low == "false":
            return False
    return s
