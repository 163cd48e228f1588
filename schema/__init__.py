"""The gateway's GraphQL schema (Strawberry) and its exported SDL (``schema.graphql``;
``schema.federation.graphql`` for the Federation 2 subgraph, see ``schema/federation.py``)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import strawberry
from graphql import GraphQLError, parse
from strawberry.extensions import AddValidationRules, MaxTokensLimiter
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from gateway.errors import GatewayError, UpstreamError
from schema.incremental import IncrementalDelivery
from schema.resolution import direct_resolvers, plain_attribute_resolvers
from schema.types.mutations import Mutation
from schema.types.query import Query
from schema.types.scalars import scalar_overrides
from schema.validation.extensions import (
    DemandControl,
    ErrorCodes,
    Memo,
    ParsedDocuments,
    UpstreamAccounting,
    ValidatedDocuments,
    document_error_code,
)
from schema.validation.limits import OperationLimits, limit_rules

__all__ = ["SDL_PATH", "SUBGRAPH_SDL_PATH", "GatewaySchema", "build_schema", "schema"]

SDL_PATH = Path(__file__).with_name("schema.graphql")
SUBGRAPH_SDL_PATH = Path(__file__).with_name("schema.federation.graphql")
VALIDATED_DOCUMENTS = 256  # document texts whose parse, validation, selection are remembered
logger = logging.getLogger("gateway.graphql")


class GatewaySchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Expected failures are one line; only unexpected ones deserve a traceback. The line
        # names the code (and the upstream endpoint and status), not the message: messages
        # may quote variables, query text or what the provider echoed of them.
        for error in errors:
            original = error.original_error
            if original is None or isinstance(original, GatewayError | GraphQLError):
                # The code the client will get: graphql-core's errors get theirs only later.
                code = (
                    (error.extensions or {}).get("code")
                    or getattr(original, "code", None)
                    or document_error_code(error)
                )
                fields: dict[str, object] = {"code": code, "path": error.path}
                if isinstance(original, UpstreamError):
                    fields["endpoint"] = original.endpoint
                    fields["upstream_status"] = original.status_code
                logger.info(
                    "graphql error at %s: %s", error.path, fields["code"], extra={"fields": fields}
                )
            else:
                logger.error("unexpected error at %s", error.path, exc_info=original)


def build_schema(
    limits: OperationLimits,
    max_batch_operations: int = 10,
    extra_extensions: Sequence[Any] = (),
    *,
    federation: bool = False,
    incremental: bool = True,
) -> GatewaySchema:
    """The schema with one app's operation limits (the SDL is the same for every app).

    ``extra_extensions`` are appended to the gateway's own (e.g. tracing's, when it is on).
    ``federation``: the Apollo Federation 2 subgraph schema instead (``schema/federation.py``).
    ``incremental``: declare ``@defer`` and ``@stream`` and execute with graphql-core's
    incremental executor (``schema/incremental.py``); it costs ordinary operations nothing
    measurable (docs/performance.md), as graphql-core's ``execute`` uses the same executor.
    A subgraph runs them too, for clients that call it directly, but leaves them out of its
    SDL (``schema/federation.py``).
    """
    extensions = [
        partial(AddValidationRules, limit_rules(limits)),
        partial(UpstreamAccounting, Memo(VALIDATED_DOCUMENTS)),
        partial(DemandControl, Counter()),  # operations under way, shared by requests
        # The parser stops at the token limit, once per document text (ParsedDocuments).
        partial(MaxTokensLimiter, max_token_count=limits.max_tokens),
        partial(ErrorCodes, hide_suggestions=limits.hide_suggestions, max_tokens=limits.max_tokens),
        partial(ParsedDocuments, lru_cache(maxsize=VALIDATED_DOCUMENTS)(parse)),
        partial(ValidatedDocuments, Memo(VALIDATED_DOCUMENTS)),
        # @defer and @stream inlined for clients that cannot take an answer in parts.
        partial(IncrementalDelivery, Memo(VALIDATED_DOCUMENTS)),
        *extra_extensions,
    ]
    # batching_config and incremental execution are experimental in Strawberry
    # (tests/test_strawberry_internals.py).
    config = StrawberryConfig(
        batching_config={"max_operations": max_batch_operations},
        disable_field_suggestions=limits.hide_suggestions,
        enable_experimental_incremental_execution=incremental,
    )
    if federation:
        # Imported here: that module builds on this one, and plain gateways never need it.
        from schema.federation import SubgraphSchema

        built: GatewaySchema = SubgraphSchema(
            scalar_overrides=scalar_overrides, extensions=extensions, config=config
        )
    else:
        built = GatewaySchema(
            query=Query,
            mutation=Mutation,
            scalar_overrides=scalar_overrides,
            extensions=extensions,
            config=config,
        )
    plain_attribute_resolvers(built._schema)  # private: tests/test_strawberry_internals.py
    direct_resolvers(built)
    return built


schema = build_schema(OperationLimits())
