"""The engine through the C API without a peer library: random valid frame
streams fed one byte at a time, the panic boundary, NULL handling, and
memory over 10,000 connections on real sockets."""

import os
import random
import socket
import struct

import pytest

import rfc6455
from rfc6455 import ffi, lib


def frame(opcode, payload, fin=True, key=None):
    """One frame as a client sends it (masked with `key`)."""
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    mask_bit = 0x80 if key is not None else 0
    if n < 126:
        head += bytes([mask_bit | n])
    elif n < 65536:
        head += bytes([mask_bit | 126]) + struct.pack(">H", n)
    else:
        head += bytes([mask_bit | 127]) + struct.pack(">Q", n)
    if key is None:
        return head + payload
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def parse_frames(data):
    """The (opcode, payload) of each unmasked frame in `data`."""
    out, i = [], 0
    while i < len(data):
        op, n = data[i] & 0x0F, data[i + 1] & 0x7F
        i += 2
        if n == 126:
            n, i = struct.unpack(">H", data[i:i + 2])[0], i + 2
        elif n == 127:
            n, i = struct.unpack(">Q", data[i:i + 8])[0], i + 8
        out.append((op, data[i:i + n]))
        i += n
    return out


def random_stream(rng):
    """Frames of random messages (text or binary, fragmented at random, with
    pings between fragments), then a close; and the events they must give."""
    frames, want = [], []
    for _ in range(rng.randint(1, 12)):
        text = rng.random() < 0.5
        if text:
            chars = [chr(rng.choice([rng.randint(0x20, 0x7E), rng.randint(0xA0, 0x7FF), rng.randint(0x800, 0xD7FF),
                                     rng.randint(0x10000, 0x10FFFF)])) for _ in range(rng.randint(0, 40))]
            payload = "".join(chars).encode()
        else:
            payload = os.urandom(rng.choice([0, 1, 125, 126, 300, 70000]) if rng.random() < 0.2 else rng.randint(0, 200))
        # Cut at character boundaries for text (any place is valid on the
        # wire; boundaries keep the check simple).
        cuts = sorted(rng.sample(range(1, len(payload)), min(len(payload) - 1, rng.randint(0, 3)))) if payload else []
        if text:
            cuts = [c for c in cuts if (payload[c] & 0xC0) != 0x80]
        pieces = [payload[a:b] for a, b in zip([0] + cuts, cuts + [len(payload)])]
        for i, piece in enumerate(pieces):
            opcode = (1 if text else 2) if i == 0 else 0
            last = i == len(pieces) - 1
            frames.append(frame(opcode, piece, fin=last, key=os.urandom(4)))
            if last:  # the message is whole once its last frame is in
                want.append(("text" if text else "binary", payload))
            if rng.random() < 0.3:
                ping = os.urandom(rng.randint(0, 125))
                frames.append(frame(9, ping, key=os.urandom(4)))
                want.append(("ping", ping))
    code = rng.choice([1000, 1001, 3000, 4000, 4999])
    reason = "au revoir ✓".encode()[: rng.randint(0, 13)]
    try:
        reason.decode()
    except UnicodeDecodeError:
        reason = b""
    frames.append(frame(8, struct.pack(">H", code) + reason, key=os.urandom(4)))
    want.append(("closed", code, reason.decode()))
    return b"".join(frames), want


@pytest.mark.parametrize("seed", range(25))
def test_random_valid_streams_one_byte_at_a_time(seed):
    rng = random.Random(seed)
    stream, want = random_stream(rng)
    server = rfc6455.Connection.open("server")
    got = []
    for i in range(len(stream)):
        server.feed(stream[i:i + 1])
        got.extend(server.events())
    got.extend(server.events())
    seen = []
    for e in got:
        if e.kind == "closed":
            seen.append(("closed", e.code, e.text))
        elif e.kind in ("text", "binary", "ping"):
            assert e.fin
            seen.append((e.kind, e.data))
        else:
            raise AssertionError(f"unexpected {e!r}")
    # Pings come as they arrive, messages whole: the order is the frames'.
    assert seen == want
    # The close is answered: the reply, echoing the code, is queued.
    assert got[-1].was_clean is True
    frames = parse_frames(server.transmit())
    assert frames[-1][0] == 8 and frames[-1][1][:2] == struct.pack(">H", want[-1][1])
    assert {op for op, _ in frames[:-1]} <= {10}  # pongs before it
    assert server.should_close_transport


