#!/usr/bin/env python3
"""Fetch GraphiQL's browser assets at the versions pinned in gateway/http/graphiql.py.

    python scripts/vendor_graphiql.py          # rewrite gateway/http/static/graphiql/vendor
    python scripts/vendor_graphiql.py --check  # fetch again; fail if the tree differs

Each package is downloaded with ``npm pack NAME@VERSION`` (npm checks the tarball against
the registry's integrity hash), and only the files the page loads, plus each package's
license, are copied out, byte for byte: no source maps, no rebuild. ``manifest.json``
records the tarball's integrity and every file's SRI hash (sha384), which the page puts in
its ``integrity`` attributes. Needs Node's ``npm`` on PATH; nothing else.
"""

from __future__ import annotations

import argparse
import base64
import filecmp
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.http.graphiql import VENDOR_DIR, VENDORED, Vendored  # noqa: E402

LICENSE = "LICENSE"


def sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def npm_pack(package: Vendored, into: Path) -> tuple[Path, str]:
    """The package's tarball and npm's integrity for it."""
    spec = f"{package.name}@{package.version}"
    done = subprocess.run(
        ["npm", "pack", spec, "--json", "--pack-destination", str(into)],
        check=True,
        capture_output=True,
        text=True,
    )
    (packed,) = json.loads(done.stdout)
    if packed["version"] != package.version:
        raise SystemExit(f"npm pack {spec} gave version {packed['version']}")
    return into / packed["filename"], packed["integrity"]


def extract(tarball: Path, paths: tuple[str, ...]) -> dict[str, bytes]:
    """``paths`` (relative to the package root) read from the tarball, nothing written."""
    found: dict[str, bytes] = {}
    with tarfile.open(tarball, "r:gz") as archive:
        for member in archive.getmembers():
            # npm tarballs hold one top directory, usually "package/".
            relative = member.name.split("/", 1)[-1]
            if relative in paths and member.isfile():
                handle = archive.extractfile(member)
                assert handle is not None
                found[relative] = handle.read()
    missing = sorted(set(paths) - set(found))
    if missing:
        raise SystemExit(f"{tarball.name} lacks {', '.join(missing)}")
    return found


def vendor(target: Path) -> None:
    """Write every pinned package's files, licenses and the manifest under ``target``."""
    by_name = {package.name: package for package in VENDORED}
    manifest: dict[str, object] = {
        "about": "Written by scripts/vendor_graphiql.py from the pins in gateway/http/graphiql.py.",
        "packages": {},
    }
    with tempfile.TemporaryDirectory() as scratch:
        tarballs = {p.name: npm_pack(p, Path(scratch)) for p in VENDORED}
        for package in VENDORED:
            tarball, integrity = tarballs[package.name]
            wanted = package.files if package.license_from else (*package.files, LICENSE)
            contents = extract(tarball, wanted)
            if package.license_from:
                source = tarballs[by_name[package.license_from].name][0]
                contents[LICENSE] = extract(source, (LICENSE,))[LICENSE]
            for relative, data in contents.items():
                path = target / package.directory / relative
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
            manifest["packages"][package.name] = {  # type: ignore[index]
                "version": package.version,
                "tarball": integrity,
                "license": f"from {package.license_from}" if package.license_from else LICENSE,
                "files": {relative: sri(contents[relative]) for relative in sorted(contents)},
            }
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def differences(left: Path, right: Path) -> list[str]:
    """Relative paths that exist on one side only or differ in content."""
    names = {p.relative_to(left) for p in left.rglob("*") if p.is_file()}
    names |= {p.relative_to(right) for p in right.rglob("*") if p.is_file()}
    return sorted(
        str(name)
        for name in names
        if not ((left / name).is_file() and (right / name).is_file())
        or not filecmp.cmp(left / name, right / name, shallow=False)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="fetch again and compare; change nothing"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as fresh:
        vendor(Path(fresh))
        changed = differences(Path(fresh), VENDOR_DIR)
        if args.check:
            for name in changed:
                print(f"differs: {name}", file=sys.stderr)
            return 1 if changed else 0
        shutil.rmtree(VENDOR_DIR, ignore_errors=True)
        shutil.copytree(fresh, VENDOR_DIR)
    for name in changed:
        print(f"updated: {name}")
    total = sum(p.stat().st_size for p in VENDOR_DIR.rglob("*") if p.is_file())
    print(f"{VENDOR_DIR.relative_to(ROOT)}: {total / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
