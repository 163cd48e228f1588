"""Shared test helpers: the gateway in process, and any ASGI app over real HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
import pytest
import uvicorn

from gateway.app import create_app
from gateway.config import Settings


@contextmanager
def serve_over_http(app: Any) -> Iterator[str]:
    """Run ``app`` with uvicorn on 127.0.0.1 at a free port; yields its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@asynccontextmanager
async def gateway_client(settings: Settings | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client wired to a fresh gateway in process (its lifespan runs)."""
    app = create_app(settings or Settings(_env_file=None))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


@pytest.fixture
def demo_settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Demo-mode settings that ignore whatever TALENTLMS_* the machine has set."""
    for name in ("TALENTLMS_DOMAIN", "TALENTLMS_BASE_URL", "TALENTLMS_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return Settings()
