"""What the SQL sources need to know about a query's text: is it a single read, and where is `:last_pull`.

A small scanner splits SQL into code, quoted strings/identifiers and comments (standard `'...'`,
`"..."`, MySQL backticks, PostgreSQL dollar quotes, `--` and `/* */` comments), so neither check is
fooled by a keyword or a `:last_pull` inside a string, and `::casts` are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from connectors.errors import SourceQueryInvalid, SourceWriteRefused

READ_STATEMENTS = frozenset({"SELECT", "WITH", "VALUES", "TABLE", "SHOW"})
# words that make a statement write (or lock, or create a file/table) when they appear as bare code
WRITE_WORDS = frozenset(
    {
        "INSERT",
        "UPDATE",
        "DELETE",
        "MERGE",
        "UPSERT",
        "CREATE",
        "ALTER",
        "DROP",
        "TRUNCATE",
        "GRANT",
        "REVOKE",
        "INTO",
    }
)
LAST_PULL = ":last_pull"

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_LAST_PULL = re.compile(r"(?<![:\w]):last_pull(?![\w])")


def _segments(sql: str) -> Iterator[tuple[str, str]]:
    """Yield `(kind, text)` pieces: kind is `code`, `quoted` or `comment`; concatenated they give `sql`."""
    i, n, start = 0, len(sql), 0
    while i < n:
        ch = sql[i]
        end = -1
        if ch in "'\"`":
            j = i + 1
            while j < n:
                if sql[j] == ch:
                    if j + 1 < n and sql[j + 1] == ch:  # doubled quote escapes itself
                        j += 2
                        continue
                    break
                if sql[j] == "\\" and ch == "'":  # MySQL-style backslash escape; harmless for PostgreSQL
                    j += 2
                    continue
                j += 1
            end, kind = min(j + 1, n), "quoted"
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            end, kind = (n if j < 0 else j), "comment"
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            end, kind = (n if j < 0 else j + 2), "comment"
        elif ch == "$" and (i == 0 or not (sql[i - 1].isalnum() or sql[i - 1] == "_")):
            tag = _DOLLAR_TAG.match(sql, i)
            if tag:
                j = sql.find(tag.group(0), tag.end())
                end, kind = (n if j < 0 else j + len(tag.group(0))), "quoted"
        if end < 0:
            i += 1
            continue
        if start < i:
            yield "code", sql[start:i]
        yield kind, sql[i:end]
        i = start = end
    if start < n:
        yield "code", sql[start:]


def split_statements(sql: str) -> list[str]:
    """The non-empty statements of `sql`, split at top-level semicolons (comments dropped)."""
    statements: list[str] = []
    current: list[str] = []
    for kind, text in _segments(sql):
        if kind == "comment":
            current.append(" ")
            continue
        if kind == "code" and ";" in text:
            parts = text.split(";")
            current.append(parts[0])
            for part in parts[1:]:
                statements.append("".join(current))
                current = [part]
        else:
            current.append(text)
    statements.append("".join(current))
    return [s.strip() for s in statements if s.strip()]


def _code_words(statement: str) -> list[str]:
    return [w.upper() for kind, text in _segments(statement) if kind == "code" for w in _WORD.findall(text)]


def ensure_read_only(sql: str, *, kind: str | None = None) -> None:
    """Refuse (with `SourceWriteRefused`) anything but one SELECT/WITH/VALUES/TABLE/SHOW statement.

    This is the first of two guards: the SQL sources also run every query in a read-only
    transaction, so a write the text check cannot see (a function that writes) is refused too.
    An empty query is `SourceQueryInvalid`.
    """
    statements = split_statements(sql)
    if not statements:
        raise SourceQueryInvalid("the query is empty", kind=kind)
    if len(statements) > 1:
        raise SourceWriteRefused(
            f"the query holds {len(statements)} statements; a connector runs exactly one read statement",
            kind=kind,
        )
    words = _code_words(statements[0])
    first = words[0] if words else ""
    if first not in READ_STATEMENTS:
        raise SourceWriteRefused(
            f"only read statements (SELECT, WITH, VALUES, TABLE, SHOW) may run; got {first or 'nothing'}",
            kind=kind,
        )
    if first != "SHOW":
        writes = sorted(WRITE_WORDS.intersection(words))
        if writes:
            raise SourceWriteRefused(
                f"the query would write or lock ({', '.join(writes)}); connectors only read", kind=kind
            )


def bind_last_pull(sql: str, placeholder: str) -> tuple[str, int]:
    """`sql` with each `:last_pull` in code (not in strings or comments) replaced by `placeholder`.

    Returns the new text and how many were replaced. `::casts` and names like `:last_pulled` are
    left alone.
    """
    count = 0
    pieces: list[str] = []
    for kind, text in _segments(sql):
        if kind == "code" and LAST_PULL in text:
            text, n = _LAST_PULL.subn(placeholder, text)
            count += n
        pieces.append(text)
    return "".join(pieces), count
