"""All models, re-exported: `from core.db.models import Record`."""

from core.db.models.account import Account, Role
from core.db.models.api_key import ApiKey
from core.db.models.asset_credential import AssetCredential, AuthAttempt
from core.db.models.auth_session import SESSION_KINDS, AuthSession
from core.db.models.base import Base
from core.db.models.chat import Chat, ChatMessage
from core.db.models.collection import Collection
from core.db.models.collection_field import CollectionField
from core.db.models.connector import Connector
from core.db.models.estimate import Estimate, EstimateImage
from core.db.models.file_chunk import FileChunk, VectorCleanup
from core.db.models.generation import Generation, GenerationStatus
from core.db.models.ingestion import Ingestion
from core.db.models.record import EMBEDDING_STATUSES, RECORD_STATUSES, Record
from core.db.models.search_version import SearchVersion
from core.db.models.store_operation import StoreAuditEvent, StoreOperation
from core.db.models.stored_file import FileStatus, StoredFile
from core.db.models.tenant import Tenant
from core.db.models.vector_alias import VectorAlias
from core.db.models.vector_collection import VectorCollection
from core.db.models.work_request import RequestStatus, WorkRequest

__all__ = [
    "EMBEDDING_STATUSES",
    "RECORD_STATUSES",
    "SESSION_KINDS",
    "Account",
    "ApiKey",
    "AssetCredential",
    "AuthAttempt",
    "AuthSession",
    "Base",
    "Chat",
    "ChatMessage",
    "Collection",
    "CollectionField",
    "Connector",
    "Estimate",
    "EstimateImage",
    "FileChunk",
    "FileStatus",
    "Generation",
    "GenerationStatus",
    "Ingestion",
    "Record",
    "RequestStatus",
    "Role",
    "SearchVersion",
    "StoreAuditEvent",
    "StoreOperation",
    "StoredFile",
    "Tenant",
    "VectorAlias",
    "VectorCleanup",
    "VectorCollection",
    "WorkRequest",
]
