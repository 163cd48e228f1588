"""LearnWorlds API v2: HTTP client, pure mapping, and the provider that plans the calls."""
