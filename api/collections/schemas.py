"""Response shapes of the collection browsing routes (spec-004 style: `success`, camelCase `data`)."""

from __future__ import annotations

from typing import Any

import msgspec

from api.envelopes import Envelope, named
from core.collections.browse import CollectionDetail, CollectionSummary, FieldInfo, RecordDetail
from core.search.request import iso_utc


class CollectionView(msgspec.Struct, rename="camel"):
    name: str
    active_generation: int
    staging_generation: int | None
    record_count: int
    created_at: str
    updated_at: str


class FieldView(msgspec.Struct, rename="camel"):
    name: str
    kinds: list[str]
    values: list[str] | None


class CollectionDetailView(CollectionView, rename="camel"):
    fields: list[FieldView] = []


class RecordView(msgspec.Struct, rename="camel"):
    id: str
    collection: str
    name: str
    record_type: str
    collection_data: dict[str, Any]
    description_llm: str | None
    source_type: str
    source_name: str | None
    status: str
    embedding_status: str
    embedding_error: str | None
    generation: int
    created_at: str
    updated_at: str


CollectionList = named(Envelope[list[CollectionView]], "CollectionList")


CollectionAnswer = named(Envelope[CollectionDetailView], "CollectionAnswer")


RecordAnswer = named(Envelope[RecordView], "RecordAnswer")


def collection_view(s: CollectionSummary) -> CollectionView:
    return CollectionView(name=s.name, active_generation=s.active_generation, staging_generation=s.staging_generation,
                          record_count=s.record_count, created_at=iso_utc(s.created_at), updated_at=iso_utc(s.updated_at))


def _field_view(f: FieldInfo) -> FieldView:
    return FieldView(name=f.name, kinds=f.kinds, values=f.values)


def collection_detail_view(d: CollectionDetail) -> CollectionDetailView:
    s = d.summary
    return CollectionDetailView(name=s.name, active_generation=s.active_generation,
                                staging_generation=s.staging_generation, record_count=s.record_count,
                                created_at=iso_utc(s.created_at), updated_at=iso_utc(s.updated_at),
                                fields=[_field_view(f) for f in d.fields])


def record_view(r: RecordDetail) -> RecordView:
    return RecordView(id=str(r.id), collection=r.collection, name=r.name, record_type=r.record_type,
                      collection_data=r.collection_data, description_llm=r.description_llm,
                      source_type=r.source_type, source_name=r.source_name, status=r.status,
                      embedding_status=r.embedding_status, embedding_error=r.embedding_error,
                      generation=r.generation, created_at=iso_utc(r.created_at), updated_at=iso_utc(r.updated_at))
