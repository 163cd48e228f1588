"""Tolerant parsing of LearnWorlds v2 scalar values. Pure functions: no I/O, no clock.

LearnWorlds sends date-times as Unix **seconds**: floats with microseconds on records
(``created: 1587639230.083278``), integers elsewhere (an enrollment's ``created``, a progress
row's ``completed_at``). A float with a zero fraction loses it (``52.0`` arrives as ``52``),
so every number field may be an int or a float. Strings and booleans are often ``null``,
names often ``""``. Ids are strings: 24-hex user, group and unit ids, course slugs, section
ids like ``testu_introduction``, and odd unit ids (``testunits_1630502789550_0``, ``null``).
Which of these forms a given school sends is partly inferred ([I] in
``docs/learnworlds-mapping.md``), so every parser here accepts the documented form plus its
plausible variants and answers ``None`` instead of raising: a wrong guess must cost one empty
field, never a failed request.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

__all__ = [
    "flag",
    "integer",
    "is_key",
    "iso",
    "number",
    "seconds",
    "strings",
    "text",
    "ts",
]


def text(value: object) -> str | None:
    """A trimmed string, or ``None`` for ``None``/blank.

    Numbers become their decimal text (``7`` → ``"7"``, ``7.0`` → ``"7"``): an id or a label
    sent as a number is still readable. Booleans and containers are not text and give ``None``.
    """
    if isinstance(value, str):
        stripped = value.strip()
        return stripped or None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return str(int(value)) if value.is_integer() else str(value)
    return None


_NUMERIC = re.compile(r"[+-]?\d+(?:\.\d+)?")


def number(value: object) -> float | None:
    """A finite float from an int, a float or a numeric string (``"100.23"``).

    ``52`` and ``52.0`` agree (LearnWorlds drops a zero fraction). Booleans are not numbers.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str) and _NUMERIC.fullmatch(value.strip()):
        result = float(value.strip())
    else:
        return None
    return result if math.isfinite(result) else None


def integer(value: object) -> int | None:
    """An int from ``12``, ``12.0`` or ``"12"``; ``None`` for ``12.5``, booleans and garbage.

    Silently truncating a fraction would invent data.
    """
    amount = number(value)
    if amount is None or not amount.is_integer():
        return None
    return int(amount)


def seconds(value: object) -> int | None:
    """A duration in whole seconds: a non-negative number, rounded (``12.6`` → 13).

    ``time_on_course`` and ``unit_duration`` are integers in every example; a fractional
    value, if one ever comes, is a measurement, so it is rounded rather than dropped.
    """
    amount = number(value)
    if amount is None or amount < 0:
        return None
    return round(amount)


_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})


def flag(value: object) -> bool | None:
    """A boolean from ``true``/``false``, ``1``/``0`` or their strings, in any case.

    Anything else, ``null`` included, is unknown (``None``), not false: LearnWorlds' nullable
    booleans (``eu_customer``) mean "not asked", and a new spelling must not read as "off".
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if value == 1:
            return True
        if value == 0:
            return False
        return None
    if isinstance(value, str):
        key = value.strip().lower()
        if key in _TRUE:
            return True
        if key in _FALSE:
            return False
    return None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Unix seconds reach 10**12 only in the year 33658: a value that large is milliseconds.
_MILLISECONDS_FROM = Decimal(10**12)
_MICRO = Decimal(1_000_000)


def ts(value: object) -> datetime | None:
    """An aware UTC datetime from Unix seconds: an int, a float or a numeric string.

    Microseconds are kept exactly as written (``1587639230.083278`` → ``.083278``), since the
    float's shortest decimal form is what LearnWorlds sent. A value of 10¹² or more is read
    as milliseconds ([I]: no source shows one). ``0``, negatives, blanks and garbage are
    ``None``. An ISO 8601 string (an old example's ``created_at``) is accepted too, a naive
    one as UTC.
    """
    if isinstance(value, bool):
        return None
    amount: Decimal
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            return None
        amount = Decimal(repr(value))
    elif isinstance(value, str):
        stripped = value.strip()
        if not _NUMERIC.fullmatch(stripped):
            return _iso_datetime(stripped)
        try:
            amount = Decimal(stripped)
        except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
            return None
    else:
        return None
    if amount <= 0:
        return None
    if amount >= _MILLISECONDS_FROM:
        amount /= 1000
    micro = int((amount * _MICRO).to_integral_value(rounding=ROUND_HALF_EVEN))
    try:
        return _EPOCH + timedelta(microseconds=micro)
    except OverflowError:
        return None


def _iso_datetime(value: str) -> datetime | None:
    """ISO 8601 (``"2021-09-08T15:39:51+03:00"``, ``"…Z"``) as aware UTC; naive is UTC."""
    if not value or not value[0].isdigit():
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    aware = parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    try:
        return aware.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z`` suffix, for JSON-only places (custom fields)."""
    if value is None:
        return None
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def strings(value: object) -> list[str]:
    """The non-blank strings of a list (tags, categories), trimmed, in order, repeats dropped.

    ``null`` is ``[]`` (old examples send ``tags: null``, ``categories: null``); a single
    string is a one-element list; entries that are not text are left out.
    """
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        return []
    result: list[str] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            continue
        label = text(item)
        if label is not None and label not in result:
            result.append(label)
    return result


# One id inside a composite remote id or a path segment: no blanks, no URL delimiters and
# no ":" (the separator of "{userId}:{slug}" and "{slug}:{itemId}").
_KEY = re.compile(r"[^\s:/?#\\%]{1,200}")


def is_key(value: object) -> bool:
    """Whether ``value`` can be one LearnWorlds id in a composite id or a URL path.

    User ids (24-hex), course slugs, section ids and unit ids all qualify; anything with a
    blank, ``:``, ``/``, ``?``, ``#``, ``\\`` or ``%`` names no record and is refused before it
    reaches a request path.
    """
    return isinstance(value, str) and _KEY.fullmatch(value) is not None
