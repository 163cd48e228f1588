"""LMS GraphQL gateway: a unified LMS model over TalentLMS, served as GraphQL."""
