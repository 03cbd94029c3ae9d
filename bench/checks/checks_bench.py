"""Check engine at scale: CPU per tcp check attempt of badges-health and of
HAProxy doing the same checks, at several numbers of checks, in one run;
then /status and verbose /status latency of badges-health with the largest
number of checks. Prints a Markdown report and writes it to
bench/results/checks.md. Started by bench/checks/run."""

import argparse
import http.client
import json
import os
import platform
import selectors
import socket
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))

import proc_stats  # noqa: E402  (bench/harness)
from processes import ChildProcesses  # noqa: E402
from servers import free_port  # noqa: E402


def active_opens():
    """Connections this network namespace has started (SYN sent), from
    /proc/net/snmp: the count of check attempts while nothing else on the
    machine connects. Neither server's check reaches the listener's accept
    queue (both hold back the handshake's last ACK and reset), so the
    listener cannot count them."""
    with open("/proc/net/snmp", encoding="ascii") as f:
        rows = [line.split() for line in f if line.startswith("Tcp:")]
    return int(rows[1][rows[0].index("ActiveOpens")])


class Listener:
    """The checks' target: accepts whatever connection reaches it and closes
    it at once, on a thread of the harness process (so its CPU is not counted
    for either server)."""

    def __init__(self):
        self._sel = selectors.DefaultSelector()
        self._counts = {}
        self._lock = threading.Lock()
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def open(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        s.listen(4096)
        s.setblocking(False)
        port = s.getsockname()[1]
        with self._lock:
            self._counts[port] = 0
        self._sel.register(s, selectors.EVENT_READ, port)
        return port

    def accepted(self, port):
        with self._lock:
            return self._counts[port]

    def _run(self):
        while not self._stop:
            if not self._sel.get_map():
                time.sleep(0.01)
                continue
            for key, _ in self._sel.select(timeout=0.2):
                n = 0
                while True:
                    try:
                        conn, _ = key.fileobj.accept()
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:
                        break
                    conn.close()
                    n += 1
                with self._lock:
                    self._counts[key.data] += n


def checks_file(path, count, target_port):
    checks = [{"name": f"t{i}", "type": "tcp", "host": "127.0.0.1", "port": target_port,
               "interval": "1s", "timeout": "500ms"} for i in range(count)]
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"checks": checks}, f)