@pytest.mark.parametrize("seed", range(10))
def test_random_valid_streams_streaming_mode(seed):
    """With streaming, pieces concatenate to the same messages."""
    rng = random.Random(1000 + seed)
    stream, want = random_stream(rng)
    server = rfc6455.Connection.open("server", streaming=True)
    messages, current = [], b""
    for i in range(len(stream)):
        server.feed(stream[i:i + 1])
        for e in server.events():
            if e.kind in ("text", "binary"):
                current += e.data
                if e.fin:
                    messages.append((e.kind, current))
                    current = b""
    assert messages == [w for w in want if w[0] in ("text", "binary")]


def test_a_panic_inside_rust_is_the_panic_status():
    assert lib.rfc6455_test_panic() == lib.RFC6455_PANIC
    assert rfc6455.status_str(lib.RFC6455_PANIC) == "RFC6455_PANIC"
    # The process goes on, and the library still works.
    conn = rfc6455.Connection.open("client")
    conn.send_text("still here")
    assert conn.transmit()[0] == 0x81


def test_time_zero_is_a_time():
    conn = rfc6455.Connection.server(now=0)
    assert conn.timeout() == 10 * 10**9  # the handshake timeout, on the clock given


def test_the_request_outlives_nothing_it_was_copied_from():
    client = rfc6455.Connection.client("ws://127.0.0.1:1/x", headers=[("X-Mine", "1")])
    server = rfc6455.Connection.server()
    server.feed(client.transmit())
    request = server.next_event().request
    server.accept()
    assert ("X-Mine", b"1") in request["headers"]  # read after the request was freed


def test_null_arguments_are_a_status_not_a_crash():
    out = ffi.new("rfc6455_event *")
    assert lib.rfc6455_conn_poll_event(ffi.NULL, out) == lib.RFC6455_ERR_NULL_ARGUMENT
    assert lib.rfc6455_conn_send_text(ffi.NULL, ffi.NULL, 0) == lib.RFC6455_ERR_NULL_ARGUMENT
    assert lib.rfc6455_client_request_new(ffi.NULL, ffi.NULL) == lib.RFC6455_ERR_NULL_ARGUMENT
    lib.rfc6455_conn_free(ffi.NULL)
    with pytest.raises(rfc6455.Rfc6455Error) as e:
        rfc6455.Connection.client("http://not-websocket/")
    assert e.value.name == "RFC6455_ERR_INVALID_URL"
    conn = rfc6455.Connection.open("client")
    with pytest.raises(rfc6455.Rfc6455Error) as e:
        conn.close(1006)
    assert e.value.name == "RFC6455_ERR_INVALID_CLOSE_CODE" and conn.ready_state == rfc6455.OPEN


def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def one_connection(listener, port):
    """A client and a server of ours over TCP on 127.0.0.1: handshake, an
    echo, a clean close; both freed."""
    client_sock = socket.create_connection(("127.0.0.1", port))
    server_sock, _ = listener.accept()
    client = rfc6455.Connection.client(f"ws://127.0.0.1:{port}/")
    server = rfc6455.Connection.server()

    def move(src, dst, sock_out, sock_in):
        data = src.transmit()
        if data:
            sock_out.sendall(data)
            got = b""
            while len(got) < len(data):
                got += sock_in.recv(65536)
            dst.feed(got)

    move(client, server, client_sock, server_sock)
    assert server.next_event().kind == "request"
    server.accept()
    move(server, client, server_sock, client_sock)
    assert [e.kind for e in client.events()] == ["open"]
    client.send_binary(b"x" * 1000)
    move(client, server, client_sock, server_sock)
    message = [e for e in server.events() if e.kind == "binary"][0]
    server.send_binary(message.data)
    move(server, client, server_sock, client_sock)
    client.close(1000, "done")
    move(client, server, client_sock, server_sock)
    move(server, client, server_sock, client_sock)
    assert server.close_event == (1000, "done", True)
    server_sock.close()
    client.feed(client_sock.recv(16) or b"")
    client.feed_eof()
    assert [e.kind for e in client.events()][-1] == "closed" and client.close_event[2]
    client_sock.close()
    client.free()
    server.free()


def test_memory_holds_steady_over_10000_connections(listener):
    port = listener.getsockname()[1]
    for _ in range(1000):  # warm up: allocator pools, the socket layer
        one_connection(listener, port)
    before = rss_kib()
    for _ in range(9000):
        one_connection(listener, port)
    after = rss_kib()
    print(f"RSS {before} KiB after 1,000 connections, {after} KiB after 10,000")
    # A leak of even 100 bytes a connection would show as 900 KiB.
    assert after - before < 512, f"RSS grew {after - before} KiB over 9,000 connections"
