"""CPU per check attempt of the checks that do more than connect, in one
run: `https`, 100 https checks at 1 s against nginx over TLS, verified
against the system store, with two badges-health binaries side by side (--before, e.g. one that built a TLS
context per attempt, and --binary), rounds alternating which goes first;
`exec`, exec checks running check_dummy 0 at 1 s: the service's own CPU per
attempt (spawn, pidfd wait, reap) beside the plugin's (its children's CPU,
the reference measured in the same run). Prints a Markdown report. Started
by bench/checks/attempts."""

import argparse
import ctypes
import json
import os
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))

import proc_stats  # noqa: E402  (bench/harness)
from processes import ChildProcesses  # noqa: E402
from servers import free_port  # noqa: E402


# ---------------------------------------------------------------- https

NGINX_TLS = """daemon off;
master_process on;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server {{
        listen 127.0.0.1:{tls_port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        location / {{ default_type application/json; return 200 '{{"status":"ok"}}'; }}
    }}
    server {{
        listen 127.0.0.1:{status_port};
        location = /count {{ stub_status; }}
    }}
}}
"""


class TlsPeer:
    """nginx (Debian's nginx-light, one worker, pinned to the client CPU)
    answering every https GET with 200, and counting requests on a plain
    stub_status port. Its certificate is self-signed; the checks trust it
    through the system store: SSL_CERT_FILE names Debian's bundle with it
    appended, so each check verifies against the whole store, as a check
    without ca_file does."""

    def __init__(self, args, children):
        self.workdir = os.path.join(args.workdir, "nginx")
        os.makedirs(self.workdir, exist_ok=True)
        cert = os.path.join(self.workdir, "server.pem")
        key = os.path.join(self.workdir, "server.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "365", "-keyout", key,
                        "-out", cert, "-subj", "/CN=127.0.0.1", "-addext",
                        "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
        self.bundle = os.path.join(self.workdir, "bundle.pem")
        with open(self.bundle, "w", encoding="ascii") as out:
            with open(args.system_bundle, encoding="ascii") as system:
                out.write(system.read())
            with open(cert, encoding="ascii") as own:
                out.write(own.read())
        self.port, self.status_port = free_port(), free_port()
        conf = os.path.join(self.workdir, "nginx.conf")
        with open(conf, "w", encoding="ascii") as f:
            f.write(NGINX_TLS.format(prefix=self.workdir, tls_port=self.port, cert=cert, key=key,
                                     status_port=self.status_port))
        self.children = children
        self.proc = children.start([shutil.which("nginx") or "/usr/sbin/nginx", "-p", self.workdir,
                                    "-c", conf], cpu=args.client_cpu,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.count()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("nginx did not start; see " + self.workdir)
                time.sleep(0.05)

    def _stub_status(self):
        """(connections accepted, requests), less this harness's own."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.status_port}/count", timeout=2) as r:
            text = r.read().decode()
        self.queries = getattr(self, "queries", 0) + 1
        accepts, _, requests = (int(x) for x in text.split("\n")[2].split())
        return accepts - self.queries, requests - self.queries

    def count(self):
        """Attempts: TLS connections accepted (an attempt that times out
        before its request is still one)."""
        return self._stub_status()[0]

    def answered(self):
        return self._stub_status()[1]

    def close(self):
        self.children.stop(self.proc.pid, sig=signal.SIGQUIT)


def https_checks(path, count, port):
    checks = [{"name": f"tls{i}", "type": "http", "url": f"https://127.0.0.1:{port}/",
               "interval": "1s", "timeout": "500ms"} for i in range(count)]
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"checks": checks}, f)


# ----------------------------------------------------------------- exec

_IN_OPEN = 0x20
_IN_CLOSE_NOWRITE = 0x10


class ExecCounter:
    """Counts the runs of a program: an inotify watch on a copy of it that
    only this run's checks execute (execve opens the file), read by a thread
    of its own as the events come, so that two opens are rarely queued next
    to each other (inotify would merge them into one)."""

    def __init__(self, program, workdir):
        self.path = os.path.join(workdir, os.path.basename(program))
        shutil.copy2(program, self.path)
        libc = ctypes.CDLL(None, use_errno=True)
        self.fd = libc.inotify_init1(os.O_CLOEXEC)
        if self.fd < 0 or libc.inotify_add_watch(
                self.fd, self.path.encode(), _IN_OPEN | _IN_CLOSE_NOWRITE) < 0:
            raise OSError(ctypes.get_errno(), "inotify")
        self.count = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                return
            offset = 0
            while offset < len(data):
                _, mask, _, length = struct.unpack_from("iIII", data, offset)
                if mask & _IN_OPEN:
                    with self._lock:
                        self.count += 1
                offset += 16 + length

    def read(self):
        with self._lock:
            return self.count

    def close(self):
        os.close(self.fd)


def exec_checks(path, count, program):
    checks = [{"name": f"x{i}", "type": "exec", "command": [program, "0", "fine"],
               "interval": "1s", "timeout": "500ms"} for i in range(count)]
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"checks": checks}, f)


def children_cpu_seconds(pid):
    """CPU of the reaped children of `pid` (cutime + cstime, fields 16-17)."""
    with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
        text = f.read()
    after = text[text.rindex(")") + 2:].split()
    return (int(after[13]) + int(after[14])) / proc_stats.CLOCK_TICKS_PER_SECOND


# ---------------------------------------------------------------- common

def wait_ready(port, deadline):
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/livez", timeout=1):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def measure(args, children, binary, config, extra, count_attempts, env=None, count_done=None):
    port = free_port()
    argv = [os.path.abspath(binary), "--host", "127.0.0.1", "--port", str(port), "--threads", "1",
            "--log-level", "warn", "--config", config] + extra
    log = open(os.path.join(args.workdir, "server.log"), "ab")
    proc = children.start(argv, cpu=args.server_cpu, stdout=log, stderr=subprocess.STDOUT,
                          env=env)
    try:
        if not wait_ready(port, time.monotonic() + 10):
            raise RuntimeError(f"{binary} did not start; see {log.name}")
        time.sleep(args.warmup)
        c0, a0 = proc_stats.cpu_seconds_precise(proc.pid), count_attempts()
        d0 = count_done() if count_done else 0
        k0, t0 = children_cpu_seconds(proc.pid), time.monotonic()
        time.sleep(args.window)
        c1, a1 = proc_stats.cpu_seconds_precise(proc.pid), count_attempts()
        d1 = count_done() if count_done else 0
        k1, t1 = children_cpu_seconds(proc.pid), time.monotonic()
        attempts = a1 - a0
        return {"attempts": attempts, "seconds": t1 - t0,
                "attempts_per_s": attempts / (t1 - t0),
                "answered_per_s": (d1 - d0) / (t1 - t0),
                "cpu_us_per_attempt": 1e6 * (c1 - c0) / attempts if attempts else float("nan"),
                "children_us_per_attempt": 1e6 * (k1 - k0) / attempts if attempts else float("nan"),
                "cpu_pct": 100 * (c1 - c0) / (t1 - t0)}
    finally:
        children.stop(proc.pid, sig=signal.SIGINT)
        log.close()


def loadavg():
    with open("/proc/loadavg", encoding="ascii") as f:
        return " ".join(f.read().split()[:3])


def run_https(args, children):
    peer = TlsPeer(args, children)
    config = os.path.join(args.workdir, "https.json")
    https_checks(config, args.https_checks, peer.port)
    env = dict(os.environ, SSL_CERT_FILE=peer.bundle)
    binaries = [("before", args.before), ("after", args.binary)]
    rounds = []
    try:
        for r in range(args.rounds):
            order = binaries if r % 2 == 0 else list(reversed(binaries))
            row = {}
            for label, binary in order:
                row[label] = measure(args, children, binary, config, [], peer.count, env,
                                     peer.answered)
                print(f"  https round {r + 1} {label}: {row[label]['cpu_us_per_attempt']:.1f} us/attempt"
                      f" ({row[label]['attempts']} attempts, load {loadavg()})", file=sys.stderr)
            rounds.append(row)
    finally:
        peer.close()
    return rounds


def run_exec(args, children):
    counter = ExecCounter(args.plugin, args.workdir)
    config = os.path.join(args.workdir, "exec.json")
    exec_checks(config, args.exec_checks, counter.path)
    rounds = []
    try:
        for r in range(args.rounds):
            result = measure(args, children, args.binary, config,
                             ["--allow-exec-checks", "--max-exec-checks", str(args.exec_checks)],
                             counter.read)
            print(f"  exec round {r + 1}: {result['cpu_us_per_attempt']:.1f} us/attempt, plugin "
                  f"{result['children_us_per_attempt']:.1f} us ({result['attempts']} attempts, "
                  f"load {loadavg()})", file=sys.stderr)
            rounds.append(result)
    finally:
        counter.close()
    return rounds


def report(args, https, exec_rounds):
    out = [f"# Check attempts: CPU per attempt ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})",
           "", f"Command: `{args.command}`; {args.rounds} rounds of a {args.window:g} s window after "
           f"{args.warmup:g} s; badges-health `--threads 1` pinned to CPU {args.server_cpu}, the "
           f"peers to CPU {args.client_cpu}; load average at the end {loadavg()}.", ""]
    med = lambda rows, key: statistics.median(r[key] for r in rows)  # noqa: E731
    if https:
        before = [r["before"] for r in https]
        after = [r["after"] for r in https]
        b, a = med(before, "cpu_us_per_attempt"), med(after, "cpu_us_per_attempt")
        out += [f"## {args.https_checks} https checks at 1 s against nginx (TLS), verified against "
                "the system store", "",
                "| binary | CPU per attempt (median) | per round | attempts/s | answered/s | CPU % of a core |",
                "|---|---:|---|---:|---:|---:|",
                f"| before: `{args.before}` | {b:.1f} µs | "
                + ", ".join(f"{r['cpu_us_per_attempt']:.1f}" for r in before)
                + f" | {med(before, 'attempts_per_s'):.1f} | {med(before, 'answered_per_s'):.1f}"
                + f" | {med(before, 'cpu_pct'):.2f} % |",
                f"| after: `{args.binary}` | {a:.1f} µs | "
                + ", ".join(f"{r['cpu_us_per_attempt']:.1f}" for r in after)
                + f" | {med(after, 'attempts_per_s'):.1f} | {med(after, 'answered_per_s'):.1f}"
                + f" | {med(after, 'cpu_pct'):.2f} % |",
                "", f"after / before, CPU per attempt: **{a / b:.2f}×**; CPU: "
                f"**{med(after, 'cpu_pct') / med(before, 'cpu_pct'):.2f}×**. An attempt is a TLS "
                "connection nginx accepted; answered are the requests it answered (an attempt "
                "that times out first is not answered).", ""]
    if exec_rounds:
        s, c = med(exec_rounds, "cpu_us_per_attempt"), med(exec_rounds, "children_us_per_attempt")
        out += [f"## {args.exec_checks} exec checks of `check_dummy 0` at 1 s "
                f"({med(exec_rounds, 'attempts_per_s'):.1f} attempts/s)", "",
                "| | per attempt (median) | per round |", "|---|---:|---|",
                f"| badges-health (spawn, pidfd wait, read, reap) | {s:.1f} µs | "
                + ", ".join(f"{r['cpu_us_per_attempt']:.1f}" for r in exec_rounds) + " |",
                f"| the plugin process itself (children's CPU) | {c:.1f} µs | "
                + ", ".join(f"{r['children_us_per_attempt']:.1f}" for r in exec_rounds) + " |",
                "", f"service / plugin: **{s / c:.2f}×**", ""]
    text = "\n".join(out)
    print(text)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text + "\n")


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--binary", required=True, help="badges-health under test")
    p.add_argument("--before", help="badges-health to compare with (https)")
    p.add_argument("--scenarios", default="https,exec")
    p.add_argument("--workdir", required=True)
    p.add_argument("--command", default="bench/checks/attempts")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--warmup", type=float, default=3.0)
    p.add_argument("--window", type=float, default=10.0)
    p.add_argument("--https-checks", type=int, default=100)
    p.add_argument("--exec-checks", type=int, default=20)
    p.add_argument("--plugin", default="/usr/lib/nagios/plugins/check_dummy")
    p.add_argument("--system-bundle", default="/etc/ssl/certs/ca-certificates.crt",
                   help="the CA store the https checks verify against, with the peer's own "
                        "certificate appended")
    p.add_argument("--server-cpu", type=int, default=0)
    p.add_argument("--client-cpu", type=int, default=1)
    p.add_argument("--output", default="bench/results/attempts.md")
    args = p.parse_args()
    scenarios = set(args.scenarios.split(","))
    if "https" in scenarios and not args.before:
        sys.exit("attempt_cost: the https scenario needs --before BINARY")
    os.sched_setaffinity(0, {args.client_cpu})
    children = ChildProcesses(os.path.join(args.workdir, "process-groups"))
    try:
        https = run_https(args, children) if "https" in scenarios else []
        exec_rounds = run_exec(args, children) if "exec" in scenarios else []
    finally:
        children.stop_all()
    report(args, https, exec_rounds)


if __name__ == "__main__":
    main()
