"""Deterministic demo data for the TalentLMS v1 simulator, and the JSON shapes it renders.

The generator keeps a small internal model (users, courses, units, enrollments with per-unit
progress) and renders TalentLMS v1 response bodies from it on demand. Rendering on demand keeps
the mutating endpoints (enroll, unenroll, reset progress, sign up, edit, set status) consistent
across every view of the same record: ``users/id:`` → ``courses[]``, ``courses/id:`` →
``users[]`` and ``getuserstatusincourse`` all read the same enrollment.

Generation is driven by ``random.Random(config.seed)`` and ``config.now``, never by the global
random generator or the wall clock, so the same config always yields byte-identical JSON. Writes
are not: like a portal's, they are stamped with the app's clock and get fresh random keys.
"""

from __future__ import annotations

import copy
import hashlib
import random
import secrets
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..faults import COMMON_FAULT_KINDS, FaultRule, fault_rules

__all__ = [
    "COURSE_STATUS_TITLE",
    "DATE_FORMATS",
    "ENROLLMENT_STATES",
    "FAULT_KINDS",
    "LOOKUP_ENDPOINTS",
    "MSG_EMAIL_TAKEN",
    "MSG_LOGIN_TAKEN",
    "USER_EDIT_FIELDS",
    "ApiError",
    "Branch",
    "Category",
    "Course",
    "Enrollment",
    "Group",
    "NewUser",
    "Portal",
    "SimulatorConfig",
    "Unit",
    "UnitProgress",
    "User",
    "format_date",
    "format_datetime",
    "format_duration",
    "generate_portal",
    "password_digest",
]

# The fault kinds this simulator knows: every common one and TalentLMS's own.
FAULT_KINDS = (*COMMON_FAULT_KINDS, "html_401", "quota_exhausted", "revoked_key")
DEFAULT_NOW = 1767225600  # 2026-01-01T00:00:00Z: fixed so generated dates never drift
DATE_FORMATS = ("DDMMYYYY", "MMDDYYYY", "YYYYMMDD")
LOOKUP_ENDPOINTS = ("users", "courses", "categories", "groups", "branches")

# Lower-case course tokens (users/id → courses[]) and their Title-case twins
# (getuserstatusincourse); the two casings are a documented v1 quirk (reference §9).
COURSE_STATUS_TITLE = {
    "not_attempted": "Not attempted",
    "incomplete": "Incomplete",
    "completed": "Completed",
    "passed": "Passed",
    "failed": "Failed",
}
COURSE_STATUS_LABEL = {
    "not_attempted": "Not started",
    "incomplete": "In progress",
    "completed": "Completed",
    "passed": "Passed",
    "failed": "Failed",
}
# "expired" is not a status token: it is an unfinished enrollment with a past expired_on.
ENROLLMENT_STATES = ("not_attempted", "incomplete", "completed", "passed", "failed", "expired")

DAY = 86_400
YEAR = 365 * DAY

MSG_INVALID_ARGS = "Invalid arguments provided"
MSG_EMAIL_TAKEN = "A user with the same email address already exists"
MSG_LOGIN_TAKEN = "A user with the same login already exists"

# ``edituser`` form fields (reference §3) → the ``User`` attribute each one sets; the two
# custom fields are the ones ``getcustomregistrationfields`` defines.
USER_EDIT_FIELDS = {
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
    "login": "login",
    "bio": "bio",
    "timezone": "timezone",
    "credits": "credits",
    "custom_field_1": "company",
    "custom_field_2": "newsletter",
}
# Legacy ``usersignup.user_type`` names (reference §9) → the portal's default types.
USER_TYPE_ALIASES = {
    "administrator": "Admin-Type",
    "instructor": "Trainer-Type",
    "learner": "Learner-Type",
}
DEFAULT_USER_TYPES = ("Admin-Type", "Trainer-Type", "Learner-Type")


class ApiError(Exception):
    """A TalentLMS error answer: HTTP status plus the exact v1 message string (reference §11.2)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class SimulatorConfig:
    """Everything that shapes the simulated portal and how it answers."""

    seed: int = 7
    users: int = 60
    courses: int = 12
    units_per_course: int = 10
    enrollments_per_user: int = 4
    deleted_users: int = 1
    api_key: str = "sim-key-0123456789abcdef"
    date_format: str = "DDMMYYYY"
    twelve_hour: bool = False
    latency_ms: float = 0.0
    hourly_limit: int = 2000
    # The burst cap (reference §12): at most this many calls in any ``burst_window`` seconds,
    # else 429 with Retry-After. ``None`` lifts it (benchmarks that measure the gateway alone).
    burst_limit: int | None = 200
    burst_window: float = 5.0
    default_page_size: int | None = None
    domain: str = "demo.talentlms.local"
    now: int | None = None
    # Misbehaviour from the first call on (see faults.py); mappings are accepted and converted.
    faults: tuple[FaultRule, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "faults", fault_rules(self.faults, FAULT_KINDS, "TalentLMS"))
        if self.date_format not in DATE_FORMATS:
            raise ValueError(f"date_format must be one of {DATE_FORMATS}, not {self.date_format!r}")
        if self.users < 1 or self.courses < 1:
            raise ValueError("a portal needs at least one user (the SuperAdmin) and one course")
        if min(self.units_per_course, self.enrollments_per_user, self.deleted_users) < 0:
            raise ValueError("counts must not be negative")
        if self.hourly_limit < 0 or (self.burst_limit is not None and self.burst_limit < 1):
            raise ValueError("hourly_limit must not be negative and burst_limit must be positive")
        if not self.burst_window > 0:
            raise ValueError("burst_window must be positive")

    @property
    def now_ts(self) -> int:
        """The generator's "now"; a fixed default keeps data independent of the wall clock."""
        return DEFAULT_NOW if self.now is None else self.now


# ---------------------------------------------------------------------------------------------
# Formatting helpers
# ---------------------------------------------------------------------------------------------


def _date_part(moment: datetime, date_format: str) -> str:
    day, month, year = f"{moment.day:02d}", f"{moment.month:02d}", f"{moment.year:04d}"
    if date_format == "MMDDYYYY":
        return f"{month}/{day}/{year}"
    if date_format == "YYYYMMDD":
        return f"{year}/{month}/{day}"
    return f"{day}/{month}/{year}"


def format_date(ts: int | None, date_format: str) -> str:
    """Date-only form used by certifications (``"06/08/2019"``); ``""`` when there is none."""
    if ts is None:
        return ""
    return _date_part(datetime.fromtimestamp(ts, tz=UTC), date_format)


def format_datetime(
    ts: int | None, date_format: str, twelve_hour: bool = False, seconds: bool = True
) -> str:
    """Portal-formatted UTC date-time, e.g. ``"25/12/2019, 15:58:40"`` or ``"…, 03:58:40 PM"``.

    Built by hand rather than with ``%p`` so the AM/PM marker never depends on the locale.
    """
    if ts is None:
        return ""
    moment = datetime.fromtimestamp(ts, tz=UTC)
    hour = moment.hour
    if twelve_hour:
        hour = moment.hour % 12 or 12
    clock = f"{hour:02d}:{moment.minute:02d}"
    if seconds:
        clock += f":{moment.second:02d}"
    if twelve_hour:
        clock += " PM" if moment.hour >= 12 else " AM"
    return f"{_date_part(moment, date_format)}, {clock}"


def format_duration(seconds: int | None) -> str | None:
    """Readable durations (``"0s"``, ``"3m 17s"``, ``"1h 2m 3s"``); None means never started."""
    if seconds is None:
        return None
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes}m {secs}s"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def _short_name(first: str, last: str) -> str:
    """Course and group member lists show ``"J. Smith"`` rather than the full name."""
    return f"{first[:1]}. {last}" if first else last


def _ts(value: int | None) -> str | None:
    """User and enrollment ``*_timestamp`` twins are strings (or null), reference §8.1."""
    return None if value is None else str(value)


# ---------------------------------------------------------------------------------------------
# Internal model
# ---------------------------------------------------------------------------------------------


