"""TalentLMS v1: HTTP client, pure mapping, and the provider that plans the calls."""
