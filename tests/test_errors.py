"""One error vocabulary: ``ErrorCode`` is what ``extensions.code`` holds, the error table of
docs/api.md documents exactly its members, and the code names no code in a bare string."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

from gateway.errors import ErrorCode
from gateway.observability.metrics import GatewayMetrics
from gateway.observability.telemetry import OperationRecord

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent
API_DOCS = ROOT / "docs" / "api.md"
_ROW = re.compile(r"^\| `([A-Z_]+)` \| ([^|]*) \| ([^|]*) \|$", re.MULTILINE)
_STATUSES = re.compile(r"\d{3}( / \d{3})*")


def error_table() -> list[tuple[str, str, str]]:
    """(code, HTTP status, meaning) of each row of the "Error codes" table, in order."""
    text = API_DOCS.read_text(encoding="utf-8")
    section = text.split("\n## Error codes\n", 1)[1].split("\n#", 1)[0]
    return [
        (code, status.strip(), meaning.strip()) for code, status, meaning in _ROW.findall(section)
    ]


def test_the_error_table_documents_every_code_and_nothing_else():
    documented = [code for code, _, _ in error_table()]
    codes = [code.value for code in ErrorCode]
    assert len(documented) == len(set(documented)), "a code has two rows"
    assert set(documented) - set(codes) == set(), "rows for codes the gateway never sends"
    assert set(codes) - set(documented) == set(), "codes without a row in docs/api.md"
    assert documented == codes, "the table and ErrorCode list the codes in the same order"


def test_every_row_gives_a_status_and_a_meaning():
    for code, status, meaning in error_table():
        assert _STATUSES.fullmatch(status), f"{code}: HTTP status {status!r}"
        assert meaning.endswith("."), f"{code}: meaning {meaning!r}"


def test_the_readme_links_to_the_error_table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "](docs/api.md#error-codes)" in readme


def test_codes_serialize_as_their_names():
    for code in ErrorCode:
        assert code == code.name == str(code) == f"{code}"


def _bare_codes(path: Path) -> list[str]:
    """String literals in ``path`` that spell an error code, docstrings aside."""
    codes = {code.value for code in ErrorCode}
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in codes and id(node) not in docstrings
    ]


def test_no_code_is_spelled_outside_the_enum():
    # The simulator imitates the portal and imports nothing of the gateway (lint-imports).
    sources = [
        path
        for package in ("gateway", "schema")
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != ROOT / "gateway" / "errors.py" and "simulator" not in path.parts
    ]
    assert len(sources) > 50
    assert [found for path in sources for found in _bare_codes(path)] == []


def test_metrics_label_outcomes_by_error_code():
    metrics = GatewayMetrics(max_operation_names=10, guards={})
    for outcome in (*ErrorCode, "NOT_A_CODE"):
        metrics.operation_finished(
            OperationRecord(
                request_id=None,
                account_id="default",
                operation_name="Op",
                operation_type="query",
                duration=0.01,
                error_codes=(outcome,),
                resolved_fields=0,
                upstream_calls=0,
            )
        )
    labels = {"account": "default", "operation": "Op", "type": "query"}
    sample = "gateway_graphql_operations_total"
    for code in ErrorCode:
        value = metrics.registry.get_sample_value(sample, {**labels, "outcome": code.value})
        assert value == 1, code
    assert metrics.registry.get_sample_value(sample, {**labels, "outcome": "other"}) == 1


# GraphQL errors that validation rules report: graphql-core's type, which gateway.errors, below
# the domain, may not import (docs in gateway/errors.py).
_GRAPHQL_ERRORS_ELSEWHERE = {
    "schema.validation.limits.IntrospectionDisabled",
    "schema.validation.limits.OperationLimitExceeded",
}


def test_every_exception_class_is_in_the_one_tree():
    import gateway.errors

    found = []
    for package in ("gateway", "schema"):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "simulator" in parts or parts[-1] == "__main__":
                continue  # the simulator stands alone: its errors are the portal's
            module = importlib.import_module(".".join(p for p in parts if p != "__init__"))
            for name, value in vars(module).items():
                if (
                    isinstance(value, type)
                    and issubclass(value, BaseException)
                    and value.__module__ == module.__name__
                ):
                    found.append(f"{module.__name__}.{name}")
    outside = {name for name in found if not name.startswith("gateway.errors.")}
    assert outside == _GRAPHQL_ERRORS_ELSEWHERE
    documented = gateway.errors.__doc__ or ""
    for name in found:
        assert re.search(rf"\b{name.rsplit('.', 1)[1]}\b", documented), name
