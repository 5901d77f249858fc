#!/usr/bin/env bash
# The C ABI's speed, in one run: ffi/bench/decode_bench.c decodes masked
# frames through the C API and with wslay (Debian's libwslay-dev) on the same
# bytes, then benches/abi_rust.rs decodes the same files through the engine's
# Rust API; the ratios are printed. Both libraries are built with the bench
# profile (fat LTO), the C program with -O2.
#
#   bash scripts/c-bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${CARGO_TARGET_DIR:-target}
[[ -f /usr/include/wslay/wslay.h ]] || { apt-get update -qq && apt-get install -y -qq libwslay-dev >/dev/null; }
cargo build -q --profile bench -p rfc6455-ffi
mkdir -p "$TARGET/c/bench"
cc -std=c99 -O2 -Wall -Wextra -Werror -Iffi/include ffi/bench/decode_bench.c "$TARGET/release/librfc6455.a" \
    -lwslay -lpthread -ldl -lm -o "$TARGET/c/decode_bench"
out=$TARGET/c/bench/results.txt
"$TARGET/c/decode_bench" "$TARGET/c/bench" | tee "$out"
cargo bench -q -p rfc6455-benches --bench abi_rust -- "$PWD/$TARGET/c/bench" | tee -a "$out"
python3 - "$out" <<'PY'
import re, sys
ns, gbs = {}, {}
for line in open(sys.argv[1]):
    m = re.match(r"(\w+) (\S+) ([\d.]+) ns/frame ([\d.]+) GB/s", line)
    if m:
        ns[m[1], m[2]], gbs[m[1], m[2]] = float(m[3]), float(m[4])
c, r, w = ns["small", "rfc6455-c"], ns["small", "rfc6455-rust"], ns["small", "wslay"]
o = ns["small", "rfc6455-rust-outlined"]
print(f"16 B frames: C ABI {c:.2f} ns/frame, Rust API {r:.2f} ns/frame: the ABI costs {c - r:+.2f} ns/frame "
      f"(target within 15); wslay {w:.2f} ns/frame: ours {w / c:.2f}x faster (target 3x)")
print(f"16 B frames, the Rust API behind functions not inlined: {o:.2f} ns/frame "
      f"(the C ABI {c - o:+.2f} ns/frame beyond it)")
c, r, w = gbs["large", "rfc6455-c"], gbs["large", "rfc6455-rust"], gbs["large", "wslay"]
print(f"1 MiB frames: C ABI {c:.2f} GB/s, Rust API {r:.2f} GB/s: the ABI at {100 * c / r:.1f} % of Rust "
      f"(target within 10 %); wslay {w:.2f} GB/s: ours {c / w:.2f}x")
PY
