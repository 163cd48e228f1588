"""What the writes take: a new user, a user's changes. Plain values, checked by the schema."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Final

__all__ = ["EMAIL", "NewUser", "UserChanges"]

# An e-mail address as both LMSs accept one: something@domain.tld, no blanks. Stricter checks
# are the LMS's; this one refuses, before any call, what no LMS would take.
EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class NewUser:
    first_name: str
    last_name: str
    email: str
    username: str
    password: str | None = None  # never logged; the LMS may require one (TalentLMS does)

    def __repr__(self) -> str:
        return f"NewUser(email={self.email!r}, username={self.username!r})"


@dataclass(frozen=True)
class UserChanges:
    """The fields to change; ``None`` leaves a field as it is."""

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    username: str | None = None
    password: str | None = None

    def __repr__(self) -> str:
        changed = [f.name for f in fields(self) if getattr(self, f.name) is not None]
        return f"UserChanges({', '.join(changed)})"

    @property
    def empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))
