#!/usr/bin/env python3
"""One WebSocket echo through PIBL, with nothing but the standard library, for the script tests.

    ws-echo.py wss://127.0.0.1:8443/ws --cacert site.crt [--text "hello"]
    ws-echo.py ws://198.18.0.10/ws

Opens the connection (TLS with ALPN http/1.1 for wss://, verified against --cacert), sends the upgrade, and on
101 sends one masked text frame and prints the text of the first frame that comes back. Exit 0 only then.
Any other answer to the upgrade: "status: 308 location: https://..." on stdout and exit 3, so a caller can
check a refusal. Any other failure: the reason on stderr and exit 1. Used by deploy/test/test-tls.sh and
deploy/local/rehearse.sh (the demo backend's /ws echoes every text frame).
"""
import argparse
import base64
import os
import socket
import ssl
import sys
from urllib.parse import urlsplit


def fail(reason):
    print("ws-echo: " + reason, file=sys.stderr)
    sys.exit(1)


def recv_more(sock, buf, what):
    chunk = sock.recv(4096)
    if not chunk:
        fail("connection closed before " + what)
    return buf + chunk


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--cacert")
    parser.add_argument("--text", default="hello over websocket")
    parser.add_argument("--timeout", type=float, default=10)
    args = parser.parse_args()

    url = urlsplit(args.url)
    if url.scheme not in ("ws", "wss") or not url.hostname:
        fail("expected a ws:// or wss:// URL, got " + args.url)
    port = url.port or (443 if url.scheme == "wss" else 80)
    host_header = url.netloc
    text = args.text.encode()
    if len(text) > 125:
        fail("--text must be at most 125 bytes (one short frame)")

    try:
        sock = socket.create_connection((url.hostname, port), timeout=args.timeout)
        if url.scheme == "wss":
            ctx = ssl.create_default_context(cafile=args.cacert)
            ctx.set_alpn_protocols(["http/1.1"])
            sock = ctx.wrap_socket(sock, server_hostname=url.hostname)
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
                      % (url.path or "/", host_header, key)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head = recv_more(sock, head, "the answer to the upgrade")
        head, rest = head.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = lines[0].split(" ")
        if len(status) < 2 or status[1] != "101":
            location = next((l.split(":", 1)[1].strip() for l in lines[1:] if l.lower().startswith("location:")), "")
            print("status: %s location: %s" % (status[1] if len(status) > 1 else "?", location or "-"))
            sys.exit(3)

        mask = os.urandom(4)
        sock.sendall(bytes([0x81, 0x80 | len(text)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(text)))
        buf = rest
        while len(buf) < 2 or len(buf) < 2 + (buf[1] & 0x7F):
            buf = recv_more(sock, buf, "the echo")
        if buf[0] != 0x81 or buf[1] & 0x7F > 125:
            fail("expected one short text frame back, got %r" % buf[:2])
        print(buf[2:2 + (buf[1] & 0x7F)].decode())
        sock.close()
    except (OSError, ssl.SSLError) as e:
        fail("%s: %s" % (args.url, e))


if __name__ == "__main__":
    main()
