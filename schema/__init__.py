"""The gateway's GraphQL schema (Strawberry) and its exported SDL (``schema.graphql``)."""

from __future__ import annotations

import logging
from collections import OrderedDict
from functools import partial
from pathlib import Path

import strawberry
from graphql import GraphQLError
from strawberry.extensions import AddValidationRules
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from gateway.errors import GatewayError
from schema.extensions import DemandControl, ErrorCodes, UpstreamAccounting, ValidatedDocuments
from schema.limits import OperationLimits, limit_rules
from schema.query import Query
from schema.scalars import scalar_overrides

__all__ = ["SDL_PATH", "GatewaySchema", "build_schema", "schema"]

SDL_PATH = Path(__file__).with_name("schema.graphql")
VALIDATED_DOCUMENTS = 256  # document texts whose validation is remembered, per schema
logger = logging.getLogger("gateway.graphql")


class GatewaySchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Expected failures are one line; only unexpected ones deserve a traceback.
        for error in errors:
            original = error.original_error
            if original is None or isinstance(original, GatewayError | GraphQLError):
                logger.info("graphql error at %s: %s", error.path, error.message)
            else:
                logger.error("unexpected error at %s", error.path, exc_info=original)


def build_schema(limits: OperationLimits, max_batch_operations: int = 10) -> GatewaySchema:
    """The schema with one app's operation limits (the SDL is the same for every app)."""
    return GatewaySchema(
        query=Query,
        scalar_overrides=scalar_overrides,
        extensions=[
            partial(AddValidationRules, limit_rules(limits)),
            UpstreamAccounting,
            DemandControl,
            partial(ErrorCodes, hide_suggestions=limits.hide_suggestions),
            partial(ValidatedDocuments, OrderedDict(), VALIDATED_DOCUMENTS),
        ],
        config=StrawberryConfig(
            batching_config={"max_operations": max_batch_operations},
            disable_field_suggestions=limits.hide_suggestions,
        ),
    )


schema = build_schema(OperationLimits())
