"""System calls per request of badges-health and nginx, counted by
`strace -c -f -p <pid>` attached to each running server while a client in
a client sends a known number of GET /status requests in three shapes:

  one connection         every request on ONE keep-alive connection, the
                         next sent when the previous response is in (a
                         prober that keeps its connection)
  connection per request every request on its own connection with
                         `Connection: close`, read to the server's close
  16 keep-alive under load
                         wrk on 16 keep-alive connections as fast as the
                         server answers (bench/wrk/count.lua ends it after
                         10 times --requests responses)

Both servers run as bench/run starts them (servers.py: badges-health with
--threads 1, nginx with nginx/status.conf.in), pinned to --server-cpu;
the client and strace run on --client-cpu. Prints a Markdown table.
bench/syscalls installs strace, builds the binary and calls this."""

import argparse
import datetime
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import servers
import status_client
from compare_servers import command_output
from processes import ChildProcesses, require, wait_exit

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
NGINX_TEMPLATE = os.path.join(BENCH, "nginx", "status.conf.in")

REQUEST_KEEP_ALIVE = status_client.REQUEST
REQUEST_CLOSE = b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"

# Every wait has a deadline; the whole run has one too.
ATTACH_TIMEOUT_S = 10.0
STRACE_EXIT_TIMEOUT_S = 10.0
REQUEST_TIMEOUT_S = 5.0


def log(message):
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# The client: exact request counts, every response checked

def one_connection(port, count):
    """`count` requests on one keep-alive connection, one after another."""
    with socket.create_connection(("127.0.0.1", port), timeout=REQUEST_TIMEOUT_S) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(count):
            sock.sendall(REQUEST_KEEP_ALIVE)
            response = status_client.read_response(sock, time.monotonic() + REQUEST_TIMEOUT_S)
            if status_client.status_code(response) != 200:
                raise RuntimeError(f"request {i + 1}: {response[:40]!r}")


def connection_per_request(port, count):
    """`count` connections, one after another, each carrying one request
    with Connection: close; each is read until the server closes it, so
    that the server's close falls inside the traced window."""
    for i in range(count):
        with socket.create_connection(("127.0.0.1", port), timeout=REQUEST_TIMEOUT_S) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            deadline = time.monotonic() + REQUEST_TIMEOUT_S
            sock.sendall(REQUEST_CLOSE)
            response = status_client.read_response(sock, deadline)
            if status_client.status_code(response) != 200:
                raise RuntimeError(f"request {i + 1}: {response[:40]!r}")
            while True:  # the server closes after the response
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise RuntimeError(f"request {i + 1}: the server kept the connection open "
                                       "after Connection: close")
                sock.settimeout(remaining)
                try:
                    if not sock.recv(4096):
                        break
                except ConnectionResetError:
                    break


WRK_COUNT_LUA = os.path.join(BENCH, "wrk", "count.lua")
WRK_LOAD_CONNECTIONS = 16
WRK_LOAD_FACTOR = 10  # requests under load per --requests


def keep_alive_under_load(port, count):
    """wrk on WRK_LOAD_CONNECTIONS keep-alive connections, pinned with the
    client, until WRK_LOAD_FACTOR * `count` responses (count.lua ends wrk
    then); returns that number."""
    wanted = WRK_LOAD_FACTOR * count
    argv = ["wrk", "-t1", f"-c{WRK_LOAD_CONNECTIONS}", "-d60s", "-s", WRK_COUNT_LUA,
            f"http://127.0.0.1:{port}/status", "--", str(wanted)]
    began = time.monotonic()
    out = subprocess.run(argv, capture_output=True, text=True, timeout=70, check=False)
    # A wrk that ran its whole -d never reached the count.
    if out.returncode != 0 or time.monotonic() - began >= 59:
        raise RuntimeError(f"wrk did not complete {wanted} requests: {out.stdout}{out.stderr}")
    return wanted


SHAPES = (
    ("one connection", "one keep-alive connection, one request after another",
     one_connection),
    ("connection per request", "a new connection per request, Connection: close",
     connection_per_request),
    ("16 keep-alive under load", "wrk on 16 keep-alive connections, as fast as answered",
     keep_alive_under_load),
)


# --------------------------------------------------------------------------
# strace

def threads_of(pids):
    tids = []
    for pid in pids:
        try:
            tids += [int(t) for t in os.listdir(f"/proc/{pid}/task")]
        except FileNotFoundError:
            pass
    return tids


