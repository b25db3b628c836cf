"""The C functions, declared once for ctypes, and where the library is found.

Loaded on first use, so that importing the package never fails: a missing library is reported
by the first call, with where it was looked for. ctypes releases the GIL during every call, so a
call that waits (``aichat_stream_next`` with a wait) never holds up other threads.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
import threading
from ctypes import c_char_p
from pathlib import Path
from typing import Optional

from . import _abi

_HERE = Path(__file__).resolve().parent
_SONAME = "libaichat.dylib" if sys.platform == "darwin" else "libaichat.so"


# The structs, generated from the header and checked against the library when it loads.
Chunks = _abi.Chunks
Usage = _abi.Usage
Event = _abi.Event
Events = _abi.Events


def candidates() -> list[str]:
    """Where the library is looked for, in order."""
    found = []
    if os.environ.get("AICHAT_LIB"):
        found.append(os.environ["AICHAT_LIB"])
    found.append(str(_HERE / "_lib" / _SONAME))  # inside an installed wheel
    repo = _HERE.parents[3] / "target" / "release" / _SONAME  # bindings/python/src/aichat in a checkout
    found.append(str(repo))
    found.append("libaichat.so.0")  # after `make install`: the dynamic loader's search path
    return found


class AbiMismatch(OSError):
    """The library found is not the one this binding was generated for."""


def _check_abi(lib: ctypes.CDLL, path: str) -> None:
    """Refuses a library whose version (major.minor) or struct layouts differ from the ones this
    binding was generated for: reading its structs would read garbage."""
    try:
        describe = lib.aichat_abi_json
    except AttributeError:
        raise AbiMismatch(f"aichat: {path} does not describe its ABI (no aichat_abi_json); "
                      f"this binding needs libaichat {_abi.VERSION}") from None
    describe.restype = c_char_p
    describe.argtypes = []
    desc = json.loads(describe() or b"{}")
    version = str(desc.get("version", "?"))
    if version.split(".")[:2] != _abi.VERSION.split(".")[:2]:
        raise AbiMismatch(f"aichat: {path} is version {version}; this binding was generated for {_abi.VERSION}")
    for name, want in _abi.LAYOUTS.items():
        got = desc.get("layouts", {}).get(name)
        fields = [[f["name"], f["offset"], f["size"]] for f in got["fields"]] if got else None
        if not got or got["size"] != want["size"] or fields != want["fields"]:
            raise AbiMismatch(f"aichat: {path} lays out {name} differently from the header this binding was generated "
                          f"from (library {version}, binding {_abi.VERSION}): refusing to read its structs")


def _declare(lib: ctypes.CDLL, path: str) -> ctypes.CDLL:
    _check_abi(lib, path)
    for name, restype, *argtypes in _abi.FUNCTIONS:
        f = getattr(lib, name)
        f.restype = restype
        f.argtypes = list(argtypes)
    return lib


_lib: Optional[ctypes.CDLL] = None
_lock = threading.Lock()


def lib() -> ctypes.CDLL:
    """The loaded library (loaded on first use)."""
    global _lib
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is None:
            tried = []
            for path in candidates():
                if os.sep in path and not os.path.exists(path):
                    tried.append(f"{path} (absent)")
                    continue
                try:
                    found = ctypes.CDLL(path)
                except OSError as e:
                    tried.append(f"{path} ({e})")
                    continue
                # A library that loads but differs from this binding is refused, not skipped.
                _lib = _declare(found, path)
                break
            else:
                raise OSError(
                    "aichat: cannot load the native library; tried " + "; ".join(tried)
                    + ". Install the wheel for this platform, build it with `make build`, or set AICHAT_LIB."
                )
    return _lib
