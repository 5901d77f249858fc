#!/usr/bin/env python3
"""Turns the bench and load results into docs/performance.md and docs/performance.svg.

    cargo bench -p rfc6455-benches --bench decode --bench encode --bench mask --bench heap --bench driver
    bash scripts/load.sh            # optional: the loopback figures
    python3 scripts/perf-report.py

With BASELINE_CRITERION pointing at another commit's criterion directory
(its benches run just before, on the same machine), a table compares the
rows of both.

Reads criterion's medians from target/criterion/GROUP/FUNCTION/new/estimates.json,
the heap figures from target/criterion/heap.json (benches/heap.rs) and the load
figures from target/perf/load.json (scripts/load.sh). Standard library only;
the chart is written as SVG by hand.
"""

import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
from html import escape

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
CRITERION = os.environ.get("CRITERION_HOME", os.path.join(TARGET, "criterion"))
LOAD = os.path.join(TARGET, "perf", "load.json")
HEAP = os.path.join(CRITERION, "heap.json")
BASELINE = os.environ.get("BASELINE_CRITERION")
# More rounds of the same benches, as criterion directories separated by ':'
# (ROUNDS for this commit, BASELINE_ROUNDS for the baseline): each figure is
# then the median of the rounds' medians.
ROUNDS = [d for d in os.environ.get("ROUNDS", "").split(":") if d]
BASELINE_ROUNDS = [d for d in os.environ.get("BASELINE_ROUNDS", "").split(":") if d]
BASELINE_NAME = os.environ.get("BASELINE_NAME", "the baseline")
DOCS = os.path.join(ROOT, "docs")

MIB = 1 << 20
FRAMES = 1024
PEERS = ["tungstenite", "fastwebsockets"]
COLORS = {"rfc6455": "#1f6fb4", "tungstenite": "#e8833a", "fastwebsockets": "#3a9a48", "ref": "#9a9a9a"}

# Each timed row: the issue's case, criterion group, unit, per-iteration count,
# goal (lower-or-higher, value), the issue's peer figures, reference functions
# (function, label) and what a peer that cannot be measured shows instead.
ROWS = [
    dict(case="decode 16 B masked binary frames, many per read", group="decode_binary_16B_batched",
         unit="ns/frame", n=FRAMES, goal=("<=", 8), refs=[]),
    dict(case="same, exactly one frame per read", group="decode_binary_16B_one_per_read",
         unit="ns/frame", n=FRAMES, goal=("<=", 15), refs=[]),
    dict(case="decode 16 B masked text (ASCII JSON)", group="decode_text_16B_json",
         unit="ns/frame", n=FRAMES, goal=("<=", 12), refs=[]),
    dict(case="decode one 1 MiB masked binary frame", group="decode_binary_1MiB",
         unit="GB/s", n=MIB, goal=(">=", 20), refs=[("unmask_1MiB/rfc6455", "in-place unmask")]),
    dict(case="decode 1 MiB mixed UTF-8 text", group="decode_text_1MiB_mixed",
         unit="GB/s", n=MIB, goal=(">=", 8),
         refs=[("decode_text_1MiB_mixed/simdutf8", "simdutf8 alone"),
               ("decode_text_1MiB_mixed/std_from_utf8", "std::str::from_utf8")]),
    dict(case="encode 16 B server frames", group="encode_binary_16B",
         unit="ns/frame", n=FRAMES, goal=("<=", 12), refs=[]),
    dict(case="encode one 1 MiB frame", group="encode_binary_1MiB",
         unit="GB/s", n=MIB, goal=(">=", 35), refs=[("encode_binary_1MiB/memcpy", "the sink's memcpy")],
         note="payload never copied (asserted in `tests/alloc.rs`)"),
    dict(case="unmask 1 MiB in place", group="unmask_1MiB",
         unit="GB/s", n=MIB, goal=(">=", 50),
         refs=[("unmask_1MiB/memset", "memset"), ("unmask_1MiB/memcpy", "memcpy"),
               ("unmask_1MiB/rfc6455_scalar", "our scalar path")],
         missing={"tungstenite": "private"}),
]


