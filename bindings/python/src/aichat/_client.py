"""The client: requests become the library's JSON, a pulled native stream becomes an iterator
(sync) or an async iterator (asyncio, driven by the stream's descriptor with ``add_reader``)."""

from __future__ import annotations

import asyncio
import json
import threading
from ctypes import byref, c_void_p
from typing import (
    TYPE_CHECKING, Any, AsyncIterator, Callable, Generic, Iterator, Mapping, Optional, Sequence, TypeVar, Union,
)

from . import _errors, _events, _native
from ._abi import Options

if TYPE_CHECKING:  # Unpack is in typing from 3.11; type checkers know typing_extensions
    from typing_extensions import Unpack

T = TypeVar("T")

#: How long one blocking pull waits. The GIL is released meanwhile; between two pulls Python
#: runs its signal handlers, so Ctrl-C stops a sync loop within this time.
WAIT_MS = 100

Messages = Sequence[Mapping[str, Any]]
RequestLike = Union[Messages, Mapping[str, Any], None]


def request_json(request: RequestLike, fields: Mapping[str, Any]) -> bytes:
    """A list is the messages; a mapping is the whole request; keyword fields are added to it.
    Fields that are None are left out (not set), so the client's defaults apply."""
    if request is None:
        body: dict[str, Any] = {}
    elif isinstance(request, Mapping):
        body = dict(request)
    else:
        body = {"messages": list(request)}
    body.update(fields)
    return json.dumps({k: v for k, v in body.items() if v is not None}).encode()


class _Kind(Generic[T]):
    """How a stream is opened and pulled: for its text, or for its events."""

    def __init__(self, open_name: str, next_name: str, out: Any, decode: Callable[[Any], list[T]]):
        self.open_name, self.next_name, self.out, self.decode = open_name, next_name, out, decode


TEXT: _Kind[str] = _Kind("aichat_client_stream_open", "aichat_stream_next", _native.Chunks, _events.decode_chunks)
EVENTS: _Kind[_events.Event] = _Kind(
    "aichat_client_stream_open_events", "aichat_stream_next_events", _native.Events, _events.decode_events
)


class _Stream(Generic[T]):
    """One native stream. ``close()`` (also on garbage collection) stops the request and frees it."""

    _handle: Optional[int] = None

    def __init__(self, client: "Client", kind: _Kind[T], request: bytes):
        self._client = client  # kept alive (and not freed by close()) while this stream runs
        self._kind = kind
        self._lib = _native.lib()
        self._out = kind.out()
        error = c_void_p()
        handle = client._acquire()
        try:
            self._handle = getattr(self._lib, kind.open_name)(handle, request, None, byref(error))
        except BaseException:
            client._release()
            raise
        if not self._handle:
            client._release()
            raise _errors.take(error)

    def next(self, wait_ms: int) -> tuple[list[T], bool]:
        """What arrived within ``wait_ms``, and whether the completion finished."""
        if not self._handle:
            raise _errors.InvalidArgumentError("the stream is closed", "AICHAT_ERROR_INVALID_ARGUMENT", 1)
        error = c_void_p()
        status = getattr(self._lib, self._kind.next_name)(self._handle, wait_ms, byref(self._out), byref(error))
        if status != 0:
            raise _errors.take(error)
        return self._kind.decode(self._out), bool(self._out.finished)

    def fd(self) -> int:
        error = c_void_p()
        fd = int(self._lib.aichat_stream_fd(self._handle, byref(error)))
        if fd < 0:
            raise _errors.take(error)
        return fd

    def close(self) -> None:
        handle, self._handle = self._handle, None
        if handle:
            self._lib.aichat_stream_free(handle)
            self._client._release()

    def __del__(self) -> None:
        self.close()


def _pull(stream: _Stream[T]) -> Iterator[T]:
    """The items of a stream, pulled in blocking batches; the stream is closed however the loop
    ends (break, an exception in its body, KeyboardInterrupt, garbage collection)."""
    try:
        while True:
            items, finished = stream.next(WAIT_MS)
            yield from items
            if finished:
                return
    finally:
        stream.close()


async def _apull(stream: _Stream[T]) -> AsyncIterator[T]:
    """The items of a stream, taken when its descriptor is readable: the event loop never blocks
    and no thread waits. Task cancellation closes the stream, which stops the request."""
    loop = asyncio.get_running_loop()
    try:
        fd = stream.fd()
        while True:
            items, finished = stream.next(0)  # never blocks
            for item in items:
                yield item
            if finished:
                return
            if not items:
                await _readable(loop, fd)
    finally:
        stream.close()


