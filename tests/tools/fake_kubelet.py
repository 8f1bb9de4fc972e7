#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A stand-in for the kubelet's /pods endpoint, for tests (there is no
kubelet on the test machines). Serves GET /pods from a file (re-read on
every request) over HTTPS. A request is authorised by a client certificate
signed by --client-ca, or by "Authorization: Bearer <token>" equal to the
content of --token-file; otherwise 401, as the kubelet answers. --mode hang
accepts TCP connections and never answers (a hung kubelet); --mode stall
completes the TLS handshake, reads the request and never answers; --mode
slow answers as ok, after --delay seconds. Writes the port
it listens on to --port-file and one line per request to --log."""
import argparse
import http.server
import socket
import ssl
import sys
import time


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pods", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--client-ca")
    ap.add_argument("--token-file")
    ap.add_argument("--mode", choices=["ok", "hang", "stall", "slow"], default="ok")
    ap.add_argument("--delay", type=float, default=6.0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", default="/dev/null")
    return ap.parse_args()


ARGS = parse_args()


def log(line):
    with open(ARGS.log, "a") as f:
        f.write(line + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *a):
        pass

    def authorised(self):
        if self.connection.getpeercert():
            return "cert"
        want = open(ARGS.token_file).read().strip() if ARGS.token_file else None
        got = self.headers.get("Authorization", "")
        if want and got == "Bearer " + want:
            return "token"
        return None

    def do_GET(self):
        who = self.authorised()
        log("GET %s auth=%s" % (self.path, who))
        if ARGS.mode == "stall":
            time.sleep(3600)
        if ARGS.mode == "slow":
            time.sleep(ARGS.delay)
        if who is None:
            return self.reply(401, b'{"kind":"Status","code":401,"message":"Unauthorized"}')
        if self.path != "/pods":
            return self.reply(404, b"404 page not found\n")
        with open(ARGS.pods, "rb") as f:
            self.reply(200, f.read())

    def reply(self, code, body):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve_hang():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    open(ARGS.port_file, "w").write(str(s.getsockname()[1]))
    held = []
    while True:
        c, _ = s.accept()
        log("ACCEPT (hanging)")
        held.append(c)  # never read, never answer, never close


def serve_ok():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(ARGS.cert, ARGS.key)
    if ARGS.client_ca:
        ctx.load_verify_locations(ARGS.client_ca)
        ctx.verify_mode = ssl.CERT_OPTIONAL
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    open(ARGS.port_file, "w").write(str(srv.server_address[1]))
    srv.serve_forever()


if __name__ == "__main__":
    try:
        serve_hang() if ARGS.mode == "hang" else serve_ok()
    except KeyboardInterrupt:
        sys.exit(0)
