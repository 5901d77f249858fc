"""What the tests share: a driver that runs a Connection over a blocking
socket, the way an application's loop would."""

import select
import socket
import time

import pytest

import rfc6455


class Driven:
    """A Connection over a socket: writes what it queues, reads when it
    waits, fires its timers."""

    def __init__(self, conn, sock):
        self.conn, self.sock, self.eof = conn, sock, False

    def flush(self):
        data = self.conn.transmit()
        if data:
            try:
                self.sock.sendall(data)
            except OSError:
                self.conn.feed_error()

    def next_event(self, limit=10.0):
        """The next event; fails the test if none comes within `limit` s."""
        give_up = time.monotonic() + limit
        while True:
            self.flush()
            event = self.conn.next_event()
            if event is not None:
                return event
            now = rfc6455.now_ns()
            deadline = self.conn.timeout()
            if deadline is not None and deadline <= now:
                self.conn.handle_timeout(now)
                continue
            left = give_up - time.monotonic()
            assert left > 0, "no event in time"
            wait = left if deadline is None else min(left, (deadline - now) / 1e9)
            if self.eof:
                time.sleep(min(wait, 0.01))
                continue
            readable, _, _ = select.select([self.sock], [], [], wait)
            if readable:
                try:
                    data = self.sock.recv(65536)
                except OSError:
                    self.conn.feed_error()
                    self.eof = True
                    continue
                if data:
                    self.conn.feed(data)
                else:
                    self.conn.feed_eof()
                    self.eof = True

    def next_message(self, limit=10.0):
        """The next event that is not a ping, pong or open."""
        while True:
            event = self.next_event(limit)
            if event.kind not in ("ping", "pong", "open"):
                return event

    def until_closed(self, limit=10.0):
        """Events up to and with the close event."""
        seen = []
        while not seen or seen[-1].kind != "closed":
            seen.append(self.next_event(limit))
        self.flush()
        return seen


@pytest.fixture
def listener():
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield sock
    sock.close()
