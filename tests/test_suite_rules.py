"""The suite's own house rules (tests/README.md): test modules share helpers only through
``tests/support.py``, never by importing each other or ``conftest.py``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

TESTS = Path(__file__).resolve().parent
SHARED = "tests.support"


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` of every import of ``path``, relative ones made absolute."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the tests package
                base = ".".join(filter(None, ["tests", base]))
            found.append((node.lineno, base))
            if base == "tests":  # from tests import x: x is a module
                found += [(node.lineno, f"tests.{alias.name}") for alias in node.names]
    return found


def _other_test_code(module: str) -> bool:
    top = module.split(".")[0]
    if top == "tests":
        return module not in ("tests", SHARED)
    return top == "conftest" or top.startswith("test_")


@pytest.mark.parametrize(
    "path",
    sorted([*TESTS.glob("test_*.py"), TESTS / "support.py", TESTS / "conftest.py"]),
    ids=lambda path: path.name,
)
def test_test_code_imports_no_test_module_and_no_conftest(path: Path):
    wrong = [
        f"line {line}: {module}"
        for line, module in _imported_modules(path)
        if _other_test_code(module)
    ]
    assert not wrong, (
        f"{path.name} imports other test code ({wrong}): move what is shared to tests/support.py"
        " (fixtures to tests/conftest.py)"
    )


def test_the_check_sees_every_form_of_import(tmp_path: Path):
    sample = tmp_path / "test_sample.py"
    sample.write_text(
        "import tests.test_http\nfrom tests.conftest import x\nfrom tests import test_logs\n"
        "from .test_gateway import post\nfrom . import support\nfrom tests.support import y\n",
        encoding="utf-8",
    )
    flagged = [module for _, module in _imported_modules(sample) if _other_test_code(module)]
    assert flagged == ["tests.test_http", "tests.conftest", "tests.test_logs", "tests.test_gateway"]
