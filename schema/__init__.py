"""The gateway's GraphQL schema (Strawberry) and its exported SDL (``schema.graphql``)."""

from __future__ import annotations

import logging
from pathlib import Path

import strawberry
from graphql import GraphQLError
from strawberry.types import ExecutionContext

from gateway.errors import GatewayError
from schema.extensions import ErrorCodes, UpstreamAccounting
from schema.query import Query
from schema.scalars import scalar_overrides

__all__ = ["SDL_PATH", "GatewaySchema", "schema"]

SDL_PATH = Path(__file__).with_name("schema.graphql")
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


schema = GatewaySchema(
    query=Query,
    scalar_overrides=scalar_overrides,
    extensions=[UpstreamAccounting, ErrorCodes],
)
