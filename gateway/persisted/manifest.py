"""Persisted-query manifests in Apollo's format: read one, or build one from ``queries/``.

::

    {"format": "apollo-persisted-query-manifest", "version": 1,
     "operations": [{"id": "<sha256 of body>", "name": "LearnerDashboard",
                     "type": "query", "body": "query LearnerDashboard { … }"}]}

Apollo's tools make ``id`` the SHA-256 of ``body`` (hex), which is also the hash its APQ
link sends, so one manifest serves both. Ids made some other way are accepted too: an
operation is then found by its id or by its body's hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from graphql import (
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
    print_ast,
    separate_operations,
    validate,
)

from gateway.errors import ManifestError

__all__ = [
    "MANIFEST_FORMAT",
    "Manifest",
    "ManifestOperation",
    "build_manifest",
    "load_manifest",
    "sha256_hex",
]

MANIFEST_FORMAT: Final = "apollo-persisted-query-manifest"
_TYPES: Final = ("query", "mutation", "subscription")
_MAX_ID_LENGTH: Final = 256


def sha256_hex(text: str) -> str:
    """The hash Apollo clients send: SHA-256 of the UTF-8 document, lower-case hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ManifestOperation:
    id: str
    name: str
    type: str
    body: str

    @property
    def body_hash(self) -> str:
        return sha256_hex(self.body)

    def as_json(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "type": self.type, "body": self.body}


class Manifest:
    """The operations of a manifest, found by id or by the SHA-256 of their text."""

    def __init__(self, operations: Iterable[ManifestOperation]) -> None:
        self.operations = tuple(operations)
        self._by_id = {operation.id: operation for operation in self.operations}
        self._by_body_hash = {operation.body_hash: operation for operation in self.operations}

    def __len__(self) -> int:
        return len(self.operations)

    def lookup(self, operation_id: str) -> ManifestOperation | None:
        """By manifest id, or by body hash (what an APQ client sends)."""
        return self._by_id.get(operation_id) or self._by_body_hash.get(operation_id)

    def lookup_body(self, body_hash: str) -> ManifestOperation | None:
        return self._by_body_hash.get(body_hash)

    def as_json(self) -> dict[str, Any]:
        return {
            "format": MANIFEST_FORMAT,
            "version": 1,
            "operations": [operation.as_json() for operation in self.operations],
        }


def load_manifest(path: Path) -> Manifest:
    """Reads and checks ``path``; every problem is a ``ManifestError`` naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"cannot read persisted-query manifest {path}: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestError(f"persisted-query manifest {path} is not JSON: {exc}") from None
    try:
        return _parse_manifest(data)
    except ManifestError as exc:
        raise ManifestError(f"persisted-query manifest {path}: {exc}") from None


def _parse_manifest(data: Any) -> Manifest:
    if not isinstance(data, dict):
        raise ManifestError("must be a JSON object")
    if data.get("format") != MANIFEST_FORMAT:
        raise ManifestError(f'"format" must be {MANIFEST_FORMAT!r}, not {data.get("format")!r}')
    if data.get("version") != 1 or isinstance(data.get("version"), bool):
        raise ManifestError(f'"version" must be 1, not {data.get("version")!r}')
    items = data.get("operations")
    if not isinstance(items, list):
        raise ManifestError('"operations" must be a list')
    operations: list[ManifestOperation] = []
    seen: dict[str, str] = {}
    for index, item in enumerate(items):
        where = f"operations[{index}]"
        if not isinstance(item, dict):
            raise ManifestError(f"{where} must be an object")
        values: dict[str, str] = {}
        for key in ("id", "name", "type", "body"):
            value = item.get(key)
            if not isinstance(value, str):
                raise ManifestError(f'{where}."{key}" must be a string')
            values[key] = value
        operation = ManifestOperation(**values)
        if not operation.id or len(operation.id) > _MAX_ID_LENGTH:
            raise ManifestError(f'{where}."id" must be 1 to {_MAX_ID_LENGTH} characters')
        if operation.type not in _TYPES:
            raise ManifestError(f'{where}."type" must be one of {", ".join(_TYPES)}')
        try:
            parse(operation.body)
        except GraphQLError as exc:
            problem = f"{where} ({operation.name}) does not parse: {exc.message}"
            raise ManifestError(problem) from None
        if seen.get(operation.id, operation.body) != operation.body:
            raise ManifestError(f"{where}: id {operation.id!r} is used for two different bodies")
        seen[operation.id] = operation.body
        operations.append(operation)
    return Manifest(operations)


def build_manifest(directory: Path, schema: GraphQLSchema | None = None) -> Manifest:
    """One manifest entry per named operation in ``directory``'s ``*.graphql`` files.

    A file with one operation is sent as it is written, so its body is the file's text; a
    file with several is split, each body the printed operation with the fragments it
    uses. With ``schema``, every document must validate against it. Raises
    ``ManifestError`` for a document that does not parse or validate, an anonymous
    operation, or a name used twice.
    """
    files = sorted(path for path in directory.rglob("*.graphql") if path.is_file())
    if not files:
        raise ManifestError(f"no *.graphql files under {directory}")
    operations: list[ManifestOperation] = []
    names: dict[str, Path] = {}
    for path in files:
        text = path.read_text(encoding="utf-8")
        try:
            document = parse(text)
        except GraphQLError as exc:
            raise ManifestError(f"{path} does not parse: {exc.message}") from None
        defined = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if not defined:
            raise ManifestError(f"{path} has no operation")
        if schema is not None:
            errors = validate(schema, document)
            if errors:
                raise ManifestError(f"{path} does not validate: {errors[0].message}")
        # Each operation with the fragments it uses (transitively), in file order.
        separated = separate_operations(document) if len(defined) > 1 else {}
        for node in defined:
            if node.name is None:
                raise ManifestError(f"{path}: every operation needs a name")
            name = node.name.value
            if name in names:
                raise ManifestError(f"operation {name} is in both {names[name]} and {path}")
            names[name] = path
            body = text if len(defined) == 1 else print_ast(separated[name])
            operations.append(
                ManifestOperation(
                    id=sha256_hex(body), name=name, type=node.operation.value, body=body
                )
            )
    return Manifest(operations)
