"""A tenant's stored connectors: register (encrypted), list, get, delete; and their public view.

Credentials are encrypted with `CredentialBox` before they reach the session and are never part of
a view: `connection_config` always reads `***REDACTED***`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

import core.settings
from core.db.models import Connector, RequestStatus, WorkRequest
from core.db.tenant_rows import tenant_row
from core.pulls.spec import ConnectorSpec
from core.security.encryption import CredentialBox

REDACTED = "***REDACTED***"
PULL_KIND = "pull"


def credential_box() -> CredentialBox:
    """The box for the configured `CONNECTOR_ENCRYPTION_KEY` (read through the one settings object)."""
    return CredentialBox.from_settings(core.settings.get_settings())


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def register_connector(
    session: Session, tenant_id: uuid.UUID, spec: ConnectorSpec, *, box: CredentialBox | None = None
) -> Connector:
    """Store a validated connector with its config encrypted; the caller commits."""
    box = box or credential_box()
    now = datetime.now(UTC)
    connector = Connector(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        name=spec.name,
        connector_type=spec.connector_type,
        collection_name=spec.collection_name,
        entity_type=spec.entity_type,
        config_encrypted=box.encrypt(spec.connection_config),
        query=spec.query,
        name_column=spec.name_column,
        key_column=spec.key_column,
        deleted_column=spec.deleted_column,
        pull_mode=spec.mode,
        batch_size=spec.batch_size,
        schedule=spec.schedule,
        created_at=now,
        updated_at=now,
    )
    session.add(connector)
    session.flush()
    return connector


def list_connectors(session: Session, tenant_id: uuid.UUID) -> list[Connector]:
    """The tenant's connectors, oldest first."""
    query = (
        sa.select(Connector)
        .where(Connector.tenant_id == tenant_id)
        .order_by(Connector.created_at, Connector.id)
    )
    return list(session.execute(query).scalars())


def get_connector(session: Session, tenant_id: uuid.UUID, connector_id: uuid.UUID) -> Connector:
    """The tenant's connector; another tenant's id is NotFound, exactly like a missing one."""
    return tenant_row(session, Connector, connector_id, tenant_id, f"connector {connector_id}")


def _queued_pulls(connector_id: uuid.UUID) -> sa.Update:
    return (
        sa.update(WorkRequest)
        .where(
            WorkRequest.kind == PULL_KIND,
            WorkRequest.status == RequestStatus.QUEUED.value,
            WorkRequest.params["connector_id"].astext == str(connector_id),
        )
        .values(
            status=RequestStatus.CANCELLED.value, error="the connector was deleted", finished_at=sa.func.now()
        )
    )


def delete_connector(session: Session, tenant_id: uuid.UUID, connector_id: uuid.UUID) -> None:
    """Delete the connector and its encrypted credentials; its queued pulls are cancelled; the caller
    commits. Records already pulled stay in the collection."""
    connector = get_connector(session, tenant_id, connector_id)
    session.execute(_queued_pulls(connector.id))
    session.delete(connector)
    session.flush()


def scheduled_connectors(session: Session) -> list[Connector]:
    """Every connector with a cron schedule (for the Dagster schedule sensor)."""
    query = sa.select(Connector).where(Connector.schedule.is_not(None)).order_by(Connector.id)
    return list(session.execute(query).scalars())


def busy_connectors(session: Session) -> set[str]:
    """Connectors with a pull queued or running (a schedule tick does not pile another on)."""
    query = sa.select(WorkRequest.params["connector_id"].astext).where(
        WorkRequest.kind == PULL_KIND,
        WorkRequest.status.in_([RequestStatus.QUEUED.value, RequestStatus.RUNNING.value]),
    )
    return set(session.execute(query).scalars())