@dataclass
class User:
    id: str
    login: str
    first_name: str
    last_name: str
    email: str
    restrict_email: str
    user_type: str
    timezone: str
    language: str
    status: str
    level: str
    points: str
    created_ts: int
    updated_ts: int
    avatar: str
    bio: str | None  # null for a user who never had one (a fresh sign-up), reference §3 S3
    login_key: str
    company: str | None
    newsletter: str
    branch_ids: list[str] = field(default_factory=list)
    group_ids: list[str] = field(default_factory=list)
    badges: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False
    credits: str = "0"  # e-commerce credits: set by edituser, shown by no read endpoint
    # A salted digest, never the password itself; kept out of repr so no log can show it.
    password_digest: str = field(default="", repr=False)


@dataclass(frozen=True)
class NewUser:
    """A checked ``usersignup`` form: what ``Portal.sign_up`` needs to create the account."""

    first_name: str
    last_name: str
    email: str
    login: str
    password: str = field(repr=False)
    user_type: str | None = None  # None: the portal's default learner type
    restrict_email: str = "0"
    branch_id: str | None = None
    group_id: str | None = None
    company: str | None = None
    newsletter: str = "off"


@dataclass
class Unit:
    id: str
    type: str
    name: str
    url: str
    delay_minutes: int | None = None


@dataclass
class Course:
    id: str
    name: str
    code: str
    category_id: str
    description: str
    price: str
    status: str
    created_ts: int
    updated_ts: int
    creator_id: str
    hide_from_catalog: str
    level: str | None
    shared: str
    shared_url: str
    avatar: str
    big_avatar: str
    certification: str | None
    certification_duration: str | None
    owner_department: str | None
    mandatory: str
    units: list[Unit] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    prerequisite_ids: list[str] = field(default_factory=list)

    @property
    def learning_units(self) -> list[Unit]:
        """Units that carry progress; Sections are only headers (reference §10)."""
        return [unit for unit in self.units if unit.type != "Section"]

    @property
    def has_test(self) -> bool:
        return any(unit.type == "Test" for unit in self.units)


@dataclass
class UnitProgress:
    status: str  # Title case: Completed, Incomplete, Passed, Failed, Pending
    score: str  # numeric string, or "" when the unit has no score
    completed_ts: int | None
    seconds: int


@dataclass
class Enrollment:
    user_id: str
    course_id: str
    role: str
    enrolled_ts: int
    status: str = "not_attempted"
    percentage: int = 0
    completed_ts: int | None = None
    expired_ts: int | None = None
    total_seconds: int = 0
    last_unit_id: str | None = None
    units: dict[str, UnitProgress] = field(default_factory=dict)

    @property
    def state(self) -> str:
        """One of ENROLLMENT_STATES: the status token, or ``expired`` if unfinished and expired."""
        if self.expired_ts is not None and self.completed_ts is None:
            return "expired"
        return self.status

    @property
    def started(self) -> bool:
        return bool(self.units)


@dataclass
class Category:
    id: str
    name: str
    price: str
    parent_id: str | None


@dataclass
class Group:
    id: str
    name: str
    description: str
    key: str
    owner_id: str
    branch_id: str | None
    course_ids: list[str] = field(default_factory=list)


@dataclass
class Branch:
    id: str
    name: str
    description: str
    timezone: str
    language: str
    course_ids: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Source vocabularies
# ---------------------------------------------------------------------------------------------

FIRST_NAMES = (
    "Maria", "José", "Anna", "Giorgos", "Eleni", "Dimitris", "Sofia", "Yuki", "Hiroshi", "Priya",
    "Arjun", "Fatima", "Omar", "Liam", "Emma", "Noah", "Olivia", "Lukas", "Lena", "Mateo",
    "Valentina", "Chloé", "Louis", "Søren", "Ingrid", "Aleksander", "Zofia", "Wei", "Mei", "Kwame",
    "Amara", "Chidi", "Ngozi", "Diego", "Camila", "Ahmed", "Layla", "Tomás", "Inês", "Kateryna",
    "Olena", "Mikael", "Aiko", "Rohan", "Ana", "Pedro", "Nikos", "Katerina",
)  # fmt: skip
LAST_NAMES = (
    "García", "Smith", "Papadopoulos", "Nguyen", "Müller", "Rossi", "Kowalski", "Tanaka", "Sato",
    "Patel", "Sharma", "Haddad", "Okafor", "Mensah", "Johansson", "Nielsen", "Dubois", "Martin",
    "Silva", "Santos", "Fernández", "López", "Ivanova", "Kovalenko", "Schmidt", "Novak", "Horváth",
    "Kim", "Park", "Chen", "Wang", "Li", "Brown", "Wilson", "O'Brien", "Murphy", "Jansen",
    "de Vries", "Yılmaz", "Demir", "Georgiou", "Andersson", "Costa", "Moreau", "Bianchi",
)  # fmt: skip
COMPANIES = (
    ("northwind.example", "Northwind Traders"),
    ("contoso.example", "Contoso Ltd"),
    ("acme-logistics.example", "ACME Logistics"),
    ("globex.example", "Globex Corporation"),
)
TIMEZONES = (
    "(GMT +02:00) Athens",
    "(GMT +00:00) London",
    "(GMT +01:00) Berlin",
    "(GMT +01:00) Madrid",
    "(GMT -05:00) Eastern Time (US & Canada)",
    "(GMT -08:00) Pacific Time (US & Canada)",
    "(GMT +05:30) Mumbai",
    "(GMT +09:00) Tokyo",
    "(GMT -03:00) Buenos Aires",
    "(GMT +10:00) Sydney",
)
LANGUAGES = ("English", "English", "English", "Greek", "Spanish", "German", "French", "Portuguese")
BIOS = (
    "",
    "",
    "Keen learner and coffee enthusiast.",
    "Customer success lead for the EMEA region.",
    "<p>Warehouse shift supervisor.</p>",
    "Joined the sales team this year.",
)
CATEGORIES = (
    ("21", "Compliance", None, "&#36;0.00"),
    ("22", "Health & Safety", "21", "&#36;0.00"),
    ("23", "Data Protection", "21", "&#36;0.00"),
    ("24", "Sales Enablement", None, "&#36;99.00"),
    ("25", "Leadership & Management", None, "&#36;0.00"),
)
COURSE_TITLES = (
    ("Workplace Safety Essentials", "22", "WSE-101"),
    ("GDPR for Customer Teams", "23", "GDPR-201"),
    ("Anti-Bribery and Corruption", "21", "ABC-110"),
    ("Code of Conduct 2026", "21", "COC-26"),
    ("Fire Safety and Evacuation", "22", "FIRE-102"),
    ("Information Security Awareness", "23", "SEC-100"),
    ("Consultative Selling Fundamentals", "24", "SALES-101"),
    ("Leading Remote Teams", "25", "LEAD-210"),
    ("Ergonomics for Hybrid Work", "22", ""),
    ("Phishing Defense Drill", "23", "SEC-120"),
    ("Negotiation Skills", "24", ""),
    ("Giving Effective Feedback", "25", "LEAD-105"),
    ("Anti-Harassment in the Workplace", "21", "HR-130"),
    ("First Aid Basics", "22", ""),
    ("CRM Best Practices", "24", "SALES-140"),
    ("Coaching for Performance", "25", ""),
    ("Handling Customer Objections", "24", "SALES-150"),
    ("Data Retention and Deletion", "23", "GDPR-220"),
)
UNIT_TYPE_WEIGHTS = (
    ("Content", 24),
    ("Video", 12),
    ("Presentation | Document", 10),
    ("SCORM | xAPI | cmi5", 8),
    ("Web content", 6),
    ("Test", 6),
    ("Assignment", 5),
    ("Audio", 4),
    ("Survey", 4),
    ("iFrame", 3),
    ("Instructor-led training", 3),
    ("Unit", 1),
)
UNIT_NAMES = {
    "Content": ("Welcome and objectives", "Key concepts", "Policy overview", "Summary"),
    "Video": ("Video: a day on the floor", "Video: what good looks like", "Expert interview"),
    "Presentation | Document": ("Slide deck", "Reference handbook", "Quick guide (PDF)"),
    "SCORM | xAPI | cmi5": ("Interactive scenario", "Simulation module", "E-learning package"),
    "Web content": ("Regulator guidance", "Further reading"),
    "Test": ("Knowledge check", "Final assessment", "Quiz"),
    "Assignment": ("Reflection assignment", "Case study submission"),
    "Audio": ("Podcast episode", "Audio briefing"),
    "Survey": ("Course feedback", "Pulse survey"),
    "iFrame": ("Embedded dashboard", "Interactive map"),
    "Instructor-led training": ("Live workshop", "Q&A session"),
    "Unit": ("Legacy lesson", "Archived material"),
}
UNIT_URL_KIND = {
    "Test": "test",
    "Survey": "survey",
    "Assignment": "assignment",
    "Instructor-led training": "ilt",
    "SCORM | xAPI | cmi5": "scorm",
}
SECTION_NAMES = ("Getting started", "Core topics", "Practice", "Going further", "Wrap-up")
SCORED_TYPES = ("Test", "SCORM | xAPI | cmi5", "Assignment")
GROUPS = (
    ("31", "Sales Staff", "Everyone in a quota-carrying role", "41"),
    ("32", "Customer Success", "Support and account management", None),
    ("33", "New Hires 2025", "Onboarding cohort", None),
    ("34", "Warehouse Team", "Logistics and operations staff", "42"),
)
BRANCHES = (
    ("41", "emea", "Europe, Middle East and Africa", "(GMT +01:00) Berlin", "en"),
    ("42", "north-america", "United States and Canada", "(GMT -05:00) Eastern Time (US & Canada)",
     "en"),
    ("43", "apac", "Asia Pacific", "(GMT +09:00) Tokyo", "ja"),
)  # fmt: skip
BADGES = (
    ("Activity Newbie", "activity", "4 logins"),
    ("Learning Newbie", "learning", "1 completed course"),
    ("Test Newbie", "test", "1 passed test"),
    ("Activity Grower", "activity", "8 logins"),
)
USER_CUSTOM_FIELDS = (
    {"key": "custom_field_1", "type": "text", "name": "Company", "mandatory": "no",
     "visible_on_reports": "yes", "dropdown_values": "", "checkbox_status": "off",
     "selective_availability": "no", "branch": None, "main_domain_availability": None,
     "previous_key": None, "order": 1},
    {"key": "custom_field_2", "type": "checkbox", "name": "Receives newsletter", "mandatory": "no",
     "visible_on_reports": "yes", "dropdown_values": "", "checkbox_status": "off",
     "selective_availability": "no", "branch": None, "main_domain_availability": None,
     "previous_key": None, "order": 2},
)  # fmt: skip
COURSE_CUSTOM_FIELDS = (
    {"key": "custom_field_1", "type": "text", "name": "Owner department", "mandatory": "no",
     "visible_on_reports": "yes", "dropdown_values": "", "checkbox_status": "off",
     "selective_availability": "no", "branch": None, "main_domain_availability": None,
     "previous_key": None, "order": 1},
    {"key": "custom_field_2", "type": "dropdown", "name": "Mandatory training", "mandatory": "yes",
     "visible_on_reports": "yes", "dropdown_values": "Mandatory;Optional",
     "checkbox_status": "off", "selective_availability": "no", "branch": None,
     "main_domain_availability": None, "previous_key": None, "order": 2},
)  # fmt: skip
# Custom types are named freely by portals; these two exercise the gateway's role mapping.
LEARNER_TYPES = ("Learner-Type", "Sales Learner", "Team-Manager")
RULE_SETS: tuple[list[str], ...] = (
    ["All units must be completed"],
    ["All units must be completed"],
    [],
    ["A percentage of units must be completed: 80%"],
)
_TRANSLIT = str.maketrans({"ø": "o", "ß": "ss", "ł": "l", "æ": "ae", "ı": "i", "đ": "d"})


