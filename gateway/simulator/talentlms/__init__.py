"""The TalentLMS v1 simulator: a generated portal behind a Starlette app (``/api/v1``).

The gateway uses it for demo mode and its tests; see ``create_simulator_app``.
"""

from __future__ import annotations

from ..common import CallStats
from .app import RateLimiter, create_simulator_app, parse_api_path
from .data import FAULT_KINDS, ApiError, Enrollment, Portal, SimulatorConfig, generate_portal

__all__ = [
    "FAULT_KINDS",
    "ApiError",
    "CallStats",
    "Enrollment",
    "Portal",
    "RateLimiter",
    "SimulatorConfig",
    "create_simulator_app",
    "generate_portal",
    "parse_api_path",
]
