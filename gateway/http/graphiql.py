"""GraphiQL served from the gateway itself: the page, its pinned assets and their route.

Production networks often block public CDNs, so the browser IDE at ``/graphql`` loads React,
GraphiQL and the explorer plugin from files packaged with the gateway
(``gateway/http/static/graphiql/vendor``, written by ``scripts/vendor_graphiql.py`` from the npm
packages pinned in :data:`VENDORED`). ``LMS_GATEWAY_GRAPHIQL_ASSETS=cdn`` loads the same
pinned files from a public CDN instead, checked by Subresource Integrity.

Asset URLs carry the package version (vendored files) or a content hash (our own script and
stylesheet), so they are cached for a year and never go stale. The page's Content Security
Policy allows scripts from nowhere but those URLs: no inline script, no other origin.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

__all__ = [
    "ASSETS_PATH",
    "CDN_URL",
    "STATIC_DIR",
    "VENDORED",
    "VENDOR_DIR",
    "GraphiQLPage",
    "Vendored",
    "graphiql_routes",
]

STATIC_DIR = Path(__file__).resolve().parent / "static" / "graphiql"
VENDOR_DIR = STATIC_DIR / "vendor"
MANIFEST = VENDOR_DIR / "manifest.json"
ASSETS_PATH = "/static/graphiql"  # where STATIC_DIR is served
CDN_URL = "https://unpkg.com"  # serves npm packages as {name}@{version}/{path}

# Versioned or content-hashed URLs never change meaning, so browsers may keep them.
_IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Vendored:
    """One pinned npm package and the files of it the page needs."""

    name: str
    version: str
    scripts: tuple[str, ...] = ()  # loaded in order, after the previous package's
    styles: tuple[str, ...] = ()
    # The package's tarball lacks a license file: the LICENSE of this other pinned package
    # (same source repository) is the one that applies.
    license_from: str | None = None

    @property
    def files(self) -> tuple[str, ...]:
        return (*self.scripts, *self.styles)

    @property
    def directory(self) -> str:
        return f"{self.name}@{self.version}"


# Update: change a version here, run scripts/vendor_graphiql.py, commit the result.
# GraphiQL 3.9.0 is the last release with a UMD build (4.x and later are ES modules that
# need a bundler) and, unlike 3.8.x, its graphiql.min.js really is minified (1 MB, not 3.5).
VENDORED: tuple[Vendored, ...] = (
    Vendored("react", "18.3.1", scripts=("umd/react.production.min.js",)),
    Vendored("react-dom", "18.3.1", scripts=("umd/react-dom.production.min.js",)),
    Vendored("graphiql", "3.9.0", scripts=("graphiql.min.js",), styles=("graphiql.min.css",)),
    Vendored(
        "@graphiql/plugin-explorer",
        "3.2.6",
        scripts=("dist/index.umd.js",),
        styles=("dist/style.css",),
        license_from="graphiql",
    ),
    # Compiled into the explorer plugin's UMD build; vendored for its license only.
    Vendored("graphiql-explorer", "0.9.0"),
)

# Our own files beside the vendored ones: the page's bootstrap script and layout.
_OWN_SCRIPT = "gateway-graphiql.js"
_OWN_STYLE = "gateway-graphiql.css"

AssetSource = Literal["bundled", "cdn"]


@cache
def _manifest() -> dict[str, Any]:
    """What scripts/vendor_graphiql.py wrote: each package's files and their SRI hashes."""
    manifest: dict[str, Any] = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return manifest


def _integrity(package: Vendored, path: str) -> str:
    entry = _manifest()["packages"][package.name]
    if entry["version"] != package.version:
        raise RuntimeError(
            f"vendored {package.name} is {entry['version']}, pinned {package.version}: "
            "run scripts/vendor_graphiql.py"
        )
    integrity: str = entry["files"][path]
    return integrity


def _own_asset(name: str) -> tuple[str, str]:
    """URL (versioned by a hash of the content) and SRI hash of one of our own files."""
    data = (STATIC_DIR / name).read_bytes()
    version = base64.urlsafe_b64encode(hashlib.sha256(data).digest()[:9]).decode()
    integrity = "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()
    return f"{ASSETS_PATH}/{name}?v={version}", integrity


class GraphiQLPage:
    """The IDE page, rendered once per app: every URL in it is pinned and hashed."""

    def __init__(
        self,
        assets: AssetSource = "bundled",
        *,
        requires_key: bool = False,
        accounts: Sequence[tuple[str, str]] = (),
    ) -> None:
        """``accounts``: ``(id, provider name)`` of each account a request reaches with
        ``X-LMS-Account`` besides the one it reaches without (demo mode), for the page to say."""
        self.assets = assets
        scripts: list[tuple[str, str]] = []
        styles: list[tuple[str, str]] = []
        for package in VENDORED:
            base = (
                f"{CDN_URL}/{package.directory}"
                if assets == "cdn"
                else f"{ASSETS_PATH}/vendor/{package.directory}"
            )
            scripts += [(f"{base}/{p}", _integrity(package, p)) for p in package.scripts]
            styles += [(f"{base}/{p}", _integrity(package, p)) for p in package.styles]
        scripts.append(_own_asset(_OWN_SCRIPT))
        styles.append(_own_asset(_OWN_STYLE))
        crossorigin = ' crossorigin="anonymous"' if assets == "cdn" else ""
        config = json.dumps(
            {
                "requiresKey": requires_key,
                "accounts": [{"id": i, "description": d} for i, d in accounts],
            }
        ).replace("<", "\\u003c")
        self.html = _PAGE.format(
            styles="\n".join(
                f'<link rel="stylesheet" href="{html.escape(url)}" integrity="{sri}"{crossorigin}>'
                for url, sri in styles
            ),
            scripts="\n".join(
                f'<script src="{html.escape(url)}" integrity="{sri}"{crossorigin}></script>'
                for url, sri in scripts
            ),
            config=config,
        )
        other = f" {CDN_URL}" if assets == "cdn" else ""
        self.content_security_policy = "; ".join(
            (
                "default-src 'none'",
                f"script-src 'self'{other}",
                # GraphiQL's components set inline styles; our own rules are in a file.
                f"style-src 'self' 'unsafe-inline'{other}",
                "font-src 'self' data:",  # GraphiQL's stylesheet embeds its fonts
                "img-src 'self' data:",
                "connect-src 'self'",  # the page's only requests go to /graphql
                "base-uri 'none'",
                "form-action 'none'",
            )
        )

    def response(self) -> Response:
        return HTMLResponse(
            self.html,
            headers={
                "Content-Security-Policy": self.content_security_policy,
                "Cache-Control": "no-cache",
                "X-Content-Type-Options": "nosniff",
            },
        )


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>LMS gateway · GraphiQL</title>
<link rel="icon" href="data:,">
{styles}
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script id="graphiql-config" type="application/json">{config}</script>
{scripts}
</body>
</html>
"""


class _ImmutableStaticFiles(StaticFiles):
    """Static files with year-long caching: every URL the page uses is versioned."""

    def file_response(
        self, full_path: Any, stat_result: Any, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = _IMMUTABLE
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def graphiql_routes() -> list[BaseRoute]:
    """The route that serves the page's own assets (compressed for clients that accept it)."""
    files = _ImmutableStaticFiles(directory=STATIC_DIR)
    return [Mount(ASSETS_PATH, app=GZipMiddleware(files, minimum_size=1024, compresslevel=6))]
