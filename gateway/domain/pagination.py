"""List windows and cursors, shared by every list the gateway serves.

Cursors are opaque to clients: base64 of a short digest of the list's scope (account, list,
parent, filter and order) and an offset. A cursor is only accepted by the list it came
from, so a cursor of one account, list or filter is refused by another.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import enum
import hashlib
import json
from dataclasses import dataclass

from gateway.errors import BadUserInput

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "Cursors",
    "PageArgs",
    "Window",
    "peek_offset",
]

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class PageArgs:
    """The Relay arguments of one list field."""

    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None

    @property
    def needs_total(self) -> bool:
        """``last`` without ``before`` counts from the end, which needs the list's length."""
        return self.last is not None and self.before is None


@dataclass(frozen=True, slots=True)
class Window:
    """Rows ``[start, start + count)`` of a list."""

    start: int
    count: int


class Cursors:
    """Encodes and checks the cursors of one list scope."""

    __slots__ = ("_digest", "name")

    def __init__(self, account: str, name: str, *scope: object) -> None:
        self.name = name
        # Canonical JSON, so a cursor stays valid across processes and restarts.
        key = json.dumps([account, name, *scope], sort_keys=True, default=_canonical)
        self._digest = hashlib.sha256(key.encode()).hexdigest()[:16]

    def encode(self, offset: int) -> str:
        return base64.urlsafe_b64encode(f"{self._digest}:{offset}".encode()).decode("ascii")

    def decode(self, cursor: str) -> int:
        try:
            digest, _, offset = (
                base64.urlsafe_b64decode(cursor.encode("ascii")).decode().partition(":")
            )
            value = int(offset)
        except (ValueError, UnicodeError, binascii.Error):
            raise BadUserInput(f"invalid cursor for {self.name}") from None
        if digest != self._digest or value < 0:
            raise BadUserInput(
                f"invalid cursor for {self.name}: it belongs to another list, filter or account"
            )
        return value

    def check(self, args: PageArgs) -> None:
        """Refuse arguments this list cannot accept, before anything is fetched for it."""
        self.window(args, 0 if args.needs_total else None)

    def window(self, args: PageArgs, total: int | None) -> Window:
        """The rows ``args`` ask for; ``total`` may be ``None`` unless ``args.needs_total``."""
        if args.first is not None and args.last is not None:
            raise BadUserInput(f"{self.name}: give first or last, not both")
        for name, value in (("first", args.first), ("last", args.last)):
            if value is not None and not 0 <= value <= MAX_PAGE_SIZE:
                raise BadUserInput(f"{name} must be between 0 and {MAX_PAGE_SIZE}, got {value}")
        low = self.decode(args.after) + 1 if args.after is not None else 0
        high = self.decode(args.before) if args.before is not None else total
        if high is not None:
            high = max(low, high if total is None else min(high, total))
        if args.last is not None:
            assert high is not None, "needs_total: the caller must know the list's length"
            start = max(low, high - args.last)
            return Window(start, high - start)
        first = DEFAULT_PAGE_SIZE if args.first is None else args.first
        count = first if high is None else max(0, min(first, high - low))
        return Window(low, count)


def _canonical(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, frozenset | set):
        return sorted(value, key=str)
    if isinstance(value, enum.Enum):
        return value.value
    return str(value)


def peek_offset(cursor: str | None) -> int | None:
    """The offset inside a cursor, unchecked: for estimates made before the list is known."""
    if cursor is None:
        return None
    try:
        offset = int(base64.urlsafe_b64decode(cursor.encode("ascii")).decode().partition(":")[2])
    except (ValueError, UnicodeError, binascii.Error):
        return None
    return offset if offset >= 0 else None
