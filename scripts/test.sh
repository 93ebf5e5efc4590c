#!/usr/bin/env bash
# The project's test command: installs what the tests need (scripts/setup.sh),
# then checks formatting and lints and runs every test against real Envoy,
# openssl s_server and testssl.sh on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --all-targets --locked
