"""Tolerant parsing of TalentLMS v1 scalar values. Pure functions: no I/O, no clock.

TalentLMS v1 sends nearly everything as a JSON string (ids, counts, flags ``"0"``/``"1"``),
uses ``""`` for an empty formatted date and ``null`` for an empty timestamp, renders dates
in the portal's ``siteinfo.date_format`` (sometimes with a 12-hour clock), durations as
``"3m 17s"`` and prices with HTML entities (``"&#36;0.00"``) — reference §8. Several of
these details are only inferred ([I]), so every parser here accepts the documented form
plus its plausible variants and answers ``None`` instead of raising for anything else:
a wrong guess must cost one empty field, never a failed request.
"""

from __future__ import annotations

import enum
import html
import math
import re
from datetime import UTC, datetime, tzinfo

__all__ = [
    "DateFormat",
    "best_datetime",
    "currency_symbol",
    "duration_seconds",
    "flag",
    "integer",
    "is_id",
    "number",
    "portal_datetime",
    "price",
    "text",
    "unix_time",
]


class DateFormat(enum.StrEnum):
    """Order of day, month and year in a portal's formatted dates (``siteinfo.date_format``)."""

    DDMMYYYY = "DDMMYYYY"
    MMDDYYYY = "MMDDYYYY"
    YYYYMMDD = "YYYYMMDD"

    @classmethod
    def parse(cls, value: object) -> DateFormat | None:
        """Read a ``date_format`` setting; ``None`` when it is missing or not one of the three.

        Case, whitespace and separators are ignored, so ``"dd/mm/yyyy"`` and PHP-style
        ``"d/m/Y"`` are understood too: configuration is typed by people.
        """
        if isinstance(value, DateFormat):
            return value
        if not isinstance(value, str):
            return None
        key = re.sub(r"[^A-Za-z]", "", value).upper()
        return _DATE_FORMAT_ALIASES.get(key)


_DATE_FORMAT_ALIASES: dict[str, DateFormat] = {
    "DDMMYYYY": DateFormat.DDMMYYYY,
    "DMY": DateFormat.DDMMYYYY,
    "MMDDYYYY": DateFormat.MMDDYYYY,
    "MDY": DateFormat.MMDDYYYY,
    "YYYYMMDD": DateFormat.YYYYMMDD,
    "YMD": DateFormat.YYYYMMDD,
}


def is_id(value: object) -> bool:
    """TalentLMS ids are short decimal strings; anything else names no record."""
    return isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18


def text(value: object) -> str | None:
    """A trimmed string, or ``None`` for ``None``/blank.

    Numbers become their decimal text (``7`` → ``"7"``, ``7.0`` → ``"7"``) because ids
    arrive as ``"7"`` from most endpoints but as ``7`` from some (``usersignup``).
    Booleans and containers are not text and give ``None``.
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


def number(value: object) -> float | None:
    """A finite float from a number or numeric string; a trailing ``%`` is allowed.

    ``completion_percentage`` is ``"0"``…``"100"`` (decimals [I]) and test scores read
    ``"100.00%"``, so both forms are accepted. Booleans are not numbers here.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str):
        stripped = value.strip().removesuffix("%").strip()
        if "_" in stripped:  # float() reads "1_000"; TalentLMS never writes it
            return None
        try:
            result = float(stripped)
        except ValueError:
            return None
    else:
        return None
    return result if math.isfinite(result) else None


def integer(value: object) -> int | None:
    """An int from an int, an integral float or a numeric string; ``None`` otherwise.

    ``"12.0"`` gives 12 but ``"12.5"`` gives ``None``: silently truncating would invent data.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        stripped = value.strip()
        if re.fullmatch(r"[+-]?\d+", stripped):
            return int(stripped)
        if "_" in stripped:
            return None
        try:
            value = float(stripped)
        except ValueError:
            return None
    if not isinstance(value, float) or not math.isfinite(value) or not value.is_integer():
        return None
    return int(value)


_TRUE = frozenset({"1", "on", "yes", "true"})
_FALSE = frozenset({"0", "off", "no", "false"})


def flag(value: object) -> bool | None:
    """A boolean from TalentLMS flags: ``"1"``/``"0"``, ``"on"``/``"off"``, ``"yes"``/``"no"``.

    Any case; JSON booleans and the numbers 1/0 too. Anything else is unknown (``None``),
    not false, so a new spelling is never mistaken for "off".
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


