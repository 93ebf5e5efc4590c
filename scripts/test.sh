#!/usr/bin/env bash
# The project's test command: installs what the tests need (scripts/setup.sh),
# then checks formatting and lints and runs every test against real Envoy,
# openssl s_server and testssl.sh on loopback. Ends with one line
# "tests: N passed, N failed" summed over every test binary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --all-targets --locked 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
summary=$(awk '/^test result: /{for(i=1;i<=NF;i++){if($(i+1) ~ /^passed;/)p+=$i; if($(i+1) ~ /^failed;/)f+=$i}} END{printf "tests: %d passed, %d failed", p, f}' "$log")
echo "$summary"
exit "$status"
