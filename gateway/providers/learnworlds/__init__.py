"""LearnWorlds API v2: HTTP client and pure mapping (the provider that plans the calls is not
written yet: accounts on LearnWorlds are refused at startup)."""
