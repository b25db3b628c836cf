"""AichatError and one subclass per C status, found by the status's C name."""

from __future__ import annotations

import builtins
from ctypes import c_void_p
from typing import Optional

from . import _native


class AichatError(Exception):
    """A failed call. ``code`` is the C name (``"AICHAT_ERROR_TIMEOUT"``), ``status`` the C number,
    ``http_status`` the HTTP status of the answer behind it (0 when none arrived)."""

    def __init__(self, message: str, code: str = "AICHAT_ERROR_INTERNAL", status: int = 11, http_status: int = 0):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.http_status = http_status


class InvalidArgumentError(AichatError):
    """AICHAT_ERROR_INVALID_ARGUMENT: an argument the library cannot take (e.g. a closed client)."""


class InvalidRequestError(AichatError):
    """AICHAT_ERROR_INVALID_REQUEST: the request does not fit the schema."""


class ConnectError(AichatError, builtins.ConnectionError):
    """AICHAT_ERROR_CONNECT: DNS, connection refused, TLS handshake, proxy."""


class TimeoutError(AichatError, builtins.TimeoutError):
    """AICHAT_ERROR_TIMEOUT: connect, idle or whole-call timeout."""


class HTTPStatusError(AichatError):
    """AICHAT_ERROR_HTTP_STATUS: a non-2xx answer (``http_status`` has it)."""


class ProtocolError(AichatError):
    """AICHAT_ERROR_PROTOCOL: the answer is not what the protocol says."""


class ServerError(AichatError):
    """AICHAT_ERROR_SERVER: a well-formed answer that reports failure."""


class CancelledError(AichatError):
    """AICHAT_ERROR_CANCELLED: the call was cancelled (not asyncio's CancelledError)."""


class TransferError(AichatError):
    """AICHAT_ERROR_IO: the connection broke mid-transfer."""


class TooLargeError(AichatError):
    """AICHAT_ERROR_TOO_LARGE: the answer exceeded ``max_response_bytes``, or (events) had more
    than 128 choices or 4,096 tool calls in all."""


class InternalError(AichatError):
    """AICHAT_ERROR_INTERNAL: a bug in the library."""


_BY_CODE: dict[str, type[AichatError]] = {
    "AICHAT_ERROR_INVALID_ARGUMENT": InvalidArgumentError,
    "AICHAT_ERROR_INVALID_REQUEST": InvalidRequestError,
    "AICHAT_ERROR_CONNECT": ConnectError,
    "AICHAT_ERROR_TIMEOUT": TimeoutError,
    "AICHAT_ERROR_HTTP_STATUS": HTTPStatusError,
    "AICHAT_ERROR_PROTOCOL": ProtocolError,
    "AICHAT_ERROR_SERVER": ServerError,
    "AICHAT_ERROR_CANCELLED": CancelledError,
    "AICHAT_ERROR_IO": TransferError,
    "AICHAT_ERROR_TOO_LARGE": TooLargeError,
    "AICHAT_ERROR_INTERNAL": InternalError,
}


def error_class(code: str) -> type[AichatError]:
    """The subclass for a C name; AichatError itself for a code added by a newer library."""
    return _BY_CODE.get(code, AichatError)


def make(status: int, message: str, http_status: int = 0) -> AichatError:
    name = _native.lib().aichat_status_name(status)
    code = name.decode() if name else "AICHAT_UNKNOWN"
    return error_class(code)(message, code, status, http_status)


def take(error: c_void_p) -> AichatError:
    """Converts and frees a C error."""
    lib = _native.lib()
    if not error:
        return InternalError("the library failed without an error")
    try:
        status = int(lib.aichat_error_code(error))
        message: Optional[bytes] = lib.aichat_error_message(error)
        return make(status, (message or b"").decode("utf-8", "replace"), int(lib.aichat_error_http_status(error)))
    finally:
        lib.aichat_error_free(error)
