"""The GraphiQL page and its assets over HTTP: only the gateway's own files, pinned and cached.

The page running in a real browser is tests/test_graphiql_browser.py.
"""

from __future__ import annotations

import base64
import hashlib
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from pydantic import ValidationError

from gateway.config import Settings
from gateway.http.graphiql import ASSETS_PATH, CDN_URL, STATIC_DIR, VENDOR_DIR, VENDORED
from tests.support import RecordingUpstream, gateway_client, keyed_settings, replaced

pytestmark = pytest.mark.unit

HTML = {"Accept": "text/html"}
KEY = "lmsg_graphiql_test_key_0001"


class _Refs(HTMLParser):
    """Every URL the page fetches, with its tag's attributes; and its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[dict[str, str | None]] = []
        self.inline_scripts: list[dict[str, str | None]] = []
        self._script: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        # The favicon is an empty data: URL, which costs no request.
        if (found.get("src") or found.get("href") or "data:,") != "data:,":
            self.refs.append({"tag": tag, **found})
        elif tag == "script":
            self._script = found

    def handle_data(self, data: str) -> None:
        if self._script is not None and data.strip():
            self.inline_scripts.append({**self._script, "text": data})

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None


def _parse(page: str) -> _Refs:
    parser = _Refs()
    parser.feed(page)
    return parser


def _sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def _url(ref: dict[str, str | None]) -> str:
    url = ref.get("src") or ref.get("href")
    assert url is not None
    return url


async def test_the_page_loads_only_the_gateways_own_files(demo_settings):
    async with gateway_client(demo_settings) as client:
        page = await client.get("/graphql", headers=HTML)
        assert page.status_code == 200
        loaded = _parse(page.text).refs
        scripts = [_url(r) for r in loaded if r["tag"] == "script"]
        styles = [_url(r) for r in loaded if r["tag"] == "link"]
        # React before ReactDOM before GraphiQL before its plugin before our bootstrap.
        assert [s.split("/")[-1].split("?")[0] for s in scripts] == [
            "react.production.min.js",
            "react-dom.production.min.js",
            "graphiql.min.js",
            "index.umd.js",
            "gateway-graphiql.js",
        ]
        assert len(styles) == 3
        for ref in loaded:
            url = _url(ref)
            assert url.startswith(f"{ASSETS_PATH}/"), url
            asset = await client.get(url)
            assert asset.status_code == 200, url
            # Every URL is versioned or content-hashed, so it may be cached for good, and
            # the bytes are exactly the ones whose hash the page pins.
            assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert asset.headers["x-content-type-options"] == "nosniff"
            assert ref["integrity"] == _sri(asset.content), url
            kind = "javascript" if ref["tag"] == "script" else "css"
            assert kind in asset.headers["content-type"], url


async def test_the_page_allows_no_inline_script_and_no_other_origin(demo_settings):
    async with gateway_client(demo_settings) as client:
        page = await client.get("/graphql", headers=HTML)
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in page.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    # The only inline <script> is the JSON configuration, which a browser never executes.
    inline = _parse(page.text).inline_scripts
    assert [(s["type"], json.loads(s["text"] or "")) for s in inline] == [
        (
            "application/json",
            # Demo mode's second school is named with the header that reaches it.
            {
                "requiresKey": False,
                "accounts": [{"id": "learnworlds", "description": "LearnWorlds"}],
            },
        )
    ]
    assert "unpkg" not in page.text and "esm.sh" not in page.text


def test_vendored_files_are_the_pinned_ones_with_their_licenses():
    manifest = json.loads((VENDOR_DIR / "manifest.json").read_text(encoding="utf-8"))
    assert list(manifest["packages"]) == [p.name for p in VENDORED]
    listed: set[Path] = {VENDOR_DIR / "manifest.json"}
    for package in VENDORED:
        entry = manifest["packages"][package.name]
        assert entry["version"] == package.version
        assert entry["tarball"].startswith("sha512-")
        assert set(entry["files"]) == {*package.files, "LICENSE"}
        for relative, integrity in entry["files"].items():
            path = VENDOR_DIR / package.directory / relative
            assert _sri(path.read_bytes()) == integrity, f"{path} was changed by hand"
            listed.add(path)
        license_text = (VENDOR_DIR / package.directory / "LICENSE").read_text(encoding="utf-8")
        assert "MIT License" in license_text and "Permission is hereby granted" in license_text
    on_disk = {p for p in VENDOR_DIR.rglob("*") if p.is_file()}
    assert on_disk == listed, "files under vendor/ that the manifest does not list"
    assert not list(STATIC_DIR.rglob("*.map")), "source maps are not shipped"


async def test_cdn_mode_loads_the_same_pinned_files_from_the_cdn(demo_settings):
    async with gateway_client(demo_settings) as client:
        bundled = _parse((await client.get("/graphql", headers=HTML)).text).refs
    cdn_settings = replaced(demo_settings, graphiql={"assets": "cdn"})
    async with gateway_client(cdn_settings) as client:
        page = await client.get("/graphql", headers=HTML)
        refs = _parse(page.text).refs
        own = [_url(r) for r in refs if _url(r).startswith(ASSETS_PATH)]
        for url in own:  # our bootstrap script and stylesheet stay on the gateway
            assert (await client.get(url)).status_code == 200
    assert [r["integrity"] for r in refs] == [r["integrity"] for r in bundled]
    for cdn, local in zip(refs, bundled, strict=True):
        if _url(local).startswith(f"{ASSETS_PATH}/vendor/"):
            path = _url(local).removeprefix(f"{ASSETS_PATH}/vendor/")
            assert _url(cdn) == f"{CDN_URL}/{path}"
            assert cdn["crossorigin"] == "anonymous"
    assert len(own) == 2
    policy = page.headers["content-security-policy"]
    assert f"script-src 'self' {CDN_URL};" in policy


async def test_assets_are_compressed_and_revalidated(demo_settings):
    path = f"{ASSETS_PATH}/vendor/graphiql@3.9.0/graphiql.min.js"
    async with gateway_client(demo_settings) as client:
        raw = await client.get(path, headers={"Accept-Encoding": "identity"})
        zipped = await client.get(path, headers={"Accept-Encoding": "gzip"})
        again = await client.get(path, headers={"If-None-Match": raw.headers["etag"]})
    assert "content-encoding" not in raw.headers
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.content == raw.content  # httpx decompresses
    assert again.status_code == 304 and not again.content
    assert again.headers["cache-control"] == "public, max-age=31536000, immutable"


async def test_assets_refuse_paths_outside_their_folder(demo_settings):
    async with gateway_client(demo_settings) as client:
        for path in ("/../graphiql.py", "/%2e%2e/graphiql.py", "/vendor/nothing.js", "/"):
            response = await client.get(ASSETS_PATH + path)
            assert response.status_code == 404, path
        written = await client.post(f"{ASSETS_PATH}/gateway-graphiql.js")
        assert written.status_code == 405


async def test_with_api_keys_the_page_and_assets_are_public_but_queries_are_not(tmp_path):
    settings = keyed_settings(tmp_path, KEY)
    async with gateway_client(settings, RecordingUpstream()) as client:
        page = await client.get("/graphql", headers=HTML)
        parsed = _parse(page.text)
        assets = [await client.get(_url(r)) for r in parsed.refs]
        query = {"query": '{ user(remoteId: "8") { name } }'}
        anonymous = await client.post("/graphql", json=query)
        keyed = await client.post(
            "/graphql", json=query, headers={"Authorization": f"Bearer {KEY}"}
        )
    assert page.status_code == 200 and all(a.status_code == 200 for a in assets)
    # The page opens the header editor with an Authorization template when keys are needed.
    config = json.loads(parsed.inline_scripts[0]["text"] or "")
    assert config == {"requiresKey": True, "accounts": []}
    assert anonymous.status_code == 401
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert keyed.json()["data"]["user"]["name"] == "Ingrid Rossi"


async def test_without_graphiql_no_assets_are_served(demo_settings):
    settings = replaced(demo_settings, graphiql={"enabled": False})
    async with gateway_client(settings) as client:
        page = await client.get("/graphql", headers=HTML)
        asset = await client.get(f"{ASSETS_PATH}/gateway-graphiql.js")
    assert "graphiql" not in page.text.lower()
    assert asset.status_code == 404


def test_the_asset_source_is_bundled_or_cdn(monkeypatch: pytest.MonkeyPatch):
    assert Settings().graphiql.assets == "bundled"
    monkeypatch.setenv("LMS_GATEWAY_GRAPHIQL_ASSETS", "cdn")
    assert Settings().graphiql.assets == "cdn"
    monkeypatch.setenv("LMS_GATEWAY_GRAPHIQL_ASSETS", "mirror")
    with pytest.raises(ValidationError, match="LMS_GATEWAY_GRAPHIQL_ASSETS"):
        Settings()
