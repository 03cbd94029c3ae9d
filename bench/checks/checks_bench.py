"""Check engine at scale: CPU per tcp check attempt of badges-health and of
HAProxy doing the same checks, at several numbers of checks and with none
(the idle baseline), in one run; then /status and verbose /status latency of
badges-health with the largest number of checks. Prints a Markdown report
and writes it to bench/results/checks.md. Started by bench/checks/run;
bench/run's checks scenario calls run() from this module."""

import argparse
import ctypes
import http.client
import json
import os
import platform
import selectors
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))

import proc_stats  # noqa: E402  (bench/harness)
from processes import ChildProcesses  # noqa: E402
from servers import free_port  # noqa: E402


# The checks' target: its own loopback address (all of 127.0.0.0/8 is local
# on Linux), so that the SYNs sent to it are the checks' and nothing else's.
TARGET_ADDRESS = "127.77.0.1"

_SO_ATTACH_FILTER = 26  # <asm-generic/socket.h>
_SO_RCVBUFFORCE = 33


def active_opens():
    """Connections this network namespace has started (SYN sent), from
    /proc/net/snmp: the count of check attempts while nothing else on the
    machine connects. The fallback when the SYNs cannot be counted: neither
    server's check reaches the listener's accept queue (both hold back the
    handshake's last ACK and reset), so the listener cannot count them."""
    with open("/proc/net/snmp", encoding="ascii") as f:
        rows = [line.split() for line in f if line.startswith("Tcp:")]
    return int(rows[1][rows[0].index("ActiveOpens")])


def syn_socket(address):
    """A raw TCP socket that receives only the SYNs (SYN set, ACK clear) sent
    to `address`: a classic BPF program attached to it drops every other
    packet in the kernel. Needs CAP_NET_RAW; raises OSError without it."""
    dst = struct.unpack("!I", socket.inet_aton(address))[0]
    program = [  # (code, jump if true, jump if false, k), from the IPv4 header
        (0x20, 0, 0, 16),     # ld [16]: destination address
        (0x15, 0, 4, dst),    # jeq address, else drop
        (0xb1, 0, 0, 0),      # ldxb 4*([0]&0xf): the IP header's length
        (0x50, 0, 0, 13),     # ldb [x+13]: the TCP flags
        (0x54, 0, 0, 0x12),   # and SYN|ACK
        (0x15, 1, 0, 0x02),   # jeq SYN: keep
        (0x06, 0, 0, 0),      # ret 0: drop
        (0x06, 0, 0, 0xffff),  # ret: keep (the headers are enough)
    ]
    code = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *i) for i in program))
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    try:
        # struct sock_fprog: the length, then a pointer to the instructions.
        sock.setsockopt(socket.SOL_SOCKET, _SO_ATTACH_FILTER,
                        struct.pack("HP", len(program), ctypes.addressof(code)))
        try:  # room for a burst of 1,000 SYNs and more
            sock.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, 16 << 20)
        except OSError:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
        # Anything queued before the filter was attached.
        sock.setblocking(False)
        while True:
            try:
                sock.recv(65535)
            except BlockingIOError:
                break
    except Exception:
        sock.close()
        raise
    return sock


def raw_socket_drops(sock):
    """Packets the kernel dropped for `sock` (its receive buffer was full),
    from the drops column of /proc/net/raw; 0 when not found."""
    inode = str(os.fstat(sock.fileno()).st_ino)
    try:
        with open("/proc/net/raw", encoding="ascii") as f:
            f.readline()  # the header
            for line in f:
                # sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
                fields = line.split()
                if len(fields) >= 13 and fields[9] == inode:
                    return int(fields[12])
    except (OSError, ValueError):
        pass
    return 0