def _slug(text: str) -> str:
    """ASCII login fragment: "Søren" → "soren", "O'Brien" → "obrien"."""
    folded = unicodedata.normalize("NFKD", text.lower().translate(_TRANSLIT))
    return "".join(ch for ch in folded if ch.isascii() and ch.isalnum())


# ---------------------------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------------------------


class _Generator:
    """One generation run. Order of rng draws is part of the determinism contract."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.now = config.now_ts
        self.base = f"https://{config.domain}"

    def _secret(self, length: int) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(length))

    def _between(self, low: int, high: int) -> int:
        return self.rng.randint(low, high) if high > low else low

    # -- users -------------------------------------------------------------------------------

    def user_types(self, count: int) -> list[str]:
        """SuperAdmin first, a few staff and custom types, learners for at least half."""
        specials = ["Admin-Type"] * 2 + ["Trainer-Type"] * max(2, count // 15)
        specials += ["Team-Manager"] * 2 + ["Sales Learner"] * 3
        specials = specials[: max(0, (count - 1) // 2)]
        rest = specials + ["Learner-Type"] * (count - 1 - len(specials))
        self.rng.shuffle(rest)
        return ["SuperAdmin", *rest]

    def users(self, total: int, deleted: int) -> list[User]:
        types = self.user_types(total)
        logins: set[str] = set()
        users: list[User] = []
        for index in range(total + deleted):
            user_type = types[index] if index < total else "Learner-Type"
            users.append(self.user(str(index + 1), user_type, logins, deleted=index >= total))
        return users

    def user(self, user_id: str, user_type: str, logins: set[str], deleted: bool) -> User:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        login = base_login = f"{_slug(first)}.{_slug(last)}"
        suffix = 2
        while login in logins:
            login, suffix = f"{base_login}{suffix}", suffix + 1
        logins.add(login)
        domain, company = rng.choice(COMPANIES)
        is_admin = user_type == "SuperAdmin"
        created = self.now - (4 * YEAR if is_admin else self._between(60 * DAY, 3 * YEAR))
        updated = self._between(created, self.now - 3600)
        inactive = not is_admin and rng.random() < 0.1
        has_avatar = rng.random() < 0.4
        avatar = (
            f"{self.base}/uploads/avatars/user_{user_id}_{self._secret(6)}.png"
            if has_avatar
            else f"{self.base}/pages/images/default_user.svg"
        )
        return User(
            id=user_id,
            login=login,
            first_name=first,
            last_name=last,
            email=f"{login}@{domain}",
            restrict_email="1" if rng.random() < 0.1 else "0",
            user_type=user_type,
            timezone=rng.choice(TIMEZONES),
            language=rng.choice(LANGUAGES),
            status="inactive" if inactive else "active",
            level=str(rng.randint(1, 5)),
            points=str(25 * rng.randint(0, 120)),
            created_ts=created,
            updated_ts=updated,
            avatar=avatar,
            bio=rng.choice(BIOS),
            login_key=f"{self.base}/index/autologin/key:{self._secret(40)}",
            company=None if rng.random() < 0.2 else company,
            newsletter="on" if rng.random() < 0.5 else "off",
            deleted=deleted,
        )

    def badges(self, user: User) -> list[dict[str, Any]]:
        count = self.rng.randint(0, 2) if int(user.points) > 200 else 0
        badges = []
        for index, (name, kind, criteria) in enumerate(BADGES[:count]):
            issued = self._between(user.created_ts, self.now - DAY)
            badges.append(
                {
                    "name": name,
                    "type": kind,
                    "criteria": criteria,
                    "image_url": f"{self.base}/pages/images/badges/{kind}_{index + 1}.png",
                    "issued_ts": issued,
                    "badge_set_id": "1",
                }
            )
        return badges

    # -- courses and units -------------------------------------------------------------------

    def courses(self, count: int, users: list[User]) -> list[Course]:
        rng = self.rng
        titles = list(COURSE_TITLES)
        rng.shuffle(titles)
        staff = [u.id for u in users if u.user_type in ("Admin-Type", "Trainer-Type")]
        inactive_index = rng.randrange(count) if count > 1 else -1
        courses = []
        for index in range(count):
            title, category_id, code = titles[index % len(titles)]
            if index >= len(titles):
                title, code = f"{title} – Part {index // len(titles) + 1}", ""
            creator = rng.choice(staff) if staff and rng.random() < 0.2 else "1"
            courses.append(self.course(str(101 + index), title, category_id, code, creator, users))
            if index == inactive_index:
                courses[-1].status, courses[-1].hide_from_catalog = "inactive", "1"
        return courses

    def course(
        self,
        course_id: str,
        title: str,
        category_id: str,
        code: str,
        creator: str,
        users: list[User],
    ) -> Course:
        rng = self.rng
        creator_created = next(u.created_ts for u in users if u.id == creator)
        created = self._between(max(creator_created, self.now - 3 * YEAR), self.now - 45 * DAY)
        shared = rng.random() < 0.25
        certification = rng.random() < 0.3
        return Course(
            id=course_id,
            name=title,
            code=code if rng.random() < 0.8 else "",
            category_id=category_id,
            description=(
                f"<p>{title} gives every employee the practical basics in under an hour.</p>"
                "<ul><li>Short lessons</li><li>A knowledge check at the end</li></ul>"
            ),
            price=rng.choice(("&#36;0.00", "&#36;0.00", "&#36;0.00", "&#36;49.00", "&#36;19.99")),
            status="active",
            created_ts=created,
            updated_ts=self._between(created, self.now - DAY),
            creator_id=creator,
            hide_from_catalog="1" if rng.random() < 0.1 else "0",
            level=rng.choice((None, None, "Beginner", "Intermediate", "Advanced")),
            shared="1" if shared else "0",
            shared_url=f"{self.base}/shared/start/key:{self._secret(16)}" if shared else "",
            avatar=f"{self.base}/pages/images/default_course.svg",
            big_avatar=f"{self.base}/pages/images/default_course_big.svg",
            certification="Classic" if certification else None,
            certification_duration="1 year" if certification else None,
            owner_department=rng.choice((None, "HR", "Legal", "Sales Ops", "Facilities")),
            mandatory=rng.choice(("Mandatory", "Optional")),
            rules=list(rng.choice(RULE_SETS)),
        )

    def unit_layouts(self, count: int) -> list[str]:
        """Most courses open with a Section; one has units before it, one has no Section."""
        layouts = ["section_first"] * count
        picks = self.rng.sample(range(count), min(2, count))
        for pick, layout in zip(picks, ("units_before_section", "no_section"), strict=False):
            layouts[pick] = layout
        return layouts

    def unit_types(self, count: int, layout: str) -> list[str]:
        """Ordered unit types for one course: Section headers spread over weighted units."""
        rng = self.rng
        sections = 0 if layout == "no_section" else max(1, count // 5)
        body_size = count - sections
        names, weights = zip(*((t, w) for t, w in UNIT_TYPE_WEIGHTS if t != "Test"), strict=True)
        body = rng.choices(names, weights=weights, k=body_size)
        if body_size >= 2 and rng.random() < 0.6:
            body[-1] = "Test"  # a closing test makes passed/failed enrollments possible
        if not sections:
            return body
        lead = min(2, body_size) if layout == "units_before_section" else 0
        result, rest = body[:lead], body[lead:]
        for index in range(sections):
            chunk = rest[len(rest) * index // sections : len(rest) * (index + 1) // sections]
            result += ["Section", *chunk]
        return result

    def units(self, courses: list[Course]) -> None:
        layouts = self.unit_layouts(len(courses))
        next_id = 3001
        for course, layout in zip(courses, layouts, strict=True):
            spread = self.rng.uniform(0.6, 1.4)
            count = max(2, round(self.config.units_per_course * spread))
            sections = 0
            for unit_type in self.unit_types(count, layout):
                if unit_type == "Section":
                    name = SECTION_NAMES[sections % len(SECTION_NAMES)]
                    name, sections = f"Section {sections + 1}: {name}", sections + 1
                else:
                    name = self.rng.choice(UNIT_NAMES[unit_type])
                course.units.append(self.unit(str(next_id), unit_type, name))
                next_id += 1
        self.cover_unit_types(courses)

    def unit(self, unit_id: str, unit_type: str, name: str) -> Unit:
        kind = UNIT_URL_KIND.get(unit_type, "unit")
        delay = self.rng.choice((1440, 2880, 10080)) if self.rng.random() < 0.06 else None
        url = f"{self.base}/{kind}/view/id:{unit_id}"
        return Unit(id=unit_id, type=unit_type, name=name, url=url, delay_minutes=delay)

    def cover_unit_types(self, courses: list[Course]) -> None:
        """Make every unit label appear somewhere, so mapping code meets each of them."""
        units = [u for c in courses for u in c.units if u.type not in ("Section", "Test")]
        counts = Counter(u.type for u in units)
        for unit_type, _weight in UNIT_TYPE_WEIGHTS:
            if unit_type == "Test" or counts[unit_type]:
                continue
            donors = [u for u in units if counts[u.type] > 1]
            if not donors:
                return
            donor = self.rng.choice(donors)
            counts[donor.type] -= 1
            counts[unit_type] += 1
            donor.type, donor.name = unit_type, self.rng.choice(UNIT_NAMES[unit_type])
            donor.url = f"{self.base}/{UNIT_URL_KIND.get(unit_type, 'unit')}/view/id:{donor.id}"
        if not any(c.has_test for c in courses):
            last = courses[0].learning_units[-1]
            last.type, last.name = "Test", "Final assessment"
            last.url = f"{self.base}/test/view/id:{last.id}"

    def prerequisites(self, courses: list[Course]) -> None:
        for index, course in enumerate(courses[1:], start=1):
            if self.rng.random() < 0.2:
                course.prerequisite_ids.append(courses[self.rng.randrange(index)].id)

    # -- enrollments -------------------------------------------------------------------------

    def pick_state(self, course: Course) -> str:
        states = ["not_attempted", "incomplete", "completed", "expired"]
        weights = [20, 30, 25, 7]
        if course.has_test:
            states += ["passed", "failed"]
            weights += [10, 6]
        return self.rng.choices(states, weights=weights)[0]

    def enrollments(self, users: list[User], courses: list[Course]) -> list[Enrollment]:
        rng = self.rng
        by_id = {c.id: c for c in courses}
        active_users = [u for u in users if not u.deleted]
        created = {u.id: u.created_ts for u in users}
        result: list[Enrollment] = []
        for course in courses:  # creators teach their own courses (reference §5.2)
            result.append(Enrollment(course.creator_id, course.id, "instructor", course.created_ts))
        for trainer in (u for u in active_users if u.user_type == "Trainer-Type"):
            for course in rng.sample(courses, min(len(courses), rng.randint(1, 3))):
                if course.creator_id != trainer.id:
                    start = max(course.created_ts, trainer.created_ts)
                    enrolled = self._between(start, self.now - DAY)
                    result.append(Enrollment(trainer.id, course.id, "instructor", enrolled))
        average = self.config.enrollments_per_user
        for learner in (u for u in active_users if u.user_type in LEARNER_TYPES):
            drawn = rng.randint(max(0, average - 2), average + 2) if average else 0
            count = min(len(courses), drawn)
            for course in sorted(rng.sample(courses, count), key=lambda c: int(c.id)):
                enrollment = Enrollment(learner.id, course.id, "learner", 0)
                self.play(enrollment, course, self.pick_state(course), created[learner.id])
                result.append(enrollment)
        self.cover_states(result, by_id, created)
        result.sort(key=lambda e: (int(e.course_id), int(e.user_id)))
        return result

    def cover_states(
        self, enrollments: list[Enrollment], courses: dict[str, Course], created: dict[str, int]
    ) -> None:
        """Rewrite a few enrollments so that every state occurs when there is room for it."""
        learners = [e for e in enrollments if e.role == "learner"]
        for state in ENROLLMENT_STATES:
            counts = Counter(e.state for e in learners)
            if counts[state]:
                continue
            needs_test = state in ("passed", "failed")
            donors = [
                e
                for e in learners
                if counts[e.state] > 1 and (courses[e.course_id].has_test or not needs_test)
            ]
            if donors:
                donor = self.rng.choice(donors)
                self.play(donor, courses[donor.course_id], state, created[donor.user_id])

    def play(self, enrollment: Enrollment, course: Course, state: str, user_created: int) -> None:
        """Fill an enrollment with a plausible history that ends in ``state``."""
        rng = self.rng
        earliest = max(course.created_ts, user_created) + 3600
        if state == "expired":
            enrolled = self._between(earliest, max(earliest, self.now - 40 * DAY))
        else:
            enrolled = self._between(earliest, self.now - 2 * DAY)
        enrollment.enrolled_ts = enrolled
        enrollment.units, enrollment.completed_ts, enrollment.expired_ts = {}, None, None
        enrollment.status, enrollment.percentage, enrollment.total_seconds = "not_attempted", 0, 0
        enrollment.last_unit_id = None
        learning = course.learning_units
        if state == "not_attempted":
            return
        if state == "expired":
            enrollment.expired_ts = enrolled + int((self.now - enrolled) * rng.uniform(0.3, 0.9))
            if rng.random() < 0.3:
                return  # expired before the learner ever opened it
        plan = self.plan_units(learning, state)
        clock = enrolled
        for unit, status in plan:
            seconds = rng.randint(30, 1500)
            clock = min(clock + seconds + rng.randint(60, 3 * DAY), self.now - 60)
            if enrollment.expired_ts is not None:
                clock = min(clock, enrollment.expired_ts - 1)
            done = status in ("Completed", "Passed", "Failed")
            enrollment.units[unit.id] = UnitProgress(
                status=status,
                score=self.score(unit, status),
                completed_ts=clock if done else None,
                seconds=seconds,
            )
            enrollment.last_unit_id = unit.id
        enrollment.total_seconds = sum(p.seconds for p in enrollment.units.values())
        finished = sum(p.status in ("Completed", "Passed") for p in enrollment.units.values())
        enrollment.percentage = round(100 * finished / len(learning)) if learning else 0
        if state in ("completed", "passed", "failed"):
            enrollment.status = state
            enrollment.completed_ts = clock
            if state != "failed":
                enrollment.percentage = 100
        else:
            enrollment.status = "incomplete"

    def plan_units(self, learning: Sequence[Unit], state: str) -> list[tuple[Unit, str]]:
        """Which units a learner touched, in order, and how each one ended."""
        if state in ("completed", "passed"):
            return [(u, "Passed" if u.type == "Test" else "Completed") for u in learning]
        if state == "failed":
            plan: list[tuple[Unit, str]] = []
            for unit in learning:
                if unit.type == "Test":
                    plan.append((unit, "Failed"))
                    return plan
                plan.append((unit, "Completed"))
            return plan
        done = self.rng.randint(0, max(0, len(learning) - 1))
        plan = [(u, "Passed" if u.type == "Test" else "Completed") for u in learning[:done]]
        if done < len(learning):
            current = learning[done]
            waiting = current.type in ("Assignment", "Instructor-led training")
            plan.append((current, "Pending" if waiting else "Incomplete"))
        return plan

    def score(self, unit: Unit, status: str) -> str:
        if unit.type not in SCORED_TYPES or status in ("Incomplete", "Pending"):
            return ""
        if status == "Failed":
            return str(self.rng.randint(20, 55))
        if unit.type == "SCORM | xAPI | cmi5" and self.rng.random() < 0.5:
            return ""
        return str(self.rng.randint(70, 100))

    # -- groups, branches --------------------------------------------------------------------

    def memberships(
        self, users: list[User], courses: list[Course]
    ) -> tuple[list[Group], list[Branch]]:
        rng = self.rng
        groups = [Group(gid, name, desc, self._secret(9), "1", branch)
                  for gid, name, desc, branch in GROUPS]  # fmt: skip
        branches = [Branch(bid, name, desc, tz, lang) for bid, name, desc, tz, lang in BRANCHES]
        course_ids = [c.id for c in courses]
        containers: list[Group | Branch] = [*groups, *branches]
        for container in containers:
            size = rng.randint(1, min(4, len(course_ids)))
            container.course_ids = sorted(rng.sample(course_ids, size), key=int)
        for user in users:
            if rng.random() < 0.7:
                user.branch_ids = [rng.choice(branches).id]
            size = rng.choice((0, 1, 1, 2))
            user.group_ids = sorted(g.id for g in rng.sample(groups, size))
            user.badges = self.badges(user)
        return groups, branches


def generate_portal(config: SimulatorConfig | None = None) -> Portal:
    """Build a deterministic portal: the same config always produces the same data."""
    config = config or SimulatorConfig()
    gen = _Generator(config)
    users = gen.users(config.users, config.deleted_users)
    courses = gen.courses(config.courses, users)
    gen.units(courses)
    gen.prerequisites(courses)
    enrollments = gen.enrollments(users, courses)
    groups, branches = gen.memberships(users, courses)
    categories = [Category(cid, name, price, parent) for cid, name, parent, price in CATEGORIES]
    return Portal(config, users, courses, categories, groups, branches, enrollments)


# ---------------------------------------------------------------------------------------------
# The portal: lookups, mutations and TalentLMS JSON rendering
# ---------------------------------------------------------------------------------------------


class Portal:
    """The simulated portal's state plus renderers for every v1 response shape it serves."""

    def __init__(
        self,
        config: SimulatorConfig,
        users: list[User],
        courses: list[Course],
        categories: list[Category],
        groups: list[Group],
        branches: list[Branch],
        enrollments: list[Enrollment],
    ) -> None:
        self.config = config
        self._users = {u.id: u for u in users}
        self._courses = {c.id: c for c in courses}
        self._categories = {c.id: c for c in categories}
        self._groups = {g.id: g for g in groups}
        self._branches = {b.id: b for b in branches}
        self._enrollments = {(e.user_id, e.course_id): e for e in enrollments}
        self._unit_course = {u.id: c.id for c in courses for u in c.units}

    def copy(self, config: SimulatorConfig | None = None) -> Portal:
        """An independent deep copy (so apps never share state), optionally re-configured."""
        clone = copy.deepcopy(self)
        if config is not None:
            clone.config = config
        return clone

    # -- plain accessors (for tests and the gateway's tests) ---------------------------------

    @property
    def now(self) -> int:
        return self.config.now_ts

    @property
    def user_ids(self) -> list[str]:
        """Ids of live users, ascending, as /users lists them."""
        return [u.id for u in self._live_users()]

    @property
    def deleted_user_ids(self) -> list[str]:
        return [u.id for u in self._users.values() if u.deleted]

    @property
    def course_ids(self) -> list[str]:
        return list(self._courses)

    @property
    def counts(self) -> dict[str, int]:
        """Sizes of everything generated, for tests that check totals (siteinfo, paging)."""
        return {
            "users": len(self.user_ids),
            "deleted_users": len(self.deleted_user_ids),
            "courses": len(self._courses),
            "units": len(self._unit_course),
            "enrollments": len(self._enrollments),
            "categories": len(self._categories),
            "groups": len(self._groups),
            "branches": len(self._branches),
        }

    @property
    def enrollments(self) -> list[Enrollment]:
        """Every enrollment (learners and instructors), ordered by course then user."""
        return sorted(self._enrollments.values(), key=lambda e: (int(e.course_id), int(e.user_id)))

    def user(self, user_id: str) -> User:
        return self._live_user(user_id)

    def deleted_user(self, user_id: str) -> User:
        """A deleted user's record, which the API only answers "no longer available" for."""
        user = self._users[user_id]
        if not user.deleted:
            raise KeyError(user_id)
        return user

    def course(self, course_id: str) -> Course:
        return self._course(course_id)

    def enrollment(self, user_id: str, course_id: str) -> Enrollment | None:
        return self._enrollments.get((user_id, course_id))

    # -- internal lookups --------------------------------------------------------------------

    def _live_users(self) -> list[User]:
        return sorted((u for u in self._users.values() if not u.deleted), key=lambda u: int(u.id))

    def _live_user(self, user_id: str) -> User:
        user = self._users.get(user_id)
        if user is None:
            raise ApiError(404, "The requested user does not exist")
        if user.deleted:
            raise ApiError(404, "The requested user is no longer available")
        return user

    def _course(self, course_id: str) -> Course:
        course = self._courses.get(course_id)
        if course is None:
            raise ApiError(404, "The requested course does not exist")
        return course

    def find_user_id(self, *, email: str | None = None, login: str | None = None) -> str:
        """Resolve an email or login (case-insensitive, like the portal's MySQL collation)."""
        wanted = (email or login or "").lower()
        for user in self._users.values():
            value = user.email if email is not None else user.login
            if value.lower() == wanted:
                return user.id
        raise ApiError(404, "The requested user does not exist")

    def _fmt(self, ts: int | None) -> str:
        return format_datetime(ts, self.config.date_format, self.config.twelve_hour)

    def _user_enrollments(self, user_id: str) -> list[Enrollment]:
        rows = [e for e in self._enrollments.values() if e.user_id == user_id]
        return sorted(rows, key=lambda e: int(e.course_id))

    def _course_enrollments(self, course_id: str) -> list[Enrollment]:
        rows = [e for e in self._enrollments.values() if e.course_id == course_id]
        return sorted(rows, key=lambda e: int(e.user_id))

    # -- users -------------------------------------------------------------------------------

    @property
    def users(self) -> list[dict[str, Any]]:
        """All ``GET /users`` list items, ids ascending."""
        return [self.user_list_item(u.id) for u in self._live_users()]

    def user_list_item(self, user_id: str) -> dict[str, Any]:
        """Abridged user (reference §4.1): every value a string, ``null`` only for custom fields
        and for the bio of a user signed up through the API without one."""
        user = self._live_user(user_id)
        return {
            "id": user.id,
            "login": user.login,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "restrict_email": user.restrict_email,
            "user_type": user.user_type,
            "timezone": user.timezone,
            "language": user.language,
            "status": user.status,
            "deactivation_date": "",
            "level": user.level,
            "points": user.points,
            "created_on": self._fmt(user.created_ts),
            "last_updated": self._fmt(user.updated_ts),
            "last_updated_timestamp": str(user.updated_ts),
            "avatar": user.avatar,
            "bio": user.bio,
            "login_key": user.login_key,
            "custom_field_1": user.company,
            "custom_field_2": user.newsletter,
        }

    def user_detail(self, user_id: str) -> dict[str, Any]:
        """Full user (reference §4.2): list fields plus courses, branches, groups, certs, badges."""
        user = self._live_user(user_id)
        detail = self.user_list_item(user_id)
        detail["courses"] = [self._user_course(e) for e in self._user_enrollments(user_id)]
        detail["branches"] = [{"id": b, "name": self._branches[b].name} for b in user.branch_ids]
        detail["groups"] = [{"id": g, "name": self._groups[g].name} for g in user.group_ids]
        detail["certifications"] = self._certifications(user_id)
        detail["badges"] = [
            {
                "name": badge["name"],
                "type": badge["type"],
                "criteria": badge["criteria"],
                "image_url": badge["image_url"],
                "issued_on": self._fmt(badge["issued_ts"]),
                "issued_on_timestamp": badge["issued_ts"],
                "badge_set_id": badge["badge_set_id"],
            }
            for badge in user.badges
        ]
        return detail

    def _user_course(self, enrollment: Enrollment) -> dict[str, Any]:
        course = self._courses[enrollment.course_id]
        last_url = ""
        if enrollment.last_unit_id is not None:
            last_url = next(u.url for u in course.units if u.id == enrollment.last_unit_id)
        return {
            "id": course.id,
            "name": course.name,
            "role": enrollment.role,
            "enrolled_on": self._fmt(enrollment.enrolled_ts),
            "enrolled_on_timestamp": str(enrollment.enrolled_ts),
            "completed_on": self._fmt(enrollment.completed_ts),
            "completed_on_timestamp": _ts(enrollment.completed_ts),
            "completion_status": enrollment.status,
            "completion_status_formatted": COURSE_STATUS_LABEL[enrollment.status],
            "completion_percentage": str(enrollment.percentage),
            "expired_on": self._fmt(enrollment.expired_ts),
            "expired_on_timestamp": _ts(enrollment.expired_ts),
            "total_time": format_duration(enrollment.total_seconds if enrollment.started else None),
            "total_time_seconds": enrollment.total_seconds,
            "last_accessed_unit_url": last_url,
        }

    def _certifications(self, user_id: str) -> list[dict[str, Any]]:
        certs = []
        for enrollment in self._user_enrollments(user_id):
            course = self._courses[enrollment.course_id]
            if not course.certification or enrollment.status not in ("completed", "passed"):
                continue
            issued = enrollment.completed_ts or enrollment.enrolled_ts
            expires = issued + YEAR
            parts = (int(user_id), int(course.id), issued, issued >> 16)
            unique = "-".join(f"{part % 65536:04x}" for part in parts)
            base = f"https://{self.config.domain}"
            certs.append(
                {
                    "course_id": course.id,
                    "course_name": course.name,
                    "unique_id": unique,
                    "issued_date": format_date(issued, self.config.date_format),
                    "issued_date_timestamp": issued,
                    "expiration_date": format_date(expires, self.config.date_format),
                    "expiration_date_timestamp": expires,
                    "download_url": f"{base}/user/downloadcertification/id:{unique}",
                    "public_url": f"{base}/certification/view/id:{unique}",
                }
            )
        return certs

    def users_by_custom_field(self, value: str) -> dict[str, Any] | list[Any]:
        """Id-keyed object of abridged users; PHP renders an empty result as ``[]``."""
        found = {
            u.id: self.user_list_item(u.id)
            for u in self._live_users()
            if value in (u.company, u.newsletter)
        }
        return found or []

    # -- courses -----------------------------------------------------------------------------

    @property
    def courses(self) -> list[dict[str, Any]]:
        """All ``GET /courses`` list items."""
        return [self.course_list_item(c) for c in self._courses]

    def course_list_item(self, course_id: str) -> dict[str, Any]:
        """Course list item (reference §5.1): strings, HTML price entity, nulls for unset fields."""
        course = self._course(course_id)
        return {
            "id": course.id,
            "name": course.name,
            "code": course.code,
            "category_id": course.category_id,
            "description": course.description,
            "price": course.price,
            "status": course.status,
            "creation_date": self._fmt(course.created_ts),
            "last_update_on": self._fmt(course.updated_ts),
            "creator_id": course.creator_id,
            "hide_from_catalog": course.hide_from_catalog,
            "time_limit": "0",
            "start_datetime": None,
            "expiration_datetime": None,
            "level": course.level,
            "shared": course.shared,
            "shared_url": course.shared_url,
            "avatar": course.avatar,
            "big_avatar": course.big_avatar,
            "certification": course.certification,
            "certification_duration": course.certification_duration,
            "custom_field_1": course.owner_department,
            "custom_field_2": course.mandatory,
        }

    def course_units(self, course_id: str) -> list[dict[str, Any]]:
        """Flat, ordered ``units[]``; Sections are headers with no parent link (reference §10)."""
        units = []
        for unit in self._course(course_id).units:
            item: dict[str, Any] = {"id": unit.id, "type": unit.type, "name": unit.name}
            item["url"] = unit.url
            if unit.delay_minutes is not None:
                item["aggregated_delay_time"] = str(unit.delay_minutes)
            units.append(item)
        return units

    def course_detail(self, course_id: str) -> dict[str, Any]:
        """Full course (reference §5.2): ``users[]`` carries no completion_status."""
        course = self._course(course_id)
        detail = self.course_list_item(course_id)
        detail["users"] = [self._course_user(e) for e in self._course_enrollments(course_id)]
        detail["units"] = self.course_units(course_id)
        detail["rules"] = list(course.rules)
        detail["prerequisites"] = [
            {"course_id": pid, "course_name": self._courses[pid].name}
            for pid in course.prerequisite_ids
            if pid in self._courses
        ]
        return detail

    def _course_user(self, enrollment: Enrollment) -> dict[str, Any]:
        user = self._users[enrollment.user_id]
        return {
            "id": user.id,
            "name": _short_name(user.first_name, user.last_name),
            "role": enrollment.role,
            "enrolled_on": self._fmt(enrollment.enrolled_ts),
            "enrolled_on_timestamp": str(enrollment.enrolled_ts),
            "completed_on": self._fmt(enrollment.completed_ts),
            "completed_on_timestamp": _ts(enrollment.completed_ts),
            "completion_percentage": str(enrollment.percentage),
            "expired_on": self._fmt(enrollment.expired_ts),
            "expired_on_timestamp": _ts(enrollment.expired_ts),
            "total_time": format_duration(enrollment.total_seconds if enrollment.started else None),
            "total_time_seconds": enrollment.total_seconds,
        }

    def courses_by_custom_field(self, value: str) -> list[dict[str, Any]]:
        return [
            self.course_list_item(c.id)
            for c in self._courses.values()
            if value in (c.owner_department, c.mandatory)
        ]

    # -- categories, groups, branches --------------------------------------------------------

    def _category(self, category_id: str) -> Category:
        category = self._categories.get(category_id)
        if category is None:
            raise ApiError(404, "The requested category does not exist")
        return category

    @property
    def categories(self) -> list[dict[str, Any]]:
        return [self.category_list_item(c) for c in self._categories]

    def category_list_item(self, category_id: str) -> dict[str, Any]:
        category = self._category(category_id)
        return {
            "id": category.id,
            "name": category.name,
            "price": category.price,
            "parent_category_id": category.parent_id,
        }

    def category_detail(self, category_id: str) -> dict[str, Any]:
        detail = self.category_list_item(category_id)
        keys = ["id", "name", "description", "price", "status", "hide_from_catalog", "level"]
        keys += ["shared", "shared_url", "avatar", "big_avatar"]
        detail["courses"] = [
            {k: item[k] for k in keys}
            for item in (self.course_list_item(c.id) for c in self._courses.values())
            if item["category_id"] == category_id
        ]
        return detail

    def category_leafs_and_courses(self, category_id: str) -> dict[str, Any]:
        """Object keyed by category id: the category and all its descendants, courses + units."""
        self._category(category_id)
        wanted = [category_id]
        for category in self._categories.values():
            if category.parent_id in wanted and category.id not in wanted:
                wanted.append(category.id)
        result: dict[str, Any] = {}
        for cid in wanted:
            entry = self.category_list_item(cid)
            entry["courses"] = [
                {**self.course_list_item(c.id), "units": self.course_units(c.id)}
                for c in self._courses.values()
                if c.category_id == cid
            ]
            result[cid] = entry
        return result

    def _member_refs(self, predicate: Any) -> list[dict[str, str]]:
        return [
            {"id": u.id, "name": _short_name(u.first_name, u.last_name)}
            for u in self._live_users()
            if predicate(u)
        ]

    def _course_refs(self, course_ids: list[str]) -> list[dict[str, str]]:
        return [{"id": c, "name": self._courses[c].name} for c in course_ids if c in self._courses]

    def _group(self, group_id: str) -> Group:
        group = self._groups.get(group_id)
        if group is None:
            raise ApiError(404, "The requested group does not exist")
        return group

    @property
    def groups(self) -> list[dict[str, Any]]:
        return [self.group_list_item(g) for g in self._groups]

    def group_list_item(self, group_id: str) -> dict[str, Any]:
        group = self._group(group_id)
        return {
            "id": group.id,
            "name": group.name,
            "description": group.description,
            "key": group.key,
            "price": "&#36;0.00",
            "owner_id": group.owner_id,
            "belongs_to_branch": group.branch_id,
            "max_redemptions": None,
            "redemptions_sofar": None,
        }

    def group_detail(self, group_id: str) -> dict[str, Any]:
        group = self._group(group_id)
        detail = self.group_list_item(group_id)
        detail["users"] = self._member_refs(lambda u: group_id in u.group_ids)
        detail["courses"] = self._course_refs(group.course_ids)
        return detail

    def _branch(self, branch_id: str) -> Branch:
        branch = self._branches.get(branch_id)
        if branch is None:
            raise ApiError(404, "The requested branch does not exist")
        return branch

    @property
    def branches(self) -> list[dict[str, Any]]:
        return [self.branch_list_item(b) for b in self._branches]

    def branch_list_item(self, branch_id: str) -> dict[str, Any]:
        branch = self._branch(branch_id)
        return {
            "id": branch.id,
            "name": branch.name,
            "description": branch.description,
            "avatar": f"https://{self.config.domain}/pages/images/default_branch.svg",
            "theme": "Default",
            "badge_set_id": "1",
            "timezone": branch.timezone,
            "signup_method": "manual",
            "signup_type": "",
            "verification": "none",
            "internal_announcement": "",
            "external_announcement": "",
            "language": branch.language,
            "user_type_id": "4",
            "user_type": "Learner-Type",
            "group_id": None,
            "registration_email_restriction": "",
            "users_limit": None,
            "disallow_global_login": "0",
            "payment_processor": "paypal",
            "currency": "US Dollar",
            "paypal_email": "",
            "ecommerce_subscription": "0",
            "ecommerce_subscription_price": "&#36;0.00",
            "ecommerce_subscription_interval": "",
            "ecommerce_subscription_trial_period": "",
            "ecommerce_credits": "0",
        }

    def branch_detail(self, branch_id: str) -> dict[str, Any]:
        branch = self._branch(branch_id)
        detail = self.branch_list_item(branch_id)
        detail["users"] = self._member_refs(lambda u: branch_id in u.branch_ids)
        detail["courses"] = self._course_refs(branch.course_ids)
        return detail

    @staticmethod
    def custom_registration_fields() -> list[dict[str, Any]]:
        return copy.deepcopy(list(USER_CUSTOM_FIELDS))

    @staticmethod
    def custom_course_fields() -> list[dict[str, Any]]:
        return copy.deepcopy(list(COURSE_CUSTOM_FIELDS))

    # -- progress ----------------------------------------------------------------------------

    def _enrollment_or_error(self, user_id: str, course_id: str) -> Enrollment:
        self._live_user(user_id)
        self._course(course_id)
        enrollment = self._enrollments.get((user_id, course_id))
        if enrollment is None:
            raise ApiError(400, "The requested user is not enrolled in this course")
        return enrollment

    def user_status_in_course(self, course_id: str, user_id: str) -> dict[str, Any]:
        """``getuserstatusincourse`` (reference §6.1): Title-case statuses, Sections included."""
        enrollment = self._enrollment_or_error(user_id, course_id)
        course = self._courses[course_id]
        return {
            "role": enrollment.role,
            "enrolled_on": self._fmt(enrollment.enrolled_ts),
            "enrolled_on_timestamp": str(enrollment.enrolled_ts),
            "completion_status": COURSE_STATUS_TITLE[enrollment.status],
            "completion_percentage": str(enrollment.percentage),
            "completed_on": self._fmt(enrollment.completed_ts),
            "completed_on_timestamp": _ts(enrollment.completed_ts),
            "expired_on": self._fmt(enrollment.expired_ts),
            "expired_on_timestamp": _ts(enrollment.expired_ts),
            "total_time": format_duration(enrollment.total_seconds if enrollment.started else None),
            "total_time_seconds": enrollment.total_seconds,
            "units": [self._unit_status(unit, enrollment) for unit in course.units],
        }

    def _unit_status(self, unit: Unit, enrollment: Enrollment) -> dict[str, Any]:
        item: dict[str, Any] = {"id": unit.id, "name": unit.name, "type": unit.type}
        progress = enrollment.units.get(unit.id)
        status = progress.status if progress else "Not attempted"
        if unit.type == "Section":
            status = ""  # headers carry no progress (reference §10)
        item.update(
            {
                "completion_status": status,
                "completed_on": self._fmt(progress.completed_ts) if progress else "",
                "completed_on_timestamp": _ts(progress.completed_ts) if progress else None,
                "score": progress.score if progress else "",
                "total_time": format_duration(progress.seconds) if progress else None,
                "total_time_seconds": progress.seconds if progress else 0,
            }
        )
        return item

    def users_progress_in_unit(
        self, unit_id: str, user_id: str | None = None
    ) -> dict[str, Any] | list[dict[str, Any]]:
        """``getusersprogressinunits``: one object with user_id, else an array for the course.

        ``score`` is a numeric string when the unit has one and the integer 0 otherwise, since
        real portals mix both (reference §6.2) and clients must cope.
        """
        course_id = self._unit_course.get(unit_id)
        if course_id is None:
            raise ApiError(404, "The requested unit does not exist")
        if user_id is not None:
            enrollment = self._enrollment_or_error(user_id, course_id)
            return self._unit_progress_item(unit_id, enrollment)
        return [
            self._unit_progress_item(unit_id, e)
            for e in self._course_enrollments(course_id)
            if not self._users[e.user_id].deleted
        ]

    @staticmethod
    def _unit_progress_item(unit_id: str, enrollment: Enrollment) -> dict[str, Any]:
        progress = enrollment.units.get(unit_id)
        status = progress.status if progress else "Not attempted"
        score: str | int = progress.score if progress and progress.score else 0
        return {"user_id": enrollment.user_id, "status": status, "score": score}

    # -- portal ------------------------------------------------------------------------------

    def site_info(self) -> dict[str, Any]:
        """``siteinfo`` (reference §7.5): totals as strings, monthly_active_users an integer."""
        month_ago = self.now - 30 * DAY
        active = {
            e.user_id
            for e in self._enrollments.values()
            for p in e.units.values()
            if p.completed_ts and p.completed_ts >= month_ago
        }
        active |= {u.id for u in self._live_users() if u.updated_ts >= month_ago}
        return {
            "total_users": str(len(self._live_users())),
            "total_courses": str(len(self._courses)),
            "total_categories": str(len(self._categories)),
            "total_groups": str(len(self._groups)),
            "total_branches": str(len(self._branches)),
            "monthly_active_users": len(active),
            "signup_method": "email",
            "signup_type": "manual",
            "verification": "none",
            "paypal_email": "",
            "domain_map": "",
            "date_format": self.config.date_format,
        }

    def snapshot(self) -> dict[str, Any]:
        """Every rendered read shape at once; two equal snapshots mean identical portals."""
        return {
            "users": [self.user_detail(uid) for uid in self.user_ids],
            "courses": [self.course_detail(cid) for cid in self._courses],
            "categories": self.categories,
            "groups": [self.group_detail(gid) for gid in self._groups],
            "branches": [self.branch_detail(bid) for bid in self._branches],
            "siteinfo": self.site_info(),
        }

    # -- mutations ---------------------------------------------------------------------------

    def enroll(self, user_id: str, course_id: str, role: str, at: int) -> Enrollment:
        """``addusertocourse``: a fresh, not-attempted enrollment."""
        self._live_user(user_id)
        self._course(course_id)
        if (user_id, course_id) in self._enrollments:
            raise ApiError(400, "The requested user is already enrolled in this course")
        enrollment = Enrollment(user_id, course_id, role, at)
        self._enrollments[(user_id, course_id)] = enrollment
        return enrollment

    def unenroll(self, user_id: str, course_id: str) -> Course:
        """``removeuserfromcourse``: drop the enrollment and its progress."""
        self._enrollment_or_error(user_id, course_id)
        del self._enrollments[(user_id, course_id)]
        return self._courses[course_id]

    def reset_progress(self, user_id: str, course_id: str) -> None:
        """``resetuserprogress``: back to not attempted, keeping role and enrollment date."""
        enrollment = self._enrollment_or_error(user_id, course_id)
        fresh = Enrollment(user_id, course_id, enrollment.role, enrollment.enrolled_ts)
        self._enrollments[(user_id, course_id)] = fresh

    def set_user_status(self, user_id: str, status: str, at: int) -> User:
        """``usersetstatus``: flip active/inactive and bump last_updated like the portal does."""
        user = self._live_user(user_id)
        user.status, user.updated_ts = status, at
        return user

    def require_enrollment(self, user_id: str, course_id: str) -> Enrollment:
        """The enrollment, else the errors of ``getuserstatusincourse`` (``gotocourse``)."""
        return self._enrollment_or_error(user_id, course_id)

    def user_type_named(self, name: str) -> str:
        """A ``usersignup.user_type``: a type the portal has (any case) or a legacy name.

        The SuperAdmin type is the portal owner's and cannot be given away.
        """
        wanted = name.strip().lower()
        if wanted in USER_TYPE_ALIASES:
            return USER_TYPE_ALIASES[wanted]
        known = {*DEFAULT_USER_TYPES, *(u.user_type for u in self._users.values())}
        for user_type in sorted(known - {"SuperAdmin"}):
            if user_type.lower() == wanted:
                return user_type
        raise ApiError(400, MSG_INVALID_ARGS)

    def _check_unique(self, email: str | None, login: str | None, user_id: str = "") -> None:
        """Emails and logins are unique, case-insensitively, deleted users included (their
        records stay, as ``users/email:`` answering "no longer available" shows)."""
        others = [u for u in self._users.values() if u.id != user_id]
        if email is not None and any(u.email.lower() == email.lower() for u in others):
            raise ApiError(400, MSG_EMAIL_TAKEN)
        if login is not None and any(u.login.lower() == login.lower() for u in others):
            raise ApiError(400, MSG_LOGIN_TAKEN)

    def _portal_defaults(self) -> tuple[str, str]:
        """Time zone and language of new accounts: the portal owner's (the SuperAdmin's)."""
        owner = next((u for u in self._users.values() if u.user_type == "SuperAdmin"), None)
        return (owner.timezone, owner.language) if owner else (TIMEZONES[0], "English")

    def sign_up(self, profile: NewUser, at: int) -> User:
        """``usersignup``: a new active account with the next id, no courses, no badges.

        Checks in order: user type (400), branch, group (404), then email and login (400).
        Nothing changes unless every check passes.
        """
        user_type = self.user_type_named(profile.user_type) if profile.user_type else None
        if profile.branch_id is not None:
            self._branch(profile.branch_id)
        if profile.group_id is not None:
            self._group(profile.group_id)
        self._check_unique(profile.email, profile.login)
        timezone, language = self._portal_defaults()
        user_id = str(max((int(uid) for uid in self._users), default=0) + 1)
        base = f"https://{self.config.domain}"
        user = User(
            id=user_id,
            login=profile.login,
            first_name=profile.first_name,
            last_name=profile.last_name,
            email=profile.email,
            restrict_email=profile.restrict_email,
            user_type=user_type or "Learner-Type",
            timezone=timezone,
            language=language,
            status="active",
            level="1",
            points="0",
            created_ts=at,
            updated_ts=at,
            avatar=f"{base}/pages/images/default_user.svg",
            bio=None,
            login_key=f"{base}/index/autologin/key:{secrets.token_hex(20)}",
            company=profile.company,
            newsletter=profile.newsletter,
            branch_ids=[profile.branch_id] if profile.branch_id else [],
            group_ids=[profile.group_id] if profile.group_id else [],
            password_digest=password_digest(profile.password),
        )
        self._users[user_id] = user
        return user

    def edit_user(
        self, user_id: str, changes: dict[str, str], password: str | None, at: int
    ) -> User:
        """``edituser``: set the given fields (``USER_EDIT_FIELDS`` keys) and bump
        last_updated. The user must be live; a new email or login must be nobody else's."""
        user = self._live_user(user_id)
        self._check_unique(changes.get("email"), changes.get("login"), user_id)
        for name, value in changes.items():
            setattr(user, USER_EDIT_FIELDS[name], value)
        if password is not None:
            user.password_digest = password_digest(password)
        user.updated_ts = at
        return user


def password_digest(password: str) -> str:
    """A salted SHA-256 of ``password``: enough for a simulator that never logs anyone in,
    and nothing that could show the password itself."""
    salt = secrets.token_hex(8)
    return f"sha256${salt}${hashlib.sha256((salt + password).encode()).hexdigest()}"
