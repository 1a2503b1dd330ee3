"""Kariz's Dagster definitions: assets from `assets/`, and every `orchestration/<area>.py`'s `defs`.

Areas add a module exposing `defs = dg.Definitions(...)`; nothing is listed here by hand.
"""

from __future__ import annotations

import importlib
import pkgutil

import dagster as dg

import assets
import orchestration
from orchestration.resources import RESOURCES

_NOT_AREAS = {"collection_events", "definitions", "resources"}


def area_definitions() -> list[dg.Definitions]:
    """The `defs` of every area module in `orchestration/`, in name order."""
    found = []
    for info in sorted(pkgutil.iter_modules(orchestration.__path__), key=lambda m: m.name):
        if info.name in _NOT_AREAS:
            continue
        module = importlib.import_module(f"orchestration.{info.name}")
        if isinstance(getattr(module, "defs", None), dg.Definitions):
            found.append(module.defs)
    return found


def build_definitions() -> dg.Definitions:
    return dg.Definitions.merge(
        dg.Definitions(
            assets=dg.load_assets_from_package_module(assets),
            asset_checks=dg.load_asset_checks_from_package_module(assets),
            resources=RESOURCES,
            # request jobs are one step each: running it in the run's own process saves a
            # subprocess start (seconds on a busy 2-core machine) per run
            executor=dg.in_process_executor,
        ),
        *area_definitions(),
    )


defs = build_definitions()
