#!/usr/bin/env python3
"""Writes the seed corpus of each fuzz target, from fixtures/, into OUT/<target>/.

Usage: scripts/fuzz_seeds.py OUT

The seeds are derived from the captured server flights (fixtures/flights/*.hex)
and the policy documents (fixtures/**/*.yaml), cut to the shape each target
reads: whole flights, handshake bodies, DER certificates, alert bodies. The
HTTP answers and the SSLv2 SERVER-HELLO are built here, since no fixture holds
one. Also writes libFuzzer dictionaries OUT/<target>.dict: the words the
policy reader knows (from its source) and HTTP framing. Generated on every run and never committed (see scripts/fuzz.sh).
"""

import hashlib
import pathlib
import re
import struct
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def hex_bytes(text):
    digits = "".join(
        line for line in text.splitlines() if not line.lstrip().startswith("#")
    )
    return bytes.fromhex("".join(digits.split()))


def records(flight):
    """(content type, body) of each whole TLS record."""
    at = 0
    while at + 5 <= len(flight):
        typ, _ver, length = struct.unpack(">BHH", flight[at : at + 5])
        body = flight[at + 5 : at + 5 + length]
        if len(body) < length:
            return
        yield typ, body
        at += 5 + length


def handshake_messages(flight):
    """(type, body) of the clear handshake messages, up to the first
    ChangeCipherSpec."""
    stream = b""
    for typ, body in records(flight):
        if typ == 20:
            break
        if typ == 22:
            stream += body
    at = 0
    while at + 4 <= len(stream):
        typ = stream[at]
        length = int.from_bytes(stream[at + 1 : at + 4], "big")
        body = stream[at + 4 : at + 4 + length]
        if len(body) < length:
            return
        yield typ, body
        at += 4 + length


def certificates(body):
    """The DER certificates of a TLS 1.2 Certificate body."""
    at = 3
    while at + 3 <= len(body):
        length = int.from_bytes(body[at : at + 3], "big")
        yield body[at + 3 : at + 3 + length]
        at += 3 + length


HTTP_ANSWERS = [
    b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\r\nhello",
    b"HTTP/1.1 403 Forbidden\r\nserver: envoy\r\ncontent-length: 19\r\n"
    b"content-type: text/plain\r\n\r\nRBAC: access denied",
    b"HTTP/1.1 401 Unauthorized\r\nwww-authenticate: Bearer realm=\"x\"\r\n"
    b"transfer-encoding: chunked\r\n\r\n e\r\nJwt is missing\r\n0\r\n\r\n",
    b"HTTP/1.1 301 Moved Permanently\r\nlocation: https://test.com/\r\n"
    b"server: istio-envoy\r\ncontent-length: 0\r\n\r\n",
    b"HTTP/1.0 200 ok\r\nconnection: close\r\n\r\nbody until close",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 100\r\n\r\ncut short",
]


def sslv2_server_hello(cert):
    specs = bytes.fromhex("010080 030080 0700c0")
    conn = bytes(range(16))
    return (
        b"\x00\x01\x00\x02"
        + struct.pack(">HHH", len(cert), len(specs), len(conn))
        + cert
        + specs
        + conn
    )


# libFuzzer dictionary entries: only \\, \" and \xNN escapes are understood.
CRLF = r"\x0d\x0a"
HTTP_WORDS = [
    "HTTP/1.1 ", "HTTP/1.0 ", CRLF, CRLF + CRLF, ": ", "content-length: ",
    "transfer-encoding: chunked", "connection: close", "location: ",
    "www-authenticate: ", "server: ", "content-type: ", "0" + CRLF + CRLF,
    "100 Continue",
]

LF = r"\x0a"
YAML_WORDS = [
    "---" + LF, ": ", "- ", LF + "  ", LF + "    - ", "{", "}", "[", "]",
    "&a ", "*a", "<<: ", "!!str ", "|" + LF, "'", r"\"",
]


def policy_words():
    """The keys and values the policy reader knows, from its source."""
    words = set(YAML_WORDS)
    for path in (ROOT / "src" / "policy" / "parse").glob("*.rs"):
        if path.name != "tests.rs":
            words.update(re.findall(r'"([A-Za-z][A-Za-z0-9_./-]{1,40})"', path.read_text()))
    return sorted(words)


def write_dict(path, words):
    path.write_text("".join(f'"{w}"\n' for w in words))


def main():
    out = pathlib.Path(sys.argv[1])
    seeds = {}

    def add(target, data):
        seeds.setdefault(target, set()).add(bytes(data))

    first_cert = b""
    for path in sorted((ROOT / "fixtures" / "flights").glob("*.hex")):
        flight = hex_bytes(path.read_text())
        add("decode_flight", flight)
        for seed in (0, 7, 200):
            add("feed_flight", bytes([seed]) + flight)
        for typ, body in records(flight):
            if typ == 21:
                add("alert", body)
        for typ, body in handshake_messages(flight):
            if typ in (2, 12):
                add("read_params", body)
            if typ == 11:
                chain = b""
                for der in certificates(body):
                    first_cert = first_cert or der
                    add("certificate", der)
                    chain += struct.pack(">H", min(len(der), 0xFFFF)) + der
                add("certificate", chain)
    add("alert", b"\x01\x00\x02\x28")
    add("sslv2", b"\x00\x01")
    add("sslv2", sslv2_server_hello(first_cert))
    add("sslv2", sslv2_server_hello(b""))
    for path in sorted(ROOT.glob("fixtures/**/*.yaml")):
        add("policy", path.read_bytes())
    for answer in HTTP_ANSWERS:
        for seed in (0, 1, 63):
            add("http_response", bytes([seed]) + answer)

    out.mkdir(parents=True, exist_ok=True)
    write_dict(out / "policy.dict", policy_words())
    write_dict(out / "http_response.dict", HTTP_WORDS)
    for target, inputs in seeds.items():
        directory = out / target
        directory.mkdir(parents=True, exist_ok=True)
        for data in inputs:
            (directory / hashlib.sha1(data).hexdigest()).write_bytes(data)


if __name__ == "__main__":
    main()
