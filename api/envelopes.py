"""The bodies most JSON routes answer, declared once: `{"data": <view>, "success": true}` and, for a
page of a list, `{"data": [<view>...], "pagination": {...}, "success": true}`.

An area names the body of each route with `named`, so the OpenAPI document keeps one schema per
response under that name (`StoreResponse`, not `Envelope[StoreView]`):

    StoreResponse = named(Envelope[StoreView], "StoreResponse")
    ...
    return StoreResponse(data=store_view(summary))
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

import msgspec
from litestar.params import KwargDefinition

T = TypeVar("T")


class Pagination(msgspec.Struct, rename="camel"):
    limit: int
    offset: int
    total: int


class Envelope(msgspec.Struct, Generic[T]):
    """One view: `{"data": ..., "success": true}`."""

    data: T
    success: bool = True


class Page(msgspec.Struct, Generic[T]):
    """One page of a list: `{"data": [...], "pagination": {...}, "success": true}`."""

    data: list[T]
    pagination: Pagination
    success: bool = True


def named(body: Any, name: str) -> Any:
    """`body` (an `Envelope[...]` or `Page[...]`) as the schema `name` of the OpenAPI document; the
    result is called like the body's class to build one."""
    return Annotated[body, KwargDefinition(schema_component_key=name)]
