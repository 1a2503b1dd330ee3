"""What ingestion accepts before it reads a row: collection names, entity types, source labels."""

from __future__ import annotations

import re

from core.errors import InvalidInput, ValidationFailed

COLLECTION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")


def check_names(collection_name: str, entity_type: str | None, source_type: str, source_name: str | None) -> None:
    """InvalidInput for a collection name outside `COLLECTION_NAME`; ValidationFailed for a missing
    or over-long entity_type, source_type or source_name."""
    if not COLLECTION_NAME.match(collection_name or ""):
        raise InvalidInput(
            "collection names are 1-100 letters, digits, '_', '-' or '.', starting with a letter or digit"
        )
    if not entity_type or not entity_type.strip():
        raise ValidationFailed("entity_type is required")
    if len(entity_type) > 100:
        raise ValidationFailed("entity_type is longer than 100 characters")
    if len(source_type) > 40:
        raise ValidationFailed("source_type is longer than 40 characters")
    if source_name is not None and len(source_name) > 200:
        raise ValidationFailed("source_name is longer than 200 characters")
