"""What the Python peers share: the sizes, the test data, the cases and how results are printed.

The same data is made by examples/interop_client.rs and scripts/interop/ws_peer.mjs.
"""

import sys

SIZES = [0, 125, 126, 65535, 65536, 1 << 20]
CODES = [1000, 1001, 3000, 4999]
PING = b"ping \x00\x01\xfe\xff"
PATTERN = "a\u00e9\u20ac\U0001f600"  # "aé€😀": 1 + 2 + 3 + 4 bytes
STEP = 10.0  # seconds one step may wait for the other side


def text_of(n):
    """Text of exactly n UTF-8 bytes made of 1- to 4-byte characters, ASCII filling the last few bytes."""
    unit = len(PATTERN.encode())
    return PATTERN * (n // unit) + "a" * (n % unit)


def binary_of(n):
    """n bytes counting 0..250 over and over (a period that is not a power of two)."""
    return (bytes(range(251)) * (n // 251 + 1))[:n]


def cases(peer):
    """(label, who closes, code) for the 8 close cases of a peer as a client, in the order run.sh expects.

    A label such as "wsproto-client/server-closes-3000" says: wsproto is the client, and the server closes with 3000.
    """
    return [(f"{peer}-client/{by}-closes-{code}", by, code) for by in ("client", "server") for code in CODES]


def close_request(text):
    """'close CODE REASON' as (code, reason), or None: what the servers take as a request to close."""
    if not text.startswith("close "):
        return None
    code, _, reason = text[len("close ") :].partition(" ")
    return (int(code), reason) if code.isdigit() else None


class Checks:
    """Prints one ok/FAIL line per check; `failed` says how many failed."""

    def __init__(self):
        self.failed = 0

    def check(self, ok, what, detail=""):
        if not ok:
            self.failed += 1
        print(f"{'ok' if ok else 'FAIL'}: {what}{f' ({detail})' if detail and not ok else ''}", flush=True)
        return ok


def differs(got, want):
    """Why an echo is not what was sent, for a failure line."""
    if type(got) is not type(want):
        return f"got {type(got).__name__}, want {type(want).__name__}"
    if len(got) != len(want):
        return f"got {len(got)} long, want {len(want)}"
    at = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), None)
    return "" if at is None else f"first difference at {at}"


def closed_line(path, code, reason):
    """What a peer's server prints when a connection has closed: run.sh greps for it."""
    return f'closed {path}: received {code} "{reason}"'


def usage(script):
    print(f"usage: {script} client BASE_URL REASON  |  {script} server", file=sys.stderr)
    sys.exit(2)
