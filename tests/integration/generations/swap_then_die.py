"""Run a swap and die by SIGKILL right after the vector alias moved, before the database commit.

    python -m tests.integration.generations.swap_then_die DATABASE_URL VECTOR_LOCATION TENANT_ID VERTICAL

VECTOR_LOCATION is `pgvector` or a Qdrant local-mode folder. The real index moves the alias; only
the process's death is staged.
"""

from __future__ import annotations

import os
import signal
import sys
import uuid

from sqlalchemy.orm import Session

from core.db.engine import make_sync_engine
from core.generations import swap
from core.vectors.base import VectorIndex
from core.vectors.pgvector import PgVectorIndex
from core.vectors.qdrant import QdrantIndex


def die_after_alias_move(index: VectorIndex) -> VectorIndex:
    real = index.swap_alias

    def swap_alias(*args, **kwargs):  # type: ignore[no-untyped-def]
        previous = real(*args, **kwargs)
        print("alias moved", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        return previous

    index.swap_alias = swap_alias  # type: ignore[method-assign]
    return index


def main(database_url: str, location: str, tenant_id: str, vertical: str) -> None:
    index = PgVectorIndex(database_url) if location == "pgvector" else QdrantIndex(location)
    with Session(make_sync_engine(database_url)) as session:
        swap(session, uuid.UUID(tenant_id), vertical, die_after_alias_move(index))
    print("swap finished", flush=True)  # never reached


if __name__ == "__main__":
    main(*sys.argv[1:5])
