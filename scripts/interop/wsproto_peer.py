"""Python `wsproto` (sans-IO, like our engine) over a plain socket as the other side of our engine, for run.sh.

client BASE_URL REASON: against the echo server, one connection per close case on /test/close, offering
    permessage-deflate (which the server must decline): text and binary echo at every size, a ping answered by a
    pong with its payload, then the close (ours with the code and the reason, or the server's, asked for with the
    text "close CODE REASON"); it checks the close frame it received.
server: echoes every message; a text "close CODE REASON" makes it close so; prints "listening on PORT", then
    one line per connection with the close frame it received (common.closed_line).
"""

import socket
import sys
import threading
from urllib.parse import urlsplit

from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Message,
    Ping,
    Pong,
    RejectConnection,
    Request,
    TextMessage,
)
from wsproto.extensions import PerMessageDeflate

from common import PING, SIZES, STEP, Checks, binary_of, cases, close_request, closed_line, differs, text_of, usage


class Peer:
    """A wsproto connection over a blocking socket: whole messages in, events out, pings answered."""

    def __init__(self, sock, kind):
        self.sock = sock
        self.ws = WSConnection(kind)
        self.pending = []  # events read but not yet returned
        self.parts = []  # the pieces of the message being received

    def send(self, event):
        self.sock.sendall(self.ws.send(event))

    def next_event(self):
        """The next event, with the pieces of a message joined into one; None at EOF."""
        while True:
            while self.pending:
                event = self.pending.pop(0)
                if isinstance(event, Ping):
                    self.send(event.response())
                elif isinstance(event, Message):
                    self.parts.append(event.data)
                    if event.message_finished:
                        data = ("" if isinstance(event, TextMessage) else b"").join(self.parts)
                        self.parts = []
                        return type(event)(data=data)
                else:
                    return event
            data = self.sock.recv(65536)
            self.ws.receive_data(data or None)
            self.pending.extend(self.ws.events())
            if not data and not self.pending:
                return None

    def finish(self):
        """Reads until the other side closes TCP (what a client waits for after the closing handshake)."""
        while self.sock.recv(65536):
            pass


def client(base, reason):
    checks = Checks()
    for label, closer, code in cases("wsproto"):
        try:
            one_connection(checks, f"{base}/test/close?case={label}", label, closer, code, reason)
        except Exception as e:  # noqa: BLE001 -- any error fails this case, and the next one still runs
            checks.check(False, f"{label}: the connection", repr(e))
    return checks.failed


def one_connection(checks, url, label, closer, code, reason):
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=STEP) as sock:
        peer = Peer(sock, ConnectionType.CLIENT)
        target = f"{parts.path}?{parts.query}"
        peer.send(Request(host=parts.netloc, target=target, extensions=[PerMessageDeflate()]))
        event = peer.next_event()
        if not checks.check(
            isinstance(event, AcceptConnection) and not event.extensions and event.subprotocol is None,
            f"{label}: opens, declining permessage-deflate",
            f"got {event}",
        ):
            return
        for make, kind in ((text_of, "text"), (binary_of, "binary")):
            for n in SIZES:
                sent = make(n)
                peer.send(TextMessage(data=sent) if kind == "text" else BytesMessage(data=sent))
                event = peer.next_event()
                got = event.data if isinstance(event, Message) else event
                checks.check(got == sent, f"{label}: {kind} echo, {n} bytes", differs(got, sent))
        peer.send(Ping(payload=PING))
        event = peer.next_event()
        checks.check(
            isinstance(event, Pong) and event.payload == PING, f"{label}: pong carries the ping's payload", str(event)
        )
        if closer == "client":
            peer.send(CloseConnection(code=code, reason=reason))
            what = f"{label}: we close with {code}: the server answers {code} and the reason"
        else:
            peer.send(TextMessage(data=f"close {code} {reason}"))
            what = f"{label}: the server closes with {code} and the reason"
        event = peer.next_event()
        if isinstance(event, CloseConnection) and peer.ws.state == ConnectionState.REMOTE_CLOSING:
            peer.send(event.response())
        peer.finish()
        checks.check(
            isinstance(event, CloseConnection)
            and (event.code, event.reason) == (code, reason)
            and peer.ws.state == ConnectionState.CLOSED,
            what,
            f"got {event}, state {peer.ws.state.name}",
        )


def serve_one(sock):
    with sock:
        sock.settimeout(60)
        peer = Peer(sock, ConnectionType.SERVER)
        path, received = None, None
        while (event := peer.next_event()) is not None:
            if isinstance(event, Request):
                path = event.target
                peer.send(AcceptConnection())
            elif isinstance(event, TextMessage) and (request := close_request(event.data)):
                peer.send(CloseConnection(*request))
            elif isinstance(event, Message):
                peer.send(event)
            elif isinstance(event, CloseConnection):
                received = event
                if peer.ws.state == ConnectionState.REMOTE_CLOSING:
                    peer.send(event.response())
                break  # the server closes TCP first
            elif isinstance(event, RejectConnection):
                break
        print(closed_line(path, received.code if received else None, received.reason if received else ""), flush=True)


def server():
    listener = socket.create_server(("127.0.0.1", 0))
    print(f"listening on {listener.getsockname()[1]}", flush=True)
    while True:
        sock, _ = listener.accept()
        threading.Thread(target=serve_one, args=(sock,), daemon=True).start()


if __name__ == "__main__":
    if sys.argv[1:2] == ["client"] and len(sys.argv) == 4:
        sys.exit(1 if client(sys.argv[2].rstrip("/"), sys.argv[3]) else 0)
    elif sys.argv[1:] == ["server"]:
        server()
    else:
        usage("wsproto_peer.py")
