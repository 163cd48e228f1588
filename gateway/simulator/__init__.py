"""Faithful simulators of the LMS APIs the gateway calls, one folder per provider.

``talentlms/`` answers like a TalentLMS v1 portal; what both need (fault injection, call
counts, the admin interface under ``/_simulator``) sits at this level. The TalentLMS names
are re-exported here, as the gateway and its tests have always imported them.
"""

from __future__ import annotations

from .common import CallStats
from .faults import FaultInjector, FaultRule, SimulatedConnectionReset
from .talentlms import (
    FAULT_KINDS,
    ApiError,
    Enrollment,
    Portal,
    RateLimiter,
    SimulatorConfig,
    create_simulator_app,
    generate_portal,
    parse_api_path,
)

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
