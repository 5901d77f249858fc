#!/usr/bin/env bash
# Builds every cargo-fuzz target in fuzz/ and runs each for SECONDS (default 30)
# on the stable toolchain without a sanitizer (-s none), starting from its seeds
# in fuzz/seeds/TARGET. Fails if any target crashes, breaks an invariant, goes
# over 2 GiB of memory or takes over 20 s on one input. See docs/fuzzing.md.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# FUZZ_CORPUS=DIR keeps the corpora in DIR/TARGET and FUZZ_LOGS=DIR the logs in
# DIR/TARGET.log (default: a scratch directory, removed at the end);
# FUZZ_JOBS=N runs N targets at once (default 1).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-30}
shift || true
jobs=${FUZZ_JOBS:-1}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "==> installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

corpus_root=$(realpath -m "${FUZZ_CORPUS:-$scratch/corpus}")
logs=$(realpath -m "${FUZZ_LOGS:-$scratch/logs}")
mkdir -p "$corpus_root" "$logs"

cd fuzz
if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi

echo "==> building ${#targets[@]} fuzz targets"
cargo fuzz build -s none

# Runs one target; its log goes to $logs/TARGET.log.
run_one() {
    local target=$1 corpus="$corpus_root/$1" log="$logs/$1.log"
    mkdir -p "$corpus"
    cp -n "seeds/$target"/* "$corpus/" 2>/dev/null || true
    if cargo fuzz run -s none "$target" "$corpus" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 >"$log" 2>&1; then
        echo "ok" >"$log.status"
    else
        echo "FAILED" >"$log.status"
    fi
}

running=0
for target in "${targets[@]}"; do
    echo "==> fuzzing $target for ${seconds}s"
    run_one "$target" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait

failed=()
for target in "${targets[@]}"; do
    log="$logs/$target.log"
    status=$(cat "$log.status" 2>/dev/null || echo FAILED)
    # libFuzzer's last status line: executions, coverage (cov, ft), corpus size.
    stats=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
    printf '%-18s %-6s %s\n' "$target" "$status" "$stats"
    if [ "$status" != ok ]; then
        failed+=("$target")
        echo "---- $target: last lines of its log ----"
        tail -n 60 "$log"
        echo "---- artifacts: fuzz/artifacts/$target/ ----"
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzzing failed: ${failed[*]}"
    exit 1
fi
echo "fuzzing: ${#targets[@]} targets, ${seconds}s each, no crash"
