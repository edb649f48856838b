"""postdodo-connect: the PostDodo posting API, its client, webhook verification and automation catalogue."""

from __future__ import annotations

from .client import AsyncClient, Client, WaitTimeout
from .errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    InvalidRequestError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    PostDodoError,
    RateLimitError,
    SignatureError,
    UnsafeURLError,
    UnsupportedMediaTypeError,
)
from .models import (
    Account,
    Delivery,
    DeliveryAttempt,
    Event,
    Media,
    Post,
    Redelivery,
    Target,
    TargetError,
    UnpublishPlan,
    UnpublishStep,
    Validation,
    WebhookEndpoint,
    WebhookTest,
)
from .signing import Verified, verify

__version__ = "0.1.0"

__all__ = [
    "APIConnectionError",
    "APIError",
    "Account",
    "AsyncClient",
    "AuthenticationError",
    "Client",
    "ConfigurationError",
    "ConflictError",
    "Delivery",
    "DeliveryAttempt",
    "Event",
    "InvalidRequestError",
    "Media",
    "MethodNotAllowedError",
    "NotFoundError",
    "PayloadTooLargeError",
    "Post",
    "PostDodoError",
    "RateLimitError",
    "Redelivery",
    "SignatureError",
    "Target",
    "TargetError",
    "UnpublishPlan",
    "UnpublishStep",
    "UnsafeURLError",
    "UnsupportedMediaTypeError",
    "Validation",
    "Verified",
    "WaitTimeout",
    "WebhookEndpoint",
    "WebhookTest",
    "__version__",
    "verify",
]
