"""Descriptions that several schema elements share, written once.

Every type, field, argument, input field and enum value of the schema has a description
(``tests/test_schema_lint.py`` keeps it so; the rules are in docs/api.md, "Schema
conventions"). Those that mean the same thing wherever they appear live here: the four
pagination arguments, the date bounds of filters, the lookups' ``id`` and ``remoteId``, and
the fields every record has. They describe the unified meaning and name no LMS: where a
field's cost or source differs between LMSs, they say so in neutral words ("one call per
user", "null where the LMS does not record it"); the README's provider table says which LMS
fills what.
"""

from __future__ import annotations

from typing import Final

from gateway.domain.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

__all__ = [
    "AFTER",
    "ANY_OF",
    "BEFORE",
    "CREATED_AT",
    "CUSTOM_FIELDS",
    "DATE_AS_TEXT",
    "FIRST",
    "LAST",
    "LOOKUP_ID",
    "LOOKUP_REMOTE_ID",
    "NOT_RECORDED",
    "ORDER_DIRECTION",
    "ORDER_FIELD",
    "QUERY",
    "REMOTE_DATA",
    "REMOTE_QUERY",
    "UPDATED_AT",
    "after_bound",
    "before_bound",
]

QUERY: Final = (
    "The entry point of every operation: lookups of one record, the lists, and the Relay "
    "roots `node` and `nodes`."
)

# --- the Relay pagination arguments of every connection -------------------------------------

_CURSOR_SCOPE = "A cursor is accepted only by the list (and parent, filter and order) it came from."

_ONE_DIRECTION = "Give `first` or `last`, not both."

FIRST: Final = (
    f"How many records to return, counting forward from `after` (or from the start): 0 to "
    f"{MAX_PAGE_SIZE} (more is BAD_USER_INPUT), {DEFAULT_PAGE_SIZE} when neither `first` nor "
    f"`last` is given. {_ONE_DIRECTION}"
)
AFTER: Final = (
    "Start after this cursor (an `edges.cursor` or `pageInfo.endCursor` of this list). "
    + _CURSOR_SCOPE
)
LAST: Final = (
    f"How many records to return, counting back from `before` (or from the end): 0 to "
    f"{MAX_PAGE_SIZE} (more is BAD_USER_INPUT). {_ONE_DIRECTION}"
)
BEFORE: Final = (
    "End before this cursor (an `edges.cursor` or `pageInfo.startCursor` of this list). "
    + _CURSOR_SCOPE
)

# --- filters and orders ----------------------------------------------------------------------

ANY_OF: Final = "One or more values: a record with any of them matches."


def after_bound(field: str) -> str:
    """The description of a filter's inclusive lower bound on the date ``field``."""
    return (
        f"Only records whose `{field}` is at or after this time (inclusive); a record "
        f"without `{field}` does not match."
    )


def before_bound(field: str) -> str:
    """The description of a filter's exclusive upper bound on the date ``field``."""
    return (
        f"Only records whose `{field}` is before this time (exclusive); a record without "
        f"`{field}` does not match."
    )


ORDER_FIELD: Final = (
    "What to sort by. Records without a value come last in either direction; ties keep the "
    "LMS's order."
)
ORDER_DIRECTION: Final = "Ascending (the default) or descending."

REMOTE_QUERY: Final = (
    "The LMS's own list parameters, passed through: each key is checked against the LMS's "
    "allow-list for this list and each value escaped (anything else is BAD_USER_INPUT, naming "
    "the keys allowed, and makes no call). None are allowed on enrollments; which ones the "
    "other lists allow: see the README's provider table."
)

# --- lookups ---------------------------------------------------------------------------------

LOOKUP_ID: Final = (
    "The record's global id, as its `id` field gives it. An id of another type is "
    "BAD_USER_INPUT; one read under another account finds nothing."
)
LOOKUP_REMOTE_ID: Final = "The LMS's own id of the record, as its `remoteId` field gives it."

# --- fields every record has -----------------------------------------------------------------

CREATED_AT: Final = "When the record was created."
UPDATED_AT: Final = "When the record was last updated."
NOT_RECORDED: Final = "Null where the LMS does not record it."
DATE_AS_TEXT: Final = (
    "A date the LMS sends only as text is read in the LMS's date format, and is null while "
    "that format is unknown."
)
CUSTOM_FIELDS: Final = (
    "LMS and customer extras the unified fields have no place for, as a JSON object: the "
    "LMS's custom fields as sent, and source fields such as a user's language or a course's "
    "price."
)
REMOTE_DATA: Final = (
    "The LMS's own data this record was built from, as a JSON object, with secrets such as "
    "login keys and access tokens removed: as it was read (a list's item, or the detail once "
    "the detail was loaded; a record built from two answers may hold both). Selecting it "
    "costs no call."
)
