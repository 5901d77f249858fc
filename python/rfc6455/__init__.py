"""The rfc6455 WebSocket engine from Python, through its C API.

The declarations come from the committed header (``ffi/include/rfc6455.h``),
read by cffi in ABI mode, and the shared library (``librfc6455.so``) is
loaded at import: from ``$RFC6455_LIB`` if set, else from the repository's
``target/release``. Nothing is compiled.

:class:`Connection` wraps one ``rfc6455_conn``: feed it the bytes read from
a socket, take its events, write what :meth:`Connection.transmit` returns.
Like the engine, it does no I/O and reads no clock but the one passed in (it
defaults to ``time.monotonic_ns()``).
"""

import os
import re
import time
from collections import deque
from pathlib import Path

import cffi

_HERE = Path(__file__).resolve().parent
_REPO = _HERE.parent.parent
HEADER = Path(os.environ.get("RFC6455_HEADER", _REPO / "ffi" / "include" / "rfc6455.h"))
LIBRARY = Path(os.environ.get("RFC6455_LIB", _REPO / "target" / "release" / "librfc6455.so"))


def _declarations(header):
    """The header as cffi's cdef takes it: no preprocessor lines but the
    integer #defines, no extern "C" block."""
    out = []
    for line in header.splitlines():
        if line.startswith("#"):
            if re.match(r"#define RFC6455_\w+ \d+$", line):
                out.append(line)
            continue
        if line.startswith('extern "C"') or line.startswith('}  // extern "C"'):
            continue
        out.append(line)
    return "\n".join(out)


ffi = cffi.FFI()
ffi.cdef(_declarations(HEADER.read_text()))
lib = ffi.dlopen(str(LIBRARY))

OK, DONE = lib.RFC6455_OK, lib.RFC6455_DONE
CONNECTING, OPEN, CLOSING, CLOSED = lib.RFC6455_CONNECTING, lib.RFC6455_OPEN, lib.RFC6455_CLOSING, lib.RFC6455_CLOSED

KINDS = {
    lib.RFC6455_EVENT_REQUEST: "request",
    lib.RFC6455_EVENT_OPEN: "open",
    lib.RFC6455_EVENT_TEXT: "text",
    lib.RFC6455_EVENT_BINARY: "binary",
    lib.RFC6455_EVENT_PING: "ping",
    lib.RFC6455_EVENT_PONG: "pong",
    lib.RFC6455_EVENT_ERROR: "error",
    lib.RFC6455_EVENT_CLOSED: "closed",
}


def status_str(status):
    """The name of a status code, as the library gives it."""
    return ffi.string(lib.rfc6455_status_str(status)).decode()


class Rfc6455Error(Exception):
    """A call the library refused: ``status`` is the code, ``name`` its name."""

    def __init__(self, status, what=""):
        self.status = status
        self.name = status_str(status)
        super().__init__(f"{what}: {self.name}" if what else self.name)


def _check(status, what):
    if status not in (OK, DONE):
        raise Rfc6455Error(status, what)
    return status


def now_ns():
    return time.monotonic_ns()


def _now(now):
    """The time given (0 included), or the monotonic clock's."""
    return now_ns() if now is None else now


class Event:
    """One event, copied out of the library's borrowed view."""

    __slots__ = ("kind", "data", "fin", "code", "was_clean", "error", "request")

    def __init__(self, kind, data=b"", fin=True, code=0, was_clean=False, error=0, request=None):
        self.kind, self.data, self.fin = kind, data, fin
        self.code, self.was_clean, self.error, self.request = code, was_clean, error, request

    @property
    def text(self):
        return self.data.decode("utf-8")

    def __repr__(self):
        return (f"Event({self.kind!r}, {len(self.data)} bytes, fin={self.fin}, code={self.code}, "
                f"was_clean={self.was_clean}, error={status_str(self.error) if self.error else 0})")


def _buf(data):
    """Bytes as the `const uint8_t *` the C API takes (no copy)."""
    return ffi.from_buffer("uint8_t[]", data) if data else ffi.NULL


def _lent(ptr, length):
    return bytes(ffi.buffer(ptr, length)) if length else b""


