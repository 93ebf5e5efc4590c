#!/usr/bin/env bash
# The project's test command: installs what the tests need (scripts/setup.sh),
# then checks formatting and lints and runs every test against real Envoy,
# openssl s_server and testssl.sh on loopback, then runs the fuzz targets for
# about a minute (scripts/fuzz.sh). Ends with one line
# "tests: N passed, N failed" summed over every test binary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo fmt --all -- --check
cargo fmt --manifest-path fuzz/Cargo.toml -- --check
cargo clippy --all-targets --locked -- -D warnings
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --all-targets --locked --no-fail-fast 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# Every fuzz target in fuzz/ for a share of FUZZ_SECONDS (default 60; 0 skips),
# after the tests so a broken build shows there first. A crash fails the run.
fuzz_status=0
fuzz_total=${FUZZ_SECONDS:-60}
if [ "$fuzz_total" -gt 0 ]; then
  fuzz_targets=(fuzz/fuzz_targets/*.rs)
  fuzz_each=$((fuzz_total / ${#fuzz_targets[@]}))
  fuzz_start=$(date +%s)
  scripts/fuzz.sh "$((fuzz_each > 0 ? fuzz_each : 1))" || fuzz_status=$?
  echo "fuzz: step took $(($(date +%s) - fuzz_start)) s, build included"
fi
summary=$(awk '/^test result: /{for(i=1;i<=NF;i++){if($(i+1) ~ /^passed;/)p+=$i; if($(i+1) ~ /^failed;/)f+=$i}} END{printf "tests: %d passed, %d failed", p, f}' "$log")
echo "$summary"
[ "$status" -ne 0 ] && exit "$status"
exit "$fuzz_status"
