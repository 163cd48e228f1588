"""A faithful TalentLMS v1 simulator: deterministic demo data behind a Starlette app.

The gateway uses it for demo mode and its tests; see ``create_simulator_app``.
"""

from __future__ import annotations

from .app import CallStats, RateLimiter, create_simulator_app, parse_api_path
from .data import ApiError, Enrollment, Portal, SimulatorConfig, generate_portal
from .faults import FAULT_KINDS, FaultInjector, FaultRule, SimulatedConnectionReset

__all__ = [
    "FAULT_KINDS",
    "ApiError",
    "CallStats",
    "Enrollment",
    "FaultInjector",
    "FaultRule",
    "Portal",
    "RateLimiter",
    "SimulatedConnectionReset",
    "SimulatorConfig",
    "create_simulator_app",
    "generate_portal",
    "parse_api_path",
]
