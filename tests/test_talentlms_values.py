"""Tolerant TalentLMS scalar parsing (``gateway.providers.talentlms.values``).

Tables cover the documented forms (reference §8) and the inferred variants ([I]) the
parsers promise to tolerate; every unparseable input must give ``None``, never raise.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from gateway.providers.talentlms.values import (
    DateFormat,
    best_datetime,
    currency_symbol,
    duration_seconds,
    flag,
    integer,
    number,
    portal_datetime,
    price,
    text,
    unix_time,
)

pytestmark = pytest.mark.unit

DD, MM, YY = DateFormat.DDMMYYYY, DateFormat.MMDDYYYY, DateFormat.YYYYMMDD
LONDON = ZoneInfo("Europe/London")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("DDMMYYYY", DD),
        ("MMDDYYYY", MM),
        ("YYYYMMDD", YY),
        (" ddmmyyyy ", DD),
        ("dd/mm/yyyy", DD),
        ("MM-DD-YYYY", MM),
        ("yyyy.mm.dd", YY),
        ("d/m/Y", DD),
        ("m/d/Y", MM),
        ("Y/m/d", YY),
        (DD, DD),
        ("DDMMYY", None),
        ("", None),
        (None, None),
        (1, None),
    ],
)
def test_date_format_parse(value: object, expected: DateFormat | None) -> None:
    assert DateFormat.parse(value) is expected


def test_date_format_is_a_string() -> None:
    assert DD == "DDMMYYYY"
    assert isinstance(DD, str)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("abc", "abc"),
        ("  padded \n", "padded"),
        ("", None),
        ("   ", None),
        (None, None),
        (7, "7"),
        (0, "0"),
        (7.0, "7"),
        (7.5, "7.5"),
        (float("nan"), None),
        (True, None),
        ({"a": 1}, None),
        (["a"], None),
    ],
)
def test_text(value: object, expected: str | None) -> None:
    assert text(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12, 12),
        ("12", 12),
        (" 12 ", 12),
        ("12.0", 12),
        (12.0, 12),
        ("-3", -3),
        ("+4", 4),
        ("0", 0),
        ("12345678901234567890", 12345678901234567890),
        ("12.5", None),
        (12.5, None),
        ("1_000", None),
        ("12%", None),
        ("nan", None),
        ("inf", None),
        (True, None),
        (False, None),
        ("", None),
        (None, None),
        ("twelve", None),
        ([12], None),
    ],
)
def test_integer(value: object, expected: int | None) -> None:
    result = integer(value)
    assert result == expected
    assert result is None or type(result) is int


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12.5", 12.5),
        ("100", 100.0),
        (3, 3.0),
        (2.25, 2.25),
        ("99.5%", 99.5),
        ("100.00%", 100.0),
        (" 62.5 ", 62.5),
        ("-1", -1.0),
        ("", None),
        (None, None),
        ("n/a", None),
        ("1_000", None),
        ("nan", None),
        (float("inf"), None),
        (True, None),
        ({}, None),
    ],
)
def test_number(value: object, expected: float | None) -> None:
    result = number(value)
    assert result == expected
    assert result is None or type(result) is float


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("on", True),
        ("ON", True),
        ("yes", True),
        ("true", True),
        (" True ", True),
        (True, True),
        (1, True),
        ("0", False),
        ("off", False),
        ("Off", False),
        ("no", False),
        ("false", False),
        (False, False),
        (0, False),
        ("", None),
        (None, None),
        ("2", None),
        (2, None),
        ("maybe", None),
        ([], None),
    ],
)
def test_flag(value: object, expected: bool | None) -> None:
    assert flag(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1597989900", utc(2020, 8, 21, 6, 5)),
        (1597989900, utc(2020, 8, 21, 6, 5)),
        (" 1597989900 ", utc(2020, 8, 21, 6, 5)),
        (1597989900.0, utc(2020, 8, 21, 6, 5)),
        ("1577246330", utc(2019, 12, 25, 3, 58, 50)),
        (None, None),
        ("", None),
        ("0", None),
        (0, None),
        (-5, None),
        ("-5", None),
        ("yesterday", None),
        ("21/08/2020, 07:05:00", None),
        (True, None),
        (10**20, None),
        (float("nan"), None),
    ],
)
def test_unix_time(value: object, expected: datetime | None) -> None:
    result = unix_time(value)
    assert result == expected
    if result is not None:
        assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("value", "date_format", "expected"),
    [
        # The documented 24-hour layout in each portal order.
        ("25/12/2019, 03:58:40", DD, utc(2019, 12, 25, 3, 58, 40)),
        ("12/25/2019, 03:58:40", MM, utc(2019, 12, 25, 3, 58, 40)),
        ("2019/12/25, 03:58:40", YY, utc(2019, 12, 25, 3, 58, 40)),
        # The order decides day vs month.
        ("06/08/2019", DD, utc(2019, 8, 6)),
        ("06/08/2019", MM, utc(2019, 6, 8)),
        # 12-hour variants [I]: with/without seconds, any case, padded or not.
        ("25/12/2019, 03:58:40 PM", DD, utc(2019, 12, 25, 15, 58, 40)),
        ("25/12/2019, 03:58:40 AM", DD, utc(2019, 12, 25, 3, 58, 40)),
        ("25/12/2019, 3:58 PM", DD, utc(2019, 12, 25, 15, 58)),
        ("25/12/2019, 3:58 pm", DD, utc(2019, 12, 25, 15, 58)),
        ("25/12/2019, 3:58pm", DD, utc(2019, 12, 25, 15, 58)),
        ("25/12/2019, 3:58 p.m.", DD, utc(2019, 12, 25, 15, 58)),
        ("25/12/2019, 12:05 AM", DD, utc(2019, 12, 25, 0, 5)),
        ("25/12/2019, 12:05 PM", DD, utc(2019, 12, 25, 12, 5)),
        ("12/25/2019, 11:59:59 pm", MM, utc(2019, 12, 25, 23, 59, 59)),
        # No seconds, date only, other separators, no comma.
        ("23/08/2020, 06:30", DD, utc(2020, 8, 23, 6, 30)),
        ("06/08/2019", DD, utc(2019, 8, 6)),
        ("11-6-2019", MM, utc(2019, 11, 6)),
        ("25.12.2019, 03:58:40", DD, utc(2019, 12, 25, 3, 58, 40)),
        ("2019-12-25 03:58:40", YY, utc(2019, 12, 25, 3, 58, 40)),
        ("  25/12/2019 03:58:40  ", DD, utc(2019, 12, 25, 3, 58, 40)),
        # ISO 8601 fallback, whatever the portal order.
        ("2019-12-25T03:58:40Z", DD, utc(2019, 12, 25, 3, 58, 40)),
        ("2019-12-25T05:58:40+02:00", MM, utc(2019, 12, 25, 3, 58, 40)),
        ("2019-12-25 03:58:40", DD, utc(2019, 12, 25, 3, 58, 40)),
        ("2019-12-25", MM, utc(2019, 12, 25)),
        # Wrong order for the portal, impossible values, junk: None.
        ("12/25/2019, 03:58:40", DD, None),
        ("31/02/2020", DD, None),
        ("25/12/2019, 25:00", DD, None),
        ("25/12/19", DD, None),
        ("-", DD, None),
        ("", DD, None),
        ("   ", DD, None),
        (None, DD, None),
        (1577246320, DD, None),
        ("yesterday", DD, None),
    ],
)
def test_portal_datetime(value: object, date_format: DateFormat, expected: datetime | None) -> None:
    result = portal_datetime(value, date_format)
    assert result == expected
    if result is not None:
        assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("value", "tz", "expected"),
    [
        # Europe/London in summer (BST, +01:00) — matches the reference's example pair
        # "21/08/2020, 07:05:00" / 1597989900.
        ("21/08/2020, 07:05:00", LONDON, utc(2020, 8, 21, 6, 5)),
        ("25/12/2019, 03:58:40", LONDON, utc(2019, 12, 25, 3, 58, 40)),
        ("21/08/2020, 07:05:00", timezone(timedelta(hours=-5)), utc(2020, 8, 21, 12, 5)),
        # An explicit offset beats the portal zone.
        ("2020-08-21T07:05:00+00:00", LONDON, utc(2020, 8, 21, 7, 5)),
    ],
)
def test_portal_datetime_reads_wall_time_in_portal_zone(
    value: str, tz: timezone | ZoneInfo, expected: datetime
) -> None:
    result = portal_datetime(value, DD, tz)
    assert result == expected
    assert result is not None and result.utcoffset() == timedelta(0)


def test_portal_datetime_accepts_datetime_objects() -> None:
    assert portal_datetime(datetime(2020, 8, 21, 7, 5), DD, LONDON) == utc(2020, 8, 21, 6, 5)


@pytest.mark.parametrize(
    ("timestamp", "formatted", "date_format", "expected"),
    [
        # The timestamp wins even when the formatted twin disagrees.
        ("1597989900", "01/01/1999, 00:00:00", DD, utc(2020, 8, 21, 6, 5)),
        (1597989900, "", None, utc(2020, 8, 21, 6, 5)),
        # Fallback to the formatted string only with a known order.
        (None, "21/08/2020, 07:05:00", DD, utc(2020, 8, 21, 7, 5)),
        ("", "08/21/2020, 07:05:00", MM, utc(2020, 8, 21, 7, 5)),
        ("0", "21/08/2020, 07:05:00", DD, utc(2020, 8, 21, 7, 5)),
        (None, "21/08/2020, 07:05:00", None, None),
        (None, "2020-08-21T07:05:00Z", None, None),
        (None, "", DD, None),
        (None, None, DD, None),
    ],
)
def test_best_datetime(
    timestamp: object, formatted: object, date_format: DateFormat | None, expected: datetime | None
) -> None:
    assert best_datetime(timestamp, formatted, date_format) == expected


def test_best_datetime_uses_portal_zone_for_fallback_only() -> None:
    assert best_datetime(None, "21/08/2020, 07:05:00", DD, LONDON) == utc(2020, 8, 21, 6, 5)
    assert best_datetime("1597989900", "21/08/2020, 09:05:00", DD, LONDON) == utc(2020, 8, 21, 6, 5)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("&#36;0.00", 0.0),
        ("&#36;49.00", 49.0),
        ("&euro;1,234.50", 1234.5),
        ("$1,234,567.89", 1234567.89),
        ("1.234,50 &euro;", 1234.5),
        ("12,50 €", 12.5),
        ("€1 234,50", 1234.5),
        ("1,234", 1234.0),
        ("1.234.567", 1234567.0),
        ("&pound;19.99", 19.99),
        ("USD 49", 49.0),
        ("49", 49.0),
        (49, 49.0),
        (19.5, 19.5),
        ("", None),
        (None, None),
        ("Free", None),
        ("&#36;", None),
        (True, None),
    ],
)
def test_price(value: object, expected: float | None) -> None:
    assert price(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("&#36;0.00", "$"),
        ("&euro;1,234.50", "€"),
        ("1.234,50 &euro;", "€"),
        ("&pound;19.99", "£"),
        ("USD 49", "USD"),
        ("49", None),
        ("", None),
        (None, None),
        (49, None),
    ],
)
def test_currency_symbol(value: object, expected: str | None) -> None:
    assert currency_symbol(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0s", 0),
        ("3m 17s", 197),
        ("1m 51s", 111),
        ("9m 8s", 548),
        ("1h 2m 3s", 3723),
        ("2d 1h", 176_400),
        ("1H 2M", 3720),
        ("3m17s", 197),
        (" 45s ", 45),
        ("1:02:03", 3723),
        ("03:17", 197),
        ("197", 197),
        (197, 197),
        (0, 0),
        (None, None),
        ("", None),
        ("   ", None),
        ("-5", None),
        (-5, None),
        ("3 minutes", None),
        ("soon", None),
        (True, None),
    ],
)
def test_duration_seconds(value: object, expected: int | None) -> None:
    assert duration_seconds(value) == expected
