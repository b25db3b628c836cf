#!/usr/bin/env python3
"""Reads the packages `make dist` built (not their templates) and checks what a registry shows of
them: the licenses (declared, and both texts inside, equal to the repository's), the README each
carries, the description, the project's links, the Python classifiers, npm's os/cpu against the
prebuilds the tarball carries. Run by scripts/test-packages.sh after `make dist`.

    check-packages.py REPO
"""

from __future__ import annotations

import email.parser
import io
import json
import re
import sys
import tarfile
import zipfile
from pathlib import Path

URL = "https://github.com/aichat-dev/aichat"
LICENSE = "MIT OR Apache-2.0"
LICENSE_FILES = ("LICENSE-MIT", "LICENSE-APACHE")
PROTOCOLS = ("OpenAI", "Anthropic", "Ollama", "Aichat", "Gemini", "Bedrock")

failures: list[str] = []


def check(ok: bool, what: str) -> None:
    if not ok:
        failures.append(what)


def check_readme(label: str, text: str, source: Path) -> None:
    """A package's README: the repository's file, long enough to be one, links that work off GitHub."""
    check(text.replace("\r\n", "\n").strip() == source.read_text(encoding="utf-8").strip(),
          f"{label}: the README is not {source}")
    check(len(text.splitlines()) >= 40, f"{label}: the README has {len(text.splitlines())} lines: too short to be one")
    relative = [l for l in re.findall(r"\]\(([^)]*)\)", text) if not l.startswith(("https://", "#"))]
    check(not relative, f"{label}: README links that only work inside the repository: {relative}")
    check(URL in text, f"{label}: the README does not link the project ({URL})")
    check("## License" in text, f"{label}: the README has no License section")
    for p in PROTOCOLS:
        check(p in text, f"{label}: the README does not mention {p}")