_UNIX = re.compile(r"\d+(?:\.\d+)?")


def unix_time(value: object) -> datetime | None:
    """An aware UTC datetime from Unix seconds (string or number).

    ``*_timestamp`` fields are strings in user and enrollment objects, integers elsewhere
    (reference §8.1). ``0`` and negatives mean "never" in practice and give ``None``.
    """
    if isinstance(value, bool):
        return None
    seconds: float
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and _UNIX.fullmatch(value.strip()):
        seconds = float(value.strip())
    else:
        return None
    if not math.isfinite(seconds) or seconds <= 0:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


# "25/12/2019, 03:58:40", "12/25/2019, 3:58 pm", "2019-12-25 03:58", "06/08/2019".
_FORMATTED = re.compile(
    r"""
    (?P<a>\d{1,4}) \s*[/.\-]\s* (?P<b>\d{1,2}) \s*[/.\-]\s* (?P<c>\d{1,4})
    (?:
        (?:\s*,\s*|\s+)
        (?P<hour>\d{1,2}) : (?P<minute>\d{2}) (?: : (?P<second>\d{2}) )?
        \s* (?P<meridiem>[ap]\.?\s?m\.?)?
    )?
    """,
    re.IGNORECASE | re.VERBOSE,
)


def portal_datetime(value: object, date_format: DateFormat, tz: tzinfo = UTC) -> datetime | None:
    """An aware UTC datetime from a TalentLMS formatted date, or ``None``.

    The day/month/year order comes from the portal's ``date_format``. Accepted: 24-hour
    ``"25/12/2019, 03:58:40"``, 12-hour ``"…, 03:58:40 PM"`` / ``"…, 3:58 pm"`` (the exact
    12-hour layout is [I]), no seconds (``"23/08/2020, 06:30"``), date only
    (``"06/08/2019"``), ``-`` or ``.`` as date separators, and — as a fallback for portals
    or fields that already speak it — ISO 8601. A value without an offset is read as wall
    time in ``tz`` (the portal's zone is [I], so the caller decides); a ``datetime`` passes
    through the same way. Never raises.
    """
    if isinstance(value, datetime):
        return _to_utc(value, tz)
    if not isinstance(value, str):
        return None
    stripped = value.strip()
    if not stripped:
        return None
    match = _FORMATTED.fullmatch(stripped)
    if match is not None:
        parsed = _from_match(match, date_format)
        if parsed is not None:
            return _to_utc(parsed, tz)
    return _iso(stripped, tz)


def _from_match(match: re.Match[str], date_format: DateFormat) -> datetime | None:
    """The naive datetime a formatted-date match denotes under ``date_format``."""
    a, b, c = match.group("a"), match.group("b"), match.group("c")
    if date_format is DateFormat.DDMMYYYY:
        day, month, year = a, b, c
    elif date_format is DateFormat.MMDDYYYY:
        month, day, year = a, b, c
    else:
        year, month, day = a, b, c
    if len(year) != 4 or len(day) > 2:
        return None
    hour = int(match.group("hour") or 0)
    meridiem = (match.group("meridiem") or "").lower()
    if meridiem.startswith("p") and hour < 12:
        hour += 12
    elif meridiem.startswith("a") and hour == 12:
        hour = 0
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            hour,
            int(match.group("minute") or 0),
            int(match.group("second") or 0),
        )
    except ValueError:
        return None