def haproxy_config(path, count, target_port, front_port):
    lines = [
        "global",
        "    maxconn 4096",
        "defaults",
        "    mode tcp",
        "    timeout connect 500ms",
        "    timeout check 500ms",
        "    timeout client 5s",
        "    timeout server 5s",
        "frontend fe",
        f"    bind 127.0.0.1:{front_port}",
        "    default_backend checks",
        "backend checks",
    ]
    lines += [f"    server s{i} 127.0.0.1:{target_port} check inter 1s" for i in range(count)]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def http_get(port, target, timeout=2.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", target)
        res = conn.getresponse()
        return res.status, res.read()
    finally:
        conn.close()


def wait_ready(port, deadline):
    while time.monotonic() < deadline:
        try:
            status, _ = http_get(port, "/readyz", timeout=0.5)
            if status == 200:
                return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def latency(port, target, requests):
    """Sequential GETs on one keep-alive connection: per-request seconds
    (client included) and the last body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    samples = []
    body = b""
    try:
        for _ in range(requests):
            t = time.perf_counter()
            conn.request("GET", target)
            res = conn.getresponse()
            body = res.read()
            samples.append(time.perf_counter() - t)
            if res.status not in (200, 503):
                raise RuntimeError(f"{target}: HTTP {res.status}")
    finally:
        conn.close()
    samples.sort()
    return samples, body


def percentile(sorted_samples, p):
    if not sorted_samples:
        return float("nan")
    i = min(len(sorted_samples) - 1, int(round(p / 100.0 * (len(sorted_samples) - 1))))
    return sorted_samples[i]


def measure_cpu(pid, warmup, window):
    time.sleep(warmup)
    c0, a0, t0 = proc_stats.cpu_seconds(pid), active_opens(), time.monotonic()
    time.sleep(window)
    c1, a1, t1 = proc_stats.cpu_seconds(pid), active_opens(), time.monotonic()
    cpu = c1 - c0
    attempts = a1 - a0
    return {
        "cpu_s": cpu,
        "seconds": t1 - t0,
        "attempts": attempts,
        "attempts_per_s": attempts / (t1 - t0),
        "cpu_pct": 100.0 * cpu / (t1 - t0),
        "us_per_attempt": 1e6 * cpu / attempts if attempts else float("nan"),
    }


def run_badges(args, children, listener, count, latency_run):
    target = listener.open()
    port = free_port()
    cfg = os.path.join(args.workdir, f"checks-{count}.json")
    checks_file(cfg, count, target)
    argv = [os.path.abspath(args.binary), "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "warn", "--config", cfg]
    log = open(os.path.join(args.workdir, f"badges-{count}.log"), "wb")
    proc = children.start(argv, cpu=args.server_cpu, stdout=log, stderr=subprocess.STDOUT)
    try:
        if not wait_ready(port, time.monotonic() + 10):
            raise RuntimeError(f"badges-health with {count} checks: not ready within 10 s")
        result = measure_cpu(proc.pid, args.warmup, args.window)
        if latency_run:
            plain, _ = latency(port, "/status", args.requests)
            verbose, body = latency(port, "/status?verbose=true", args.verbose_requests)
            result["latency"] = {
                "status_p50_ms": 1e3 * percentile(plain, 50),
                "status_p99_ms": 1e3 * percentile(plain, 99),
                "verbose_p50_ms": 1e3 * percentile(verbose, 50),
                "verbose_p99_ms": 1e3 * percentile(verbose, 99),
                "verbose_bytes": len(body),
                "verbose_checks": len(json.loads(body).get("checks", {})),
            }
        return result
    finally:
        children.stop(proc.pid, sig=2)  # SIGINT: stops at once
        log.close()


def run_haproxy(args, children, listener, count):
    target = listener.open()
    cfg = os.path.join(args.workdir, f"haproxy-{count}.cfg")
    haproxy_config(cfg, count, target, free_port())
    log = open(os.path.join(args.workdir, f"haproxy-{count}.log"), "wb")
    proc = children.start([args.haproxy, "-db", "-f", cfg], cpu=args.server_cpu, stdout=log,
                          stderr=subprocess.STDOUT)
    try:
        # HAProxy spreads its first checks over one interval.
        time.sleep(1.0)
        if proc.poll() is not None:
            raise RuntimeError(f"haproxy exited with {proc.returncode}; see {log.name}")
        return measure_cpu(proc.pid, args.warmup, args.window)
    finally:
        children.stop(proc.pid)
        log.close()


def median_of(results, key):
    return statistics.median(r[key] for r in results)


def report(args, rows, lat):
    out = []
    out.append("# Check engine at scale: badges-health vs HAProxy")
    out.append("")
    out.append(f"`{args.command}` on {time.strftime('%Y-%m-%d %H:%M %Z')}; "
               f"{os.cpu_count()} CPUs, Linux {platform.release()}; "
               f"{haproxy_version(args.haproxy)}. Both servers pinned to CPU {args.server_cpu}, "
               f"the listener and clients to CPU {args.client_cpu}; {args.rounds} round(s), "
               f"warm-up {args.warmup:g} s, window {args.window:g} s; "
               "CPU is utime + stime from /proc/<pid>/stat (10 ms ticks), attempts are the "
               "connections opened in the window (ActiveOpens of /proc/net/snmp, so "
               "anything else connecting on the machine meanwhile inflates them).")
    out.append("")
    out.append("| tcp checks at 1 s | server | attempts/s | CPU (% of a core) "
               "| CPU per attempt | badges-health / HAProxy |")
    out.append("|---:|---|---:|---:|---:|---:|")
    for count, res in rows:
        b, h = res["badges-health"], res["haproxy"]
        ratio = b["cpu_pct"] / h["cpu_pct"] if h["cpu_pct"] else float("inf")
        out.append(f"| {count:,} | badges-health | {b['attempts_per_s']:.0f} | "
                   f"{b['cpu_pct']:.2f} % | {b['us_per_attempt']:.1f} µs | **{ratio:.2f}×** |")
        out.append(f"| {count:,} | HAProxy | {h['attempts_per_s']:.0f} | "
                   f"{h['cpu_pct']:.2f} % | {h['us_per_attempt']:.1f} µs | |")
    out.append("")
    if lat:
        out.append(f"With {rows[-1][0]:,} checks (one keep-alive connection, sequential "
                   "requests, Python client time included):")
        out.append("")
        out.append("| request | p50 | p99 | body |")
        out.append("|---|---:|---:|---:|")
        out.append(f"| `GET /status` ({args.requests} requests) | {lat['status_p50_ms']:.3f} ms | "
                   f"{lat['status_p99_ms']:.3f} ms | |")
        out.append(f"| `GET /status?verbose=true` ({args.verbose_requests} requests) | "
                   f"{lat['verbose_p50_ms']:.3f} ms | {lat['verbose_p99_ms']:.3f} ms | "
                   f"{lat['verbose_bytes']:,} bytes, {lat['verbose_checks']:,} checks |")
        out.append("")
    out.append("Targets (shown, not enforced):")
    out.append("")
    largest_count, largest = rows[-1]
    b, h = largest["badges-health"], largest["haproxy"]
    out.append(f"- {largest_count:,} checks: badges-health CPU ≤ HAProxy's: "
               f"{b['cpu_pct']:.2f} % vs {h['cpu_pct']:.2f} % — "
               f"{'PASS' if b['cpu_pct'] <= h['cpu_pct'] else 'FAIL'} "
               f"(aim ≤ half: {'yes' if b['cpu_pct'] <= h['cpu_pct'] / 2 else 'no'})")
    per = ", ".join(f"{r['badges-health']['us_per_attempt']:.1f} µs at {c:,}" for c, r in rows)
    out.append(f"- CPU per attempt roughly flat: {per}")
    if lat:
        out.append(f"- /status p50 < 1 ms: {lat['status_p50_ms']:.3f} ms — "
                   f"{'PASS' if lat['status_p50_ms'] < 1 else 'FAIL'}")
        out.append(f"- verbose p50 < 3 ms: {lat['verbose_p50_ms']:.3f} ms — "
                   f"{'PASS' if lat['verbose_p50_ms'] < 3 else 'FAIL'}")
    out.append("")
    return "\n".join(out)


def haproxy_version(binary):
    try:
        first = subprocess.run([binary, "-v"], capture_output=True, text=True,
                               check=False).stdout.splitlines()[0]
        return " ".join(first.split()[:3])
    except (OSError, IndexError):
        return "HAProxy (version unknown)"


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", required=True, help="badges-health binary")
    p.add_argument("--workdir", default=None, help="for configs and logs (a temporary one)")
    p.add_argument("--command", default="bench/checks/run", help=argparse.SUPPRESS)
    p.add_argument("--haproxy", default="/usr/sbin/haproxy")
    p.add_argument("--counts", default="10,100,1000", help="numbers of checks (10,100,1000)")
    p.add_argument("--warmup", type=float, default=3.0, help="seconds after start (3)")
    p.add_argument("--window", type=float, default=10.0, help="seconds of CPU measured (10)")
    p.add_argument("--rounds", type=int, default=1,
                   help="rounds per count, alternating the servers; medians reported (1)")
    p.add_argument("--requests", type=int, default=2000, help="plain /status requests (2000)")
    p.add_argument("--verbose-requests", type=int, default=300,
                   help="verbose /status requests (300)")
    p.add_argument("--server-cpu", type=int, default=0)
    p.add_argument("--client-cpu", type=int, default=1)
    p.add_argument("--output", default="bench/results/checks.md")
    args = p.parse_args()

    if args.workdir is None:
        import tempfile
        args.workdir = tempfile.mkdtemp(prefix="badges-health-checks.")
    try:
        os.sched_setaffinity(0, {args.client_cpu})
    except OSError:
        pass
    counts = [int(c) for c in args.counts.split(",") if c]
    children = ChildProcesses(os.path.join(args.workdir, "process-groups"))
    listener = Listener()
    rows = []
    lat = None
    try:
        for i, count in enumerate(counts):
            per_server = {"badges-health": [], "haproxy": []}
            for _ in range(args.rounds):
                last = i == len(counts) - 1
                r = run_badges(args, children, listener, count, latency_run=last and lat is None)
                if "latency" in r:
                    lat = r.pop("latency")
                per_server["badges-health"].append(r)
                print(f"{count} checks, badges-health: {r['cpu_pct']:.2f} % "
                      f"({r['us_per_attempt']:.1f} µs/attempt, {r['attempts_per_s']:.0f}/s)",
                      file=sys.stderr)
                r = run_haproxy(args, children, listener, count)
                per_server["haproxy"].append(r)
                print(f"{count} checks, haproxy: {r['cpu_pct']:.2f} % "
                      f"({r['us_per_attempt']:.1f} µs/attempt, {r['attempts_per_s']:.0f}/s)",
                      file=sys.stderr)
            rows.append((count, {
                name: {k: median_of(rs, k) for k in ("cpu_pct", "us_per_attempt",
                                                      "attempts_per_s")}
                for name, rs in per_server.items()}))
    finally:
        children.stop_all()
    text = report(args, rows, lat)
    print(text)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main()
