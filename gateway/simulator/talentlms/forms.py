"""What the TalentLMS v1 write endpoints accept, field by field (reference §3, §11.2).

``usersignup`` and ``edituser`` take form fields, ``gotocourse`` base64 redirects in its path.
A value the portal would not store is refused with ``Invalid arguments provided``, a weak
password with the portal's own password message; duplicates and unknown records are the
portal's business (``Portal.sign_up``, ``Portal.edit_user``). Passwords are checked here and
never put into a message, a repr or a log line.

Where the reference gives no rule (which logins, emails or time zones a portal accepts), the
rules are deliberately plain ones, noted at each pattern.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping

from .data import MSG_INVALID_ARGS, USER_CUSTOM_FIELDS, USER_EDIT_FIELDS, ApiError, NewUser

__all__ = [
    "EDIT_FIELDS",
    "MSG_WEAK_PASSWORD",
    "SIGNUP_OPTIONAL",
    "SIGNUP_REQUIRED",
    "check_password",
    "decode_redirect",
    "edit_changes",
    "hidden_options",
    "signup_profile",
]

MSG_WEAK_PASSWORD = (
    "Password is not strong enough (should have at least (1) upper case letter, at least (1) "
    "lower case letter, at least (1) number, at least (8) characters in length)"
)
MIN_PASSWORD_LENGTH = 8

CUSTOM_FIELD_TYPES = {str(f["key"]): str(f["type"]) for f in USER_CUSTOM_FIELDS}
SIGNUP_REQUIRED = ("first_name", "last_name", "email", "login", "password")
SIGNUP_OPTIONAL = ("user_type", "branch_id", "group_id", "restrict_email", *CUSTOM_FIELD_TYPES)
EDIT_FIELDS = (*USER_EDIT_FIELDS, "password")  # besides the required user_id

# [I] A plain address: no spaces, one "@", a dotted domain. Commas and colons are out too:
# an address holding them could never be looked up through ``users/email:`` path parameters.
EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# [I] Letters, digits and . _ @ + -, as every generated and documented login is.
LOGIN = re.compile(r"[A-Za-z0-9._@+-]{1,150}")
# [I] TalentLMS time zones are labels like "(GMT +02:00) Athens" (reference §4.1).
TIMEZONE = re.compile(r"\(GMT [+-]\d\d:\d\d\) \S.*")
# [I] ``header_hidden_options`` is a ``;``-separated list of option names (reference §3).
HIDDEN_OPTIONS = re.compile(r"[A-Za-z0-9_-]+(?:;[A-Za-z0-9_-]+)*")
ON_OFF = {"on": "1", "off": "0"}


def _invalid() -> ApiError:
    return ApiError(400, MSG_INVALID_ARGS)


def check_password(password: str) -> str:
    """The password, if the portal's policy takes it: upper, lower, digit, 8 characters."""
    strong = (
        len(password) >= MIN_PASSWORD_LENGTH
        and any(ch.isupper() for ch in password)
        and any(ch.islower() for ch in password)
        and any(ch.isdigit() for ch in password)
    )
    if not strong:
        raise ApiError(400, MSG_WEAK_PASSWORD)
    return password


def _name(value: str) -> str:
    if not value.strip():
        raise _invalid()
    return value


def _email(value: str) -> str:
    if not EMAIL.fullmatch(value):
        raise _invalid()
    return value


def _login(value: str) -> str:
    if not LOGIN.fullmatch(value):
        raise _invalid()
    return value


def _record_id(value: str) -> str:
    if not value.isdigit():
        raise _invalid()
    return str(int(value))


def _custom_field(key: str, value: str) -> str:
    if CUSTOM_FIELD_TYPES[key] == "checkbox" and value not in ON_OFF:
        raise _invalid()
    return value


def _checked(field: str, value: str) -> str:
    """One ``edituser`` value (``usersignup`` shares the name, email and login rules)."""
    if field in ("first_name", "last_name", "bio"):
        return _name(value)
    if field == "email":
        return _email(value)
    if field == "login":
        return _login(value)
    if field == "timezone":
        if not TIMEZONE.fullmatch(value):
            raise _invalid()
        return value
    if field == "credits":
        return _record_id(value)  # a non-negative whole number, leading zeros dropped
    return _custom_field(field, value)


def signup_profile(form: Mapping[str, str]) -> NewUser:
    """A ``usersignup`` form whose keys ``_require`` already checked, as a ``NewUser``.

    Every value is checked before the password, so a form with a bad value and a weak
    password is an argument error.
    """
    restrict = form.get("restrict_email", "off")
    if restrict not in ON_OFF:
        raise _invalid()
    profile = NewUser(
        first_name=_name(form["first_name"]),
        last_name=_name(form["last_name"]),
        email=_email(form["email"]),
        login=_login(form["login"]),
        password=form["password"],
        user_type=form.get("user_type"),
        restrict_email=ON_OFF[restrict],
        branch_id=_record_id(form["branch_id"]) if "branch_id" in form else None,
        group_id=_record_id(form["group_id"]) if "group_id" in form else None,
        company=_custom_field("custom_field_1", form["custom_field_1"])
        if "custom_field_1" in form
        else None,
        newsletter=_custom_field("custom_field_2", form.get("custom_field_2", "off")),
    )
    check_password(profile.password)
    return profile


def edit_changes(form: Mapping[str, str]) -> tuple[dict[str, str], str | None]:
    """The fields an ``edituser`` form sets (``USER_EDIT_FIELDS`` keys) and its new password.

    A form that changes nothing is an argument error: the endpoint needs at least one field.
    """
    changes = {field: _checked(field, form[field]) for field in USER_EDIT_FIELDS if field in form}
    password = form.get("password")
    if not changes and password is None:
        raise _invalid()
    if password is not None:
        check_password(password)
    return changes, password


def decode_redirect(value: str) -> str:
    """A base64 URL parameter of ``gotocourse`` (reference §1) as its http(s) URL.

    A ``+`` sent unescaped arrives as a space (path values are form-decoded); it is put back.
    """
    text = value.replace(" ", "+")
    try:
        url = base64.b64decode(text + "=" * (-len(text) % 4), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise _invalid() from None
    if not re.fullmatch(r"https?://\S+", url):
        raise _invalid()
    return url


def hidden_options(value: str) -> str:
    """``header_hidden_options``: option names separated by ``;``."""
    if not HIDDEN_OPTIONS.fullmatch(value):
        raise _invalid()
    return value
