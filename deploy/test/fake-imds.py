#!/usr/bin/env python3
"""A stand-in for the EC2 instance metadata service (IMDSv2 only), for the PIBL host's user-data under test.

    fake-imds.py --bind 169.254.169.254 --port 80 --public-hostname NAME --public-ipv4 IP   (deploy/local/rehearse.sh)
    fake-imds.py --bind 127.0.0.1 --port 0 --public-ipv4 IP     (deploy/test/test-render.sh; prints the port)

As the instances are launched (HttpTokens=required): PUT /latest/api/token with the header
X-aws-ec2-metadata-token-ttl-seconds gives a token; GET /latest/meta-data/public-hostname and public-ipv4
answer only with that token (401 without it, as EC2 does), and 404 for a value not given, as EC2 does for an
instance without a public DNS name. Prints "port N" once it listens; every request goes to stderr.
"""
import argparse
import http.server
import secrets
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--public-hostname", default="")
    parser.add_argument("--public-ipv4", default="")
    args = parser.parse_args()
    token = secrets.token_urlsafe(24)
    values = {"public-hostname": args.public_hostname, "public-ipv4": args.public_ipv4}

    class Handler(http.server.BaseHTTPRequestHandler):
        def answer(self, status, body=""):
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_PUT(self):
            if self.path != "/latest/api/token":
                self.answer(404)
            elif not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "").isdigit():
                self.answer(400)
            else:
                self.answer(200, token)

        def do_GET(self):
            if self.headers.get("X-aws-ec2-metadata-token") != token:
                self.answer(401)
                return
            name = self.path.removeprefix("/latest/meta-data/")
            if values.get(name):
                self.answer(200, values[name])
            else:
                self.answer(404)

        def log_message(self, fmt, *a):
            print("fake-imds: " + fmt % a, file=sys.stderr)

    server = http.server.HTTPServer((args.bind, args.port), Handler)
    print("port %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
