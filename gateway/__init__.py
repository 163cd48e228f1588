"""LMS GraphQL gateway: a unified LMS model over TalentLMS, served as GraphQL."""

__version__ = "0.1.0"
