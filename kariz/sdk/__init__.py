"""The Kariz Python SDK: `Client`, `AsyncClient`, typed results and exceptions."""

from kariz.sdk import models
from kariz.sdk.clients import AsyncClient, Client
from kariz.sdk.errors import (
    APIError,
    AuthenticationError,
    ConflictError,
    ExportFailedError,
    KarizConnectionError,
    KarizError,
    KarizTimeoutError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDenied,
    QuotaExceededError,
    RateLimitError,
    ServerError,
    ValidationError,
)
from kariz.sdk.transport import RetryPolicy

__all__ = [
    "APIError",
    "AsyncClient",
    "AuthenticationError",
    "Client",
    "ConflictError",
    "ExportFailedError",
    "KarizConnectionError",
    "KarizError",
    "KarizTimeoutError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDenied",
    "QuotaExceededError",
    "RateLimitError",
    "RetryPolicy",
    "ServerError",
    "ValidationError",
    "models",
]
