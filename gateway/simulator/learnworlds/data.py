"""Deterministic demo data for the LearnWorlds simulator, and the JSON shapes it renders.

A small internal model (users, courses with sections and learning units, enrollments with
per-unit progress, user groups) from which the v2 response bodies are rendered on demand
(``shared/reference/learnworlds-api.md`` §4), so every view of one record agrees: a user's
courses, their progress, a course's users and a group's members all read the same enrollment.

Everything is driven by ``random.Random(config.seed)`` and ``config.now``, never by the global
random generator or the wall clock: the same config always yields identical JSON.
"""

from __future__ import annotations

import copy
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..faults import COMMON_FAULT_KINDS, FaultRule, fault_rules

__all__ = [
    "CUSTOM_FIELDS",
    "DEFAULT_NOW",
    "FAULT_KINDS",
    "MSG_ALREADY_OWNED",
    "MSG_EMAIL_TAKEN",
    "MSG_NOT_ENROLLED",
    "MSG_NOT_FOUND",
    "MSG_USERNAME_TAKEN",
    "MSG_USERS_NOT_FOUND",
    "PROFILE_KEYS",
    "PROGRESS_STATUSES",
    "ROLE_LEVELS",
    "UNIT_TYPES",
    "UTM_KEYS",
    "ApiError",
    "Course",
    "Enrollment",
    "LearnWorldsConfig",
    "School",
    "Section",
    "Unit",
    "UnitProgress",
    "User",
    "UserGroup",
    "generate_school",
]

DEFAULT_NOW = 1767225600  # 2026-01-01T00:00:00Z, as the TalentLMS simulator: dates never drift
DAY = 86_400
YEAR = 365 * DAY

# The fault kinds this simulator knows: every common one and LearnWorlds's own.
FAULT_KINDS = (*COMMON_FAULT_KINDS, "revoked_key", "expired_token")
PROGRESS_STATUSES = ("not_started", "not_completed", "completed")  # reference §4.3, no other
ROLE_LEVELS = ("admin", "instructor", "reporter", "user")  # what GET /v2/users?role= filters
# Learning-unit types seen in the spec and live clients (reference §4.5): (type, icon, subtitle).
UNIT_TYPES = {
    "ivideo": ("video", "video"),
    "video": ("video", "video"),
    "youtube": ("video", "youtube video"),
    "audio": ("audio", "audio"),
    "pdf": ("pdf", "pdf"),
    "ebook": ("ebook", "ebook"),
    "url": ("url", "external page"),
    "embed": ("embed", "embed"),
    "scorm": ("scorm", "SCORM/HTML 5 Package"),
    "assessmentV2": ("exam", "Assessment"),
    "newSurvey": ("survey", "Survey"),
    "certificate": ("certification", "certificate"),
}
TIMED_TYPES = ("ivideo", "video", "youtube", "audio")  # units with a unit_duration
SCORED_TYPES = ("assessmentV2", "scorm")  # units with a score_on_unit

# The spec's own wording (reference §5): one generic not-found body, and the group members' one.
MSG_NOT_FOUND = "Sorry the resource your trying to access does not exist."
MSG_USERS_NOT_FOUND = "Users not found"
# Refusals of writes, body shape 2 with a 400. A production client treats an enrollment answer
# containing "Product is already owned" as "already enrolled" (docs/learnworlds-mapping.md,
# C16); the other three are ours: no source records LearnWorlds's words for them.
MSG_ALREADY_OWNED = "Product is already owned"
MSG_NOT_ENROLLED = "The user is not enrolled in this product"
MSG_EMAIL_TAKEN = "A user with this email already exists"
MSG_USERNAME_TAKEN = "A user with this username already exists"