# The same cases driven the way a user's driver is written (benches/driver.rs):
# every engine call out of line, 64 KiB reads ending mid-frame, payloads
# touched. Goals and the figures the issue measured for the old engine.
DRIVER_ROWS = [
    dict(case="16 B frames, many per read", group="driver_decode_binary_16B_batched", unit="ns/frame", n=8192,
         goal=("<=", 8), before="20.7 ns"),
    dict(case="16 B frames, one per read", group="driver_decode_binary_16B_one_per_read", unit="ns/frame",
         n=1024, goal=("<=", 20), before="51 ns"),
    dict(case="16 B text", group="driver_decode_text_16B_json", unit="ns/frame", n=8192, goal=("<=", 10),
         before="21.6 ns"),
    dict(case="1 MiB binary", group="driver_decode_binary_1MiB", unit="GB/s", n=MIB, goal=("peer", None),
         before="15.1 GB/s"),
    dict(case="1 MiB mixed UTF-8 text", group="driver_decode_text_1MiB_mixed", unit="GB/s", n=MIB,
         goal=("peer", None), before="6.8 GB/s"),
    dict(case="16 B encode, a transmit after each send", group="driver_encode_binary_16B", unit="ns/frame",
         n=1024, goal=("<=", 12), before="30 ns"),
]

# Why a row misses its goal, printed under the table for the rows that do.
INLINED_SMALL = (
    "Slower than dafaa61 in this shape (see the comparison). dafaa61's `small_event` repeated the frame, "
    "fragmentation and size rules in a second delivery path and built each message in registers, where "
    "the driver it was inlined into consumed it. Now every message goes through the one pipeline (decoder "
    "shortcut, extension stage, assembler) and is written into the returned `Option<Event>` in memory; "
    "the decoder's and assembler's state lives in the connection between calls, so the compiler cannot "
    "keep it in registers across messages as it could with dafaa61's loop. The returned event is "
    "written in 16-byte stores, which a caller's copy reads without waiting, except a text event's two "
    "tags (see below).")
INLINED_LARGE = (
    "Slower than dafaa61 by more than 5 % on binary: the message buffer no longer trusts the header. It "
    "grows as bytes arrive, at most doubling, so a 1 MiB message is reallocated four times and about its "
    "size is copied once more; dafaa61 reserved the whole announced length at the first payload byte, the "
    "memory bomb this change removes. The driver reads a large payload into the room `read_buf` lends behind the unread input, and one pass unmasks it from there into the message while it is in the cache; fastwebsockets reads into its own buffer and unmasks in place, one stream of memory fewer than a copy that unmasks. Reading into the message buffer itself would need its room zeroed first (safe code lends only initialised memory), which measured no faster.")
LIMITS = {
    "decode_binary_16B_batched": INLINED_SMALL,
    "decode_text_16B_json": INLINED_SMALL,
    "decode_binary_1MiB": INLINED_LARGE,
    "decode_text_1MiB_mixed": INLINED_LARGE,
    "encode_binary_16B": (
        "A small frame is gathered in registers (the header as one word, the payload as four words read "
        "with fixed-size loads and masked with a word XOR) and stored word by word into the inline stage, "
        "which `poll_transmit_into` copies out in fixed 64-byte moves: no copy of a variable length."),
    "unmask_1MiB": (
        "The masking code did not change since dafaa61. Runs on this machine have differed by up to a tenth "
        "before, and by a quarter in the rounds of 2026-12-02 06:00, on the same code: a difference this bench "
        "cannot tell from noise."),
    "decode_binary_16B_one_per_read": (
        "With one frame per read, every frame is a `handle_bytes` (nothing streams, so `read_buf` lends no "
        "room and the driver reads into its own buffer): the message is built into an event slot, then "
        "copied out by `poll_event`, and the driver makes four more calls per frame (`read_buf`, a second "
        "`poll_event`, `poll_transmit_into`, the read), each with its own checks of the connection's state."),
    "size_of": (
        "The state is about 1000 bytes on x86-64, against 96 for fastwebsockets and 256 for tungstenite, but "
        "those two hold 8 KiB and 128 KiB of heap per idle connection, and ours none: what the peers keep on "
        "the heap is inline here, and small. The largest parts: two event slots (128 B, so that messages "
        "are delivered with no allocation), a 160-byte transmit stage (small frames are "
        "encoded and handed over with no heap), a control frame's payload (125 B), the `Config` (about "
        "120 B, inline because an `Arc` would be a heap allocation per connection), the timer table "
        "(64 B). 128 B would need most of it behind one pointer, that is a heap allocation per connection, "
        "which the zero-heap goal rules out. `tests/alloc.rs` holds it to a 1024-byte budget."),
}