def main() -> None:
    repo = Path(sys.argv[1])
    dist = repo / "dist"
    version = re.search(r'^version = "(.*)"', (repo / "Cargo.toml").read_text(), re.M).group(1)  # type: ignore[union-attr]
    licenses = {name: (repo / name).read_bytes() for name in LICENSE_FILES}
    for name, text in licenses.items():
        check(len(text) > 1000, f"{name} at the root is not a license text")

    # --- the wheel -----------------------------------------------------------------------------
    wheels = sorted(dist.glob(f"aichat-{version}-*.whl"))
    check(len(wheels) == 1, f"one wheel expected in dist/, found {wheels}")
    if wheels:
        label = wheels[0].name
        with zipfile.ZipFile(wheels[0]) as z:
            info = f"aichat-{version}.dist-info"
            meta = email.parser.Parser().parsestr(z.read(f"{info}/METADATA").decode())
            wheel = email.parser.Parser().parsestr(z.read(f"{info}/WHEEL").decode())
            names = set(z.namelist())
            mv = tuple(int(x) for x in meta["Metadata-Version"].split("."))
            check(mv >= (2, 4), f"{label}: Metadata-Version {meta['Metadata-Version']}: 2.4 carries License-Expression")
            check(meta["Name"] == "aichat" and meta["Version"] == version, f"{label}: name/version {meta['Name']} {meta['Version']}")
            check(meta["License-Expression"] == LICENSE, f"{label}: License-Expression is {meta['License-Expression']!r}")
            check(sorted(meta.get_all("License-File") or []) == sorted(LICENSE_FILES),
                  f"{label}: License-File {meta.get_all('License-File')}")
            for name, text in licenses.items():
                path = f"{info}/licenses/{name}"
                check(path in names and z.read(path) == text, f"{label}: {path} missing or not the repository's {name}")
            classifiers = meta.get_all("Classifier") or []
            minimum = re.fullmatch(r">=3\.(\d+)", meta["Requires-Python"] or "")
            check(minimum is not None, f"{label}: Requires-Python {meta['Requires-Python']}")
            if minimum:
                for minor in range(int(minimum.group(1)), 14):
                    check(f"Programming Language :: Python :: 3.{minor}" in classifiers,
                          f"{label}: no classifier for Python 3.{minor} (Requires-Python says it works)")
            for want in ("Operating System :: POSIX :: Linux", "Typing :: Typed", "Programming Language :: Python :: 3 :: Only"):
                check(want in classifiers, f"{label}: no classifier {want!r}")
            check(any(c.startswith("Development Status :: ") for c in classifiers), f"{label}: no Development Status classifier")
            # PEP 639: the license expression replaces the license classifiers.
            check(not any(c.startswith("License ::") for c in classifiers), f"{label}: a License classifier next to License-Expression")
            urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [])
            for key in ("Homepage", "Repository", "Issues", "Documentation"):
                check(urls.get(key, "").startswith(URL), f"{label}: Project-URL {key} is {urls.get(key)!r}")
            for p in PROTOCOLS:
                check(p in (meta["Summary"] or ""), f"{label}: the Summary does not mention {p}")
            check(meta["Description-Content-Type"] == "text/markdown", f"{label}: Description-Content-Type {meta['Description-Content-Type']}")
            check_readme(label, meta.get_payload(), repo / "bindings/python/README.md")
            check(wheel["Root-Is-Purelib"] == "false", f"{label}: marked pure, though it carries the library")
            check("aichat/_lib/libaichat.so" in names and "aichat/py.typed" in names, f"{label}: no library or py.typed")

    # --- the npm tarball ---------------------------------------------------------------------
    tarballs = sorted(dist.glob(f"aichat-{version}.tgz"))
    check(len(tarballs) == 1, f"one npm tarball expected in dist/, found {tarballs}")
    if tarballs:
        label = tarballs[0].name
        with tarfile.open(tarballs[0]) as t:
            files = {m.name: m for m in t.getmembers() if m.isfile()}

            def read(name: str) -> bytes:
                f = t.extractfile(files[name]) if name in files else None
                return f.read() if f else b""

            pkg = json.loads(read("package/package.json"))
            check(pkg.get("name") == "aichat" and pkg.get("version") == version, f"{label}: name/version")
            check(pkg.get("license") == LICENSE, f"{label}: license is {pkg.get('license')!r}")
            for name, text in licenses.items():
                check(read(f"package/{name}") == text, f"{label}: package/{name} missing or not the repository's")
            check_readme(label, read("package/README.md").decode(), repo / "bindings/node/README.md")
            repository = pkg.get("repository") or {}
            check(URL.split("//")[1] in (repository.get("url", "") if isinstance(repository, dict) else repository),
                  f"{label}: repository is {repository!r}")
            check(str(pkg.get("homepage", "")).startswith(URL), f"{label}: homepage is {pkg.get('homepage')!r}")
            check(str((pkg.get("bugs") or {}).get("url", "")).startswith(URL), f"{label}: bugs is {pkg.get('bugs')!r}")
            check(len(pkg.get("keywords") or []) >= 3, f"{label}: keywords {pkg.get('keywords')}")
            for p in PROTOCOLS:
                check(p in pkg.get("description", ""), f"{label}: the description does not mention {p}")
            prebuilds = sorted({n.split("/")[2] for n in files if n.startswith("package/prebuilds/") and n.endswith("/libaichat.so")})
            check(bool(prebuilds), f"{label}: no prebuilt library")
            want_os = sorted({d.split("-")[0] for d in prebuilds})
            want_cpu = sorted({d.split("-")[1] for d in prebuilds})
            check(sorted(pkg.get("os") or []) == want_os and sorted(pkg.get("cpu") or []) == want_cpu,
                  f"{label}: os {pkg.get('os')} / cpu {pkg.get('cpu')}, but it carries {prebuilds}")

    # --- the Go module -------------------------------------------------------------------------
    go = dist / "go"
    label = "dist/go"
    for name, text in licenses.items():
        check((go / name).is_file() and (go / name).read_bytes() == text, f"{label}: {name} missing or not the repository's")
    readme = go / "README.md"
    check(readme.is_file(), f"{label}: no README.md")
    if readme.is_file():
        check_readme(label, readme.read_text(encoding="utf-8"), repo / "bindings/go/README.md")
    check(any(go.glob("lib/*/libaichat.a")), f"{label}: no static library")

    if failures:
        sys.exit("package metadata:\n  " + "\n  ".join(failures))
    print(f"package metadata: ok ({', '.join(w.name for w in wheels + tarballs)}, dist/go)")


if __name__ == "__main__":
    main()
