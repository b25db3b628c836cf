"""The binding refuses a library whose ABI differs from the one it was generated for: a stand-in
library (built here with cc) that describes itself with another layout or version."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

from aichat import _abi


def description(version: str, change: Callable[[dict[str, Any]], None]) -> str:
    layouts = {
        name: {"size": l["size"], "align": 8,
               "fields": [{"name": n, "offset": o, "size": s} for n, o, s in l["fields"]]}
        for name, l in _abi.LAYOUTS.items()
    }
    change(layouts)
    return json.dumps({"version": version, "layouts": layouts})


def load_against(tmp_path: Path, desc: str) -> str:
    """Imports the binding in a child process against a stand-in library; returns its stderr."""
    source = tmp_path / "fake.c"
    source.write_text(f"const char *aichat_abi_json(void) {{ return {json.dumps(desc)}; }}\n")
    lib = tmp_path / "libfake.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(lib), str(source)], check=True)
    package_root = str(Path(_abi.__file__).resolve().parents[1])
    env = dict(os.environ, AICHAT_LIB=str(lib), PYTHONPATH=package_root)
    code = "import aichat\ntry:\n    aichat.Client()\nexcept Exception as e:\n    import sys; print(e, file=sys.stderr)"
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    return run.stderr


def test_a_library_that_lays_out_a_struct_differently_is_refused(tmp_path: Path) -> None:
    def grow(l: dict[str, Any]) -> None:
        l["AichatEvent"]["size"] += 8

    def move(l: dict[str, Any]) -> None:
        l["AichatUsage"]["fields"][1]["offset"] += 8

    assert "lays out AichatEvent differently" in load_against(tmp_path, description(_abi.VERSION, grow))
    assert "lays out AichatUsage differently" in load_against(tmp_path, description(_abi.VERSION, move))


def test_a_library_of_another_minor_version_is_refused(tmp_path: Path) -> None:
    major, minor = (int(p) for p in _abi.VERSION.split(".")[:2])
    err = load_against(tmp_path, description(f"{major}.{minor + 1}.0", lambda l: None))
    assert "this binding was generated for" in err


def test_the_same_layouts_and_version_pass_the_check(tmp_path: Path) -> None:
    err = load_against(tmp_path, description(_abi.VERSION, lambda l: None))
    # The stand-in has no other function: loading gets past the check and fails on the first one.
    assert "lays out" not in err and "generated for" not in err
    assert "aichat_" in err
