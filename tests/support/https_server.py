"""Test support: an HTTPS server on 127.0.0.1 for the http check's TLS
tests. Serves a Catalyst-like health document at /about, a failing one at
/sick and plain text at /text with the certificate and key it is given,
and prints its port on the first line of stdout. Stops when stdin closes.

Usage: https_server.py CERT KEY"""

import http.server
import json
import ssl
import sys
import threading

BODIES = {
    "/about": {"healthy": True, "content": {"version": "test"}},
    "/sick": {"healthy": False},
}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path in BODIES:
            body = json.dumps(BODIES[self.path]).encode()
            kind = "application/json"
        elif self.path == "/text":
            body, kind = b"not json", "text/plain"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    cert, key = sys.argv[1], sys.argv[2]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    sys.stdin.read()  # until the test closes our stdin (or dies)
    server.shutdown()


if __name__ == "__main__":
    main()
