"""The engine, driven from Python through the C API, against Python's
`websockets` over real sockets on 127.0.0.1: as a client of its server and
as a server for its client. Echo, ping, a close with 4000 and a UTF-8
reason, and what each side saw."""

import socket
import threading

from websockets.exceptions import ConnectionClosed, ConnectionClosedOK
from websockets.sync.client import connect
from websockets.sync.server import serve

import rfc6455
from conftest import Driven

REASON = "fin de la séance ✓"


def test_engine_client_against_websockets_server():
    seen = {}

    def handler(ws):
        try:
            for message in ws:
                ws.send(message)
        except ConnectionClosed:  # 4000 is not a "normal" close to websockets
            pass
        seen["code"], seen["reason"] = ws.close_code, ws.close_reason

    with serve(handler, "127.0.0.1", 0, subprotocols=["chat"]) as server:
        port = server.socket.getsockname()[1]
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        sock = socket.create_connection(("127.0.0.1", port))
        conn = rfc6455.Connection.client(f"ws://127.0.0.1:{port}/echo", protocols=["chat"])
        d = Driven(conn, sock)
        assert d.next_event().kind == "open"
        assert conn.ready_state == rfc6455.OPEN and conn.protocol == "chat"

        conn.send_text("héllo ✓")
        got = d.next_message()
        assert (got.kind, got.text) == ("text", "héllo ✓")
        payload = bytes(range(256)) * 1024
        conn.send_binary(payload)
        got = d.next_message()
        assert (got.kind, got.data) == ("binary", payload)
        conn.ping(b"are you there")
        got = d.next_event()
        assert (got.kind, got.data) == ("pong", b"are you there")

        conn.close(4000, REASON)
        assert conn.ready_state == rfc6455.CLOSING
        events = d.until_closed()
        closed = events[-1]
        assert (closed.code, closed.text, closed.was_clean) == (4000, REASON, True)
        assert conn.close_event == (4000, REASON, True)
        assert conn.ready_state == rfc6455.CLOSED
        sock.close()
        server.shutdown()
        thread.join(5)
    assert seen == {"code": 4000, "reason": REASON}


def test_engine_server_for_websockets_client(listener):
    port = listener.getsockname()[1]
    result = {}

    def serve_one():
        sock, _ = listener.accept()
        conn = rfc6455.Connection.server()
        d = Driven(conn, sock)
        request = d.next_event()
        result["request"] = request.request
        conn.accept("chat" if "chat" in request.request["protocols"] else None)
        while True:
            event = d.next_event()
            if event.kind == "text":
                if event.text == "close please":
                    conn.close(4000, REASON)
                else:
                    conn.send_text(event.data)
            elif event.kind == "binary":
                conn.send_binary(event.data)
            elif event.kind == "ping":
                result["ping"] = event.data
            elif event.kind == "closed":
                result["closed"] = (event.code, event.text, event.was_clean)
                break
        d.flush()
        sock.close()

    thread = threading.Thread(target=serve_one, daemon=True)
    thread.start()
    with connect(f"ws://127.0.0.1:{port}/room?x=1", subprotocols=["chat"], open_timeout=10) as ws:
        assert ws.subprotocol == "chat"
        ws.send("bonjour ✓")
        assert ws.recv(timeout=10) == "bonjour ✓"
        ws.send(b"\x00\xff" * 50000)
        assert ws.recv(timeout=10) == b"\x00\xff" * 50000
        ws.ping(b"hello?").wait(timeout=10)
        ws.send("close please")
        try:
            ws.recv(timeout=10)
            raise AssertionError("the server did not close")
        except ConnectionClosed as e:
            # websockets calls only 1000 and 1001 OK; the handshake was clean.
            assert not isinstance(e, ConnectionClosedOK) and e.rcvd.code == 4000 and e.sent.code == 4000, e
        assert (ws.close_code, ws.close_reason) == (4000, REASON)
    thread.join(10)
    assert result["request"]["path"] == "/room" and result["request"]["query"] == "x=1"
    assert result["request"]["upgrade"] is True
    assert ("Host", f"127.0.0.1:{port}".encode()) in result["request"]["headers"]
    assert result["ping"] == b"hello?"
    assert result["closed"] == (4000, REASON, True)