def tracer_of(tid):
    try:
        with open(f"/proc/{tid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("TracerPid:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


class Strace:
    """strace -c -f attached to every process (and so every thread) of a
    server; the summary goes to a file and is read after SIGINT."""

    def __init__(self, children, pids, cpu, out_path):
        self._children = children
        self._out_path = out_path
        self._pids = pids
        argv = ["strace", "-c", "-f", "-U", "name,calls,errors", "-S", "calls",
                "-o", out_path]
        for pid in pids:
            argv += ["-p", str(pid)]
        self._proc = children.start(argv, cpu=cpu, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def wait_attached(self):
        """Returns once every thread of the server lists strace as its
        tracer (/proc/<tid>/status TracerPid)."""
        deadline = time.monotonic() + ATTACH_TIMEOUT_S
        while True:
            done, _ = os.waitpid(self._proc.pid, os.WNOHANG)
            if done:
                self._children.forget(self._proc.pid)
                err = self._proc.stderr.read().decode("utf-8", "replace")
                raise RuntimeError(f"strace exited while attaching:\n{err}")
            tids = threads_of(self._pids)
            if tids and all(tracer_of(t) == self._proc.pid for t in tids):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"strace did not attach to {tids} within "
                                   f"{ATTACH_TIMEOUT_S:.0f}s")
            time.sleep(0.01)
        # Attached threads stop once to be seized; let the ones blocked in
        # epoll_wait go back to waiting before the first request.
        time.sleep(0.2)
        return len(tids)

    def finish(self):
        """Detaches (SIGINT) and returns {syscall: (calls, errors)}."""
        os.kill(self._proc.pid, signal.SIGINT)
        if not wait_exit(self._proc.pid, STRACE_EXIT_TIMEOUT_S):
            self.abandon()
            raise RuntimeError(f"strace did not exit within {STRACE_EXIT_TIMEOUT_S:.0f}s "
                               "of SIGINT")
        self._children.forget(self._proc.pid)
        self._proc.stderr.close()
        with open(self._out_path, encoding="utf-8", errors="replace") as f:
            return parse_summary(f.read())

    def abandon(self):
        self._children.stop(self._proc.pid, signal.SIGKILL, grace=1.0)
        self._proc.stderr.close()


def parse_summary(text):
    """strace -c -U name,calls,errors: a header, dashes, one line per
    system call, dashes, the total. Returns {name: (calls, errors)}."""
    counts = {}
    dashes = 0
    for line in text.splitlines():
        if line.startswith("---"):
            dashes += 1
            continue
        if dashes != 1:
            continue  # the header, or the total after the second line of dashes
        fields = line.split()
        if len(fields) >= 2 and fields[1].isdigit():
            errors = int(fields[2]) if len(fields) > 2 and fields[2].isdigit() else 0
            counts[fields[0]] = (int(fields[1]), errors)
    if dashes < 2:
        raise RuntimeError(f"unexpected strace summary:\n{text}")
    return counts


# --------------------------------------------------------------------------

def measure(args, children, workdir, kind):
    """Starts `kind`, and for each shape: warms up, attaches strace, sends
    the requests, detaches. Returns [(shape, counts, seconds)]."""
    results = []
    server = servers.start(children, kind, 0, workdir, args.server_cpu,
                           os.path.join(workdir, f"{kind.name}.log"))
    try:
        for shape, _, client in SHAPES:
            client(server.port, args.warmup)
            tracer = Strace(children, server.pids(), args.client_cpu,
                            os.path.join(workdir, f"strace-{kind.name}-{len(results)}.txt"))
            try:
                threads = tracer.wait_attached()
                began = time.monotonic()
                requests = client(server.port, args.requests) or args.requests
                seconds = time.monotonic() - began
            except BaseException:
                tracer.abandon()
                raise
            counts = tracer.finish()
            total = sum(c for c, _ in counts.values())
            log(f"   {kind.name:13} {shape:24} {requests} requests in {seconds:.2f} s, "
                f"{total} system calls in {threads} traced task(s): "
                f"{total / requests:.2f} per request")
            results.append((shape, counts, requests))
    finally:
        servers.stop(children, server)
    return results


def versions(args):
    repo = os.path.dirname(BENCH)
    commit = command_output(["git", "-C", repo, "rev-parse", "--short", "HEAD"]) or "?"
    dirty = command_output(["git", "-C", repo, "status", "--porcelain", "--untracked-files=no"])
    version = (command_output([args.binary, "--version"]).splitlines() or ["?"])[0]
    nginx = command_output([args.nginx, "-v"]).replace("nginx version: ", "") or "?"
    strace = (command_output(["strace", "-V"]).splitlines() or ["?"])[0]
    return (f"- {version} at {commit}{' with uncommitted changes' if dirty else ''} "
            f"(`--threads 1`); {nginx} (1 worker, bench/nginx/status.conf.in); {strace}")


def report(args, measured):
    lines = [
        "# System calls per GET /status: badges-health and nginx", "",
        f"- date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M:%S UTC')}",
        versions(args),
        f"- {args.requests:,} requests per shape ({WRK_LOAD_FACTOR * args.requests:,} under load) "
        f"after {args.warmup} untraced ones ({WRK_LOAD_FACTOR * args.warmup:,}); "
        "`strace -c -f -p` on every process of the server (nginx: master and worker), "
        "attached before the first request and detached after the last",
        "- one connection: every request on one keep-alive connection, one after another; "
        "connection per request: one connection per request with `Connection: close`, "
        "one after another, each read to the server's close; 16 keep-alive under load: "
        f"wrk on 16 keep-alive connections until {WRK_LOAD_FACTOR} times as many responses "
        "(bench/wrk/count.lua)",
        "- a call that failed (EAGAIN on a drained socket, for instance) counts as a call; "
        "the failures are in parentheses",
        "",
        "| server | shape | syscalls per request | top syscalls per request |",
        "|---|---|---:|---|",
    ]
    for name, results in measured:
        for shape, counts, requests in results:
            total = sum(c for c, _ in counts.values())
            ranked = sorted(counts.items(), key=lambda item: (-item[1][0], item[0]))
            # Listed: the most frequent, while they come to 0.01 per request
            # or more; the rest (timers, the odd accept) as a count.
            top = [(syscall, (calls, errors)) for syscall, (calls, errors) in ranked[:args.top]
                   if calls / requests >= 0.005]
            parts = []
            for syscall, (calls, errors) in top:
                part = f"{syscall} {calls / requests:.2f}"
                if errors:
                    part += f" ({errors / requests:.2f} failed)"
                parts.append(part)
            rest = [(syscall, calls) for syscall, (calls, _errors) in ranked[len(top):]]
            if rest:
                parts.append(f"others {sum(c for _, c in rest)} calls in all "
                             f"({', '.join(f'{s} {c}' for s, c in rest[:4])}"
                             f"{', ...' if len(rest) > 4 else ''})")
            lines.append(f"| {name} | {shape} | {total / requests:.2f} | "
                         f"{', '.join(parts)} |")
    return "\n".join(lines) + "\n"


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="bench/syscalls", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="per shape (default 2000)")
    parser.add_argument("--warmup", type=int, default=200,
                        help="untraced requests per shape first (default 200)")
    parser.add_argument("--top", type=int, default=6, help="system calls listed per row")
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--client-cpu", type=int, default=1)
    parser.add_argument("--binary", required=True, help="the badges-health Release binary")
    parser.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx")
    parser.add_argument("--results", help="also write the table to this file")
    parser.add_argument("--time-limit", type=int, default=110,
                        help="seconds before the run gives up and stops everything "
                             "(default 110)")
    parser.add_argument("--workdir", help="temporary files (default: a new temp dir)")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.warmup < 0 or args.top < 1:
        parser.error("--requests and --top must be at least 1, --warmup at least 0")
    cpus = os.sched_getaffinity(0)
    for name in ("server_cpu", "client_cpu"):
        if getattr(args, name) not in cpus:
            parser.error(f"--{name.replace('_', '-')}: CPU {getattr(args, name)} is not "
                         f"available (have {sorted(cpus)})")
    return args