def estimate_ns(base, path):
    """Criterion's median time per iteration in ns for GROUP/FUNCTION under `base`, or None."""
    try:
        with open(os.path.join(base, path, "new", "estimates.json")) as f:
            return json.load(f)["median"]["point_estimate"]
    except (OSError, KeyError, ValueError):
        return None


def median_of(bases, path):
    """The median over rounds (criterion directories) of each round's median."""
    values = [v for v in (estimate_ns(b, path) for b in bases) if v is not None]
    return statistics.median(values) if values else None


def median_ns(path):
    """Ours (or a peer's) median time per iteration in ns, over the rounds run."""
    return median_of([CRITERION] + ROUNDS, path)


def baseline_ns(path):
    """The baseline's median time per iteration in ns, over its rounds."""
    return median_of([BASELINE] + BASELINE_ROUNDS, path) if BASELINE else None


def figure(row, ns):
    if ns is None:
        return None
    return ns / row["n"] if row["unit"] == "ns/frame" else row["n"] / ns


def fmt(x, unit):
    if x is None:
        return "—"
    if unit == "ns/frame":
        return f"{x:.1f} ns" if x < 100 else f"{x:.0f} ns"
    if unit == "GB/s":
        return f"{x:.1f} GB/s"
    return f"{x:,.0f}"


def advantage(ours, theirs, lower_better):
    """How many times better ours is than theirs (> 1: ours is better)."""
    if ours is None or theirs is None or ours <= 0 or theirs <= 0:
        return None
    return theirs / ours if lower_better else ours / theirs


def fmt_adv(a):
    if a is None:
        return ""
    return f"{a:.2f}× better" if a >= 1 else f"{1 / a:.2f}× worse"


def met(x, goal):
    if x is None:
        return "not measured"
    op, v = goal
    ok = x <= v if op == "<=" else x >= v
    return "**met**" if ok else "not met"


def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
    except OSError:
        info = ""
    lines = info.splitlines()
    for line in lines:
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    # The clock the kernel reports: machines of the same model name here
    # have run at different clocks, which moves every ns figure.
    for line in lines:
        if line.startswith("cpu MHz"):
            model += f" at {float(line.split(':', 1)[1]):.0f} MHz"
            break
    avx2 = " avx2" in info
    return {
        "cores": sh("nproc"),
        "cpu": model + (", AVX2" if avx2 else ""),
        "rustc": sh("rustc", "--version"),
        "os": f"{platform.system()} {platform.release()}",
    }


def loadavg(group):
    try:
        with open(os.path.join(CRITERION, group, "loadavg")) as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return None


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def collect():
    """The figures of every row: ours, each peer, the references."""
    out = []
    for row in ROWS:
        g = row["group"]
        r = dict(row)
        r["ours"] = figure(row, median_ns(f"{g}/rfc6455"))
        r["peers"] = {p: figure(row, median_ns(f"{g}/{p}")) for p in PEERS}
        r["ref_figs"] = [(label, figure(row, median_ns(path))) for path, label in row["refs"]]
        r["load"] = loadavg(g)
        out.append(r)
    return out


