"""Overall deadlines for network calls.

A per-read timeout alone never fires on a server that sends one byte every few seconds: each
read succeeds, and a caption (or a blob) waits forever. So every HTTP call Train Mode makes has
an overall deadline too: every socket read and write of the call (connect, TLS, request, headers,
body) gets at most the time left until it, and past it the call fails with the HTTP library's own
timeout error, which the callers already turn into a clear message.

    with deadline.within(30):          # everything this thread sends or reads in the block
        client.get(url)                # ends by then; nested blocks: the earlier deadline wins

A client made with `transport(httpx)` (or `transport(httpx2)`, the OpenAI client's fork) applies
the deadlines of this thread, and gives each request made outside any block `default_s` for
itself and its body. The deadline lives in the connection's network streams (an httpcore
network backend), so it bounds reads the HTTP library makes on its own, such as headers.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

_local = threading.local()
PASSED = "the call's overall deadline passed"


def passed(exc: BaseException) -> bool:
    """Whether a timeout error was the overall deadline (not one read's timeout)."""
    return PASSED in str(exc)


def current() -> float | None:
    """This thread's deadline (time.monotonic()), or None."""
    return getattr(_local, "deadline", None)


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Network calls of this thread inside the block end within `seconds` (or fail)."""
    with until(time.monotonic() + max(float(seconds), 0.0)):
        yield


@contextmanager
def until(when: float, *, extend: bool = False) -> Iterator[None]:
    """The deadline `when` (time.monotonic()); an earlier one already set wins unless `extend`."""
    previous = current()
    _local.deadline = when if previous is None or extend else min(previous, when)
    try:
        yield
    finally:
        _local.deadline = previous


def remaining() -> float | None:
    deadline = current()
    return None if deadline is None else deadline - time.monotonic()


def transport(httpx_module: ModuleType, *, default_s: float, **options):
    """An HTTPTransport of `httpx_module` (httpx or httpx2) whose every call has a deadline."""
    core = importlib.import_module("httpcore2" if httpx_module.__name__ == "httpx2" else "httpcore")
    inner = httpx_module.HTTPTransport(**options)
    pool = inner._pool  # the httpcore pool HTTPTransport made; its network backend opens every socket
    pool._network_backend = _backend_class(core)(pool._network_backend, core)
    return _transport_class(httpx_module)(inner, default_s)


def _bounded(timeout: float | None, error: type[Exception]) -> float | None:
    left = remaining()
    if left is None:
        return timeout
    if left <= 0:
        raise error(PASSED)
    return left if timeout is None else min(timeout, left)


def _io(operation, timeout: float | None, error: type[Exception]):
    """Run operation(bounded timeout); a timeout caused by the deadline says so."""
    bounded = _bounded(timeout, error)
    try:
        return operation(bounded)
    except error:
        if bounded is not timeout:
            raise error(PASSED) from None
        raise


_classes: dict[tuple[str, str], type] = {}


def _backend_class(core: ModuleType) -> type:
    """A network backend (and stream) for `core` (httpcore or httpcore2) that bounds every
    socket operation by the thread's deadline; made once per module."""
    key = ("backend", core.__name__)
    if key in _classes:
        return _classes[key]

    class Stream(core.NetworkStream):
        def __init__(self, inner):
            self._inner = inner

        def read(self, max_bytes, timeout=None):
            return _io(lambda t: self._inner.read(max_bytes, t), timeout, core.ReadTimeout)

        def write(self, buffer, timeout=None):
            return _io(lambda t: self._inner.write(buffer, t), timeout, core.WriteTimeout)

        def close(self):
            self._inner.close()

        def start_tls(self, ssl_context, server_hostname=None, timeout=None):
            return Stream(self._inner.start_tls(ssl_context, server_hostname, _bounded(timeout, core.ConnectTimeout)))

        def get_extra_info(self, info):
            return self._inner.get_extra_info(info)

    class Backend(core.NetworkBackend):
        def __init__(self, inner, _core):
            self._inner = inner

        def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
            bounded = _bounded(timeout, core.ConnectTimeout)
            return Stream(self._inner.connect_tcp(host, port, bounded, local_address, socket_options))

        def connect_unix_socket(self, path, timeout=None, socket_options=None):
            return Stream(self._inner.connect_unix_socket(path, _bounded(timeout, core.ConnectTimeout), socket_options))

        def sleep(self, seconds):
            self._inner.sleep(seconds)

    _classes[key] = Backend
    return Backend


def _transport_class(httpx_module: ModuleType) -> type:
    """A transport of `httpx_module` giving a request made outside `within` its own deadline
    (default_s), for the request and for reading its body."""
    key = ("transport", httpx_module.__name__)
    if key in _classes:
        return _classes[key]

    class Body(httpx_module.SyncByteStream):
        def __init__(self, inner, when: float):
            self._inner, self._when = inner, when

        def __iter__(self):
            parts = iter(self._inner)
            while True:
                with until(self._when) if current() is None else _unchanged():
                    part = next(parts, None)
                if part is None:
                    return
                yield part

        def close(self):
            self._inner.close()

    class Transport(httpx_module.BaseTransport):
        def __init__(self, inner, default_s: float):
            self._inner, self.default_s = inner, default_s

        def handle_request(self, request):
            if current() is not None:
                return self._inner.handle_request(request)
            when = time.monotonic() + self.default_s
            with until(when):
                response = self._inner.handle_request(request)
            response.stream = Body(response.stream, when)
            return response

        def close(self):
            self._inner.close()

    _classes[key] = Transport
    return Transport


@contextmanager
def _unchanged() -> Iterator[None]:
    yield
