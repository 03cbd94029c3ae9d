"""The two servers under comparison: how each is started, which processes
make it up (for CPU and memory) and how it is stopped."""

import os
import signal
import socket
import subprocess
import time

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


class BadgesHealth:
    name = "badges-health"
    stop_signal = signal.SIGINT  # stops at once; SIGTERM would wait --drain-delay

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
    name = "nginx"
    stop_signal = signal.SIGTERM  # fast shutdown

    def __init__(self, binary, template):
        self.binary = binary
        with open(template, encoding="utf-8") as f:
            self.template = f.read()

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


def wait_ready(port, pid, timeout=10.0):
    """Polls GET /status until a 200; returns the response. Raises if the
    process exits or the timeout passes."""
    deadline = time.monotonic() + timeout
    last_error = "no attempt"
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            raise RuntimeError(f"server exited during start-up (pid {pid})")
        try:
            response = status_client.fetch_status(port, timeout=1.0)
            if status_client.status_code(response) == 200:
                return response
            last_error = response.split(b"\r\n", 1)[0].decode("latin-1")
        except OSError as e:
            last_error = str(e)
        time.sleep(0.01)
    raise RuntimeError(f"no 200 on port {port} within {timeout:.0f}s ({last_error})")


def start(children, kind, capacity, workdir, cpu, log_path):
    """Starts `kind` pinned to `cpu` and waits until it answers 200."""
    port = free_port()
    argv = kind.command(port, capacity, workdir)
    with open(log_path, "ab") as log:
        proc = children.start(argv, cpu=cpu, env=kind.environment(), stdin=subprocess.DEVNULL,
                              stdout=log, stderr=log)
    try:
        wait_ready(port, proc.pid)
    except Exception:
        children.stop(proc.pid, kind.stop_signal, grace=2.0)
        raise
    return RunningServer(kind, port, proc.pid)


def stop(children, server):
    children.stop(server.pid, server.kind.stop_signal, grace=5.0)
