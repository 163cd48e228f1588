"""The README and docs/: their GraphQL examples run against the demo gateway as printed, the
configuration table agrees with Settings, the README stays a short front door, and every
relative link resolves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.config import Settings
from tests.support import DOCS, EXAMPLES, README_EXAMPLES, ROOT, counted, gateway_client

pytestmark = pytest.mark.unit

README = (ROOT / "README.md").read_text(encoding="utf-8")
CONFIGURATION = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")


def test_the_readme_has_one_example_and_the_docs_the_rest():
    assert len(README_EXAMPLES) == 1
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: " ".join(e.split())[:40])
async def test_readme_example_runs_without_errors(example):
    # The Federation section's example needs the subgraph mode.
    settings = Settings(federation={"enabled": True}) if "_entities" in example else None
    async with gateway_client(settings) as client:
        body = (await client.post("/graphql", json={"query": example})).json()
    assert "errors" not in body
    assert all(value is not None for value in body["data"].values())


async def test_readme_example_result_is_what_the_gateway_answers():
    async with gateway_client() as client:
        body = (await client.post("/graphql", json={"query": README_EXAMPLES[0]})).json()
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
    from gateway.config import environment_variables

    missing = [name for name in environment_variables() if f"`{name}`" not in CONFIGURATION]
    assert not missing, f"docs/configuration.md's table lacks {missing}"


def _configuration_rows() -> dict[str, str]:
    """Variable → default cell of the configuration tables; a row of ``A` / `B`` with a
    default of ``x` / `y`` gives each its own, and one default applies to every name."""
    rows: dict[str, str] = {}
    for line in CONFIGURATION.splitlines():
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
    from gateway.config import environment_variables

    rows = _configuration_rows()
    wrong = {}
    for name, variable in environment_variables().items():
        expected = _shown(variable.info.get_default(call_default_factory=True))
        cell = rows.get(name)
        if cell is None or (expected is not None and cell != expected):
            wrong[name] = (cell, expected)
        elif expected is None and cell.startswith("`"):
            wrong[name] = (cell, "— or words: it has no simple default")
    assert not wrong, f"docs/configuration.md's table disagrees with Settings: {wrong}"


def test_the_configuration_table_lists_only_settings():
    from gateway.config import environment_variables

    unknown = sorted(set(_configuration_rows()) - set(environment_variables()))
    assert not unknown, f"docs/configuration.md's table lists variables nothing reads: {unknown}"


def test_the_readme_is_a_short_front_door():
    lines = len(README.splitlines())
    assert lines <= 250, f"README.md has {lines} lines; reference material belongs in docs/"


def _outside_code(text: str) -> list[str]:
    """The lines of a Markdown text outside fenced code blocks, inline code spans removed."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(re.sub(r"`[^`]*`", "", line))
    return lines


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation dropped but for hyphens and
    underscores, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "").strip().lower()
    return "".join(c for c in text if c.isalnum() or c in "-_ ").replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    anchors: set[str] = set()
    lines, fenced = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    seen: dict[str, int] = {}
    for line in lines:
        match = re.match(r"#{1,6} (.+?)#*$", line)
        if match:
            slug = _slug(match.group(1))
            anchors.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
            seen[slug] = seen.get(slug, 0) + 1
    return anchors


def test_the_slug_follows_github():
    assert _slug("Upstream: quota stewardship, cache, retries") == (
        "upstream-quota-stewardship-cache-retries"
    )
    assert _slug("Benchmark: `lms-gateway bench`") == "benchmark-lms-gateway-bench"
    assert _slug("Latency vs. result size") == "latency-vs-result-size"


@pytest.mark.parametrize(
    "document",
    [ROOT / "README.md", ROOT / "tests" / "README.md", *DOCS],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_every_relative_link_resolves(document: Path):
    text = document.read_text(encoding="utf-8")
    links = [
        target
        for line in _outside_code(text)
        for target in re.findall(r"\]\(([^)\s]+)\)", line)
        if not re.match(r"[a-z]+:", target)
    ]
    broken = []
    for target in links:
        path, _, anchor = target.partition("#")
        resolved = (document.parent / path).resolve() if path else document
        if not resolved.exists():
            broken.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
            broken.append(f"{target}: no heading #{anchor}")
    assert not broken, f"{document.name}: {broken}"
