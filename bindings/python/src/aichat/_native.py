"""The C functions, declared once for ctypes, and where the library is found.

Loaded on first use, so that importing the package never fails: a missing library is reported
by the first call, with where it was looked for. ctypes releases the GIL during every call, so a
call that waits (``aichat_stream_next`` with a wait) never holds up other threads.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from ctypes import POINTER, c_bool, c_char_p, c_int, c_size_t, c_uint16, c_uint32, c_void_p
from pathlib import Path
from typing import Any, Optional

_HERE = Path(__file__).resolve().parent
_SONAME = "libaichat.dylib" if sys.platform == "darwin" else "libaichat.so"


class Chunks(ctypes.Structure):
    _fields_ = [
        ("text", c_void_p),
        ("text_len", c_size_t),
        ("ends", POINTER(c_size_t)),
        ("count", c_size_t),
        ("finished", c_bool),
    ]


class Usage(ctypes.Structure):
    _fields_ = [
        ("prompt_tokens", ctypes.c_int64),
        ("completion_tokens", ctypes.c_int64),
        ("total_tokens", ctypes.c_int64),
        ("cached_tokens", ctypes.c_int64),
        ("reasoning_tokens", ctypes.c_int64),
    ]


class Event(ctypes.Structure):
    _fields_ = [
        ("kind", c_int),
        ("choice", c_uint32),
        ("index", c_uint32),
        ("text", c_void_p),
        ("text_len", c_size_t),
        ("id", c_char_p),
        ("name", c_char_p),
        ("usage", POINTER(Usage)),
    ]


class Events(ctypes.Structure):
    _fields_ = [
        ("items", POINTER(Event)),
        ("count", c_size_t),
        ("finished", c_bool),
    ]


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


def _declare(lib: ctypes.CDLL) -> ctypes.CDLL:
    def fn(name: str, restype: Any, *argtypes: Any) -> None:
        f = getattr(lib, name)
        f.restype = restype
        f.argtypes = list(argtypes)

    err_out = POINTER(c_void_p)
    fn("aichat_version", c_char_p)
    fn("aichat_status_name", c_char_p, c_int)
    fn("aichat_client_new", c_void_p, c_char_p, err_out)
    fn("aichat_client_free", None, c_void_p)
    fn("aichat_cancel_new", c_void_p)
    fn("aichat_cancel_trigger", None, c_void_p)
    fn("aichat_cancel_free", None, c_void_p)
    fn("aichat_client_stream_open", c_void_p, c_void_p, c_char_p, c_void_p, err_out)
    fn("aichat_client_stream_open_events", c_void_p, c_void_p, c_char_p, c_void_p, err_out)
    fn("aichat_stream_next", c_int, c_void_p, c_uint32, POINTER(Chunks), err_out)
    fn("aichat_stream_next_events", c_int, c_void_p, c_uint32, POINTER(Events), err_out)
    fn("aichat_stream_fd", c_int, c_void_p, err_out)
    fn("aichat_stream_free", None, c_void_p)
    fn("aichat_error_code", c_int, c_void_p)
    fn("aichat_error_message", c_char_p, c_void_p)
    fn("aichat_error_http_status", c_uint16, c_void_p)
    fn("aichat_error_free", None, c_void_p)
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
                    _lib = _declare(ctypes.CDLL(path))
                    break
                except OSError as e:
                    tried.append(f"{path} ({e})")
            else:
                raise OSError(
                    "aichat: cannot load the native library; tried " + "; ".join(tried)
                    + ". Install the wheel for this platform, build it with `make build`, or set AICHAT_LIB."
                )
    return _lib