def _request_info(req):
    """A REQUEST event's request as a dict, read while it is lent."""
    ptr, length = ffi.new("const uint8_t **"), ffi.new("size_t *")

    def get(fn, *args):
        if fn(req, *args, ptr, length) == OK:
            return _lent(ptr[0], length[0]).decode()
        return None

    protocols, i = [], 0
    while (name := get(lib.rfc6455_request_protocol, i)) is not None:
        protocols.append(name)
        i += 1
    # Every header, copied now: the request is freed once answered.
    headers, i = [], 0
    vptr, vlen = ffi.new("const uint8_t **"), ffi.new("size_t *")
    while lib.rfc6455_request_header_at(req, i, ptr, length, vptr, vlen) == OK:
        headers.append((_lent(ptr[0], length[0]).decode(), _lent(vptr[0], vlen[0])))
        i += 1
    upgrade = ffi.new("bool *")
    _check(lib.rfc6455_request_is_upgrade(req, upgrade), "rfc6455_request_is_upgrade")
    return {"method": get(lib.rfc6455_request_method), "path": get(lib.rfc6455_request_path),
            "query": get(lib.rfc6455_request_query), "protocols": protocols, "upgrade": bool(upgrade[0]),
            "headers": headers}


class Connection:
    """One connection. Make it with :meth:`client`, :meth:`server` or
    :meth:`open`; it is freed when garbage-collected, or by :meth:`free`."""

    def __init__(self, handle):
        self._conn = ffi.gc(handle, lib.rfc6455_conn_free)
        self._events = deque()
        self._ev = ffi.new("rfc6455_event *")
        self._out = ffi.new("uint8_t[]", 64 * 1024)
        self._n = ffi.new("size_t *")

    @staticmethod
    def _config(settings):
        if not settings:
            return ffi.NULL
        config = ffi.new("rfc6455_config **")
        _check(lib.rfc6455_config_new(config), "rfc6455_config_new")
        config = ffi.gc(config[0], lib.rfc6455_config_free)
        for name, value in settings.items():
            setter = getattr(lib, f"rfc6455_config_set_{name}")
            _check(setter(config, value), f"rfc6455_config_set_{name}")
        return config

    @classmethod
    def client(cls, url, protocols=(), headers=(), now=None, **settings):
        """A client for ``url``; its request is ready in :meth:`transmit`.
        ``settings`` are the config setters' names (``max_message_size=…``)."""
        req = ffi.new("rfc6455_client_request **")
        _check(lib.rfc6455_client_request_new(url.encode(), req), "rfc6455_client_request_new")
        req = ffi.gc(req[0], lib.rfc6455_client_request_free)
        for p in protocols:
            _check(lib.rfc6455_client_request_add_protocol(req, p.encode()), "add_protocol")
        for name, value in headers:
            _check(lib.rfc6455_client_request_add_header(req, name.encode(), value.encode()), "add_header")
        out = ffi.new("rfc6455_conn **")
        _check(lib.rfc6455_conn_client(req, cls._config(settings), _now(now), out), "rfc6455_conn_client")
        return cls(out[0])

    @classmethod
    def server(cls, now=None, **settings):
        """A server waiting for a request (a ``request`` event)."""
        out = ffi.new("rfc6455_conn **")
        _check(lib.rfc6455_conn_server(cls._config(settings), _now(now), out), "rfc6455_conn_server")
        return cls(out[0])

    @classmethod
    def open(cls, role, protocol=None, now=None, **settings):
        """OPEN at once (``role`` "client" or "server"), the handshake done elsewhere."""
        code = {"client": lib.RFC6455_ROLE_CLIENT, "server": lib.RFC6455_ROLE_SERVER}[role]
        out = ffi.new("rfc6455_conn **")
        proto = protocol.encode() if protocol is not None else ffi.NULL
        _check(lib.rfc6455_conn_open(code, proto, cls._config(settings), _now(now), out), "rfc6455_conn_open")
        return cls(out[0])

    def free(self):
        """Frees the connection now."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            ffi.gc(conn, None)  # detach the destructor, then free once
            lib.rfc6455_conn_free(conn)

    # ----- input -----

    def _take_events(self):
        while _check(lib.rfc6455_conn_poll_event(self._conn, self._ev), "poll_event") == OK:
            e = self._ev
            kind = KINDS.get(e.kind, "unknown")
            request = _request_info(e.request) if kind == "request" else None
            self._events.append(Event(kind, _lent(e.data, e.len), bool(e.fin), e.code, bool(e.was_clean), e.error,
                                      request))

    def feed(self, data, now=None):
        """Hands over bytes read from the socket; all of them are taken (the
        events that make the engine wait are moved out first)."""
        now = _now(now)
        view = ffi.from_buffer("uint8_t[]", data)
        off, taken = 0, ffi.new("size_t *")
        while off < len(data):
            _check(lib.rfc6455_conn_handle_bytes(self._conn, now, view + off, len(data) - off, taken), "handle_bytes")
            off += taken[0]
            self._take_events()

    def feed_eof(self, now=None):
        _check(lib.rfc6455_conn_handle_eof(self._conn, _now(now)), "handle_eof")

    def feed_error(self, now=None):
        _check(lib.rfc6455_conn_handle_transport_error(self._conn, _now(now)), "handle_transport_error")

    def events(self):
        """Every event that has come, oldest first."""
        self._take_events()
        while self._events:
            yield self._events.popleft()

    def next_event(self):
        """The oldest event, or None."""
        self._take_events()
        return self._events.popleft() if self._events else None

    # ----- output and time -----

    def transmit(self):
        """Everything queued to write, as bytes (empty when nothing is)."""
        chunks = []
        while _check(lib.rfc6455_conn_poll_transmit(self._conn, self._out, len(self._out), self._n), "transmit") == OK:
            chunks.append(bytes(ffi.buffer(self._out, self._n[0])))
        return b"".join(chunks)

    def timeout(self):
        """The next deadline (ns on the clock passed in), or None."""
        at = ffi.new("uint64_t *")
        return at[0] if _check(lib.rfc6455_conn_timeout(self._conn, at), "timeout") == OK else None

    def handle_timeout(self, now=None):
        _check(lib.rfc6455_conn_handle_timeout(self._conn, _now(now)), "handle_timeout")

    # ----- commands -----

    def accept(self, protocol=None, now=None):
        proto = protocol.encode() if protocol is not None else b""
        _check(lib.rfc6455_conn_accept(self._conn, _now(now), _buf(proto), len(proto), ffi.NULL, 0), "accept")

    def reject(self, status, body=b"", now=None):
        _check(lib.rfc6455_conn_reject(self._conn, _now(now), status, ffi.NULL, 0, _buf(body), len(body)), "reject")

    def send_text(self, text):
        data = text.encode() if isinstance(text, str) else text
        _check(lib.rfc6455_conn_send_text(self._conn, _buf(data), len(data)), "send_text")

    def send_binary(self, data):
        _check(lib.rfc6455_conn_send_binary(self._conn, _buf(data), len(data)), "send_binary")

    def send_fragment(self, kind, data, fin):
        code = {"text": lib.RFC6455_EVENT_TEXT, "binary": lib.RFC6455_EVENT_BINARY}[kind]
        _check(lib.rfc6455_conn_send_fragment(self._conn, code, _buf(data), len(data), fin), "send_fragment")

    def ping(self, data=b""):
        _check(lib.rfc6455_conn_send_ping(self._conn, _buf(data), len(data)), "send_ping")

    def close(self, code=None, reason="", now=None):
        """As the browser's ``close(code, reason)``; no code sends none."""
        data = reason.encode()
        code = lib.RFC6455_CLOSE_NO_STATUS if code is None else code
        _check(lib.rfc6455_conn_close(self._conn, _now(now), code, _buf(data), len(data)), "close")

    def terminate(self, now=None):
        _check(lib.rfc6455_conn_terminate(self._conn, _now(now)), "terminate")

    # ----- getters -----

    @property
    def ready_state(self):
        out = ffi.new("uint32_t *")
        _check(lib.rfc6455_conn_ready_state(self._conn, out), "ready_state")
        return out[0]

    @property
    def protocol(self):
        ptr, length = ffi.new("const uint8_t **"), ffi.new("size_t *")
        _check(lib.rfc6455_conn_protocol(self._conn, ptr, length), "protocol")
        return _lent(ptr[0], length[0]).decode()

    @property
    def buffered_amount(self):
        out = ffi.new("size_t *")
        _check(lib.rfc6455_conn_buffered_amount(self._conn, out), "buffered_amount")
        return out[0]

    @property
    def close_event(self):
        """(code, reason, was_clean) once closed, else None."""
        out = ffi.new("rfc6455_close_event *")
        if _check(lib.rfc6455_conn_close_event(self._conn, out), "close_event") == DONE:
            return None
        return out.code, _lent(out.reason, out.reason_len).decode(), bool(out.was_clean)

    @property
    def should_close_transport(self):
        out = ffi.new("bool *")
        _check(lib.rfc6455_conn_should_close_transport(self._conn, out), "should_close_transport")
        return bool(out[0])
