"""The servers under comparison: badges-health, nginx (HTTP/1.1 or h2c) and
the grpc++ health peer: how each is started, how the harness knows it is
ready, which processes make it up (for CPU and memory) and how it is
stopped."""

import os
import signal
import socket
import subprocess
import time

import curl_probe
import proc_stats
import status_client

# badges-health's default --max-connections; above it the flag is raised.
BADGES_DEFAULT_MAX_CONNECTIONS = 10000
# nginx's worker_connections when a scenario needs no more (nginx counts
# the listening socket too).
NGINX_DEFAULT_WORKER_CONNECTIONS = 1024


def free_port():
    """A port nobody listens on now. The server binds it a moment later; the
    race with other programs is accepted (there is no port-0 handshake for
    nginx, and badges-health at --log-level warn does not print its port)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http1_status_problem(port):
    """None when GET /status over HTTP/1.1 answers 200; else what is wrong."""
    try:
        response = status_client.fetch_status(port, timeout=1.0)
    except OSError as e:
        return str(e)
    if status_client.status_code(response) == 200:
        return None
    return response.split(b"\r\n", 1)[0].decode("latin-1")


class BadgesHealth:
    name = "badges-health"
    stop_signal = signal.SIGINT  # stops at once; SIGTERM would wait --drain-delay
    # HTTP/1.1 and HTTP/2 share its port: ready once /status answers at all.
    ready_problem = staticmethod(http1_status_problem)

    def __init__(self, binary):
        self.binary = os.path.abspath(binary)

    def command(self, port, capacity, workdir):
        del workdir  # nothing to write
        argv = [self.binary, "--threads", "1", "--port", str(port), "--host", "127.0.0.1",
                "--log-level", "warn"]
        if capacity > BADGES_DEFAULT_MAX_CONNECTIONS:
            argv += ["--max-connections", str(capacity)]
        return argv

    @staticmethod
    def environment():
        return dict(os.environ)

    @staticmethod
    def pids(leader):
        return [leader]


class Nginx:
    """nginx with the template's configuration; with `http2` its listener
    takes the `http2` parameter, which in nginx 1.22 without TLS means h2c
    with prior knowledge only (an HTTP/1.1 request gets no HTTP/1.1 answer)."""

    name = "nginx"
    stop_signal = signal.SIGTERM  # fast shutdown

    def __init__(self, binary, template, http2=False):
        self.binary = binary
        self.http2 = http2
        with open(template, encoding="utf-8") as f:
            self.template = f.read()

    def ready_problem(self, port):
        if self.http2:
            return curl_probe.status_problem(port, timeout=1.0)
        return http1_status_problem(port)

    def command(self, port, capacity, workdir):
        """Writes the configuration for `port` into a prefix under `workdir`."""
        prefix = os.path.join(workdir, f"nginx-{port}")
        os.makedirs(prefix, exist_ok=True)
        # nginx starts closing idle keep-alive connections to reuse them once
        # fewer than 1/16 of worker_connections are free, so the idle scenario
        # needs an eighth more than it holds.
        worker_connections = max(NGINX_DEFAULT_WORKER_CONNECTIONS, capacity + capacity // 8)
        conf = (self.template.replace("@PREFIX@", prefix)
                .replace("@PORT@", str(port))
                .replace("@LISTEN_PARAMETERS@", " http2" if self.http2 else "")
                .replace("@WORKER_CONNECTIONS@", str(worker_connections))
                .replace("@RLIMIT_NOFILE@", str(worker_connections + 256)))
        conf_path = os.path.join(prefix, "nginx.conf")
        with open(conf_path, "w", encoding="utf-8") as f:
            f.write(conf)
        return [self.binary, "-p", prefix, "-c", conf_path, "-e",
                os.path.join(prefix, "error.log")]

    @staticmethod
    def environment():
        # $time_iso8601 is local time; UTC gives "+00:00" like the "Z" of
        # badges-health's timestamps.
        env = dict(os.environ)
        env["TZ"] = "UTC"
        return env

    @staticmethod
    def pids(leader):
        return [leader] + proc_stats.children(leader)


class GrpcHealthPeer:
    """bench/grpc-peer/health_server.cpp: grpc++'s default health service."""

    name = "grpc++"
    stop_signal = signal.SIGTERM

    def __init__(self, binary):
        self.binary = os.path.abspath(binary)

    def command(self, port, capacity, workdir):
        del capacity, workdir  # grpc++ sets no connection cap; nothing to write
        return [self.binary, "--port", str(port), "--host", "127.0.0.1"]

    @staticmethod
    def ready_problem(port):
        return curl_probe.grpc_check_problem(port, timeout=1.0)

    @staticmethod
    def environment():
        return dict(os.environ)

    @staticmethod
    def pids(leader):
        return [leader]


class RunningServer:
    """A started server: its kind, port and leader pid."""

    def __init__(self, kind, port, pid):
        self.kind = kind
        self.port = port
        self.pid = pid

    @property
    def name(self):
        return self.kind.name

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/status"

    def pids(self):
        return self.kind.pids(self.pid)


def wait_ready(kind, port, pid, timeout=10.0):
    """Polls the kind's readiness request until it succeeds. Raises if the
    process exits or the timeout passes."""
    deadline = time.monotonic() + timeout
    last_error = "no attempt"
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            raise RuntimeError(f"{kind.name} exited during start-up (pid {pid})")
        last_error = kind.ready_problem(port)
        if last_error is None:
            return
        time.sleep(0.01)
    raise RuntimeError(f"{kind.name} not ready on port {port} within {timeout:.0f}s "
                       f"({last_error})")


def start(children, kind, capacity, workdir, cpu, log_path):
    """Starts `kind` pinned to `cpu` and waits until it is ready."""
    port = free_port()
    argv = kind.command(port, capacity, workdir)
    with open(log_path, "ab") as log:
        proc = children.start(argv, cpu=cpu, env=kind.environment(), stdin=subprocess.DEVNULL,
                              stdout=log, stderr=log)
    try:
        wait_ready(kind, port, proc.pid)
    except Exception:
        children.stop(proc.pid, kind.stop_signal, grace=2.0)
        raise
    return RunningServer(kind, port, proc.pid)


def stop(children, server):
    children.stop(server.pid, server.kind.stop_signal, grace=5.0)
