"""Python `websockets` (its threading API) as the other side of our engine, for run.sh.

client BASE_URL REASON: against the echo server, one connection per close case on /test/close: text and binary
    echo at every size, a ping answered by a pong with its payload, then the close (ours with the code and the
    reason, or the server's, asked for with the text "close CODE REASON"); it checks the close frame it received.
server: echoes every message; a text "close CODE REASON" makes it close so; prints "listening on PORT", then
    one line per connection with the close frame it received (common.closed_line).
"""

import sys

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect
from websockets.sync.server import serve

from common import PING, SIZES, STEP, Checks, binary_of, cases, close_request, closed_line, differs, text_of, usage


def client(base, reason):
    checks = Checks()
    for label, closer, code in cases("websockets"):
        try:
            one_connection(checks, f"{base}/test/close?case={label}", label, closer, code, reason)
        except Exception as e:  # noqa: BLE001 -- any error fails this case, and the next one still runs
            checks.check(False, f"{label}: the connection", repr(e))
    return checks.failed


def one_connection(checks, url, label, closer, code, reason):
    # The default offer of permessage-deflate stays: the server must decline it.
    with connect(url, max_size=None, open_timeout=STEP, close_timeout=STEP) as ws:
        checks.check(
            ws.subprotocol is None and not ws.protocol.extensions,
            f"{label}: opens, declining permessage-deflate",
            f"subprotocol {ws.subprotocol!r}, extensions {ws.protocol.extensions}",
        )
        for make, kind in ((text_of, "text"), (binary_of, "binary")):
            for n in SIZES:
                sent = make(n)
                ws.send(sent)
                got = ws.recv(timeout=STEP)
                checks.check(got == sent, f"{label}: {kind} echo, {n} bytes", differs(got, sent))
        pong = ws.ping(PING)  # set when the pong with this payload arrives
        checks.check(pong.wait(STEP), f"{label}: pong carries the ping's payload", f"none in {STEP} s")
        if closer == "client":
            ws.close(code, reason)
            what = f"{label}: we close with {code}: the server answers {code} and the reason"
        else:
            ws.send(f"close {code} {reason}")
            try:
                got = ws.recv(timeout=STEP)
                checks.check(False, f"{label}: the server closes", f"got a message of {len(got)} instead")
                return
            except ConnectionClosed:
                pass
            what = f"{label}: the server closes with {code} and the reason"
    rcvd, sent = ws.protocol.close_rcvd, ws.protocol.close_sent
    checks.check(
        rcvd is not None and (rcvd.code, rcvd.reason) == (code, reason) and sent is not None,
        what,
        f"received {rcvd}, sent {sent}",
    )


def server():
    def handler(ws):
        try:
            for message in ws:
                request = close_request(message) if isinstance(message, str) else None
                if request:
                    ws.close(*request)
                    break
                ws.send(message)
        except ConnectionClosed:
            pass
        rcvd = ws.protocol.close_rcvd
        print(closed_line(ws.request.path, rcvd.code if rcvd else None, rcvd.reason if rcvd else ""), flush=True)

    with serve(handler, "127.0.0.1", 0, max_size=None, compression=None) as srv:
        print(f"listening on {srv.socket.getsockname()[1]}", flush=True)
        srv.serve_forever()


if __name__ == "__main__":
    if sys.argv[1:2] == ["client"] and len(sys.argv) == 4:
        sys.exit(1 if client(sys.argv[2].rstrip("/"), sys.argv[3]) else 0)
    elif sys.argv[1:] == ["server"]:
        server()
    else:
        usage("websockets_peer.py")