def _iso(value: str, tz: tzinfo) -> datetime | None:
    """ISO 8601 fallback: portals or fields that already speak it need no date order."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return _to_utc(parsed, tz)


def _to_utc(value: datetime, tz: tzinfo) -> datetime | None:
    """Naive wall time is read in ``tz``; the result is always aware UTC."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=tz)
    try:
        return aware.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def best_datetime(
    timestamp: object,
    formatted: object,
    date_format: DateFormat | None,
    tz: tzinfo = UTC,
) -> datetime | None:
    """The instant from a ``*_timestamp`` twin, else from its formatted string.

    The timestamp is exact; the formatted string depends on the portal's date order and an
    undocumented zone, so it is used only as a fallback and only when the order is known —
    guessing the order would silently swap day and month.
    """
    exact = unix_time(timestamp)
    if exact is not None:
        return exact
    if date_format is None:
        return None
    return portal_datetime(formatted, date_format, tz)


# Digits with optional grouping and a decimal part, e.g. "1,234.50", "1.234,50", "49".
_AMOUNT = re.compile(r"-?\d[\d.,\s\u00a0\u202f']*")


def price(value: object) -> float | None:
    """The amount of a formatted price: ``"&#36;0.00"`` → 0.0, ``"&euro;1,234.50"`` → 1234.5.

    HTML entities are decoded and currency symbols or codes dropped (reference §8.4). With
    both ``,`` and ``.`` present the last one is the decimal mark; a lone ``,`` is a decimal
    mark unless exactly three digits follow it (then it groups thousands).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return number(value)
    if not isinstance(value, str):
        return None
    match = _AMOUNT.search(html.unescape(value))
    if match is None:
        return None
    amount = re.sub(r"[\s\u00a0\u202f']", "", match.group()).rstrip(".,")
    comma, dot = amount.rfind(","), amount.rfind(".")
    if comma >= 0 and dot >= 0:
        decimal_mark = "," if comma > dot else "."
    elif comma >= 0:
        groups = amount.split(",")
        decimal_mark = "," if len(groups) == 2 and len(groups[1]) != 3 else ""
    elif amount.count(".") > 1:
        decimal_mark = ""
    else:
        decimal_mark = "."
    thousands = {",": ".", ".": ",", "": ",."}[decimal_mark]
    for mark in thousands:
        amount = amount.replace(mark, "")
    if decimal_mark == ",":
        amount = amount.replace(",", ".")
    return number(amount)


def currency_symbol(value: object) -> str | None:
    """The currency marker of a formatted price (``"&#36;0.00"`` → ``"$"``), or ``None``."""
    if not isinstance(value, str):
        return None
    symbol = _AMOUNT.sub(" ", html.unescape(value)).strip()
    return symbol or None


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([dhms])", re.IGNORECASE)
_DURATION = re.compile(r"\s*(?:\d+(?:\.\d+)?\s*[dhms]\s*)+", re.IGNORECASE)
_CLOCK = re.compile(r"\s*(?:(\d+):)?(\d{1,2}):(\d{2})\s*")
_UNIT_SECONDS = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}


def duration_seconds(value: object) -> int | None:
    """Seconds from a readable duration: ``"0s"``, ``"3m 17s"``, ``"1h 2m 3s"``, ``"2d 1h"``.

    Only minutes and seconds are documented; hours and days are [I], so ``d``/``h`` units and
    a clock form ``"1:02:03"`` are accepted too. A bare number is taken as seconds.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value) if math.isfinite(value) and value >= 0 else None
    if not isinstance(value, str) or not value.strip():
        return None
    if _DURATION.fullmatch(value):
        total = sum(
            float(amount) * _UNIT_SECONDS[unit.lower()]
            for amount, unit in _DURATION_PART.findall(value)
        )
        return round(total)
    clock = _CLOCK.fullmatch(value)
    if clock is not None:
        hours, minutes, seconds = (int(part or 0) for part in clock.groups())
        return hours * 3_600 + minutes * 60 + seconds
    bare = integer(value)
    return bare if bare is not None and bare >= 0 else None