def driver_section():
    """The table of the out-of-line driver shape, if it was measured."""
    lines = ["## The engines as a user's driver sees them", ""]
    rows = []
    for row in DRIVER_ROWS:
        g = row["group"]
        ours = figure(row, median_ns(f"{g}/rfc6455"))
        if ours is None:
            continue
        peers = {p: figure(row, median_ns(f"{g}/{p}")) for p in PEERS}
        before = None
        if BASELINE:
            before = figure(row, baseline_ns(f"{g}/rfc6455"))
        row = dict(row, before=fmt(before, row["unit"]) if before is not None else row["before"] + " (the issue's)")
        rows.append((row, ours, peers, loadavg(g)))
    if not rows:
        return lines + ["Not measured yet: `cargo bench -p rfc6455-benches --bench driver`.", ""]
    lines += [
        "`benches/driver.rs`: the driver the README describes, written as a user in another crate would write "
        "it. Every engine call goes through a function the compiler does not inline (`#[inline(never)]`), "
        "reads are 64 KiB and end wherever the stream does (mid-frame), every payload is touched (its length, "
        "first and last byte), a large payload is read into the room `read_buf` offers (then `commit`), and "
        "our transmits go through `poll_transmit_into` into the driver's buffer. "
        "The peers are driven the same way: tungstenite's `read()`/`write()` and fastwebsockets' futures "
        "polled through out-of-line calls, on the same bytes from the same stream. The many-per-read rows are "
        "8192 frames an iteration, about three 64 KiB reads. “Before” is the engine before this change "
        f"({BASELINE_NAME}) driven the same way in the same session where it was measured (its `handle_bytes` "
        "took everything and it had neither `poll_transmit_into` nor `read_buf`, so its driver reads into its "
        "own buffer and copies each `poll_transmit` into the same buffer), otherwise the figure the issue "
        "measured. Each figure is the median of three rounds, the two commits' rounds interleaved.",
        "",
        "| case | rfc6455 | before | tungstenite | fastwebsockets | goal | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for row, ours, peers, _ in rows:
        lower = row["unit"] == "ns/frame"
        cells = []
        for p in PEERS:
            a = fmt_adv(advantage(ours, peers[p], lower))
            cells.append(fmt(peers[p], row["unit"]) + (f" (ours {a})" if a else ""))
        op, v = row["goal"]
        if op == "peer":
            goal_text = "≥ fastwebsockets"
            f = peers.get("fastwebsockets")
            ok = "not measured" if f is None else ("**met**" if ours >= f else "not met")
        else:
            goal_text = f"≤ {v} ns"
            ok = met(ours, row["goal"])
        lines.append(f"| {row['case']} | {fmt(ours, row['unit'])} | {row['before']} | {cells[0]} | {cells[1]} | "
                     f"{goal_text} | {ok} |")
    lines += ["", "Load average recorded at the end of each group's run: "
              + "; ".join(f"`{r[0]['group']}` {r[3]}" for r in rows if r[3]) + ".", ""]
    return lines


def baseline_section(rows):
    """This commit's rows against another commit's, measured back to back."""
    if not BASELINE:
        return []
    lines = [f"## Against {BASELINE_NAME}, measured back to back", "",
             f"The rows above, and the same benches of {BASELINE_NAME} run on this machine in the same session, "
             "each round of one commit's benches followed by the same round of the other's (criterion medians, "
             "then the median over the rounds; a change of more than 5 % for the worse is flagged).", "",
             f"| case | {BASELINE_NAME} | this commit | change |", "|---|---|---|---|"]
    for r in rows:
        g = r["group"]
        old_ns = baseline_ns(f"{g}/rfc6455")
        if old_ns is None:
            continue
        old = figure(r, old_ns)
        new = r["ours"]
        if new is None or old is None:
            continue
        lower = r["unit"] == "ns/frame"
        worse = (new / old - 1) if lower else (old / new - 1)
        flag = " **slower by more than 5 %**" if worse > 0.05 else ""
        lines.append(f"| {r['case']} | {fmt(old, r['unit'])} | {fmt(new, r['unit'])} | "
                     f"{'+' if worse > 0 else ''}{worse * 100:.1f} % time{flag} |")
    return lines + [""]


def limits_section(rows, heap):
    """What limits each row that misses its goal."""
    out = []
    for r in rows:
        ok = met(r["ours"], r["goal"]) == "**met**"
        if not ok and r["group"] in LIMITS:
            out.append(f"- **{r['case']}** ({fmt(r['ours'], r['unit'])}): {LIMITS[r['group']]}")
    if heap and heap.get("rfc6455", {}).get("size_of", 0) > 128:
        out.append(f"- **engine state** ({heap['rfc6455']['size_of']} B): {LIMITS['size_of']}")
    if not out:
        return []
    return ["### What limits the rows not met", ""] + out + [""]


def banner(rows):
    """Whether the machine was quiet while the benches ran, from the load averages they recorded."""
    loads = [float(r["load"].split()[0]) for r in rows if r["load"]]
    if loads and max(loads) <= 1.5:
        return (f"The machine was otherwise idle while the benches ran: the 1-minute load average stayed at "
                f"most {max(loads):.2f} on 2 cores, about 1 being the bench itself (listed below the table).")
    return ("> **Figures from a busy machine are not final.** The bench runs record the load average beside "
            "their results (listed below the table); anything well above 1 on this 2-core machine means other "
            "jobs shared the cores. Re-run on a quiet machine before quoting a number.")


def markdown(rows, heap, load, m, now):
    lines = [
        "# Performance",
        "",
        f"Generated by `scripts/perf-report.py` on {now}, on {m['cores']} cores of {m['cpu']} "
        f"({m['os']}), {m['rustc']}, `lto = \"fat\"`, `codegen-units = 1`, default target (no `-C target-cpu`).",
        "",
        banner(rows),
        "",
        "Reproduce:",
        "",
        "```sh",
        "cargo bench -p rfc6455-benches --bench decode --bench encode --bench mask --bench heap --bench driver",
        "bash scripts/load.sh",
        "python3 scripts/perf-report.py",
        "```",
        "",
        *driver_section(),
        "## Engines side by side, engine inlined into the bench's driver",
        "",
        "Criterion medians, all three engines in the same run on the same pre-built bytes (same frames, same "
        "mask keys). Here the bench's driver and the engine are compiled together, and the engine is inlined "
        "into it: the best case, which a driver in another crate or language does not get (see above). ns/frame is lower-is-better, GB/s (10⁹ bytes/s of payload) higher-is-better; "
        "“× better” is how many times ours beats that peer on the row's own measure.",
        "",
        "| case | rfc6455 | tungstenite | fastwebsockets | reference | goal | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lower = r["unit"] == "ns/frame"
        cells = []
        for p in PEERS:
            if p in r.get("missing", {}):
                cells.append(r["missing"][p])
                continue
            x = r["peers"][p]
            a = fmt_adv(advantage(r["ours"], x, lower))
            cells.append(fmt(x, r["unit"]) + (f" (ours {a})" if a else ""))
        refs = "; ".join(f"{label} {fmt(x, r['unit'])}" for label, x in r["ref_figs"] if x is not None) or ""
        op, v = r["goal"]
        goal = f"{'≤' if op == '<=' else '≥'} {v} {'ns' if lower else 'GB/s'}"
        if r.get("note"):
            goal += f", {r['note']}"
        lines.append(f"| {r['case']} | {fmt(r['ours'], r['unit'])} | {cells[0]} | {cells[1]} | {refs} | {goal} | "
                     f"{met(r['ours'], r['goal'])} |")
    if heap:
        o = heap.get("rfc6455", {})
        t = heap.get("tungstenite", {})
        f = heap.get("fastwebsockets", {})

        def b(x):
            return "—" if x is None else f"{x:,} B"

        idle_ok = o.get("idle") == 0
        size_ok = o.get("size_of", 1 << 30) <= 128
        lines.append(
            f"| heap per idle connection | {b(o.get('idle'))} | {b(t.get('idle'))} | {b(f.get('idle'))} | | "
            f"0 bytes | {'**met**' if idle_ok else 'not met'} |")
        lines.append(
            f"| engine state (`size_of`) | {o.get('size_of')} B | {t.get('size_of')} B | {f.get('size_of')} B | | "
            f"≤ 128 B | {'**met**' if size_ok else 'not met: see below'} |")
        after_ok = o.get("after_1MiB") is not None and o.get("after_1MiB") == 0
        lines.append(
            f"| heap after one 1 MiB message | {b(o.get('after_1MiB'))} | {b(t.get('after_1MiB'))} | "
            f"{b(f.get('after_1MiB'))} | | back to 0 once delivered | {'**met**' if after_ok else 'not met'} |")
    else:
        lines.append("| heap rows | not measured (`cargo bench -p rfc6455-benches --bench heap`) | | | | | |")
    lines += [
        "",
        "Load average recorded at the end of each group's run: "
        + "; ".join(f"`{r['group']}` {r['load']}" for r in rows if r["load"]) + ".",
        "",
        *baseline_section(rows),
        *limits_section(rows, heap),
        "![One panel per row: ours, the peers, references and the goal](performance.svg)",
        "",
        "### What the figures rest on",
        "",
        "- **One receive path.** Every message goes through the same stages: the frame decoder (with a "
        "shortcut for a whole text or binary frame with a 7-bit length), the extension stage (RSV bits), the "
        "message assembler. A whole small message is unmasked straight into its event's inline payload (up to "
        "31 bytes, no heap) and built straight into the value `poll_event` returns.",
        "- **The event's layout.** An inline payload is a 32-byte block with its length in the last byte,"
        " built in two 16-byte vector registers (SSE2 on x86-64) and stored as them, so a caller that "
        "copies the returned event in 16-byte moves (what the compiler emits for `while let Some(event) ="
        " conn.poll_event()`) reads each half of the payload from one store. In `poll_event`'s shortcut "
        "the two tags in front of it (the event's and the payload's) are constants: it builds binary and "
        "text messages in separate paths, since in one path the compiler stored a variable tag and a zero"
        " as two 8-byte stores, and the caller's first 16-byte load waited for both (`perf annotate` of "
        "the out-of-line driver on an Intel Xeon, 2026-12-03: most of the driver's own samples sat on "
        "that load). A binary event's tags are both zero and go out as one 16-byte store (the 16 B binary"
        " row measured 22 % faster for it, median of 6 interleaved rounds); a text event's are 1 and 0, "
        "which the compiler still writes as two 8-byte stores, so the text rows keep that stall (and "
        "measured 5 % slower in the same rounds, within their spread: each text frame is first tried as "
        "binary).",
        "- **Reads land in the engine's buffer.** `read_buf` lends room for the next read while reads "
        "stream (the last input brought 16 KiB or more, or the last read filled its room): the end of the "
        "unread-input buffer, kept between "
        "such reads. A large payload read there is unmasked into its message by one AVX2 pass while the "
        "64 KiB read is still in the cache. Lending the message buffer itself, as until 790eeaa, meant "
        "zeroing the room first (safe code lends only initialised memory); on `driver_decode_binary_1MiB` "
        "the two measured within run-to-run noise of each other, and this one lends one buffer, not two. "
        "The message buffer grows as bytes arrive, at most doubling and never past what the frame "
        "announced or the size limit, so a header alone reserves nothing.",
        "- **Text** is `Text`, bytes validated while they arrive (simdutf8, failing fast; a small inline "
        "payload is checked for ASCII with a few word operations first); nothing re-validates them on "
        "delivery. `Text::as_str` re-checks with simdutf8 when called, because the crate has no `unsafe` "
        "outside its SIMD module.",
        "- **Sending**: a small frame is built in registers and stored whole into a 160-byte array inside the "
        "connection; `poll_transmit_into` copies that array into the caller's buffer with no allocation, "
        "`poll_transmit` hands the frames over as `Bytes` (one allocation per transmit, none per frame). A "
        "payload given as `Bytes` to `send_binary_bytes` is queued as it is.",
        "",
        "### How each engine is driven",
        "",
        "All three read from and write to the same in-memory transport (`benches/common/mod.rs`): a read copies "
        "the next bytes into the buffer the engine reads into, never past the current chunk (one chunk for "
        "“many per read”, one per frame for “one frame per read”), and cycles through the input so nothing is "
        "reset inside the timed loop; a write copies into a fixed buffer (what a socket write costs) and never "
        "allocates. Payloads are dropped after their length is read.",
        "",
        "- **rfc6455**: `Connection::open` as a server; the driver reads into the room `read_buf` offers when "
        "it offers one (while reads stream) and calls `commit`, otherwise into its own 64 KiB buffer and calls "
        "`handle_bytes` (handing in again what it did not take); then it drains `poll_event` and "
        "`poll_transmit`. Encoding: every message of the iteration, then "
        "`poll_transmit` until `None`, each transmit written to the sink; a 16 B payload borrowed "
        "(`send_binary(&[u8])`, copied into the transmit buffer), the 1 MiB payload as the shared `Bytes` it is "
        "(`send_binary_bytes`, queued as it is: the transmit after the 10-byte header is that buffer, and the "
        "sink's copy is the only one).",
        "- **tungstenite 0.30**: `WebSocket::from_raw_socket(stream, Role::Server, None)` (default config: 128 KiB "
        "read buffer, zero-filled before each read by tungstenite itself), `read()` per message; encoding "
        "`write(Message::Binary(bytes))` per message (a shared `Bytes`, no copy to build it), then one `flush()`.",
        "- **fastwebsockets 0.10**: `WebSocket::after_handshake(stream, Role::Server)` (default settings, "
        "`simd` feature on), `read_frame()` per message, on a current-thread tokio runtime, one `block_on` per "
        "iteration; its `AsyncRead` gets bytes straight into its uninitialised buffer (no zero-filling it would "
        "not pay on a socket). Encoding: `write_frame(Frame::binary(Payload::Borrowed(..)))` per message (its "
        "only mode: one write per frame; vectored above 1 KiB).",
        "- One iteration is 1024 frames in the 16 B rows, one message in the 1 MiB rows; the 1 MiB text is "
        "mixed ASCII, 2-, 3- and 4-byte characters.",
        "- Heap rows (`benches/heap.rs`, a counting allocator): live heap of one server connection after it "
        "read one 16 B message (idle), then after it read one 1 MiB message that the application dropped; "
        "`size_of` is the engine's own state (for the peers, their `WebSocket` less the stream).",
        "",
        "The heap goals are also asserted, not timed, by `tests/alloc.rs` (a counting allocator, in CI): no heap "
        "held by an idle connection (after a handshake, from `Connection::open`, after traffic, after a read of "
        "a thousand messages), the heap back to zero after a 1 MiB message, a 1 MiB shared payload transmitted "
        "as the caller's own buffer (pointer equality, under 4 KiB of heap to queue it), and no allocation per "
        "frame: none at all for 16 B frames one per read; for a thousand frames in one read, at most two, the "
        "same for two thousand; for encoding into the caller's buffer (`poll_transmit_into`), none; with "
        "`poll_transmit`, one per transmit (the buffer handed to the caller), however many frames it holds. "
        "The state size is held to its 1024-byte budget. `tests/memory.rs` checks that memory follows the "
        "bytes received, never what a header announces.",
        "",
        "## Load on loopback",
        "",
    ]
    if load:
        s = load["servers"]

        def cell(k, server):
            x = s.get(server, {}).get(k)
            return "—" if x is None else f"{x:,}"

        lines += [
            f"Measured {load.get('date', '?')}, {load.get('secs', '?')} s per run after a 1 s warm-up, "
            f"{load.get('threads', 1)} tokio worker for each server and for the generator, "
            f"load average at the start {load.get('load_average', '?')}. The same generator "
            "(`examples/loadgen.rs`: a hand-written client, one message in flight per connection, every echo "
            "checked) against `examples/tokio_echo.rs` (ours) and `benches/peer_echo.rs` (tokio-tungstenite's "
            "`accept_async` + `next`/`send`; fastwebsockets' `after_handshake` + `FragmentCollector`, handshake "
            "answered by hand).",
            "",
            "| | rfc6455 | tokio-tungstenite | fastwebsockets |",
            "|---|---|---|---|",
            f"| messages/s, 100 connections × 20 B | {cell('small_msgs_per_sec', 'rfc6455')} | "
            f"{cell('small_msgs_per_sec', 'tungstenite')} | {cell('small_msgs_per_sec', 'fastwebsockets')} |",
            f"| messages/s, 200 connections × 16 KiB | {cell('large_msgs_per_sec', 'rfc6455')} | "
            f"{cell('large_msgs_per_sec', 'tungstenite')} | {cell('large_msgs_per_sec', 'fastwebsockets')} |",
            f"| resident memory per idle connection, {load.get('idle_connections', '?'):,} open (bytes) | "
            f"{cell('rss_per_idle_connection', 'rfc6455')} | {cell('rss_per_idle_connection', 'tungstenite')} | "
            f"{cell('rss_per_idle_connection', 'fastwebsockets')} |",
            "",
            "Resident memory per connection is (VmRSS with the connections open − VmRSS of the fresh server) ÷ "
            "connections, read from `/proc/PID/status`; it counts the task, the engine and its buffers, not the "
            "kernel's socket buffers. Each idle connection exchanged one 20 B message before idling. The "
            "message rates move by up to a fifth from run to run on this 2-core machine, where the generator "
            "and the server share the cores: compare engines within one run.",
        ]
    else:
        lines.append("Not measured yet: run `bash scripts/load.sh`.")
    return "\n".join(lines) + "\n"


def svg(rows, heap, load):
    """One small horizontal bar chart per row, two columns."""
    panels = []
    for r in rows:
        lower = r["unit"] == "ns/frame"
        bars = [("rfc6455", r["ours"], COLORS["rfc6455"])]
        bars += [(p, r["peers"][p], COLORS[p]) for p in PEERS if p not in r.get("missing", {})]
        bars += [(label, x, COLORS["ref"]) for label, x in r["ref_figs"]]
        panels.append((r["case"], r["unit"] + (" (lower is better)" if lower else " (higher is better)"),
                       bars, r["goal"][1]))
    if heap:
        for key, title in (("idle", "heap per idle connection"), ("after_1MiB", "heap after one 1 MiB message")):
            bars = [(e, heap.get(e, {}).get(key), COLORS[e]) for e in ["rfc6455"] + PEERS]
            panels.append((title, "KiB (lower is better)",
                           [(n, None if x is None else x / 1024, c) for n, x, c in bars], 0))
    if load:
        s = load["servers"]
        for key, title, unit, scale in (
            ("small_msgs_per_sec", "loopback echo, 100 conns × 20 B", "thousand messages/s (higher is better)", 1e3),
            ("large_msgs_per_sec", "loopback echo, 200 conns × 16 KiB", "thousand messages/s (higher is better)", 1e3),
            ("rss_per_idle_connection", "resident memory per idle connection", "KiB (lower is better)", 1024),
        ):
            bars = [(e, None if s.get(e, {}).get(key) is None else s[e][key] / scale, COLORS[e])
                    for e in ["rfc6455"] + PEERS]
            panels.append((title, unit, bars, None))

    pw, bar_h, gap, top, label_w = 470, 16, 5, 42, 130
    heights = [top + len(b) * (bar_h + gap) + 14 for _, _, b, _ in panels]
    cols = 2
    row_h = [max(heights[i:i + cols]) for i in range(0, len(panels), cols)]
    width = cols * pw + 20
    height = sum(row_h) + 50
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           '<text x="10" y="22" font-size="15" font-weight="bold">rfc6455 against tungstenite and fastwebsockets'
           '</text>',
           '<text x="10" y="38" fill="#555">grey: references; dashed red line: the goal</text>']
    y0 = 50
    for i, (title, unit, bars, goal) in enumerate(panels):
        col, rowi = i % cols, i // cols
        x = 10 + col * pw
        y = y0 + sum(row_h[:rowi])
        vals = [v for _, v, _ in bars if v is not None]
        vmax = max(vals + ([goal] if goal else []) + [1e-9]) * 1.15
        plot_w = pw - label_w - 70
        out.append(f'<text x="{x}" y="{y + 14}" font-weight="bold">{escape(title)}</text>')
        out.append(f'<text x="{x}" y="{y + 28}" fill="#555">{escape(unit)}</text>')
        for j, (name, v, color) in enumerate(bars):
            by = y + top + j * (bar_h + gap)
            out.append(f'<text x="{x + label_w - 6}" y="{by + 12}" text-anchor="end">{escape(name)}</text>')
            if v is None:
                out.append(f'<text x="{x + label_w + 4}" y="{by + 12}" fill="#888">not measured</text>')
                continue
            w = max(v / vmax * plot_w, 1)
            out.append(f'<rect x="{x + label_w}" y="{by}" width="{w:.1f}" height="{bar_h}" fill="{color}"/>')
            label = f"{v:.1f}" if v < 100 else f"{v:,.0f}"
            out.append(f'<text x="{x + label_w + w + 4:.1f}" y="{by + 12}">{label}</text>')
        if goal:
            gx = x + label_w + goal / vmax * plot_w
            gy1, gy2 = y + top - 3, y + top + len(bars) * (bar_h + gap)
            out.append(f'<line x1="{gx:.1f}" y1="{gy1}" x2="{gx:.1f}" y2="{gy2}" stroke="#d62728" '
                       f'stroke-width="1.5" stroke-dasharray="4 3"/>')
            out.append(f'<text x="{gx:.1f}" y="{gy1 - 2}" text-anchor="middle" fill="#d62728" font-size="9">'
                       f'goal {goal:g}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    rows = collect()
    if all(r["ours"] is None for r in rows):
        sys.exit(f"no criterion results under {CRITERION}: run cargo bench first")
    heap = read_json(HEAP)
    load = read_json(LOAD)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    os.makedirs(DOCS, exist_ok=True)
    with open(os.path.join(DOCS, "performance.md"), "w") as f:
        f.write(markdown(rows, heap, load, machine(), now))
    with open(os.path.join(DOCS, "performance.svg"), "w") as f:
        f.write(svg(rows, heap, load))
    print("wrote docs/performance.md and docs/performance.svg")


if __name__ == "__main__":
    main()
