"""How a record becomes searchable: content hash, identifiers, search text, reindexing."""

from core.records.content import canonical_json, content_hash, value_kind
from core.records.identifiers import extract_identifiers, looks_like_identifier, normalize_identifier
from core.records.reindex import reindex_collection, reindex_record
from core.records.searchable import bump_search_version, search_text_sql

__all__ = [
    "bump_search_version",
    "canonical_json",
    "content_hash",
    "extract_identifiers",
    "looks_like_identifier",
    "normalize_identifier",
    "reindex_collection",
    "reindex_record",
    "search_text_sql",
    "value_kind",
]