class ApiError(Exception):
    """A LearnWorlds error answer in body shape 2: ``{"error": message}`` with a status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class LearnWorldsConfig:
    """Everything that shapes the simulated school and how it answers.

    ``rate_limit`` calls per ``rate_window`` seconds per client (0 lifts it); ``retry_after``
    adds a ``Retry-After`` header to the 429, which the real API is not known to send.
    ``token_lifetime`` is the ``expires_in`` of issued tokens (8000 s is the only value a
    source shows); ``static_token`` is an admin-created token accepted as well (``None``: none).
    """

    seed: int = 7
    users: int = 40
    courses: int = 8
    groups: int = 4
    suspended_users: int = 3
    enrollments_per_user: int = 3
    client_id: str = "sim-lw-client-id"
    client_secret: str = "sim-lw-client-secret-0123456789abcdef"
    static_token: str | None = "sim-lw-static-token-0123456789abcdef"
    token_lifetime: int = 8000
    latency_ms: float = 0.0
    rate_limit: int = 30
    rate_window: float = 10.0
    retry_after: bool = False
    school_host: str = "demo-school.learnworlds.local"
    now: int | None = None
    # Misbehaviour from the first call on (see ../faults.py); mappings are accepted and converted.
    faults: tuple[FaultRule, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "faults", fault_rules(self.faults, FAULT_KINDS, "LearnWorlds"))
        if self.users < 1 or self.courses < 1:
            raise ValueError("a school needs at least one user (its owner) and one course")
        if not 0 <= self.groups <= len(GROUPS):
            raise ValueError(f"groups must be between 0 and {len(GROUPS)}")
        if min(self.suspended_users, self.enrollments_per_user) < 0:
            raise ValueError("counts must not be negative")
        if self.rate_limit < 0 or not self.rate_window > 0:
            raise ValueError("rate_limit must not be negative and rate_window must be positive")
        if self.token_lifetime < 1:
            raise ValueError("token_lifetime must be at least one second")
        if self.latency_ms < 0:
            raise ValueError("latency_ms must not be negative")
        if not self.client_id or not self.client_secret or self.static_token == "":
            raise ValueError("client_id and client_secret must not be empty, nor static_token")

    @property
    def now_ts(self) -> int:
        return DEFAULT_NOW if self.now is None else self.now


# ---------------------------------------------------------------------------------------------
# Internal model
# ---------------------------------------------------------------------------------------------


@dataclass
class User:
    id: str
    email: str
    username: str
    first_name: str
    last_name: str
    level: str  # one of ROLE_LEVELS
    role_name: str
    created: float
    last_login: float | None
    suspended: bool = False
    tags: list[str] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    marketing: bool | None = False
    eu_customer: bool | None = None
    nps_score: int | None = None
    utms: dict[str, Any] | None = None  # None: the school's default (only writes set one)


@dataclass
class Unit:
    id: str
    type: str
    title: str
    duration: int  # seconds; 0 for units that are not timed


@dataclass
class Section:
    id: str
    title: str
    description: str | None
    access: str
    drip: dict[str, Any] | None
    units: list[Unit] = field(default_factory=list)


@dataclass
class Course:
    id: str  # the slug
    title: str
    description: str
    categories: list[str]
    access: str
    original_price: float
    discount_price: float
    author: str
    created: float
    modified: float
    label: str | None = None
    expires: int | None = None
    expires_type: str = "days"
    drip_feed: str = "none"
    sections: list[Section] = field(default_factory=list)

    @property
    def units(self) -> list[Unit]:
        return [unit for section in self.sections for unit in section.units]

    @property
    def final_price(self) -> float:
        return self.discount_price if self.discount_price else self.original_price


@dataclass
class UnitProgress:
    completed: bool
    rate: int  # unit_progress_rate, 0-100
    seconds: int
    score: int | None
    completed_at: int | None = None


@dataclass
class Enrollment:
    user_id: str
    course_id: str
    created: int
    expires: int | None = None
    price: float = 0
    units: dict[str, UnitProgress] = field(default_factory=dict)


@dataclass
class UserGroup:
    id: str
    title: str
    description: str | None
    course_ids: list[str]
    enroll_users_on_courses: bool
    max_number_of_users: int | None
    manager_ids: list[str]
    tags: list[str]
    created: float
    modified: float
    member_ids: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Source vocabularies
# ---------------------------------------------------------------------------------------------

FIRST_NAMES = (
    "Ana", "Bruno", "Chen", "Daniela", "Emeka", "Fatima", "Gustavo", "Hana", "Ioana", "Jonas",
    "Kavya", "Lucas", "Mariam", "Nikolai", "Olga", "Pablo", "Quynh", "Rafael", "Sara", "Tomás",
    "Uma", "Viktor", "Wanjiru", "Xavier", "Yara", "Zeynep", "Aoife", "Björn", "Chloé", "Dmitri",
)  # fmt: skip
LAST_NAMES = (
    "Silva", "Chen", "Okafor", "Haddad", "Rossi", "Nakamura", "Ivanova", "García", "Müller",
    "Kowalska", "Nguyen", "Mensah", "Larsen", "Dubois", "Papadaki", "Costa", "Ahmed", "Novak",
    "Yılmaz", "O'Connor", "Fernandes", "Schmidt", "Kariuki", "Moreau", "Lindqvist",
)  # fmt: skip
DOMAINS = ("example.org", "mail.example", "northwind.example", "contoso.example")
COMPANIES = ("Northwind Traders", "Contoso Ltd", "Globex", None, None)
COUNTRIES = ("PT", "GR", "DE", "NG", "BR", "IN", "US", "GB", None)
TEAMS = ("Blue", "Green", "Red", None)
TAGS = ("cohort-7", "cohort-8", "partner", "vip", "newsletter", "trial")
UTM_KEYS = (
    "fc_utm_source", "fc_utm_medium", "fc_utm_campaign", "fc_utm_term", "fc_utm_content",
    "fc_landing", "fc_referrer", "fc_country", "lc_utm_source", "lc_utm_medium",
    "lc_utm_campaign", "lc_utm_term", "lc_utm_content", "lc_landing", "lc_referrer",
    "lc_country",
)  # fmt: skip
PROFILE_KEYS = (
    "bio", "location", "url", "fb", "twitter", "instagram", "linkedin", "skype", "behance",
    "dribbble", "github", "phone", "address", "country", "birthday", "company", "company_size",
    "university", "graduation_year",
)  # fmt: skip
CUSTOM_FIELDS = ("cf_team", "cf_employee_id")  # the school's own sign-up fields
# (slug, title, categories, access, original price, discount price)
COURSES = (
    ("intro-to-statistics", "Intro to Statistics", ["data"], "paid", 49, 39),
    ("python-for-analysts", "Python for Analysts", ["data", "programming"], "paid", 79, 0),
    ("customer-onboarding-essentials", "Customer Onboarding Essentials", ["customer-success"],
     "free", 0, 0),
    ("gdpr-fundamentals", "GDPR Fundamentals", ["compliance"], "free", 0, 0),
    ("effective-online-teaching", "Effective Online Teaching", ["teaching"], "private", 0, 0),
    ("public-speaking-masterclass", "Public Speaking Masterclass", ["soft-skills"], "paid",
     129.9, 99.5),
    ("project-management-basics", "Project Management Basics", ["management", "soft-skills"],
     "enrollment_closed", 59, 0),
    ("advanced-excel", "Advanced Excel", ["data"], "coming_soon", 39, 0),
)  # fmt: skip
SECTION_TITLES = ("Getting started", "Core ideas", "In practice", "Going further", "Wrap-up")
UNIT_TITLES = {
    "ivideo": ("Welcome video", "Walkthrough", "Interactive lecture"),
    "video": ("Lecture", "Demo", "Case study video"),
    "youtube": ("Guest talk", "Recorded webinar"),
    "audio": ("Podcast episode", "Audio summary"),
    "pdf": ("Slides", "Cheat sheet", "Workbook"),
    "ebook": ("Course handbook", "Reading: chapter 1"),
    "url": ("Further reading", "External resource"),
    "embed": ("Interactive dashboard", "Embedded exercise"),
    "scorm": ("SCORM/HTML 5 Package", "Simulation"),
    "assessmentV2": ("Quiz", "Knowledge check", "Final exam"),
    "newSurvey": ("Course feedback", "Pulse survey"),
    "certificate": ("Certificate",),
}
BODY_TYPE_WEIGHTS = (
    ("ivideo", 10), ("video", 8), ("pdf", 7), ("youtube", 3), ("audio", 3), ("ebook", 2),
    ("url", 3), ("embed", 2), ("scorm", 3), ("assessmentV2", 4), ("newSurvey", 2),
)  # fmt: skip
# (title, description, tags, enroll members on its courses, max users): the last one is empty.
GROUPS: tuple[tuple[str, str | None, list[str], bool, int | None], ...] = (
    ("Spring 2026 Cohort", "Learners who started in spring", ["cohort-8"], True, None),
    ("Partner Academy", "Staff of our reseller partners", ["partner"], True, 25),
    ("Data Track", None, [], False, None),
    ("Alumni 2024", "Graduates of earlier cohorts", ["alumni"], False, None),
)
# Role ids of the school's built-in roles (24-hex, as every LearnWorlds id of a role).
ROLE_IDS = {
    "admin": "5f0a1b2c3d4e5f6a7b8c9d01",
    "instructor": "5f0a1b2c3d4e5f6a7b8c9d02",
    "reporter": "5f0a1b2c3d4e5f6a7b8c9d03",
    "user": "5f0a1b2c3d4e5f6a7b8c9d04",
}
ROLE_NAMES = {"admin": "Admin", "reporter": "Reporter", "user": "User"}
INSTRUCTOR_ROLE_NAMES = ("Instructor", "Course creator")
_TRANSLIT = str.maketrans({"ø": "o", "ß": "ss", "ı": "i", "'": ""})


def _ascii(text: str) -> str:
    """``"Tomás"`` → ``"tomas"``, ``"O'Connor"`` → ``"oconnor"``: e-mail local parts."""
    folded = unicodedata.normalize("NFKD", text.lower().translate(_TRANSLIT))
    return "".join(ch for ch in folded if ch.isascii() and ch.isalnum())


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", _ascii_words(text)).strip("-")


def _ascii_words(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.lower().translate(_TRANSLIT))
    return "".join(ch for ch in folded if ch.isascii())


def default_utms() -> dict[str, Any]:
    """The UTM values of a user nobody gave any: every key, landing pages ``/``."""
    return {key: ("/" if key.endswith("_landing") else None) for key in UTM_KEYS}


def access_end(course: Course, created: int) -> int | None:
    """When access bought at ``created`` ends: the course's access period (``expires`` in
    ``expiresType`` units, a month counted as 30 days as the generator does), or never."""
    if course.expires is None:
        return None
    unit = {"days": DAY, "weeks": 7 * DAY, "months": 30 * DAY}.get(course.expires_type, DAY)
    return created + course.expires * unit


def number(value: float) -> float | int:
    """A float as LearnWorlds sends it: ``52.0`` is sent as ``52`` (reference §6)."""
    return int(value) if float(value).is_integer() else value


# ---------------------------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------------------------


class _Generator:
    """One generation run. The order of rng draws is part of the determinism contract."""

    def __init__(self, config: LearnWorldsConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.now = config.now_ts
        self.ids: set[str] = set()

    def object_id(self, moment: float) -> str:
        """A 24-hex id like MongoDB's ObjectId: 4 bytes of creation time, 8 random bytes."""
        while True:
            value = f"{int(moment) & 0xFFFFFFFF:08x}" + "".join(
                self.rng.choice("0123456789abcdef") for _ in range(16)
            )
            if value not in self.ids:
                self.ids.add(value)
                return value

    def moment(self, low: float, high: float) -> float:
        """A float Unix time with microseconds, never a whole second (those lose the '.0')."""
        whole = self.rng.randint(int(low), max(int(low), int(high)))
        return round(whole + self.rng.randint(1, 999_999) / 1_000_000, 6)

    # -- users -------------------------------------------------------------------------------

    def levels(self, count: int) -> list[str]:
        """The owner first, then a few staff; learners are everyone else."""
        staff = ["admin"] * (1 if count >= 10 else 0)
        staff += ["instructor"] * (max(1, count // 12) if count >= 3 else 0)
        staff += ["reporter"] * (1 if count >= 8 else 0)
        staff = staff[: max(0, count - 2)]  # at least one learner when there is room
        rest = staff + ["user"] * (count - 1 - len(staff))
        self.rng.shuffle(rest)
        return ["admin", *rest]

    def users(self) -> list[User]:
        config = self.config
        levels = self.levels(config.users)
        emails: set[str] = set()
        users: list[User] = []
        instructors = 0
        for index, level in enumerate(levels):
            if index == 0:
                created = self.moment(self.now - 4 * YEAR, self.now - 4 * YEAR + DAY)
            else:
                created = self.moment(self.now - 3 * YEAR, self.now - 2 * DAY)
            role_name = ROLE_NAMES.get(level, "")
            if level == "instructor":
                role_name = INSTRUCTOR_ROLE_NAMES[instructors % len(INSTRUCTOR_ROLE_NAMES)]
                instructors += 1
            users.append(self.user(created, level, role_name, emails, plus=index == 3))
        learners = [u for u in users if u.level == "user"]
        count = max(0, min(config.suspended_users, len(learners) - 1))
        for user in self.rng.sample(learners, count):
            user.suspended = True
        return users

    def user(
        self, created: float, level: str, role_name: str, emails: set[str], plus: bool
    ) -> User:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        local = base = f"{_ascii(first)}.{_ascii(last)}"
        suffix = 2
        while local in emails:
            local, suffix = f"{base}{suffix}", suffix + 1
        emails.add(local)
        email = f"{local}{'+lw' if plus else ''}@{rng.choice(DOMAINS)}"
        username, first_name, last_name = f"{first} {last}", first, last
        if rng.random() < 0.12:  # signed up with a username only: no first name (reference §4.1)
            username, first_name, last_name = local, "", local
        never_logged_in = level == "user" and rng.random() < 0.1
        last_login = None if never_logged_in else self.moment(created, self.now - 3600)
        fields: dict[str, Any] = dict.fromkeys(PROFILE_KEYS)
        fields["company"] = rng.choice(COMPANIES)
        fields["country"] = rng.choice(COUNTRIES)
        fields["cf_team"] = rng.choice(TEAMS)
        fields["cf_employee_id"] = f"E{rng.randint(1000, 9999)}" if rng.random() < 0.5 else None
        tags = sorted(rng.sample(TAGS, rng.choice((0, 0, 1, 1, 2))))
        return User(
            id=self.object_id(created),
            email=email,
            username=username,
            first_name=first_name,
            last_name=last_name,
            level=level,
            role_name=role_name,
            created=created,
            last_login=last_login,
            tags=tags,
            fields=fields,
            marketing=rng.random() < 0.4,
            eu_customer=rng.choice((True, False, None)),
            nps_score=rng.choice((None, None, rng.randint(0, 10))),
        )

    # -- courses -----------------------------------------------------------------------------

    def courses(self, users: list[User]) -> list[Course]:
        rng = self.rng
        authors = [u for u in users if u.level == "instructor"] or users[:1]
        courses = []
        for index in range(self.config.courses):
            slug, title, categories, access, original, discount = COURSES[index % len(COURSES)]
            if index >= len(COURSES):
                part = index // len(COURSES) + 1
                slug, title = f"{slug}-part-{part}", f"{title}, part {part}"
            created = self.moment(self.now - 3 * YEAR, self.now - 60 * DAY)
            course = Course(
                id=slug,
                title=title,
                description=f"{title}: short lessons, practice and a final check.",
                categories=list(categories),
                access=access,
                original_price=original,
                discount_price=discount,
                author=rng.choice(authors).username,
                created=created,
                modified=self.moment(created, self.now - DAY),
                label=rng.choice((None, None, "new", "bestseller")),
            )
            courses.append(course)
        if len(courses) > 1:  # one course with an access period, so some enrollments expire
            timed = courses[1]
            timed.expires, timed.expires_type = 6, "months"
        return courses

    def contents(self, courses: list[Course]) -> None:
        rng = self.rng
        names, weights = zip(*BODY_TYPE_WEIGHTS, strict=True)
        for position, course in enumerate(courses):
            sections = rng.randint(2, 4)
            for number_ in range(sections):
                title = SECTION_TITLES[number_ % len(SECTION_TITLES)]
                drip = None
                if position == 2 and number_ == sections - 1:  # one drip-fed section
                    drip = {
                        "type": "days",
                        "date": None,
                        "days": 7,
                        "notify": True,
                        "subject": "A new section is open",
                        "body": "Hi, the next section of the course is now available.",
                    }
                    course.drip_feed = "days"
                section = Section(
                    id=f"{course.id}_{_slug(title).replace('-', '')}",
                    title=title,
                    description=rng.choice((None, f"{title} of {course.title}")),
                    access=rng.choice(("public", "public", "premium")) if number_ else "public",
                    drip=drip,
                )
                count = rng.randint(2, 4)
                types = list(rng.choices(names, weights=weights, k=count))
                if number_ == sections - 1 and rng.random() < 0.7:
                    types[-1] = "assessmentV2"
                for unit_type in types:
                    section.units.append(self.unit(course, unit_type))
                course.sections.append(section)
            if position % 3 == 0:  # a certificate closes some courses
                course.sections[-1].units.append(self.unit(course, "certificate"))
        self.cover_unit_types(courses)

    def unit(self, course: Course, unit_type: str) -> Unit:
        rng = self.rng
        if unit_type == "ebook":  # ebook ids are not hex (reference §6)
            unit_id = f"{course.id}_{rng.randint(10**9, 10**10 - 1)}_{rng.randint(1, 9)}"
        else:
            unit_id = self.object_id(course.created)
        duration = rng.randint(120, 1200) if unit_type in TIMED_TYPES else 0
        return Unit(unit_id, unit_type, rng.choice(UNIT_TITLES[unit_type]), duration)

    def cover_unit_types(self, courses: list[Course]) -> None:
        """Make every unit type appear somewhere, so mapping code meets each of them."""
        seen = {unit.type for course in courses for unit in course.units}
        missing = [t for t in UNIT_TYPES if t not in seen]
        for index, unit_type in enumerate(missing):
            course = courses[index % len(courses)]
            course.sections[0].units.append(self.unit(course, unit_type))

    # -- groups ------------------------------------------------------------------------------

    def groups(self, users: list[User], courses: list[Course]) -> list[UserGroup]:
        rng = self.rng
        learners = [u for u in users if u.level == "user"]
        staff = [u for u in users if u.level in ("admin", "instructor")]
        slugs = [c.id for c in courses if c.access not in ("coming_soon", "draft")] or [
            courses[0].id
        ]
        groups = []
        for index in range(self.config.groups):
            title, description, tags, enroll, limit = GROUPS[index]
            created = self.moment(self.now - 2 * YEAR, self.now - 30 * DAY)
            group = UserGroup(
                id=self.object_id(created),
                title=title,
                description=description,
                course_ids=sorted(rng.sample(slugs, min(len(slugs), rng.randint(1, 3)))),
                enroll_users_on_courses=enroll,
                max_number_of_users=limit,
                manager_ids=[rng.choice(staff).id] if staff and index < 2 else [],
                tags=list(tags),
                created=created,
                modified=self.moment(created, self.now - DAY),
            )
            if index < 3 and learners:  # the fourth group has no members yet
                size = min(len(learners), rng.randint(3, 8))
                group.member_ids = [u.id for u in rng.sample(learners, size)]
            groups.append(group)
        return groups

    # -- enrollments and progress ------------------------------------------------------------

    def enrollments(
        self, users: list[User], courses: list[Course], groups: list[UserGroup]
    ) -> list[Enrollment]:
        rng = self.rng
        by_slug = {c.id: c for c in courses}
        open_courses = [c for c in courses if c.access not in ("coming_soon", "draft")]
        found: dict[tuple[str, str], Enrollment] = {}

        def enroll(user: User, course: Course) -> None:
            if (user.id, course.id) in found:
                return
            start = max(user.created, course.created)
            created = rng.randint(int(start) + 1, max(int(start) + 1, self.now - DAY))
            expires = None
            if course.expires is not None:
                expires = created + course.expires * 30 * DAY
            price = 0.0
            if course.access == "paid" and rng.random() < 0.7:
                price = float(course.final_price)
            found[(user.id, course.id)] = Enrollment(user.id, course.id, created, expires, price)

        for course in open_courses:  # authors are enrolled in what they teach (once open)
            for user in users:
                if user.level == "instructor" and user.username == course.author:
                    enroll(user, course)
        for group in groups:
            if group.enroll_users_on_courses:
                members = [u for u in users if u.id in group.member_ids]
                for user in members:
                    for slug in group.course_ids:
                        enroll(user, by_slug[slug])
        learners = [u for u in users if u.level == "user"]
        auto = {m for g in groups if g.enroll_users_on_courses for m in g.member_ids}
        # One learner outside the enrolling groups has no enrollment at all (a 404 on progress).
        idle = next((u.id for u in reversed(learners) if u.id not in auto), None)
        average = self.config.enrollments_per_user
        for user in learners:
            if user.id == idle and len(learners) > 1:
                continue
            size = min(len(open_courses), max(0, round(rng.gauss(average, 1))))
            for course in rng.sample(open_courses, size):
                enroll(user, course)
        result = sorted(found.values(), key=lambda e: (e.created, e.user_id, e.course_id))
        for enrollment in result:
            self.progress(enrollment, by_slug[enrollment.course_id])
        self.cover_statuses(result, by_slug)
        return result

    def progress(self, enrollment: Enrollment, course: Course, status: str | None = None) -> None:
        """Per-unit progress for one of the three statuses, consistent with progress_rate."""
        rng = self.rng
        units = course.units
        if status is None:
            status = rng.choices(PROGRESS_STATUSES, weights=(25, 45, 30))[0]
        enrollment.units = {}
        if status == "not_started" or not units:
            return
        done = len(units) if status == "completed" else rng.randint(0, len(units) - 1)
        moment = enrollment.created
        for index, unit in enumerate(units):
            if index < done:
                seconds = self.seconds(unit)
                moment = min(self.now - 60, moment + seconds + rng.randint(60, 3 * DAY))
                enrollment.units[unit.id] = UnitProgress(
                    True, 100, seconds, self.score(unit), completed_at=moment
                )
            elif index == done:  # the unit being worked on
                rate = rng.randint(10, 90) if unit.type in TIMED_TYPES else 0
                seconds = unit.duration * rate // 100 or rng.randint(30, 300)
                enrollment.units[unit.id] = UnitProgress(False, rate, seconds, None)
                break

    def seconds(self, unit: Unit) -> int:
        if unit.duration:
            return round(unit.duration * self.rng.uniform(0.9, 1.4))
        return 0 if unit.type == "certificate" else self.rng.randint(60, 900)

    def score(self, unit: Unit) -> int | None:
        if unit.type == "assessmentV2":
            return 0 if self.rng.random() < 0.05 else self.rng.randint(45, 100)
        if unit.type == "scorm" and self.rng.random() < 0.5:
            return self.rng.randint(50, 100)
        return None

    def cover_statuses(self, enrollments: list[Enrollment], courses: dict[str, Course]) -> None:
        """Every progress status appears at least once when there are enough enrollments."""
        for status in PROGRESS_STATUSES:
            counts = Counter(status_of(e, courses[e.course_id]) for e in enrollments)
            if counts[status]:
                continue
            donors = [
                e
                for e in enrollments
                if len(courses[e.course_id].units) > 1
                and counts[status_of(e, courses[e.course_id])] > 1
            ]
            if donors:
                self.progress(donors[-1], courses[donors[-1].course_id], status)


def status_of(enrollment: Enrollment, course: Course) -> str:
    """``completed`` when every unit is, ``not_started`` when none was touched."""
    units = course.units
    if not enrollment.units:
        return "not_started"
    if units and all(
        enrollment.units.get(u.id) and enrollment.units[u.id].completed for u in units
    ):
        return "completed"
    return "not_completed"


def generate_school(config: LearnWorldsConfig | None = None) -> School:
    """Build a deterministic school: the same config always produces the same data."""
    config = config or LearnWorldsConfig()
    gen = _Generator(config)
    users = gen.users()
    courses = gen.courses(users)
    gen.contents(courses)
    groups = gen.groups(users, courses)
    enrollments = gen.enrollments(users, courses, groups)
    return School(config, users, courses, groups, enrollments)


# ---------------------------------------------------------------------------------------------
# The school: lookups and LearnWorlds JSON rendering
# ---------------------------------------------------------------------------------------------


class School:
    """The simulated school's state plus renderers for the v2 response shapes it serves.

    Lists come back in the API's order (newest created first) and unpaged: the app pages them.
    Lookups raise ``ApiError(404, …)`` with the API's body text.
    """

    def __init__(
        self,
        config: LearnWorldsConfig,
        users: list[User],
        courses: list[Course],
        groups: list[UserGroup],
        enrollments: list[Enrollment],
    ) -> None:
        self.config = config
        self._users = {u.id: u for u in sorted(users, key=lambda u: -u.created)}
        self._courses = {c.id: c for c in sorted(courses, key=lambda c: -c.created)}
        self._groups = {g.id: g for g in sorted(groups, key=lambda g: -g.created)}
        self._enrollments = {(e.user_id, e.course_id): e for e in enrollments}
        self._minted = 0  # ids handed out to records created through the API

    def copy(self, config: LearnWorldsConfig | None = None) -> School:
        """An independent deep copy (apps never share state), optionally re-configured."""
        clone = copy.deepcopy(self)
        if config is not None:
            clone.config = config
        return clone

    # -- plain accessors (for tests) ---------------------------------------------------------

    @property
    def now(self) -> int:
        return self.config.now_ts

    @property
    def users(self) -> list[User]:
        """Every user, suspended ones too, newest created first."""
        return list(self._users.values())

    @property
    def courses(self) -> list[Course]:
        return list(self._courses.values())

    @property
    def groups(self) -> list[UserGroup]:
        return list(self._groups.values())

    @property
    def enrollments(self) -> list[Enrollment]:
        """Every enrollment, oldest first."""
        return sorted(self._enrollments.values(), key=lambda e: (e.created, e.user_id))

    def enrollment(self, user_id: str, course_id: str) -> Enrollment | None:
        return self._enrollments.get((user_id, course_id))

    def status(self, enrollment: Enrollment) -> str:
        return status_of(enrollment, self._courses[enrollment.course_id])

    @property
    def counts(self) -> dict[str, int]:
        return {
            "users": len(self._users),
            "suspended_users": sum(u.suspended for u in self._users.values()),
            "courses": len(self._courses),
            "units": sum(len(c.units) for c in self._courses.values()),
            "enrollments": len(self._enrollments),
            "groups": len(self._groups),
        }

    # -- lookups -----------------------------------------------------------------------------

    def user(self, key: str, *, include_suspended: bool = True) -> User:
        """By id or e-mail (case-insensitive); a suspended user only when asked for."""
        user = self._users.get(key)
        if user is None and "@" in key:
            wanted = key.lower()
            user = next((u for u in self._users.values() if u.email.lower() == wanted), None)
        if user is None or (user.suspended and not include_suspended):
            raise ApiError(404, MSG_NOT_FOUND)
        return user

    def course(self, slug: str) -> Course:
        course = self._courses.get(slug)
        if course is None:
            raise ApiError(404, MSG_NOT_FOUND)
        return course

    def group(self, group_id: str) -> UserGroup:
        group = self._groups.get(group_id)
        if group is None:
            raise ApiError(404, MSG_NOT_FOUND)
        return group

    def user_enrollments(self, user_id: str) -> list[Enrollment]:
        """A user's enrollments, newest first."""
        rows = [e for e in self._enrollments.values() if e.user_id == user_id]
        return sorted(rows, key=lambda e: (-e.created, e.course_id))

    def course_users(self, slug: str) -> list[User]:
        """Users enrolled in a course, newest created first (the spec's order)."""
        self.course(slug)
        return [u for u in self._users.values() if (u.id, slug) in self._enrollments]

    def group_members(self, group_id: str) -> list[User]:
        group = self.group(group_id)
        return [u for u in self._users.values() if u.id in group.member_ids]

    def user_groups(self, user_id: str) -> list[UserGroup]:
        return [g for g in self._groups.values() if user_id in g.member_ids]

    def filter_users(
        self,
        *,
        status: str | None = None,
        role: str | None = None,
        tags: Iterable[str] = (),
        after: float | None = None,
        before: float | None = None,
        custom: dict[str, str] | None = None,
        include_suspended: bool = False,
    ) -> list[User]:
        """``GET /v2/users``'s filters, ANDed (reference §4). ``tags`` matches any of them."""
        wanted_tags = set(tags)
        rows = []
        for user in self._users.values():
            if user.suspended and not include_suspended and status != "suspended":
                continue
            if status == "suspended" and not user.suspended:
                continue
            if status in ("paying", "non_paying") and self.is_paying(user) != (status == "paying"):
                continue
            if status == "never_logged_in" and user.last_login is not None:
                continue
            if role is not None and user.level != role:
                continue
            if wanted_tags and not wanted_tags & set(user.tags):
                continue
            if after is not None and not user.created > after:
                continue
            if before is not None and not user.created < before:
                continue
            if custom and any(str(user.fields.get(k)) != v for k, v in custom.items()):
                continue
            rows.append(user)
        return rows

    def is_paying(self, user: User) -> bool:
        return any(e.price > 0 for e in self.user_enrollments(user.id))

    def filter_courses(
        self, categories: Iterable[str] = (), access: Iterable[str] = ()
    ) -> list[Course]:
        wanted, accesses = set(categories), set(access)
        return [
            c
            for c in self._courses.values()
            if (not wanted or wanted & set(c.categories)) and (not accesses or c.access in accesses)
        ]

    # -- writes ------------------------------------------------------------------------------
    #
    # What the API's writes change (the app validates the bodies and runs each write whole
    # under its lock). Refusals raise ``ApiError`` before anything is changed, so a write is
    # applied entirely or not at all. ``now`` is Unix seconds, never before the school's "now".

    def mint_id(self, moment: float) -> str:
        """A new 24-hex id as MongoDB makes them: 4 bytes of creation time, 5 bytes fixed per
        school (drawn from the seed, so a rerun gives the same ids) and a 3-byte counter."""
        salt = random.Random(self.config.seed * 1_000_003 + 17).getrandbits(40)
        taken = {*self._users, *self._groups}
        while True:
            self._minted += 1
            value = f"{int(moment) & 0xFFFFFFFF:08x}{salt:010x}{self._minted & 0xFFFFFF:06x}"
            if value not in taken:
                return value

    def _check_unique(self, email: str | None, username: str | None, itself: User | None) -> None:
        """A new e-mail or username must be no other user's, in any case (the help centre speaks
        of "unique usernames", docs/learnworlds-mapping.md H2; the case rule is ours). The
        generated school has a few learners sharing a name; writes never add such a pair."""
        others = [user for user in self._users.values() if user is not itself]
        if email is not None and any(u.email.lower() == email.lower() for u in others):
            raise ApiError(400, MSG_EMAIL_TAKEN)
        if username is not None and any(u.username.lower() == username.lower() for u in others):
            raise ApiError(400, MSG_USERNAME_TAKEN)

    def create_user(
        self,
        *,
        email: str,
        username: str,
        now: float,
        first_name: str | None = None,
        last_name: str | None = None,
        is_admin: bool | None = None,
        fields: dict[str, Any] | None = None,
        tags: list[str] | None = None,
        marketing: bool | None = None,
        utms: dict[str, Any] | None = None,
    ) -> User:
        """``POST /v2/users``: a learner (an admin with ``is_admin``) who never logged in, the
        newest of the school. Without names, the whole username is the last name and the first
        is empty, as in the spec's examples."""
        self._check_unique(email, username, None)
        newest = max((u.created for u in self._users.values()), default=0.0)
        created = round(max(now, newest + 0.000001), 6)
        level = "admin" if is_admin else "user"
        if first_name is None and last_name is None:
            first_name, last_name = "", username
        user = User(
            id=self.mint_id(created),
            email=email,
            username=username,
            first_name=first_name or "",
            last_name=last_name or "",
            level=level,
            role_name=ROLE_NAMES[level],
            created=created,
            last_login=None,
            tags=list(tags or []),
            fields={
                **dict.fromkeys(PROFILE_KEYS),
                **dict.fromkeys(CUSTOM_FIELDS),
                **(fields or {}),
            },
            marketing=marketing,
            utms={**default_utms(), **utms} if utms else None,
        )
        self._users = {user.id: user, **self._users}  # newest first
        return user

    def update_user(self, user: User, changes: dict[str, Any]) -> User:
        """``PUT /v2/users/{id}``: the keys given (``email``, ``username``, ``first_name``,
        ``last_name``, ``is_admin``, ``fields`` and ``utms`` merged, ``tags`` replaced,
        ``marketing``). A name derived from the username follows a new username."""
        email, username = changes.get("email"), changes.get("username")
        same_email = email is not None and email.lower() == user.email.lower()
        same_name = username is not None and username.lower() == user.username.lower()
        self._check_unique(
            None if same_email else email, None if same_name else username, itself=user
        )
        if username is not None:
            derived = user.first_name == "" and user.last_name == user.username
            if derived and "first_name" not in changes and "last_name" not in changes:
                user.last_name = username
            user.username = username
        if email is not None:
            user.email = email
        for key in ("first_name", "last_name"):
            if key in changes:
                setattr(user, key, changes[key] or "")
        if changes.get("is_admin") is True and user.level != "admin":
            user.level, user.role_name = "admin", ROLE_NAMES["admin"]
        elif changes.get("is_admin") is False and user.level == "admin":
            user.level, user.role_name = "user", ROLE_NAMES["user"]
        if "fields" in changes:
            user.fields.update(changes["fields"])
        if "utms" in changes:
            user.utms = {**(user.utms or default_utms()), **changes["utms"]}
        if "tags" in changes:
            user.tags = list(changes["tags"])
        if "marketing" in changes:
            user.marketing = changes["marketing"]
        return user

    def set_suspended(self, user: User, suspended: bool) -> User:
        """``PUT /v2/users/{id}/suspend`` and ``/unsuspend``; doing it twice changes nothing."""
        user.suspended = suspended
        return user

    def enroll(self, user: User, course: Course, *, now: float, price: float) -> Enrollment:
        """``POST /v2/users/{id}/enrollment`` for a course: enrolled now, the course's access
        period from now, no progress yet (``not_started``, 0 %)."""
        if (user.id, course.id) in self._enrollments:
            raise ApiError(400, MSG_ALREADY_OWNED)
        created = int(now)
        enrollment = Enrollment(user.id, course.id, created, access_end(course, created), price)
        self._enrollments[(user.id, course.id)] = enrollment
        return enrollment

    def unenroll(self, user: User, course: Course) -> None:
        """``DELETE /v2/users/{id}/enrollment`` for a course: the enrollment and its progress go."""
        if self._enrollments.pop((user.id, course.id), None) is None:
            raise ApiError(400, MSG_NOT_ENROLLED)

    # -- rendering ---------------------------------------------------------------------------

    def render_user(self, user: User) -> dict[str, Any]:
        """The User resource (reference §4.1)."""
        return {
            "id": user.id,
            "email": user.email,
            "username": user.username,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "subscribed_for_marketing_emails": user.marketing,
            "eu_customer": user.eu_customer,
            "is_admin": user.level == "admin",
            "is_instructor": user.level == "instructor",
            "is_suspended": user.suspended,
            "is_reporter": user.level == "reporter",
            "role": {"level": user.level, "name": user.role_name},
            "is_affiliate": False,
            "referrer_id": None,
            "created": user.created,
            "last_login": user.last_login,
            "signup_approval_status": None if user.level == "admin" else "passed",
            "fields": dict(user.fields),
            "tags": list(user.tags),
            "utms": dict(user.utms) if user.utms is not None else default_utms(),
            "billing_info": None,
            "nps_score": user.nps_score,
            "nps_comment": None,
        }

    def render_course(self, course: Course) -> dict[str, Any]:
        """The Course resource (reference §4.4); prices as the current spec names them."""
        return {
            "id": course.id,
            "title": course.title,
            "description": course.description,
            "categories": list(course.categories),
            "label": course.label,
            "author": {"name": course.author, "image": None},
            "courseImage": None,
            "access": course.access,
            "original_price": number(course.original_price),
            "discount_price": number(course.discount_price),
            "final_price": number(course.final_price),
            "dripFeed": course.drip_feed,
            "expires": course.expires,
            "expiresType": course.expires_type,
            "afterPurchase": {"type": "course", "settings": {"page": None, "url": None}},
            "identifiers": {"google_store_id": "", "apple_store_id": ""},
            "created": course.created,
            "modified": course.modified,
        }

    def render_contents(self, course: Course) -> dict[str, Any]:
        """``GET /v2/courses/{id}/contents`` (reference §4.5): sections → learning units."""
        return {
            "id": course.id,
            "title": course.title,
            "sections": [
                {
                    "id": section.id,
                    "title": section.title,
                    "description": section.description,
                    "access": section.access,
                    "drip": copy.deepcopy(section.drip),
                    "learningUnits": [
                        {
                            "id": unit.id,
                            "type": unit.type,
                            "icon": UNIT_TYPES[unit.type][0],
                            "title": unit.title,
                            "subtitle": UNIT_TYPES[unit.type][1],
                        }
                        for unit in section.units
                    ],
                }
                for section in course.sections
            ],
        }

    def render_enrollment(self, enrollment: Enrollment) -> dict[str, Any]:
        """A ``GET /v2/users/{id}/courses`` item (reference §4.2): int times, no status."""
        course = self._courses[enrollment.course_id]
        return {
            "created": enrollment.created,
            "expires": enrollment.expires,
            "course": self.render_course(course),
        }

    def render_progress(self, enrollment: Enrollment, with_course_id: bool) -> dict[str, Any]:
        """UserProgress (reference §4.3), with ``course_id`` in the all-courses list only."""
        course = self._courses[enrollment.course_id]
        units = course.units
        done = [p for p in enrollment.units.values() if p.completed]
        scores = [p.score for p in done if p.score is not None]
        status = status_of(enrollment, course)
        body: dict[str, Any] = {"course_id": course.id} if with_course_id else {}
        body.update(
            {
                "status": status,
                "progress_rate": number(round(100 * len(done) / len(units), 2)) if units else 0,
                "average_score_rate": number(round(sum(scores) / len(scores), 2)) if scores else 0,
                "time_on_course": sum(p.seconds for p in enrollment.units.values()),
                "total_units": len(units),
                "completed_units": len(done),
                "completed_at": max(p.completed_at or 0 for p in done)
                if status == "completed"
                else None,
                "progress_per_section_unit": [
                    {
                        "section_id": section.id,
                        "units": [
                            self._unit_progress(section, unit, enrollment.units.get(unit.id))
                            for unit in section.units
                        ],
                    }
                    for section in course.sections
                ],
            }
        )
        return body

    @staticmethod
    def _unit_progress(
        section: Section, unit: Unit, progress: UnitProgress | None
    ) -> dict[str, Any]:
        return {
            "unit_section_name": section.title,
            "unit_id": unit.id,
            "unit_name": unit.title,
            "unit_type": unit.type,
            "unit_status": "completed" if progress and progress.completed else "not_completed",
            "unit_duration": unit.duration,
            "time_on_unit": progress.seconds if progress else 0,
            "score_on_unit": progress.score if progress else None,
            "unit_progress_rate": progress.rate if progress else 0,
        }

    def render_group(self, group: UserGroup) -> dict[str, Any]:
        """The UserGroup resource (reference §4.8)."""
        managers = [self._users[m] for m in group.manager_ids if m in self._users]
        return {
            "id": group.id,
            "title": group.title,
            "description": group.description,
            "products": {"courses": list(group.course_ids)},
            "enroll_users_on_courses": group.enroll_users_on_courses,
            "max_number_of_users": group.max_number_of_users,
            "group_managers": [
                {"id": u.id, "username": u.username, "email": u.email, "role_id": ROLE_IDS[u.level]}
                for u in managers
            ],
            "tags": list(group.tags),
            "created": group.created,
            "modified": group.modified,
        }

    def snapshot(self) -> dict[str, Any]:
        """Every rendered read shape at once; two equal snapshots mean identical schools."""
        return {
            "users": [self.render_user(u) for u in self._users.values()],
            "courses": [self.render_course(c) for c in self._courses.values()],
            "contents": [self.render_contents(c) for c in self._courses.values()],
            "enrollments": [self.render_enrollment(e) for e in self.enrollments],
            "progress": [self.render_progress(e, True) for e in self.enrollments],
            "groups": [self.render_group(g) for g in self._groups.values()],
            "members": {g.id: list(g.member_ids) for g in self._groups.values()},
        }
