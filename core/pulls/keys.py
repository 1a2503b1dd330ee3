"""Key rotation: re-encrypt every stored connector config with the first `CONNECTOR_ENCRYPTION_KEY`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.db.models import Connector
from core.security.encryption import CredentialBox, CredentialsUnreadable

ROTATE_CHUNK = 500


@dataclass(slots=True)
class RotationReport:
    """Counts only (never a secret): how many configs were re-encrypted, and which ones no key opens."""

    total: int = 0
    rotated: int = 0
    unreadable: list[uuid.UUID] = field(default_factory=list)


def rotate_connector_keys(session: Session, box: CredentialBox) -> RotationReport:
    """Re-encrypt every connector's config with the box's first key, committing per chunk of rows.

    A config that no configured key can open is left as it is and listed in the report, so an
    operator who dropped an old key too early can put it back and run the rotation again."""
    report = RotationReport()
    last: uuid.UUID | None = None
    while True:
        query = sa.select(Connector.id, Connector.config_encrypted).order_by(Connector.id).limit(ROTATE_CHUNK)
        if last is not None:
            query = query.where(Connector.id > last)
        rows = session.execute(query).all()
        if not rows:
            return report
        for connector_id, token in rows:
            report.total += 1
            try:
                fresh = box.rotate(token)
            except CredentialsUnreadable:
                report.unreadable.append(connector_id)
                continue
            session.execute(
                sa.update(Connector).where(Connector.id == connector_id).values(config_encrypted=fresh)
            )
            report.rotated += 1
        session.commit()
        last = rows[-1][0]