class Listener:
    """The checks' target: listens on TARGET_ADDRESS, one port per server
    run, accepts whatever connection reaches it and closes it at once, on a
    thread of the harness process (so its CPU is not counted for either
    server). It counts the SYNs sent to each port with a raw socket, which
    are the check attempts whether or not the handshake completes; without
    the privilege for that, attempts() is None and the caller falls back to
    ActiveOpens."""

    def __init__(self):
        self._sel = selectors.DefaultSelector()
        self._accepted = {}
        self._syns = {}
        self._lock = threading.Lock()
        self._stop = False
        try:
            self._raw = syn_socket(TARGET_ADDRESS)
            self._sel.register(self._raw, selectors.EVENT_READ, None)
        except OSError:
            self._raw = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @property
    def counts_syns(self):
        return self._raw is not None

    def open(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((TARGET_ADDRESS, 0))
        s.listen(4096)
        s.setblocking(False)
        port = s.getsockname()[1]
        with self._lock:
            self._accepted[port] = 0
            self._syns[port] = 0
            self._sel.register(s, selectors.EVENT_READ, port)
        return port

    def accepted(self, port):
        with self._lock:
            return self._accepted[port]

    def attempts(self, port):
        """SYNs received for `port` so far (None without the raw socket).
        Those still queued in the raw socket are read first, so a reading
        taken right after the window includes the window's last SYNs."""
        if self._raw is None:
            return None
        self._drain_syns()
        with self._lock:
            return self._syns[port]

    def drops(self):
        """SYNs the raw socket lost to a full receive buffer (uncounted)."""
        return raw_socket_drops(self._raw) if self._raw is not None else 0

    def close_port(self, port):
        """Stops listening on `port` (one server run is over)."""
        with self._lock:
            for key in list(self._sel.get_map().values()):
                if key.data == port:
                    self._sel.unregister(key.fileobj)
                    key.fileobj.close()

    def close(self):
        """Stops the thread and closes every socket."""
        self._stop = True
        self._thread.join(timeout=2.0)
        with self._lock:
            for key in list(self._sel.get_map().values()):
                self._sel.unregister(key.fileobj)
                key.fileobj.close()
        self._sel.close()

    def _drain_syns(self):
        counted = {}
        while True:
            try:
                packet = self._raw.recv(128)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                return  # closed meanwhile
            header = (packet[0] & 0x0F) * 4
            if len(packet) >= header + 4:
                port = struct.unpack_from("!H", packet, header + 2)[0]
                counted[port] = counted.get(port, 0) + 1
        with self._lock:
            for port, n in counted.items():
                if port in self._syns:  # else: not a port of this run
                    self._syns[port] += n

    def _run(self):
        while not self._stop:
            with self._lock:
                idle = not self._sel.get_map()
            if idle:
                time.sleep(0.01)
                continue
            for key, _ in self._sel.select(timeout=0.2):
                if key.data is None:
                    self._drain_syns()
                    continue
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
                    self._accepted[key.data] += n


def checks_file(path, count, target_port):
    """With count 0, {"checks": []}: the idle baseline."""
    checks = [{"name": f"t{i}", "type": "tcp", "host": TARGET_ADDRESS, "port": target_port,
               "interval": "1s", "timeout": "500ms"} for i in range(count)]
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"checks": checks}, f)


def haproxy_config(path, count, target_port, front_port):
    """With count 0, a backend without servers: HAProxy starts and listens
    on its frontend but checks nothing (the idle baseline)."""
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
    lines += [f"    server s{i} {TARGET_ADDRESS}:{target_port} check inter 1s"
              for i in range(count)]
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


def wait_ready(port, deadline, proc=None):
    """Whether GET /readyz answers 200 before `deadline`; False at once if
    `proc` exits meanwhile."""
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
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


def log_tail(log, lines=5):
    """The last lines a server wrote to its log file (open for writing),
    for an error message: the work directory does not outlive the run."""
    try:
        log.flush()
        with open(log.name, encoding="utf-8", errors="replace") as f:
            tail = [line.strip() for line in f.read().splitlines() if line.strip()][-lines:]
    except OSError:
        return ""
    return (": " + " / ".join(tail)) if tail else " (its log is empty)"


