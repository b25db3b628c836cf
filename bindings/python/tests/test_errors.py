"""Errors: one subclass per C status, with code, status and http_status."""

from __future__ import annotations

import builtins
from typing import Any, Callable

import pytest

import aichat

Req = Callable[..., dict[str, Any]]


def test_http_status(client: aichat.Client, openai: Req) -> None:
    with pytest.raises(aichat.HTTPStatusError) as e:
        client.complete(openai("status=503"))
    assert (e.value.code, e.value.http_status) == ("AICHAT_ERROR_HTTP_STATUS", 503)
    assert isinstance(e.value.status, int) and e.value.status > 0


def test_timeout_is_also_the_builtin(client: aichat.Client, openai: Req) -> None:
    with pytest.raises(builtins.TimeoutError) as e:
        client.complete(openai("silence", idle_timeout_ms=200))
    assert isinstance(e.value, aichat.TimeoutError) and e.value.code == "AICHAT_ERROR_TIMEOUT"


def test_connect_is_also_connection_error(client: aichat.Client) -> None:
    with pytest.raises(ConnectionError) as e:
        client.complete([], provider="openai", base_url="http://127.0.0.1:1/v1")
    assert isinstance(e.value, aichat.ConnectError)


def test_invalid_request_is_raised_where_the_call_is_made(client: aichat.Client) -> None:
    with pytest.raises(aichat.InvalidRequestError) as e:
        client.stream([{"role": "user"}], temperature="hot")  # raised before any iteration
    assert e.value.code == "AICHAT_ERROR_INVALID_REQUEST" and "temperature" in str(e.value)


def test_bad_options(base_url: str) -> None:
    with pytest.raises(aichat.InvalidRequestError):
        aichat.Client(timeout_ms="soon")


def test_a_failure_comes_after_the_chunks_before_it(client: aichat.Client, openai: Req) -> None:
    got = []
    with pytest.raises(aichat.AichatError) as e:
        for chunk in client.stream(openai("chunks=10,cut")):
            got.append(chunk)
    assert got == [f"tok{i} " for i in range(5)] and e.value.code in ("AICHAT_ERROR_IO", "AICHAT_ERROR_PROTOCOL")


def test_closed_client(base_url: str) -> None:
    c = aichat.Client()
    c.close()
    c.close()
    with pytest.raises(aichat.InvalidArgumentError):
        c.complete([], base_url=base_url)


def test_every_code_has_its_class() -> None:
    for name, cls in [("AICHAT_ERROR_SERVER", aichat.ServerError), ("AICHAT_ERROR_TOO_LARGE", aichat.TooLargeError),
                      ("AICHAT_ERROR_IO", aichat.TransferError), ("AICHAT_ERROR_CANCELLED", aichat.CancelledError)]:
        from aichat._errors import error_class

        assert error_class(name) is cls and issubclass(cls, aichat.AichatError)


def test_every_setting_of_the_table_is_a_keyword(base_url: str) -> None:
    # Options (the typed keywords) is generated from the library's settings table.
    assert {"tls_roots", "user", "ca_file", "max_retries"} <= set(aichat.Options.__annotations__)
    with pytest.raises(aichat.InvalidRequestError, match='`tls_roots` is "mine"'):
        aichat.Client(tls_roots="mine")  # type: ignore[typeddict-item]
    with aichat.Client(tls_roots="system") as c:
        with pytest.raises(aichat.InvalidRequestError, match="`user` is not supported by the aichat provider"):
            c.complete([], user="u-1", base_url=base_url)
