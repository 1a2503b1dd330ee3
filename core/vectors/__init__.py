"""The vector index: one interface (`VectorIndex`), pgvector and Qdrant behind it, per-generation
collections reached through aliases."""

from core.vectors.base import VectorHit, VectorIndex, vector_alias_name, vector_collection_name
from core.vectors.factory import get_vector_index, make_vector_index
from core.vectors.filters import Match, MatchAny, Range, VectorFilter

__all__ = [
    "Match",
    "MatchAny",
    "Range",
    "VectorFilter",
    "VectorHit",
    "VectorIndex",
    "get_vector_index",
    "make_vector_index",
    "vector_alias_name",
    "vector_collection_name",
]