def exit_description(returncode):
    """"exit status 1" or "killed by SIGSEGV" (Popen's negative codes)."""
    if returncode is not None and returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit status {returncode}"


def wait_listening(port, deadline):
    """Whether something accepts TCP connections on `port` before `deadline`."""
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def attempt_counter(listener, port):
    """(read, source): what counts the check attempts of the run whose
    target is `port`: the SYNs to it, else ActiveOpens."""
    if listener.counts_syns:
        return (lambda: listener.attempts(port)), "syn"
    return active_opens, "activeopens"


def measure_cpu(pid, warmup, window, server_cpu, attempts):
    """CPU of `pid` over `window` seconds after `warmup`, the attempts
    counted meanwhile by `attempts` (see attempt_counter), and the busy time
    of `server_cpu` that was not the server's (other processes, interrupts)."""
    count_attempts, attempt_source = attempts
    time.sleep(warmup)
    (c0, source0), a0 = proc_stats.cpu_sample(pid), count_attempts()
    b0, t0 = proc_stats.cpu_busy_seconds(server_cpu), time.monotonic()
    time.sleep(window)
    (c1, source1), a1 = proc_stats.cpu_sample(pid), count_attempts()
    b1, t1 = proc_stats.cpu_busy_seconds(server_cpu), time.monotonic()
    seconds = t1 - t0
    cpu = c1 - c0
    attempts = a1 - a0
    return {
        "seconds": seconds,
        "attempts": attempts,
        "attempts_per_s": attempts / seconds,
        "cpu_pct": 100.0 * cpu / seconds,
        "other_pct": max(0.0, 100.0 * ((b1 - b0) - cpu) / seconds),
        # Both samples must come from schedstat for the nanosecond figure.
        "cpu_source": "schedstat" if source0 == source1 == "schedstat" else "stat",
        "attempt_source": attempt_source,
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
        if not wait_ready(port, time.monotonic() + 10, proc):
            state = ("not ready within 10 s" if proc.poll() is None
                     else f"exited before it was ready ({exit_description(proc.returncode)})")
            raise RuntimeError(f"badges-health with {count} checks: {state}{log_tail(log)}")
        result = measure_cpu(proc.pid, args.warmup, args.window, args.server_cpu,
                             attempt_counter(listener, target))
        if proc.poll() is not None:
            raise RuntimeError(f"badges-health with {count} checks exited during the window "
                               f"({exit_description(proc.returncode)}){log_tail(log)}")
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
        children.stop(proc.pid, sig=signal.SIGINT)  # stops at once
        log.close()
        listener.close_port(target)


def run_haproxy(args, children, listener, count):
    target = listener.open()
    cfg = os.path.join(args.workdir, f"haproxy-{count}.cfg")
    front = free_port()
    haproxy_config(cfg, count, target, front)
    log = open(os.path.join(args.workdir, f"haproxy-{count}.log"), "wb")
    proc = children.start([args.haproxy, "-db", "-f", cfg], cpu=args.server_cpu, stdout=log,
                          stderr=subprocess.STDOUT)
    try:
        # Up when its frontend accepts (with no servers too: the idle run).
        if not wait_listening(front, time.monotonic() + 10) or proc.poll() is not None:
            state = ("running" if proc.poll() is None
                     else exit_description(proc.returncode))
            raise RuntimeError(f"haproxy with {count} checks did not start listening "
                               f"({state}){log_tail(log)}")
        # HAProxy spreads its first checks over one interval.
        time.sleep(1.0)
        result = measure_cpu(proc.pid, args.warmup, args.window, args.server_cpu,
                             attempt_counter(listener, target))
        if proc.poll() is not None:
            raise RuntimeError(f"haproxy with {count} checks exited during the window "
                               f"({exit_description(proc.returncode)}){log_tail(log)}")
        return result
    finally:
        children.stop(proc.pid)
        log.close()
        listener.close_port(target)


# --------------------------------------------------------------------------
# Rounds and medians

BADGES, HAPROXY = "badges-health", "HAProxy"
SERVERS = (BADGES, HAPROXY)


def server_order(round_number):
    """badges-health first in odd rounds (1, 3...), HAProxy first in even
    ones, so that neither always runs on the machine the other left."""
    return SERVERS if round_number % 2 == 1 else tuple(reversed(SERVERS))


def summarize(per_round):
    """Medians over the rounds of one server at one count."""
    return {
        "cpu_pct": statistics.median(r["cpu_pct"] for r in per_round),
        "attempts_per_s": statistics.median(r["attempts_per_s"] for r in per_round),
        "other_pct": statistics.median(r["other_pct"] for r in per_round),
        "rounds_cpu_pct": [r["cpu_pct"] for r in per_round],
        "cpu_source": ("schedstat" if all(r["cpu_source"] == "schedstat" for r in per_round)
                       else "stat"),
        "attempt_source": ("syn" if all(r["attempt_source"] == "syn" for r in per_round)
                           else "activeopens"),
    }


def per_attempt_us(cpu_pct, attempts_per_s):
    """µs of CPU per attempt from a CPU share (% of a core) and a rate."""
    return cpu_pct * 1e4 / attempts_per_s if attempts_per_s > 0 else float("nan")


def derive(rows):
    """Adds CPU per attempt, and above idle, to every server's medians;
    `rows` maps count (0: idle) -> server -> medians."""
    for count, per_server in rows.items():
        for name, m in per_server.items():
            idle = rows[0][name]["cpu_pct"]
            m["us_per_attempt"] = per_attempt_us(m["cpu_pct"], m["attempts_per_s"])
            m["us_above_idle"] = (per_attempt_us(m["cpu_pct"] - idle, m["attempts_per_s"])
                                  if count else float("nan"))
    return rows


# --------------------------------------------------------------------------
# Report

def fmt_us(value):
    return "–" if value != value else f"{value:.1f} µs"  # NaN: no attempts


def fmt_ratio(b, h):
    return f"{b / h:.2f}×" if h > 0 else "–"


def count_label(count):
    return "0 (idle)" if count == 0 else f"{count:,}"


def report(args, rows, lat, syn_drops=0):
    """The Markdown report; `rows` maps count (0 first) -> server ->
    medians (see derive), `lat` the latency at the largest count or None,
    `syn_drops` the SYNs the counting socket lost."""
    counts = sorted(rows)
    largest = counts[-1]
    measured = [m for per_server in rows.values() for m in per_server.values()]
    sources = {m["cpu_source"] for m in measured}
    if sources == {"schedstat"}:
        cpu_text = ("CPU is the time all of a server's threads spent on a CPU "
                    "(sum_exec_runtime, in ns, the first field of /proc/<pid>/task/*/schedstat) "
                    "over the window")
    else:
        cpu_text = ("CPU is the time all of a server's threads spent on a CPU over the window, "
                    "from /proc/<pid>/task/*/schedstat (ns) where the kernel provides it, else "
                    "utime + stime from /proc/<pid>/stat (10 ms ticks: this run used them for "
                    "at least one measurement)")
    if all(m["attempt_source"] == "syn" for m in measured):
        attempt_text = ("Attempts are the SYNs sent to the run's target port in the window, "
                        f"counted by the harness with a raw socket (a BPF filter keeps the SYNs to "
                        f"{TARGET_ADDRESS}, the target's own loopback address, so other "
                        "connections on the machine do not count)")
    else:
        attempt_text = ("Attempts are the connections opened in the window (ActiveOpens of "
                        "/proc/net/snmp, for want of a raw socket to count the SYNs: anything "
                        "else connecting on the machine meanwhile inflates them)")
    out = []
    out.append("# Check engine at scale: badges-health vs HAProxy")
    out.append("")
    out.append(f"`{args.command}` on {time.strftime('%Y-%m-%d %H:%M %Z')}; "
               f"{os.cpu_count()} CPUs, Linux {platform.release()}; "
               f"{haproxy_version(args.haproxy)}. Both servers pinned to CPU {args.server_cpu}, "
               f"the listener and clients to CPU {args.client_cpu}; {args.rounds} round(s) "
               "per count, badges-health first in odd rounds and HAProxy first in even ones, "
               f"each server started fresh, warm-up {args.warmup:g} s, window {args.window:g} s; "
               "values are medians over the rounds. "
               f"{cpu_text}. {attempt_text}. The idle rows run each server with no checks "
               "(badges-health `{\"checks\": []}`, HAProxy a backend without servers); "
               "CPU per attempt is all the CPU over the attempts, above idle is "
               "(CPU(n) − CPU(idle)) / attempts.")
    out.append("")
    out.append("| tcp checks at 1 s | server | attempts/s | CPU (% of a core) "
               "| CPU per attempt | CPU per attempt above idle "
               "| CPU %: badges-health / HAProxy |")
    out.append("|---:|---|---:|---:|---:|---:|---:|")
    for count in counts:
        b, h = rows[count][BADGES], rows[count][HAPROXY]
        label = count_label(count)
        out.append(f"| {label} | badges-health | {b['attempts_per_s']:.0f} | "
                   f"{b['cpu_pct']:.3f} % | {fmt_us(b['us_per_attempt'])} | "
                   f"{fmt_us(b['us_above_idle'])} | **{fmt_ratio(b['cpu_pct'], h['cpu_pct'])}** |")
        out.append(f"| {label} | HAProxy | {h['attempts_per_s']:.0f} | "
                   f"{h['cpu_pct']:.3f} % | {fmt_us(h['us_per_attempt'])} | "
                   f"{fmt_us(h['us_above_idle'])} | |")
    out.append("")
    if args.rounds > 1:
        out.append("CPU (% of a core) in each round (round 1, 2, ...):")
        out.append("")
        out.append("| tcp checks at 1 s | badges-health | HAProxy |")
        out.append("|---:|---|---|")
        for count in counts:
            out.append(f"| {count_label(count)} | " + " | ".join(
                ", ".join(f"{v:.3f}" for v in rows[count][name]["rounds_cpu_pct"])
                for name in SERVERS) + " |")
        out.append("")
    if lat:
        out.append(f"With {largest:,} checks (one keep-alive connection, sequential "
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
    if largest:
        b, h = rows[largest][BADGES], rows[largest][HAPROXY]
        out.append(f"- {largest:,} checks: badges-health CPU ≤ HAProxy's: "
                   f"{b['cpu_pct']:.3f} % vs {h['cpu_pct']:.3f} % — "
                   f"{'PASS' if b['cpu_pct'] <= h['cpu_pct'] else 'FAIL'} "
                   f"(aim ≤ half: {'yes' if b['cpu_pct'] <= h['cpu_pct'] / 2 else 'no'})")
        checked = [c for c in counts if c]
        per = ", ".join(f"{fmt_us(rows[c][BADGES]['us_above_idle'])} at {c:,}" for c in checked)
        ref = ", ".join(f"{fmt_us(rows[c][HAPROXY]['us_above_idle'])} at {c:,}" for c in checked)
        out.append(f"- CPU per attempt above idle roughly flat: {per} (HAProxy: {ref})")
    if lat:
        out.append(f"- /status p50 < 1 ms: {lat['status_p50_ms']:.3f} ms — "
                   f"{'PASS' if lat['status_p50_ms'] < 1 else 'FAIL'}")
        out.append(f"- verbose p50 < 3 ms: {lat['verbose_p50_ms']:.3f} ms — "
                   f"{'PASS' if lat['verbose_p50_ms'] < 3 else 'FAIL'}")
    out.append("")
    notes = run_notes(args, rows)
    if syn_drops:
        notes.append(f"- The SYN-counting socket dropped {syn_drops:,} packets (its receive "
                     "buffer was full): attempts are undercounted.")
    if notes:
        out.append("Notes from this run:")
        out.append("")
        out += notes
        out.append("")
    return "\n".join(out)


def run_notes(args, rows):
    """Warnings where the count of attempts or other work on the servers'
    CPU makes a row less trustworthy."""
    notes = []
    for count in sorted(rows):
        for name in SERVERS:
            m = rows[count][name]
            if count and abs(m["attempts_per_s"] - count) > 0.2 * count:
                why = ("the server did not keep to the interval" if m["attempt_source"] == "syn"
                       else "other connections on the machine, or missed checks")
                notes.append(f"- {count_label(count)}, {name}: {m['attempts_per_s']:.0f} "
                             f"attempts/s for {count:,} checks at 1 s ({why}).")
            elif not count and m["attempts_per_s"] > 1:
                notes.append(f"- idle, {name}: {m['attempts_per_s']:.0f} connections/s opened "
                             "on the machine with no checks running: other programs connected "
                             "meanwhile, and the per-attempt figures of the other rows count "
                             "theirs too.")
    others = [rows[c][n]["other_pct"] for c in rows for n in SERVERS]
    if others and max(others) >= 5.0:
        notes.append(f"- Other work on CPU {args.server_cpu} (its busy time in /proc/stat less "
                     f"the server's): median {statistics.median(others):.1f} %, up to "
                     f"{max(others):.1f} % of the core during a window; the servers shared "
                     "their CPU, so their figures are noisier.")
    return notes


def haproxy_version(binary):
    try:
        first = subprocess.run([binary, "-v"], capture_output=True, text=True,
                               check=False).stdout.splitlines()[0]
        return " ".join(first.split()[:3])
    except (OSError, IndexError):
        return "HAProxy (version unknown)"


# --------------------------------------------------------------------------
# Options and entry points

def build_parser():
    p = argparse.ArgumentParser(prog="bench/checks/run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", required=True, help="badges-health binary")
    p.add_argument("--workdir", default=None, help="for configs and logs (a temporary one)")
    p.add_argument("--command", default="bench/checks/run", help=argparse.SUPPRESS)
    p.add_argument("--haproxy", default="/usr/sbin/haproxy",
                   help="HAProxy binary (/usr/sbin/haproxy)")
    p.add_argument("--counts", default="10,100,1000",
                   help="numbers of checks (10,100,1000); an idle run with none is always added")
    p.add_argument("--warmup", type=float, default=3.0, help="seconds after start (3)")
    p.add_argument("--window", type=float, default=10.0, help="seconds of CPU measured (10)")
    p.add_argument("--rounds", type=int, default=3,
                   help="rounds per count, each server started fresh in each, badges-health "
                        "first in odd rounds and HAProxy first in even ones; medians "
                        "reported (3)")
    p.add_argument("--requests", type=int, default=2000, help="plain /status requests (2000)")
    p.add_argument("--verbose-requests", type=int, default=300,
                   help="verbose /status requests (300)")
    p.add_argument("--server-cpu", type=int, default=0)
    p.add_argument("--client-cpu", type=int, default=1)
    p.add_argument("--output", default="bench/results/checks.md",
                   help="where the CLI writes the report (bench/results/checks.md); "
                        "empty: nowhere")
    return p


def default_options(**fields):
    """The CLI's defaults as a Namespace, with `fields` (binary at least)
    set: what run() takes when called from another module."""
    options = build_parser().parse_args(["--binary", fields.get("binary", "")])
    for name, value in fields.items():
        setattr(options, name, value)
    return options


def parse_counts(text):
    """The positive counts of a comma-separated list, ascending, without
    repeats (0 is the idle run, always measured)."""
    try:
        counts = sorted({int(c) for c in str(text).split(",") if c.strip()})
    except ValueError:
        raise ValueError(f"--counts: expected numbers like 10,100,1000, got {text!r}") from None
    if any(c < 0 for c in counts):
        raise ValueError(f"--counts: negative count in {text!r}")
    return [c for c in counts if c > 0]


def run(options, children=None):
    """Runs the whole checks benchmark and returns its Markdown report.

    `options` is an argparse.Namespace-like object with the CLI's fields
    (missing ones take the CLI's defaults; see default_options). With
    `children` (a processes.ChildProcesses) the servers are recorded in it,
    else in a process-groups file of the work directory. Raises RuntimeError
    (or OSError) when a server fails to start or dies."""
    args = default_options(**vars(options))  # a copy: the caller's object stays as it was
    if not args.binary or not os.access(args.binary, os.X_OK):
        raise RuntimeError(f"{args.binary!r} is not an executable")
    if not os.access(args.haproxy, os.X_OK):
        raise RuntimeError(f"{args.haproxy} is not an executable (bench/install-tools haproxy)")
    if args.rounds < 1 or args.window <= 0 or args.warmup < 0:
        raise ValueError("rounds must be at least 1, window above 0 and warmup not negative")
    counts = [0] + parse_counts(args.counts)
    log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731

    own_workdir = args.workdir is None
    if own_workdir:
        args.workdir = tempfile.mkdtemp(prefix="badges-health-checks.")
    own_children = children is None
    if own_children:
        children = ChildProcesses(os.path.join(args.workdir, "process-groups"))
    affinity = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, {args.client_cpu})
    except OSError:
        pass
    listener = Listener()
    if not listener.counts_syns:
        log("checks: no raw socket (needs CAP_NET_RAW): counting attempts with ActiveOpens, "
            "which other connections on the machine inflate")
    lat = None
    rows = {}
    syn_drops = 0
    try:
        for count in counts:
            per_server = {name: [] for name in SERVERS}
            for r in range(1, args.rounds + 1):
                for name in server_order(r):
                    if name == BADGES:
                        latency_run = count > 0 and count == counts[-1] and lat is None
                        res = run_badges(args, children, listener, count, latency_run)
                        lat = res.pop("latency", lat)
                    else:
                        res = run_haproxy(args, children, listener, count)
                    per_server[name].append(res)
                    log(f"checks: {count_label(count)} checks, round {r}/{args.rounds}, "
                        f"{name}: {res['cpu_pct']:.3f} % of a core, "
                        f"{res['attempts_per_s']:.0f} attempts/s "
                        f"({fmt_us(per_attempt_us(res['cpu_pct'], res['attempts_per_s']))} "
                        f"per attempt), other work on CPU {args.server_cpu} "
                        f"{res['other_pct']:.1f} %")
            rows[count] = {name: summarize(rs) for name, rs in per_server.items()}
        syn_drops = listener.drops()
    finally:
        listener.close()
        if own_children:
            children.stop_all()
        try:
            os.sched_setaffinity(0, affinity)
        except OSError:
            pass
        if own_workdir:
            shutil.rmtree(args.workdir, ignore_errors=True)
            args.workdir = None
    return report(args, derive(rows), lat, syn_drops)


def main():
    args = build_parser().parse_args()
    try:
        parse_counts(args.counts)
    except ValueError as e:
        sys.exit(f"bench/checks/run: {e}")
    if args.rounds < 1 or args.window <= 0:
        sys.exit("bench/checks/run: --rounds must be at least 1 and --window above 0")
    try:
        text = run(args)
    except (RuntimeError, OSError) as e:
        sys.exit(f"bench/checks/run: {e}")
    print(text)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main()
