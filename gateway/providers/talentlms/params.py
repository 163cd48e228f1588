"""TalentLMS v1 path parameters: ``/users/id:7``, ``/getuserstatusincourse/course_id:3,user_id:7``.

TalentLMS reads GET parameters from the last path segment, splitting pairs on ``,`` and
key from value on the first ``:``. A value is therefore percent-encoded so that ``,``,
``:``, ``/``, ``+``, ``%``, ``?``, ``#`` and spaces can never start another parameter or path
segment; ``@`` stays literal because portals look up emails with it (reference §1, S3).
URL-valued parameters are base64-encoded, as the official library does.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from urllib.parse import quote

__all__ = ["URL_VALUED", "encode_value", "endpoint_name", "path_for"]

# Parameters TalentLMS expects base64-encoded (official PHP library, S1).
URL_VALUED = frozenset(
    {"logout_redirect", "course_completed_redirect", "redirect_url", "domain_url"}
)
_LOOKUP_KEYS = frozenset({"id", "email", "username"})
_RECORD_ENDPOINTS = frozenset({"users", "courses", "categories", "groups", "branches"})
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def encode_value(key: str, value: object) -> str:
    text = str(value)
    if key in URL_VALUED:
        text = base64.b64encode(text.encode()).decode("ascii")
    return quote(text, safe="@")


def path_for(endpoint: str, params: Sequence[tuple[str, object]] = ()) -> str:
    """The request path below ``/api/v1`` for ``endpoint`` with ``params`` in the given order."""
    if not _NAME.match(endpoint):
        raise ValueError(f"not a TalentLMS endpoint name: {endpoint!r}")
    if not params:
        return f"/{endpoint}"
    pairs = []
    for key, value in params:
        if not _NAME.match(key):
            raise ValueError(f"not a TalentLMS parameter name: {key!r}")
        pairs.append(f"{key}:{encode_value(key, value)}")
    return f"/{endpoint}/" + ",".join(pairs)


def endpoint_name(endpoint: str, params: Sequence[tuple[str, object]] = ()) -> str:
    """Accounting name of a call: ``users/id`` for a record lookup, else the endpoint."""
    endpoint = endpoint.lower()
    if endpoint in _RECORD_ENDPOINTS and params and params[0][0] in _LOOKUP_KEYS:
        return f"{endpoint}/{params[0][0]}"
    return endpoint
