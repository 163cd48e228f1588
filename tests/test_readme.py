"""The README's GraphQL examples run against the demo gateway as printed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.config import Settings
from tests.conftest import counted, gateway_client

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
EXAMPLES = re.findall(r"```graphql\n(.*?)```", README, re.S)


def test_the_readme_has_examples():
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: " ".join(e.split())[:40])
async def test_readme_example_runs_without_errors(example):
    # The Federation section's example needs the subgraph mode.
    settings = Settings(lms_gateway_federation=True) if "_entities" in example else None
    async with gateway_client(settings) as client:
        body = (await client.post("/graphql", json={"query": example})).json()
    assert "errors" not in body
    assert all(value is not None for value in body["data"].values())


async def test_readme_example_result_is_what_the_gateway_answers():
    async with gateway_client() as client:
        body = (await client.post("/graphql", json={"query": EXAMPLES[0]})).json()
    user = body["data"]["user"]
    assert (user["name"], user["role"]) == ("Ingrid Rossi", "LEARNER")
    statuses = [n["status"] for n in user["enrollments"]["nodes"]]
    assert statuses == ["ENROLLED", "COMPLETED"]
    assert counted(body["extensions"]["upstream"]) == {
        "calls": 3,
        "byEndpoint": {"courses/id": 2, "users/id": 1},
        "cacheHits": 0,
        "retries": 0,
    }


def test_the_configuration_table_lists_every_setting():
    from gateway.config import Settings

    missing = [name.upper() for name in Settings.model_fields if name.upper() not in README]
    assert not missing, f"README's configuration table lacks {missing}"


def _configuration_rows() -> dict[str, str]:
    """Variable → default cell of the configuration tables; a row of ``A` / `B`` with a
    default of ``x` / `y`` gives each its own, and one default applies to every name."""
    rows: dict[str, str] = {}
    for line in README.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not re.fullmatch(r"`[A-Z_]+`( / `[A-Z_]+`)*", cells[0]):
            continue
        names = re.findall(r"`([A-Z_]+)`", cells[0])
        defaults = cells[1].split(" / ") if len(names) > 1 else [cells[1]]
        if len(defaults) == 1:
            defaults *= len(names)
        assert len(defaults) == len(names), line
        rows.update(zip(names, defaults, strict=True))
    return rows


def _shown(value: object) -> str | None:
    """How the table writes a default: `true`, `30` for 30.0, an enum's value; ``None`` when
    the table describes it in words (unset, or a structure)."""
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float) and value.is_integer():
        return f"`{int(value)}`"
    return f"`{getattr(value, 'value', value)}`"


def test_the_configuration_table_shows_every_default():
    from gateway.config import Settings

    rows = _configuration_rows()
    wrong = {}
    for name, field in Settings.model_fields.items():
        expected = _shown(field.get_default(call_default_factory=True))
        cell = rows.get(name.upper())
        if cell is None or (expected is not None and cell != expected):
            wrong[name.upper()] = (cell, expected)
        elif expected is None and cell.startswith("`"):
            wrong[name.upper()] = (cell, "— or words: it has no simple default")
    assert not wrong, f"README's configuration table disagrees with Settings: {wrong}"
