#!/usr/bin/env python3
"""Reads Autobahn|Testsuite's index.json reports of every role run (--role), writes docs/conformance.md, and exits 1
unless every case of every role is OK in behaviour and close behaviour.

INFORMATIONAL is accepted only where the suite leaves the outcome to the implementation: 7.1.6 (a close
sent right behind a large message) and 7.13.* (close codes outside the registered ranges).
Called by scripts/autobahn/run.sh.
"""

import argparse
import datetime
import fnmatch
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

COLUMNS = ["OK", "NON-STRICT", "INFORMATIONAL", "FAILED"]
INFORMATIONAL_ALLOWED = ["7.1.6", "7.13.*"]
GROUPS = {
    "1": "Framing",
    "2": "Pings/Pongs",
    "3": "Reserved bits",
    "4": "Opcodes",
    "5": "Fragmentation",
    "6": "UTF-8 handling",
    "7": "Close handling",
    "9": "Limits/performance",
    "10": "Miscellaneous",
}
EXPECTED_CASES = 301  # 1.* to 10.*, without 12.* and 13.* (permessage-deflate)


def case_key(case_id):
    return [int(part) for part in case_id.split(".")]


def column(behavior):
    """The table column of one behaviour; WRONG CODE, UNCLEAN and UNIMPLEMENTED count as FAILED."""
    return behavior if behavior in COLUMNS else "FAILED"


def verdict(case_id, result):
    """The case's worst behaviour (its behaviour or its close behaviour), and whether it passes."""
    behaviors = [result["behavior"], result["behaviorClose"]]
    worst = max(behaviors, key=lambda b: COLUMNS.index(column(b)))
    allowed = {"OK"}
    if any(fnmatch.fnmatchcase(case_id, pattern) for pattern in INFORMATIONAL_ALLOWED):
        allowed.add("INFORMATIONAL")
    return worst, all(b in allowed for b in behaviors)


def load(path, agent):
    index = json.loads(Path(path).read_text())
    if agent not in index:
        sys.exit(f"{path}: no results for agent {agent!r} (agents: {', '.join(index)})")
    return index[agent]


def table(cases):
    counts = {}
    for case_id, result in cases.items():
        group = case_id.split(".")[0]
        counts.setdefault(group, Counter())[column(verdict(case_id, result)[0])] += 1
    lines = ["| cases | | " + " | ".join(COLUMNS) + " | total |", "| --- | --- |" + " ---: |" * (len(COLUMNS) + 1)]
    total = Counter()
    for group in sorted(counts, key=int):
        c = counts[group]
        total.update(c)
        row = [f"{group}.x", GROUPS.get(group, "")] + [str(c[col]) for col in COLUMNS] + [str(sum(c.values()))]
        lines.append("| " + " | ".join(row) + " |")
    row = ["**all**", ""] + [f"**{total[col]}**" for col in COLUMNS] + [f"**{sum(total.values())}**"]
    lines.append("| " + " | ".join(row) + " |")
    return lines, total


def problems(cases):
    """Cases that are not OK, as (case id, behaviour, close behaviour, passes)."""
    out = []
    for case_id in sorted(cases, key=case_key):
        r = cases[case_id]
        worst, passes = verdict(case_id, r)
        if worst != "OK":
            out.append((case_id, r["behavior"], r["behaviorClose"], passes))
    return out


def git_revision():
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], capture_output=True, text=True)
        return rev.stdout.strip() + (" with local changes in src/" if dirty.stdout.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--role", nargs=5, action="append", required=True,
                    metavar=("TITLE", "INDEX_JSON", "AGENT", "SECONDS", "HOW"),
                    help="one role: its title, the report index.json holding it, its agent, how long it took "
                         "(or -), and how it was run; repeat for each")
    ap.add_argument("--wstest", default="AutobahnTestSuite")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    roles = [(title, how, agent, load(index, agent), None if seconds == "-" else int(seconds))
             for title, index, agent, seconds, how in args.role]
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    doc = [
        "# Conformance: Autobahn|Testsuite",
        "",
        f"Measured {today} with {args.wstest} on engine revision {git_revision()}, by "
        "`bash scripts/autobahn/run.sh` (which writes this file; the full reports are left in "
        "`.autobahn/reports/`). Cases 1.x–10.x; 12.x and 13.x test permessage-deflate, which the engine "
        "does not implement, and are excluded.",
        "",
        "The checks against real peers (Python `websockets` and `wsproto`, Node `ws`, headless Chromium) and the "
        "echo server's test paths they use are in [interop.md](interop.md).",
        "",
        "A case counts under its worse verdict of behaviour and close behaviour. NON-STRICT: allowed by the "
        "RFC, but not what the suite expects of a strict implementation. INFORMATIONAL: the suite leaves the outcome to the "
        "implementation; it is accepted for " + " and ".join(INFORMATIONAL_ALLOWED) + " only. FAILED also "
        "counts WRONG CODE, UNCLEAN and UNIMPLEMENTED.",
    ]
    failed = False
    for role, how, agent, cases, seconds in roles:
        lines, total = table(cases)
        bad = problems(cases)
        failing = [p for p in bad if not p[3]]
        if len(cases) != EXPECTED_CASES:
            failing.append(("(count)", f"{len(cases)} cases", f"expected {EXPECTED_CASES}", False))
        failed |= bool(failing)
        took = f", {seconds} s" if seconds is not None else ""
        doc += ["", f"## {role}: {'PASS' if not failing else 'FAIL'}", "",
                f"{how}, agent `{agent}`{took}.", ""]
        doc += lines
        if bad:
            doc += ["", "Not OK:", "", "| case | behaviour | close behaviour | accepted |", "| --- | --- | --- | --- |"]
            doc += [f"| {c} | {b} | {bc} | {'yes' if ok else 'no'} |" for c, b, bc, ok in bad]
        summary = ", ".join(f"{total[col]} {col}" for col in COLUMNS)
        print(f"{role} ({agent}): {'PASS' if not failing else 'FAIL'}: {len(cases)} cases: {summary}")
        for c, b, bc, ok in bad:
            print(f"  {c}: behavior {b}, behaviorClose {bc}{'' if ok else '  <- not accepted'}")
    Path(args.out).write_text("\n".join(doc) + "\n")
    print(f"wrote {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
