#!/usr/bin/env bash
# Builds the fuzz targets in fuzz/ and runs each in turn for SECONDS (default
# 10), on the stable toolchain: libFuzzer through libfuzzer-sys, with the
# sanitizer-coverage flags cargo-fuzz would pass, so neither nightly nor
# cargo-fuzz is needed. Long runs are the same command with a bigger number
# (scripts/fuzz.sh 3600, or scripts/fuzz.sh 600 policy http_response).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Each target starts from fuzz/corpus/TARGET (kept between runs, git-ignored)
# plus seeds cut from fixtures/ by scripts/fuzz_seeds.py (and its dictionaries
# for the policy and HTTP targets), regenerated on every run. Prints one line
# per target with libFuzzer's executions (stat::number_of_executed_units) and
# time; a crash, leak, timeout or OOM is saved under fuzz/artifacts/TARGET/
# and named, the remaining targets still run, and the script exits 1.
# Reproduce one with
#   scripts/fuzz.sh --repro TARGET ARTIFACT
# then turn it into a test in tests/fuzz_regressions.rs.
#
# FUZZ_TARGET_DIR (default: $CARGO_TARGET_DIR, else target/) is where the
# instrumented build goes: the main target dir, so a CI cache of it keeps
# this build too; the explicit --target puts it in target/HOST/release/,
# apart from the main build's target/debug/. FUZZ_ARGS adds libFuzzer flags.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

host=$(rustc -vV | sed -n 's/^host: //p')
target_dir=${FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:-$root/target}}
bin_dir=$target_dir/$host/release
all_targets=$(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^tlsposture-fuzz$')

build() {
  # An explicit --target keeps these flags off build scripts and proc
  # macros, as cargo-fuzz does.
  local bins=()
  for t in "$@"; do bins+=(--bin "$t"); done
  RUSTFLAGS="-Cpasses=sancov-module \
-Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
-Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares \
--cfg fuzzing -Cdebug-assertions -Coverflow-checks" \
    CARGO_TARGET_DIR=$target_dir \
    cargo build --manifest-path fuzz/Cargo.toml --release --locked --quiet \
    --target "$host" "${bins[@]}"
}

if [ "${1:-}" = "--repro" ]; then
  [ $# -eq 3 ] || { echo "usage: scripts/fuzz.sh --repro TARGET ARTIFACT" >&2; exit 64; }
  build "$2"
  exec "$bin_dir/$2" "$3"
fi

seconds=${1:-10}
case $seconds in
  '' | *[!0-9]*) echo "fuzz: SECONDS must be a whole number, got '$seconds'" >&2; exit 64 ;;
esac
[ $# -gt 0 ] && shift
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  read -r -a targets <<<"$(echo $all_targets)"
fi
for t in "${targets[@]}"; do
  grep -qx "$t" <<<"$all_targets" || {
    echo "fuzz: no target '$t' (have: $(echo $all_targets))" >&2
    exit 64
  }
done

build "${targets[@]}"

seeds=$target_dir/fuzz-seeds
rm -rf "$seeds"
python3 scripts/fuzz_seeds.py "$seeds"

failed=()
total=0
for t in "${targets[@]}"; do
  corpus=fuzz/corpus/$t
  artifacts=fuzz/artifacts/$t
  mkdir -p "$corpus" "$artifacts" "$seeds/$t"
  log=$target_dir/fuzz-$t.log
  dict=()
  [ -f "$seeds/$t.dict" ] && dict=(-dict="$seeds/$t.dict")
  start=$(date +%s)
  set +e
  # -timeout: one input may take at most this long (the default is 20
  # minutes); -rss_limit_mb: libFuzzer's default, said out loud.
  # shellcheck disable=SC2086
  "$bin_dir/$t" -max_total_time="$seconds" -print_final_stats=1 -timeout=20 \
    -rss_limit_mb=2048 -artifact_prefix="$artifacts/" "${dict[@]}" ${FUZZ_ARGS:-} \
    "$corpus" "$seeds/$t" >"$log" 2>&1
  status=$?
  set -e
  took=$(($(date +%s) - start))
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  runs=${runs:-0}
  total=$((total + runs))
  size=$(find "$corpus" -type f | wc -l)
  if [ "$status" -eq 0 ]; then
    echo "fuzz: $t: $runs runs in ${took} s, corpus $size, no crash"
  else
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    echo "fuzz: $t: FAILED (exit $status) after $runs runs in ${took} s: ${artifact:-no artifact written}"
    grep -m1 -E '^==[0-9]+== ERROR|panicked at|^ERROR' "$log" | sed 's/^/fuzz:   /' || true
    echo "fuzz:   log $log; reproduce with scripts/fuzz.sh --repro $t ${artifact:-ARTIFACT}"
    failed+=("$t")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#targets[@]} targets, $total runs, failed: ${failed[*]}"
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, $total runs, no crash"
