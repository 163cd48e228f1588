"""Faithful simulators of the LMS APIs the gateway calls, one folder per provider.

``talentlms/`` answers like a TalentLMS v1 portal, ``learnworlds/`` like a LearnWorlds school's
API v2; what both need (fault injection, call counts, the rate-limit window, the admin
interface under ``/_simulator``) sits at this level. The TalentLMS names are re-exported here,
as the gateway and its tests have always imported them, and so are the LearnWorlds entry points.
"""

from __future__ import annotations

from .common import CallStats
from .faults import FaultInjector, FaultRule, SimulatedConnectionReset
from .learnworlds import LearnWorldsConfig, School, create_learnworlds_app, generate_school
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
    "LearnWorldsConfig",
    "Portal",
    "RateLimiter",
    "School",
    "SimulatedConnectionReset",
    "SimulatorConfig",
    "create_learnworlds_app",
    "create_simulator_app",
    "generate_portal",
    "generate_school",
    "parse_api_path",
]