async def _readable(loop: asyncio.AbstractEventLoop, fd: int) -> None:
    # Watched only while waiting: the descriptor is level-triggered and stays readable while
    # items wait, which would otherwise wake the loop on every turn.
    ready: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(fd, wake)
    try:
        await ready
    finally:
        loop.remove_reader(fd)


class Client:
    """Defaults and a connection pool shared by its calls; safe to use from many threads.

    Options are the request schema's fields in snake_case (``provider``, ``base_url``,
    ``api_key``, ``model``, ``timeout_ms``, ``proxy``, ...); a request's own fields win."""

    def __init__(self, **options: Unpack[Options]):
        lib = _native.lib()
        error = c_void_p()
        js = json.dumps({k: v for k, v in options.items() if v is not None}).encode()
        handle = lib.aichat_client_new(js, byref(error))
        if not handle:
            raise _errors.take(error)
        self._lib = lib
        self._handle: Optional[int] = handle
        self._lock = threading.Lock()
        self._active = 0
        self._closed = False

    # --- lifetime --------------------------------------------------------------------------
    def close(self) -> None:
        """Frees the client once its open streams are closed. Idempotent."""
        with self._lock:
            self._closed = True
            free = self._active == 0
        if free:
            self._free()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __del__(self) -> None:
        # Streams keep their client alive, so none is open here.
        self._free()

    def _free(self) -> None:
        handle, self._handle = getattr(self, "_handle", None), None
        if handle:
            self._lib.aichat_client_free(handle)

    def _acquire(self) -> Optional[int]:
        with self._lock:
            if self._closed:
                raise _errors.InvalidArgumentError("the client is closed", "AICHAT_ERROR_INVALID_ARGUMENT", 1)
            self._active += 1
            return self._handle

    def _release(self) -> None:
        with self._lock:
            self._active -= 1
            free = self._closed and self._active == 0
        if free:
            self._free()

    # --- sync ------------------------------------------------------------------------------
    def stream(self, messages_or_request: RequestLike = None, /, **fields: Unpack[Options]) -> Iterator[str]:
        """Streams one completion: each piece of choice 0's text as it arrives. The request
        starts here; leaving the loop early stops it."""
        return _pull(_Stream(self, TEXT, request_json(messages_or_request, fields)))

    def events(self, messages_or_request: RequestLike = None, /, **fields: Unpack[Options]) -> Iterator[_events.Event]:
        """Streams one completion's events: ResponseEvent first, MessageEvent last."""
        return _pull(_Stream(self, EVENTS, request_json(messages_or_request, fields)))

    def run(self, messages_or_request: RequestLike = None, /, **fields: Unpack[Options]) -> _events.Result:
        """One completion's whole answer, as the library assembles it: the request goes with
        ``result=True`` and its last event, a ResultEvent, is what is returned."""
        result = None
        fields["result"] = True
        for e in self.events(messages_or_request, **fields):
            if isinstance(e, _events.ResultEvent):
                result = e.result
        return _whole(result)

    def complete(self, messages_or_request: RequestLike = None, /, **fields: Unpack[Options]) -> str:
        """One completion's whole text."""
        return "".join(self.stream(messages_or_request, **fields))

    # --- asyncio ---------------------------------------------------------------------------
    def astream(self, messages_or_request: RequestLike = None, /, **fields: Unpack[Options]) -> AsyncIterator[str]:
        """As stream(), for asyncio: the request starts here."""
        return _apull(_Stream(self, TEXT, request_json(messages_or_request, fields)))

    def aevents(self, messages_or_request: RequestLike = None, /, **fields: Unpack[Options]) -> AsyncIterator[_events.Event]:
        """As events(), for asyncio."""
        return _apull(_Stream(self, EVENTS, request_json(messages_or_request, fields)))

    async def arun(self, messages_or_request: RequestLike = None, /, **fields: Unpack[Options]) -> _events.Result:
        """As run(), for asyncio."""
        result = None
        fields["result"] = True
        async for e in self.aevents(messages_or_request, **fields):
            if isinstance(e, _events.ResultEvent):
                result = e.result
        return _whole(result)

    async def acomplete(self, messages_or_request: RequestLike = None, /, **fields: Unpack[Options]) -> str:
        """As complete(), for asyncio."""
        return "".join([chunk async for chunk in self.astream(messages_or_request, **fields)])


def _whole(result: Optional[_events.Result]) -> _events.Result:
    """The result a finished call handed over; every successful call with ``result`` has one."""
    if result is None:
        raise _errors.InternalError("the answer ended without its result event", "AICHAT_ERROR_INTERNAL", 11)
    return result


_default: Optional[Client] = None
_default_lock = threading.Lock()


def default_client() -> Client:
    """The process-wide client with library defaults the module-level functions use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Client()
        return _default

