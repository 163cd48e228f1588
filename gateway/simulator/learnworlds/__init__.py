"""The LearnWorlds API v2 simulator: a generated school behind a Starlette app
(``/admin/api``), with an OAuth2 token endpoint, the reads the gateway makes, its writes
(enroll, unenroll, create, update, suspend and unsuspend a user), the rate limit and the shared
fault injection; see ``create_learnworlds_app`` and ``app.py``'s docstring.
"""

from __future__ import annotations

from .app import API_PREFIX, TOKEN_ENDPOINT, TokenStore, create_learnworlds_app, endpoint_name
from .data import FAULT_KINDS, ApiError, LearnWorldsConfig, School, generate_school

__all__ = [
    "API_PREFIX",
    "FAULT_KINDS",
    "TOKEN_ENDPOINT",
    "ApiError",
    "LearnWorldsConfig",
    "School",
    "TokenStore",
    "create_learnworlds_app",
    "endpoint_name",
    "generate_school",
]
