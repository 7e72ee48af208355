"""Refresh the front-end files shipped in the package from the npm registry, at pinned versions.

Usage::

    python scripts/refresh_vendor.py            # fetch the pinned versions, write files + MANIFEST.json
    python scripts/refresh_vendor.py --check    # verify the shipped files match the manifest (no network)

Each package is fetched with the ordinary npm client (``npm pack NAME@VERSION``), its distribution
file and licence are extracted into ``src/stockwarden/web/static/vendor/<name>/``, and
``MANIFEST.json`` records name, version, file, SHA-256 and licence. Nothing is fetched at install or run
time: the files ship inside the Python package (see ``[tool.setuptools.package-data]``).
To upgrade, change a version in ``PINNED`` and run the script again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

VENDOR_DIR = Path(__file__).resolve().parents[1] / "src" / "stockwarden" / "web" / "static" / "vendor"


@dataclass(frozen=True)
class Pin:
    """One npm package: which version, which file of it we ship, and its licence files."""

    name: str
    version: str
    dist: str  # path inside the tarball (under package/)
    target: str  # file name under vendor/<dir>/
    directory: str
    licence_files: tuple[str, ...] = ("LICENSE",)
    licence_fallback: str = ""  # used when the tarball ships no licence file


MIT_ALPINE = """MIT License

Copyright (c) 2019-2021 Caleb Porzio and contributors

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""

PINNED: tuple[Pin, ...] = (
    Pin("htmx.org", "2.0.11", "dist/htmx.min.js", "htmx.min.js", "htmx"),
    Pin(
        "alpinejs",
        "3.17.5",
        "dist/cdn.min.js",
        "alpine.min.js",
        "alpinejs",
        licence_files=(),
        licence_fallback=MIT_ALPINE,
    ),
    Pin(
        "echarts",
        "6.1.0",
        "dist/echarts.min.js",
        "echarts.min.js",
        "echarts",
        licence_files=("LICENSE", "NOTICE", "licenses/LICENSE-d3"),
    ),
)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _npm_pack(pin: Pin, workdir: Path) -> Path:
    spec = f"{pin.name}@{pin.version}"
    out = subprocess.run(
        ["npm", "pack", spec, "--silent", "--pack-destination", str(workdir)],
        check=False,
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"npm pack {spec} failed: {out.stderr.strip() or out.stdout.strip()}")
    name = out.stdout.strip().splitlines()[-1]
    return workdir / name


def _extract(pin: Pin, tarball: Path) -> dict[str, object]:
    target_dir = VENDOR_DIR / pin.directory
    target_dir.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball) as tar:
        members = {m.name: m for m in tar.getmembers()}
        package_json = json.loads(tar.extractfile(members["package/package.json"]).read())  # type: ignore[union-attr]
        if package_json.get("version") != pin.version:
            raise SystemExit(f"{pin.name}: npm returned version {package_json.get('version')}, expected {pin.version}")

        def copy(inner: str, dest: Path) -> None:
            member = members.get(f"package/{inner}")
            if member is None:
                raise SystemExit(f"{pin.name}@{pin.version}: the tarball has no {inner}")
            dest.write_bytes(tar.extractfile(member).read())  # type: ignore[union-attr]

        copy(pin.dist, target_dir / pin.target)
        licences = []
        for lic in pin.licence_files:
            dest = target_dir / Path(lic).name
            copy(lic, dest)
            licences.append(dest.name)
        if pin.licence_fallback:
            (target_dir / "LICENSE").write_text(pin.licence_fallback, encoding="utf-8")
            licences.append("LICENSE")
    dist = target_dir / pin.target
    return {
        "name": pin.name,
        "version": pin.version,
        "license": package_json.get("license", ""),
        "file": f"{pin.directory}/{pin.target}",
        "sha256": _sha256(dist),
        "licence_files": [f"{pin.directory}/{name}" for name in licences],
    }


def refresh() -> None:
    """Fetch every pinned package and rewrite the vendor folder and its manifest."""
    entries = []
    with tempfile.TemporaryDirectory() as tmp:
        for pin in PINNED:
            tarball = _npm_pack(pin, Path(tmp))
            entries.append(_extract(pin, tarball))
            print(f"{pin.name}@{pin.version} -> vendor/{pin.directory}/{pin.target}")
    (VENDOR_DIR / "MANIFEST.json").write_text(json.dumps(entries, indent=2) + "\n", encoding="utf-8")


def check() -> int:
    """Return 0 when every shipped file matches the manifest and the pins, else 1 (with a message)."""
    manifest = json.loads((VENDOR_DIR / "MANIFEST.json").read_text(encoding="utf-8"))
    problems = []
    by_name = {e["name"]: e for e in manifest}
    for pin in PINNED:
        entry = by_name.get(pin.name)
        if entry is None or entry["version"] != pin.version:
            problems.append(f"{pin.name}: manifest does not pin {pin.version}; run scripts/refresh_vendor.py")
            continue
        path = VENDOR_DIR / entry["file"]
        if not path.is_file() or _sha256(path) != entry["sha256"]:
            problems.append(f"{entry['file']}: missing or changed since the manifest was written")
        for lic in entry["licence_files"]:
            if not (VENDOR_DIR / lic).is_file():
                problems.append(f"{lic}: licence file missing")
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify the shipped files; fetch nothing")
    args = parser.parse_args()
    if args.check:
        return check()
    refresh()
    return 0


if __name__ == "__main__":
    sys.exit(main())
