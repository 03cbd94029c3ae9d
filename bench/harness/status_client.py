"""The smallest HTTP/1.1 client the harness needs: one GET /status and the
framing of its response (both servers always send Content-Length)."""

import socket
import time

REQUEST = b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def response_length(buf):
    """Length of the first complete response in `buf`, or None while it is
    still incomplete."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    length = 0
    for line in buf[:end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    total = end + 4 + length
    return total if len(buf) >= total else None


def status_code(response):
    """The status code of a response starting with `HTTP/1.1 200 ...`."""
    try:
        return int(response[9:12])
    except ValueError:
        return 0


def read_response(sock, deadline):
    """Reads one response from a blocking socket; raises TimeoutError after
    `deadline` (time.monotonic()) and ConnectionError on an early close."""
    buf = b""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no complete response before the deadline")
        sock.settimeout(remaining)
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed before a complete response")
        buf += chunk
        n = response_length(buf)
        if n is not None:
            return buf[:n]


def fetch_status(port, timeout=2.0, sock=None):
    """GET /status on 127.0.0.1:port (or on an open keep-alive `sock`);
    returns the raw response bytes."""
    deadline = time.monotonic() + timeout
    own = sock is None
    if own:
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        sock.sendall(REQUEST)
        return read_response(sock, deadline)
    finally:
        if own:
            sock.close()