def main(argv):
    args = parse_args(argv)
    require("bench/syscalls", ("strace", "taskset"), args.binary)

    own_workdir = args.workdir is None
    workdir = args.workdir or tempfile.mkdtemp(prefix="badges-health-syscalls.")
    children = ChildProcesses(os.path.join(workdir, "process-groups"))

    def on_signal(signum, frame):
        del frame
        log(f"bench/syscalls: stopped by {signal.Signals(signum).name}")
        raise SystemExit(128 + signum)

    def on_alarm(signum, frame):
        del signum, frame
        log(f"bench/syscalls: over the time limit of {args.time_limit}s")
        raise SystemExit(1)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(args.time_limit)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.sched_setaffinity(0, {args.client_cpu})  # the client stays off the servers' CPU

    kinds = [servers.BadgesHealth(args.binary), servers.Nginx(args.nginx, NGINX_TEMPLATE)]
    measured = []
    try:
        for kind in kinds:
            log(f"== {kind.name}")
            measured.append((kind.name, measure(args, children, workdir, kind)))
    except KeyboardInterrupt:
        log("bench/syscalls: interrupted")
        return 130
    finally:
        signal.alarm(0)
        children.stop_all()
        if own_workdir:
            shutil.rmtree(workdir, ignore_errors=True)

    text = report(args, measured)
    if args.results:
        with open(args.results, "w", encoding="utf-8") as f:
            f.write(text)
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
