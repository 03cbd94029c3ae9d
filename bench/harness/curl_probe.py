"""Single HTTP/2 requests made with curl (h2c, prior knowledge): GET /status
and the gRPC health Check. They tell when a server is ready and check, before
and after it is measured, that it answers what the load generator only
counts (h2load sees the :status, not the body or a gRPC status in the
trailers). curl does the HPACK work the standard library cannot."""

import os
import subprocess
import tempfile

GRPC_CHECK_PATH = "/grpc.health.v1.Health/Check"
GRPC_HEADERS = ("content-type: application/grpc", "te: trailers")
# One gRPC message: no compression flag, length 0, i.e. an empty
# HealthCheckRequest (service "", the server as a whole).
GRPC_CHECK_REQUEST = bytes(5)
# HealthCheckResponse{status: SERVING}: field 1, varint 1, in a 2-byte message.
GRPC_SERVING_RESPONSE = b"\x00\x00\x00\x00\x02\x08\x01"


class Answer:
    """One response: the :status, every header and trailer (names lower
    case; a trailer wins over a header of the same name) and the body."""

    def __init__(self, status, fields, body):
        self.status = status
        self.fields = fields
        self.body = body


def request(port, path, timeout=2.0, data=None, headers=()):
    """Sends one request over h2c to 127.0.0.1:port; POST when `data` is
    given. Raises RuntimeError with curl's message when it gets no response."""
    with tempfile.TemporaryDirectory(prefix="curl-probe.") as scratch:
        body_path = os.path.join(scratch, "body")
        argv = ["curl", "--http2-prior-knowledge", "-sS", "--max-time", str(timeout),
                "-D", "-", "-o", body_path]
        for header in headers:
            argv += ["-H", header]
        if data is not None:
            data_path = os.path.join(scratch, "request")
            with open(data_path, "wb") as f:
                f.write(data)
            argv += ["--data-binary", "@" + data_path]
        argv.append(f"http://127.0.0.1:{port}{path}")
        try:
            done = subprocess.run(argv, capture_output=True, timeout=timeout + 5, check=False)
        except subprocess.TimeoutExpired as e:
            raise RuntimeError(f"curl did not return within {timeout + 5:.0f}s") from e
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", "replace").strip()
            raise RuntimeError(f"curl exit {done.returncode}: {message}")
        try:
            with open(body_path, "rb") as f:
                body = f.read()
        except FileNotFoundError:
            body = b""
    status = 0
    fields = {}
    for line in done.stdout.decode("latin-1").splitlines():
        if line.startswith("HTTP/"):
            version, _, rest = line.partition(" ")
            if version != "HTTP/2":
                raise RuntimeError(f"answered in {version}, not HTTP/2")
            status = int(rest.split()[0])
        elif ":" in line:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
    return Answer(status, fields, body)


def status_problem(port, timeout=2.0):
    """None when GET /status over h2c answers 200 with a JSON body; else
    what is wrong."""
    try:
        answer = request(port, "/status", timeout)
    except RuntimeError as e:
        return f"GET /status over h2c: {e}"
    if answer.status != 200 or not answer.body.startswith(b"{"):
        return (f"GET /status over h2c: status {answer.status}, body "
                f"{answer.body[:80]!r}")
    return None


def grpc_check_problem(port, timeout=2.0):
    """None when the gRPC health Check (service "") answers grpc-status 0
    and SERVING; else what is wrong."""
    try:
        answer = request(port, GRPC_CHECK_PATH, timeout, data=GRPC_CHECK_REQUEST,
                         headers=GRPC_HEADERS)
    except RuntimeError as e:
        return f"POST {GRPC_CHECK_PATH} over h2c: {e}"
    grpc_status = answer.fields.get("grpc-status")
    if answer.status != 200 or grpc_status != "0" or answer.body != GRPC_SERVING_RESPONSE:
        return (f"POST {GRPC_CHECK_PATH} over h2c: status {answer.status}, grpc-status {grpc_status}, "
                f"grpc-message {answer.fields.get('grpc-message')!r}, body "
                f"{answer.body[:40].hex(' ')} (want {GRPC_SERVING_RESPONSE.hex(' ')})")
    return None
