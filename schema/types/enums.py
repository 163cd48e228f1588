"""GraphQL enums: the unified model's enums, exposed under their own names."""

from __future__ import annotations

import strawberry

from gateway.domain import model, querying

__all__ = [
    "CourseLevel",
    "CourseOrderField",
    "CourseStatus",
    "CourseType",
    "EnrollmentStatus",
    "OrderDirection",
    "UserOrderField",
    "UserRole",
    "UserStatus",
]

# The model's own classes: ``strawberry.enum`` marks a class as a GraphQL enum in place and
# returns it, so these names are types to the type checker as well.
UserStatus = model.UserStatus
UserRole = model.UserRole
CourseType = model.CourseType
CourseStatus = model.CourseStatus
CourseLevel = model.CourseLevel
EnrollmentStatus = model.EnrollmentStatus
OrderDirection = querying.OrderDirection
UserOrderField = querying.UserOrderField
CourseOrderField = querying.CourseOrderField

strawberry.enum(UserStatus, description="Lifecycle status of a user.")
strawberry.enum(UserRole, description="Primary role of a user in the LMS.")
strawberry.enum(CourseType, description="Kind of learning item.")
strawberry.enum(CourseStatus, description="Publication status of a course.")
strawberry.enum(CourseLevel, description="Difficulty level of a course.")
strawberry.enum(EnrollmentStatus, description="A user's lifecycle status in one course.")
strawberry.enum(OrderDirection, description="Sort direction.")
strawberry.enum(UserOrderField, description="What users sort by.")
strawberry.enum(CourseOrderField, description="What courses sort by.")
