"""badges-health against nginx answering the same /status on one machine,
over HTTP/1.1 and HTTP/2, against grpc++'s health service for the gRPC
health Check, and against HAProxy running the same tcp health checks.

Each scenario starts both servers fresh, pinned to one CPU, warms them up,
then runs rounds that alternate between them (badges-health, nginx,
badges-health, nginx...) with wrk or h2load pinned to another CPU. Every
metric is the median over rounds. The checks scenario is not a load: it
runs bench/checks/checks_bench.py (CPU per tcp check attempt against
HAProxy) after the others and appends its section. The Markdown table goes
to stdout and to the results file. bench/run builds the binaries and calls
this; see bench/README.md."""

import argparse
import datetime
import json
import os
import platform
import re
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import curl_probe
import first_response
import h2_load
import measured_run
import proc_stats
import servers
import status_client
from processes import ChildProcesses, require, wait_exit

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
REPORT_LUA = os.path.join(BENCH, "wrk", "report.lua")
PIPELINE_LUA = os.path.join(BENCH, "wrk", "pipeline.lua")
NGINX_TEMPLATE = os.path.join(BENCH, "nginx", "status.conf.in")
IDLE_HELPER = os.path.join(HERE, "idle_connections.py")
GRPC_PEER_BINARY = os.path.join(os.path.dirname(BENCH), "build", "bench", "grpc-health-peer")
PYTHON = "/usr/bin/python3"
MIB = 1024.0

# badges-health and nginx both close a keep-alive connection idle for 75 s;
# the idle scenario must finish a round well inside that.
IDLE_ROUND_LIMIT_S = 60


# --------------------------------------------------------------------------
# Options

def parse_duration(text):
    match = re.fullmatch(r"(\d+)(s|m)?", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"expected whole seconds like 10s or 1m, got {text!r}")
    return int(match.group(1)) * (60 if match.group(2) == "m" else 1)


# In report order: the four loads whose CPU per request is the headline
# (keep-alive, pipelined, a connection per request, one sequential
# connection) come first after the start, then the idle connections, then
# HTTP/2 against nginx and the gRPC health Check against grpc++; last the
# check engine against HAProxy, which is no load on /status and runs apart
# from the others (bench/checks/checks_bench.py, after Bench.run()).
SCENARIOS = ("startup", "keepalive", "pipeline", "close", "sequential", "idle", "h2", "grpc",
             "checks")
# The scenarios that drive the servers with h2load (and check them with curl).
H2_SCENARIOS = ("h2", "grpc")
# Not run by the Bench class: its own harness, its own section of the report.
CHECKS = "checks"
CHECKS_HARNESS_DIR = os.path.join(BENCH, "checks")
CHECKS_COUNTS = "10,100,1000"


def bench_scenarios(args):
    """The chosen scenarios the Bench class runs (all but checks)."""
    return [key for key in args.scenarios if key != CHECKS]


def wrk_scenarios(args):
    """The chosen scenarios that need wrk (all Bench ones but h2load's)."""
    return [key for key in bench_scenarios(args) if key not in H2_SCENARIOS]


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="3 rounds of 3s, 5 starts; checks: 1 round of a 5 s window "
                             "(else 3 of 10 s): a few minutes")
    parser.add_argument("--rounds", type=int,
                        help="rounds per scenario (default 5; quick 3; checks has its own: "
                             "3, quick 1)")
    parser.add_argument("--duration", type=parse_duration,
                        help="wrk run per server per round, e.g. 10s (default 10s; quick 3s)")
    parser.add_argument("--warmup", type=parse_duration,
                        help="wrk warm-up per server per scenario (default 2s; quick 1s)")
    parser.add_argument("--starts", type=int,
                        help="exec-to-first-200 samples per server (default 7; quick 5)")
    parser.add_argument("--connections", type=int, default=64,
                        help="wrk connections for keepalive and pipeline (default 64)")
    parser.add_argument("--close-connections", type=int, default=16,
                        help="wrk connections at once in close, each request on a new "
                             "connection with Connection: close (default 16)")
    parser.add_argument("--pipeline-depth", type=int, default=16)
    parser.add_argument("--idle-connections", type=int, default=10000)
    parser.add_argument("--probe-connections", type=int, default=4,
                        help="wrk connections probing while the idle ones are held")
    parser.add_argument("--h2-connections", type=int, default=16,
                        help="h2load connections for h2 and grpc (default 16)")
    parser.add_argument("--h2-streams", type=int, default=10,
                        help="h2load requests in flight per connection for h2 and grpc; "
                             "h2 runs a second shape with 1 (default 10)")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help=f"comma-separated subset of {','.join(SCENARIOS)}")
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--client-cpu", type=int, default=1)
    parser.add_argument("--binary", required=True, help="the badges-health Release binary")
    parser.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx")
    parser.add_argument("--haproxy", default="/usr/sbin/haproxy",
                        help="HAProxy, the checks scenario's reference (/usr/sbin/haproxy)")
    parser.add_argument("--grpc-peer", default=GRPC_PEER_BINARY,
                        help="the grpc++ health server of the grpc scenario "
                             "(bench/grpc-peer/build makes it)")
    parser.add_argument("--results", default=os.path.join(BENCH, "results", "latest.md"))
    parser.add_argument("--workdir", help="temporary files (default: a new temp dir)")
    parser.add_argument("--command", help="how the run was invoked, for the results file")
    args = parser.parse_args(argv)

    quick = args.quick
    args.rounds = args.rounds or (3 if quick else 5)
    args.duration = args.duration or (3 if quick else 10)
    args.warmup = args.warmup if args.warmup is not None else (1 if quick else 2)
    args.starts = args.starts or (5 if quick else 7)
    wanted = {s.strip() for s in args.scenarios.split(",") if s.strip()}
    unknown = wanted - set(SCENARIOS)
    if unknown:
        parser.error(f"--scenarios: unknown {', '.join(sorted(unknown))} "
                     f"(have {','.join(SCENARIOS)})")
    if not wanted:
        parser.error("--scenarios: none given")
    args.scenarios = [s for s in SCENARIOS if s in wanted]  # always in report order
    if args.rounds < 1 or args.starts < 1 or args.duration < 1:
        parser.error("--rounds, --starts and --duration must be at least 1")
    if args.connections < 1 or args.close_connections < 1:
        parser.error("--connections and --close-connections must be at least 1")
    if args.h2_connections < 1 or args.h2_streams < 1:
        parser.error("--h2-connections and --h2-streams must be at least 1")
    if "idle" in args.scenarios and args.duration > IDLE_ROUND_LIMIT_S - 10:
        parser.error(f"--duration: the idle scenario needs rounds under "
                     f"{IDLE_ROUND_LIMIT_S - 10}s (servers drop idle connections at 75s)")
    cpus = os.sched_getaffinity(0)
    for name in ("server_cpu", "client_cpu"):
        if getattr(args, name) not in cpus:
            parser.error(f"--{name.replace('_', '-')}: CPU {getattr(args, name)} is not "
                         f"available (have {sorted(cpus)})")
    return args


def log(message):
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# One wrk run

class Load:
    """The wrk side of a scenario."""

    def __init__(self, connections, script, script_args=(), headers=()):
        self.connections = connections
        self.script = script
        self.script_args = list(script_args)
        self.headers = list(headers)


def run_wrk(children, cpu, server_cpu, server, load, duration):
    """Runs wrk against `server` and returns its numbers plus the server's
    CPU time, the largest RSS seen during the run, wrk's own CPU use and how
    much of the server's CPU went to other processes."""
    argv = ["wrk", "-t1", f"-c{load.connections}", f"-d{duration}s", "--latency",
            "--timeout", "5s", "-s", load.script]
    for header in load.headers:
        argv += ["-H", header]
    argv.append(server.url)
    if load.script_args:
        argv += ["--"] + [str(a) for a in load.script_args]

    done = measured_run.run(children, argv, cpu, server_cpu, server, duration)
    out, err = done.stdout, done.stderr
    match = re.search(r"^BENCH_RESULT (\{.*\})$", out, re.MULTILINE)
    if done.returncode != 0 or not match:
        raise RuntimeError(f"wrk failed ({' '.join(argv)}):\n{out}{err}")
    result = json.loads(match.group(1))
    requests = max(result["requests"], 1)
    seconds = result["duration_us"] / 1e6
    return {
        "rps": result["requests"] / seconds,
        "p50_ms": result["p50_us"] / 1000.0,
        "p99_ms": result["p99_us"] / 1000.0,
        "cpu_us_per_req": done.server_cpu_s * 1e6 / requests,
        "server_cpu_pct": done.server_cpu_s * 100.0 / done.wall,
        "client_cpu_pct": done.client_cpu_s * 100.0 / seconds,
        "other_cpu_pct": done.other_cpu_s * 100.0 / done.wall,
        "rss_peak_mib": done.peak_rss_kib / MIB,
        "errors": sum(result["errors"].values()),
        "requests": result["requests"],
        "reachable_pct": result["reachable_pct"],
    }


# --------------------------------------------------------------------------
# Idle connections held by the helper process

class IdleConnections:
    def __init__(self, children, cpu, port, count):
        self._children = children
        self._proc = children.start(
            [PYTHON, "-B", IDLE_HELPER, "--port", str(port), "--count", str(count)], cpu=cpu,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def _line(self, timeout):
        readable, _, _ = select.select([self._proc.stdout], [], [], timeout)
        if not readable:
            raise RuntimeError(f"idle connection helper silent for {timeout:.0f}s")
        line = self._proc.stdout.readline().strip()
        if not line:
            raise RuntimeError("idle connection helper exited early")
        return line

    def wait_ready(self):
        """Returns (opened, failed, seconds)."""
        fields = dict(f.split("=") for f in self._line(90.0).split()[1:])
        return int(fields["opened"]), int(fields["failed"]), float(fields["seconds"])

    def finish(self):
        """Connections still open; then the helper closes them and exits."""
        self._proc.stdin.write("check\n")
        self._proc.stdin.flush()
        still_open = int(self._line(30.0).split()[1])
        self._proc.stdin.close()
        wait_exit(self._proc.pid, 30.0)  # it closes every connection, then exits
        self._children.stop(self._proc.pid, signal.SIGKILL, grace=1.0)
        self._proc.stdout.close()
        return still_open

    def abandon(self):
        self._children.stop(self._proc.pid, signal.SIGKILL, grace=0.5)


# --------------------------------------------------------------------------
# Scenarios

class Bench:
    def __init__(self, args, children, workdir):
        self.args = args
        self.children = children
        self.workdir = workdir
        badges = servers.BadgesHealth(args.binary)
        # The pair each protocol compares; the first is always badges-health.
        self.kinds = [badges, servers.Nginx(args.nginx, NGINX_TEMPLATE)]
        self.h2_kinds = [badges, servers.Nginx(args.nginx, NGINX_TEMPLATE, http2=True)]
        self.grpc_kinds = [badges, servers.GrpcHealthPeer(args.grpc_peer)]
        # h2load posts this file for the gRPC Check: the 5-byte empty request.
        self.grpc_request_file = os.path.join(workdir, "grpc-check-request.bin")
        # samples[sample group][metric][server name] -> list of per-round
        # values; a scenario's group is its key, plus h2-single for h2's
        # second shape
        self.samples = {}
        self.notes = []
        self.failures = []  # (scenario key, message)
        self.response_sizes = {}
        self.current_title = ""
        # (server, scenario title) -> largest share of latency samples that
        # wrk's percentile() could not reach in one run (see wrk/report.lua)
        self.unreachable = {}

    def record(self, scenario, server_name, values):
        per_metric = self.samples.setdefault(scenario, {})
        for metric, value in values.items():
            per_metric.setdefault(metric, {}).setdefault(server_name, []).append(value)

    def wrk(self, server, load, duration):
        values = run_wrk(self.children, self.args.client_cpu, self.args.server_cpu, server, load,
                         duration)
        if values["reachable_pct"] < 99.99:
            where = (server.name, self.current_title)
            self.unreachable[where] = max(self.unreachable.get(where, 0.0),
                                          100.0 - values["reachable_pct"])
        return values

    def h2load(self, server, load, duration):
        return h2_load.run(self.children, self.args.client_cpu, self.args.server_cpu, server,
                           load, duration, os.path.join(self.workdir, "h2load.log"))

    def measure(self, server, load, duration):
        if isinstance(load, h2_load.H2Load):
            return self.h2load(server, load, duration)
        return self.wrk(server, load, duration)

    def start_servers(self, capacity, kinds=None):
        """Starts the HTTP/1.1 pair, or `kinds`, each fresh."""
        started = []
        try:
            for kind in kinds or self.kinds:
                started.append(servers.start(
                    self.children, kind, capacity, self.workdir, self.args.server_cpu,
                    os.path.join(self.workdir, f"{kind.name}.log")))
        except Exception:
            for server in started:
                servers.stop(self.children, server)
            raise
        if kinds is None:
            for server in started:
                response = status_client.fetch_status(server.port)
                self.response_sizes.setdefault(server.name, len(response))
        return started

    @staticmethod
    def check_answers(running, check, when):
        """Raises naming the server when `check(port)` finds its answer wrong."""
        for server in running:
            wrong = check(server.port)
            if wrong:
                raise RuntimeError(f"{server.name} {when}: {wrong}")

    def load_scenario(self, key, title, load, capacity=0, kinds=None, check=None):
        """Rounds of `load` against fresh servers; `check(port)` (None when
        the answer is right) runs on each before the warm-up and after the
        last round."""
        args = self.args
        log(f"== {title}")
        self.current_title = title
        running = self.start_servers(capacity, kinds)
        try:
            if check:
                self.check_answers(running, check, "before the load")
            for server in running:
                if args.warmup:
                    self.measure(server, load, args.warmup)
            for r in range(args.rounds):
                for server in running:
                    values = self.measure(server, load, args.duration)
                    self.record(key, server.name, values)
                    log(f"   round {r + 1}/{args.rounds} {server.name:13} "
                        f"{values['rps']:>10,.0f} req/s  p50 {values['p50_ms']:.3f} ms  "
                        f"p99 {values['p99_ms']:.3f} ms  {values['cpu_us_per_req']:.2f} us/req"
                        f"  errors {values['errors']}")
            if check:
                self.check_answers(running, check, "after the load")
        finally:
            for server in running:
                servers.stop(self.children, server)

    def h2_scenario(self):
        """GET /status over h2c against nginx: many streams per connection,
        then (unless that was already 1) one stream per connection."""
        args = self.args
        shapes = [("h2", args.h2_streams)]
        if args.h2_streams != 1:
            shapes.append(("h2-single", 1))
        for group, streams in shapes:
            self.load_scenario(
                group, f"HTTP/2 (h2c) GET /status, {args.h2_connections} connections × "
                       f"{streams} stream{'s' if streams != 1 else ''}",
                h2_load.H2Load(args.h2_connections, streams, "/status"),
                kinds=self.h2_kinds, check=curl_probe.status_problem)

    def grpc_scenario(self):
        """The gRPC health Check (service "") against grpc++'s own service."""
        args = self.args
        with open(self.grpc_request_file, "wb") as f:
            f.write(curl_probe.GRPC_CHECK_REQUEST)
        self.load_scenario(
            "grpc", f"gRPC health Check over h2c, {args.h2_connections} connections × "
                    f"{args.h2_streams} streams",
            h2_load.H2Load(args.h2_connections, args.h2_streams, curl_probe.GRPC_CHECK_PATH,
                           data_file=self.grpc_request_file, headers=curl_probe.GRPC_HEADERS),
            kinds=self.grpc_kinds, check=curl_probe.grpc_check_problem)

    def idle_scenario(self):
        args = self.args
        count = args.idle_connections
        title = f"{count:,} idle keep-alive connections + {args.probe_connections} probing"
        log(f"== {title}")
        self.current_title = title
        probe = Load(args.probe_connections, REPORT_LUA)
        running = self.start_servers(count + 256)
        try:
            for server in running:
                if args.warmup:
                    self.wrk(server, probe, args.warmup)
            for r in range(args.rounds):
                for server in running:
                    values = self.idle_round(server, probe, count)
                    self.record("idle", server.name, values)
                    log(f"   round {r + 1}/{args.rounds} {server.name:13} "
                        f"{values['held_open']:,} held, "
                        f"RSS {values['rss_idle_conns_mib']:.1f} MiB, probe p50 {values['p50_ms']:.3f} ms p99 {values['p99_ms']:.3f} ms")
        finally:
            for server in running:
                servers.stop(self.children, server)

    def idle_round(self, server, probe, count):
        args = self.args
        helper = IdleConnections(self.children, args.client_cpu, server.port, count)
        try:
            opened, failed, seconds = helper.wait_ready()
            time.sleep(0.5)  # let the server settle after the burst of accepts
            pids = server.pids()
            rss = proc_stats.total(proc_stats.rss_kib, pids) / MIB
            pss = proc_stats.total(proc_stats.pss_kib, pids) / MIB
            values = self.wrk(server, probe, args.duration)
            held = helper.finish()
        except Exception:
            helper.abandon()
            raise
        if failed:
            self.notes.append(f"idle: {server.name} refused or dropped {failed} of {count} "
                              f"connections while they were opened")
        return {
            "rss_idle_conns_mib": rss,
            "pss_idle_conns_mib": pss,
            "p50_ms": values["p50_ms"],
            "p99_ms": values["p99_ms"],
            "rps": values["rps"],
            "cpu_us_per_req": values["cpu_us_per_req"],
            "other_cpu_pct": values["other_cpu_pct"],
            "held_open": held,
            "opened": opened,
            "open_seconds": seconds,
            "errors": values["errors"],
        }

    def startup_scenario(self):
        """Exec to first 200, then idle memory of the freshly started server."""
        args = self.args
        log(f"== exec to first 200 and idle memory ({args.starts} starts each)")
        for i in range(args.starts):
            for kind in self.kinds:
                port = servers.free_port()
                argv = kind.command(port, 0, self.workdir)
                pid, ms = first_response.spawn_and_time(
                    argv, kind.environment(), port, args.server_cpu, timeout=10.0,
                    on_spawn=self.children.adopt)
                try:
                    rss, pss = self.idle_memory(kind, pid, port)
                finally:
                    self.children.stop(pid, kind.stop_signal, grace=5.0)
                self.record("startup", kind.name,
                            {"first_200_ms": ms, "rss_idle_mib": rss, "pss_idle_mib": pss})
                log(f"   start {i + 1}/{args.starts} {kind.name:13} first 200 after "
                    f"{ms:.2f} ms, idle RSS {rss:.1f} MiB")

    @staticmethod
    def idle_memory(kind, pid, port):
        """RSS and PSS (MiB) after a hundred requests on one connection and a
        moment of rest: what a server costs while balancers probe it."""
        with socket.create_connection(("127.0.0.1", port), timeout=2.0) as sock:
            for _ in range(100):
                status_client.fetch_status(port, sock=sock)
        time.sleep(0.3)
        pids = kind.pids(pid)
        return (proc_stats.total(proc_stats.rss_kib, pids) / MIB,
                proc_stats.total(proc_stats.pss_kib, pids) / MIB)

    def run(self):
        """Runs every chosen scenario. One that fails (a server that does not
        start or answers wrongly, a failed request under h2load, a load
        generator that errs) is recorded with its message and its samples
        dropped, so that no ratio stands on partial work; the rest still run."""
        for key in bench_scenarios(self.args):
            try:
                self.run_scenario(key)
            except (RuntimeError, OSError) as e:
                self.failures.append((key, str(e)))
                for group in HEADLINE.get(key, (key,)):
                    self.samples.pop(group, None)
                log(f"bench: scenario {key} FAILED: {e}")

    def run_scenario(self, key):
        args = self.args
        if key == "startup":
            self.startup_scenario()
        elif key == "keepalive":
            self.load_scenario(key, f"{args.connections} keep-alive connections",
                               Load(args.connections, REPORT_LUA))
        elif key == "pipeline":
            self.load_scenario(
                key, f"{args.pipeline_depth}-deep pipelining on {args.connections} connections",
                Load(args.connections, PIPELINE_LUA, [args.pipeline_depth]))
        elif key == "close":
            self.load_scenario(
                key, f"a new connection per request, Connection: close "
                     f"({args.close_connections} at once)",
                Load(args.close_connections, REPORT_LUA, headers=["Connection: close"]))
        elif key == "sequential":
            self.load_scenario(key, "one keep-alive connection, one request after another",
                               Load(1, REPORT_LUA))
        elif key == "idle":
            self.idle_scenario()
        elif key == "h2":
            self.h2_scenario()
        elif key == "grpc":
            self.grpc_scenario()


# --------------------------------------------------------------------------
# Report

BADGES, NGINX, GRPC_PEER = "badges-health", "nginx", "grpc++"
# The references in report order, with what badges-health is compared on.
REFERENCES = ((NGINX, "GET /status"), (GRPC_PEER, "gRPC health Check"))


def fmt_number(value, unit):
    if unit == "req/s":
        return f"{value:,.0f}"
    if unit == "ms":
        return f"{value:.3f} ms"
    if unit == "us":
        return f"{value:.2f} µs"
    if unit == "MiB":
        return f"{value:.1f} MiB"
    if unit == "%":
        return f"{value:.0f} %"
    if unit == "B":
        return f"{value:,.1f} B"
    return f"{value:,.0f}"


class Row:
    def __init__(self, scenario, metric_label, key, unit, combine=statistics.median,
                 target=None):
        self.scenario = scenario
        self.metric_label = metric_label
        self.key = key
        self.unit = unit
        self.combine = combine
        self.target = target  # (description, predicate(badges, reference, ratio) -> bool)
        self.group = None  # the sample group it reads; None: its scenario's key
        self.reference = NGINX  # the server in the second column


OTHER_WORK = "other processes on the server's CPU"


# CPU per request against nginx: the probe's own shapes (a connection per
# request, as kubelet and HAProxy's httpchk open them; keep-alive; one
# sequential connection) have targets below nginx's; the others must do
# no worse than nginx.
CPU_BOUNDS = {"keepalive": 0.95, "close": 0.95, "sequential": 0.9}


def cpu_bound(reference, group=None):
    """The CPU-per-request target against `reference`, in words."""
    if reference == GRPC_PEER:
        return "< 1.0× grpc++"
    return f"≤ {CPU_BOUNDS.get(group, 1.0):.2f}× nginx".replace(".00×", ".0×")


def cpu_target(label, reference=NGINX, group=None):
    """CPU per request at `label`: below nginx's (CPU_BOUNDS) at the probe's
    shapes, no more than nginx's at the other headline loads; below
    grpc++'s for the gRPC Check."""
    if reference == GRPC_PEER:
        return (f"CPU per request at {label} {cpu_bound(reference)}", lambda b, x, r: r < 1.0)
    bound = CPU_BOUNDS.get(group, 1.0)
    return (f"CPU per request at {label} {cpu_bound(reference, group)}",
            lambda b, x, r: r <= bound)


def load_rows(label, p50_label="p50 latency", p99_label="p99 latency", rps_target=None,
              p99_target=None, extra=(), group=None, reference=NGINX, client="wrk"):
    """The rows every load scenario has; server CPU per request is the
    headline and carries the target against the reference."""
    rows = [
        Row(label, "requests/s", "rps", "req/s", target=rps_target),
        Row(label, p50_label, "p50_ms", "ms"),
        Row(label, p99_label, "p99_ms", "ms", target=p99_target),
        Row(label, "server CPU per request", "cpu_us_per_req", "us",
            target=cpu_target(label, reference, group)),
        *extra,
        Row(label, "server CPU busy", "server_cpu_pct", "%"),
        Row(label, f"{client} CPU busy", "client_cpu_pct", "%"),
        Row(label, OTHER_WORK, "other_cpu_pct", "%"),
        Row(label, "errors (all rounds)", "errors", "", combine=sum),
    ]
    for row in rows:
        row.group = group
        row.reference = reference
    return rows


# Scenario key -> the sample groups whose CPU per request is a headline line.
HEADLINE = {"keepalive": ("keepalive",), "pipeline": ("pipeline",), "close": ("close",),
            "sequential": ("sequential",), "h2": ("h2", "h2-single"), "grpc": ("grpc",)}


def reference_of(group):
    return GRPC_PEER if group == "grpc" else NGINX


def scenario_label(args, group):
    streams = f"{args.h2_streams} stream{'s' if args.h2_streams != 1 else ''}"
    return {
        "keepalive": f"{args.connections} keep-alive",
        "pipeline": f"{args.pipeline_depth}-deep pipelined",
        "close": f"connection per request ({args.close_connections} at once)",
        "sequential": "one sequential connection",
        "h2": f"h2c, {args.h2_connections} connections × {streams}",
        "h2-single": f"h2c, {args.h2_connections} connections × 1 stream",
        "grpc": f"gRPC Check, {args.h2_connections} connections × {streams}",
    }[group]


def h2_rows(args, group, reference=NGINX):
    """The rows of one h2load load: those of every load, plus the bytes per
    response, the threads and the memory of each server."""
    label = scenario_label(args, group)
    return load_rows(
        label, group=group, reference=reference, client="h2load",
        extra=[Row(label, "bytes received per response", "bytes_per_response", "B"),
               Row(label, "server threads", "threads", "", combine=max),
               Row(label, "RSS under load (peak)", "rss_peak_mib", "MiB")])


def rows_for(args):
    d = args.pipeline_depth
    n = f"{args.idle_connections:,}"
    keepalive = scenario_label(args, "keepalive")
    return {
        "startup": [
            Row("start", "exec to first 200 (median of starts)", "first_200_ms", "ms",
                target=("exec to first 200 ≤ nginx", lambda b, x, r: r <= 1.0)),
            Row("start", "idle RSS after start", "rss_idle_mib", "MiB",
                target=("idle RSS ≤ 8 MiB", lambda b, x, r: b <= 8.0)),
            Row("start", "idle PSS after start", "pss_idle_mib", "MiB"),
        ],
        "keepalive": load_rows(
            keepalive, group="keepalive",
            p99_target=("p99 at keep-alive ≤ nginx", lambda b, x, r: r <= 1.0),
            extra=[Row(keepalive, "RSS under load (peak)", "rss_peak_mib", "MiB")]),
        "pipeline": load_rows(
            scenario_label(args, "pipeline"), group="pipeline",
            p50_label=f"p50 latency per batch of {d}", p99_label=f"p99 latency per batch of {d}",
            rps_target=("pipelined req/s ≥ nginx", lambda b, x, r: r >= 1.0)),
        "close": load_rows(scenario_label(args, "close"), group="close"),
        "sequential": load_rows(scenario_label(args, "sequential"), group="sequential"),
        "idle": [
            Row(f"{n} idle", f"RSS with {n} idle connections", "rss_idle_conns_mib", "MiB",
                target=(f"RSS with {n} idle connections ≤ nginx", lambda b, x, r: r <= 1.0)),
            Row(f"{n} idle", f"PSS with {n} idle connections", "pss_idle_conns_mib", "MiB"),
            Row(f"{n} idle", "probe p50 latency", "p50_ms", "ms"),
            Row(f"{n} idle", "probe p99 latency", "p99_ms", "ms",
                target=(f"probe p99 with {n} idle connections < 5 ms",
                        lambda b, x, r: b < 5.0)),
            Row(f"{n} idle", "probe requests/s", "rps", "req/s"),
            Row(f"{n} idle", "server CPU per request", "cpu_us_per_req", "us"),
            Row(f"{n} idle", OTHER_WORK, "other_cpu_pct", "%"),
            Row(f"{n} idle", "connections still open at the end (fewest)", "held_open", "",
                combine=min),
            Row(f"{n} idle", "probe errors (all rounds)", "errors", "", combine=sum),
        ],
        "h2": h2_rows(args, "h2") + (h2_rows(args, "h2-single") if args.h2_streams != 1 else []),
        "grpc": h2_rows(args, "grpc", reference=GRPC_PEER),
        CHECKS: [],  # its own section, from bench/checks/checks_bench.py
    }


def contention_notes(bench, all_rows):
    """A warning per load where other work took a real share of the
    server's CPU."""
    notes = []
    for key in bench.args.scenarios:
        # One warning per sample group (h2 has two), named by its rows' label.
        labels = dict.fromkeys((row.group or key, row.scenario) for row in all_rows[key])
        for group, label in labels:
            values = [v for per_server
                      in bench.samples.get(group, {}).get("other_cpu_pct", {}).values()
                      for v in per_server]
            if values and statistics.median(values) >= 10.0:
                notes.append(f"- **{label}: other processes used a median "
                             f"{statistics.median(values):.0f} % of the server's CPU during the "
                             "runs; treat req/s and latencies there as noisy.**")
    return ["", "## Noise", ""] + notes if notes else []


def headline_table(bench, reference):
    """One line per headline load against `reference`: CPU per request of
    each server and their ratio, then requests/s and p99 of each."""
    args = bench.args
    lines = []
    for key in args.scenarios:
        for group in HEADLINE.get(key, ()):
            if reference_of(group) != reference:
                continue
            samples = bench.samples.get(group, {})
            medians = {}
            for metric in ("cpu_us_per_req", "rps", "p99_ms"):
                per_server = samples.get(metric, {})
                if BADGES not in per_server or reference not in per_server:
                    break
                medians[metric] = (statistics.median(per_server[BADGES]),
                                   statistics.median(per_server[reference]))
            else:
                label = scenario_label(args, group)
                (cb, cx), (rb, rx), (pb, px) = (medians[m] for m in ("cpu_us_per_req", "rps",
                                                                      "p99_ms"))
                ratio = cb / cx if cx else float("nan")
                description, passes = cpu_target(label, reference, group)
                verdict = "PASS" if cx and passes(cb, cx, ratio) else "FAIL"
                lines.append(f"| {label} | {fmt_number(cb, 'us')} | {fmt_number(cx, 'us')} | "
                             f"{ratio:.2f}× | {fmt_number(rb, 'req/s')} | "
                             f"{fmt_number(rx, 'req/s')} | {fmt_number(pb, 'ms')} | "
                             f"{fmt_number(px, 'ms')} | {cpu_bound(reference, group)}: **{verdict}** |")
    if not lines:
        return []
    title = ("## Headline: server CPU per request" if reference == NGINX else
             f"## Headline: server CPU per request against {reference}")
    return ["", title, "",
            f"| load | CPU/request badges-health | CPU/request {reference} | ratio | "
            f"req/s badges-health | req/s {reference} | p99 badges-health | p99 {reference} | "
            "target |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|"] + lines


def report_title(references, checks=False):
    """What was compared with what, from the references of the scenarios
    chosen, plus HAProxy when the checks scenario was."""
    subjects = [(r, dict(REFERENCES)[r]) for r in references]
    if checks:
        subjects.append(("HAProxy", "tcp health checks"))
    if len(subjects) == 1:
        return f"# badges-health vs {subjects[0][0]}: {subjects[0][1]}"
    return ("# badges-health vs " + ", ".join(f"{r} ({what})" for r, what in subjects[:-1])
            + f" and {subjects[-1][0]} ({subjects[-1][1]})")


def reading_notes(args):
    """The "How to read it" bullets."""
    notes = [
        "- Every value is the median over rounds (starts, for the start row); errors "
        "are totals over rounds; ratio is badges-health / the reference (nginx, or grpc++ "
        "for the gRPC Check).",
        "- Server CPU per request: utime + stime from /proc/<pid>/stat (fields 14 and "
        "15, all threads) before and after the load generator's run, divided by the requests "
        "it completed; nginx is master plus worker. Resolution: one clock tick "
        f"({1000 // proc_stats.CLOCK_TICKS_PER_SECOND} ms) per run.",
        "- RSS is VmRSS from /proc/<pid>/status; for nginx the master's and the "
        "worker's are added, which counts their shared pages twice. PSS (from "
        "smaps_rollup) splits shared pages between them and is the fairer sum.",
        "- wrk's latency percentiles include its coordinated-omission "
        "correction: after a run, wrk adds synthetic samples for responses that took "
        "longer than the average interval between requests on a connection.",
        f"- Connection per request: wrk keeps {args.close_connections} connections "
        "busy, each sending one request with `Connection: close`; the server answers, "
        "closes, and wrk connects again. The server's CPU includes accept, the "
        "handshake and teardown work the kernel charges to it, and closing.",
        "- One sequential connection: `wrk -c1`, the next request written as soon as "
        "the response has arrived: a prober that keeps its connection. Nothing is "
        "batched, so each request pays a full wake-up of the server; req/s and p99 "
        "measure the round trip between the two CPUs as much as either program. With "
        "one connection the mean interval is the round trip itself (tens of µs), so "
        "wrk's correction turns one stall of a few ms on either CPU into a hundred "
        "samples: p99 there tracks how often the machine stalls; compare it between "
        "servers only.",
        f"- Pipelined latencies are per batch of {args.pipeline_depth}: wrk times a "
        "write of the whole batch to its last response. Its correction spaces the "
        "synthetic samples by the time per response, not per batch, so it adds more "
        "of them than a batch warrants: compare these between servers only.",
    ]
    if any(key in H2_SCENARIOS for key in args.scenarios):
        notes += [
            f"- h2c and gRPC loads: `h2load -t1 -c{args.h2_connections} -m<streams> -D<duration>`"
            ", HTTP/2 with prior knowledge, each connection keeping that many requests in "
            "flight. p50 and p99 come from h2load's per-request log (`--log-file`): request "
            "sent to response complete, with no correction for coordinated omission, so they "
            "read differently from wrk's. A run in which any request failed, errored, timed "
            "out or was not answered 2xx fails the scenario (listed under \"Scenarios that "
            "failed\", no rows); before the warm-up and after the last round curl checks "
            "each server's answer (the JSON body of /status; for the Check, grpc-status 0 in "
            "the trailers and a SERVING message).",
            "- Bytes received per response: everything h2load read divided by the responses: "
            "frame headers, HPACK-coded headers (and trailers), DATA, and the connection's "
            "own frames (SETTINGS, WINDOW_UPDATE, PING) spread over its requests.",
            "- Server threads: the most threads a server had during a run. badges-health "
            "runs `--threads 1`; nginx one worker; the grpc++ peer polls its completion "
            "queue from one thread, but grpc++ runs the health handlers on callback threads "
            "it sizes itself and keeps timer and executor threads besides. Every server is "
            "pinned to the same single CPU, so each gets one core in all.",
        ]
    notes += [
        "- \"CPU busy\" is CPU time over wall time for one run: a server near 100 % "
        "is the bottleneck; the client near 100 % means it limits req/s and the "
        "CPU per request column is the comparison to trust.",
        f"- \"{OTHER_WORK}\" is the busy time of CPU {args.server_cpu} (/proc/stat) "
        "minus the server's own: other programs, interrupts and hypervisor steal. "
        "Well above a few per cent, req/s and latency measure the machine's load as "
        "much as the server; CPU per request stays comparable.",
    ]
    return notes


def build_report(bench, header_lines, checks_section=None):
    """The whole report; `checks_section`, the checks scenario's Markdown
    (its headings already one level down), goes at the end."""
    args = bench.args
    # Per reference: its result rows, and its per-round rows.
    tables = {reference: [] for reference, _ in REFERENCES}
    rounds = {reference: [] for reference, _ in REFERENCES}
    targets = []
    all_rows = rows_for(args)
    for key in args.scenarios:
        for row in all_rows[key]:
            reference = row.reference
            per_server = bench.samples.get(row.group or key, {}).get(row.key, {})
            if BADGES not in per_server or reference not in per_server:
                continue
            b = row.combine(per_server[BADGES])
            x = row.combine(per_server[reference])
            # A share that rounds to nothing (0 % of another process's
            # time) has no meaningful ratio.
            ratio = b / x if abs(x) > 1e-6 else float("nan")
            ratio_text = f"{ratio:.2f}×" if abs(x) > 1e-6 else "–"
            target_text = ""
            if row.target:
                description, passes = row.target
                verdict = "PASS" if passes(b, x, ratio) else "FAIL"
                target_text = f"{description}: **{verdict}**"
                measured = (f"{ratio_text} ({fmt_number(b, row.unit)} vs "
                            f"{fmt_number(x, row.unit)})" if reference in description
                            else fmt_number(b, row.unit))
                targets.append(f"| {description} | {measured} | **{verdict}** |")
            tables[reference].append(
                f"| {row.scenario} | {row.metric_label} | {fmt_number(b, row.unit)} | "
                f"{fmt_number(x, row.unit)} | {ratio_text} | {target_text} |")
            rounds[reference].append(
                f"| {row.scenario} | {row.metric_label} | "
                f"{', '.join(fmt_number(v, row.unit) for v in per_server[BADGES])} | "
                f"{', '.join(fmt_number(v, row.unit) for v in per_server[reference])} |")
    # The references of the scenarios chosen, whether or not they finished.
    chosen = {reference_of(key) for key in bench_scenarios(args)}
    present = [reference for reference, _ in REFERENCES if reference in chosen]

    def per_reference(rows_by_reference, header, separator):
        """One table per reference with rows; all but nginx's under a line
        naming it."""
        lines = []
        for reference in present:
            if not rows_by_reference[reference]:
                continue
            if lines:
                lines.append("")
            if reference != NGINX:
                lines += [f"Against {reference} ({dict(REFERENCES)[reference]}):", ""]
            lines += [header.format(reference=reference), separator]
            lines += rows_by_reference[reference]
        return lines

    lines = [report_title(present, CHECKS in args.scenarios), ""] + header_lines
    if bench.failures:
        lines += ["", "## Scenarios that failed", "",
                  "They have no rows below: their samples were dropped, so that no ratio "
                  "stands on partial or failed work.", ""]
        for key, message in bench.failures:
            text = " ".join(line.strip() for line in message.splitlines() if line.strip())
            lines.append(f"- **{key}**: {text[:1000]}")
    for reference in present:
        lines += headline_table(bench, reference)
    if bench_scenarios(args):
        lines += ["", "## Results", ""]
        if any(tables.values()):
            lines += per_reference(tables, "| scenario | metric | badges-health | {reference} | "
                                           "ratio | target |", "|---|---|---:|---:|---:|---|")
        else:
            lines.append("No scenario finished.")
    if targets:
        lines += ["", "## Targets (made visible, not enforced)", "",
                  "| target | measured | result |", "|---|---|---|"] + targets
    if bench_scenarios(args):
        lines += ["", "## How to read it", ""] + reading_notes(args)
    lines += contention_notes(bench, all_rows)
    notes = list(dict.fromkeys(bench.notes))
    for (server, title), share in sorted(bench.unreachable.items()):
        notes.append(f"{title}, {server}: in at least one run wrk's correction put {share:.2f} % "
                     "of the latency samples below its smallest one; the percentiles are over "
                     "the rest (bench/wrk/report.lua).")
    if notes:
        lines += ["", "## Notes from this run", ""] + [f"- {n}" for n in notes]
    if any(rounds.values()):
        lines += ["", "## Per-round values", ""]
        lines += per_reference(rounds, "| scenario | metric | badges-health | {reference} |",
                               "|---|---|---|---|")
    if checks_section:
        lines += ["", checks_section.strip()]
    return "\n".join(lines) + "\n"


def demote_headings(markdown, levels=1):
    """`markdown` with every ATX heading `levels` deeper (# becomes ##),
    outside fenced code blocks, so that a report of its own fits under the
    title of this one."""
    out = []
    fenced = False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,6}(\s|$)", line):
            line = "#" * levels + line
        out.append(line)
    return "\n".join(out)


def run_checks(args, children, workdir):
    """The checks scenario: bench/checks/checks_bench.py with bench/run's
    binary, CPUs and work directory (its servers recorded with the others
    for bench/run's trap), counts 10,100,1000, 3 rounds of a 10 s window
    (--quick: 1 round of 5 s). Returns its section, headings one level down."""
    if CHECKS_HARNESS_DIR not in sys.path:
        sys.path.insert(0, CHECKS_HARNESS_DIR)
    import checks_bench  # noqa: E402  (bench/checks)

    options = checks_bench.default_options(
        binary=args.binary, haproxy=args.haproxy, workdir=workdir,
        command=args.command or "compare_servers.py " + " ".join(sys.argv[1:]),
        counts=CHECKS_COUNTS, window=5.0 if args.quick else 10.0,
        rounds=1 if args.quick else 3, server_cpu=args.server_cpu,
        client_cpu=args.client_cpu, output=None)
    log(f"== check engine: {CHECKS_COUNTS} tcp checks and idle, badges-health vs HAProxy, "
        f"{options.rounds} round(s) of a {options.window:g} s window")
    return demote_headings(checks_bench.run(options, children=children))


def command_output(argv):
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
        return (done.stdout + done.stderr).strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def cmake_cache_value(binary, name):
    cache = os.path.join(os.path.dirname(os.path.abspath(binary)), "CMakeCache.txt")
    try:
        with open(cache, encoding="utf-8") as f:
            for line in f:
                if line.startswith(name + ":"):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return "?"


def load_average():
    with open("/proc/loadavg", encoding="ascii") as f:
        return " ".join(f.read().split()[:3])


def describe_machine(args, load_before, response_sizes):
    cpu_model = "?"
    with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    repo = os.path.dirname(BENCH)
    commit = command_output(["git", "-C", repo, "rev-parse", "--short", "HEAD"]) or "?"
    dirty = command_output(["git", "-C", repo, "status", "--porcelain", "--untracked-files=no"])
    version = command_output([args.binary, "--version"]).splitlines()
    nginx_version = command_output([args.nginx, "-v"]).replace("nginx version: ", "")
    wrk_version = re.search(r"wrk \S+", command_output(["wrk", "-v"]))
    cxx_flags = cmake_cache_value(args.binary, "CMAKE_CXX_FLAGS")
    sizes = ", ".join(f"{name} {size} B" for name, size in sorted(response_sizes.items()))
    lines = [
        f"- date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M:%S UTC')}",
        f"- command: `{args.command or 'compare_servers.py ' + ' '.join(sys.argv[1:])}`",
        f"- machine: `nproc` = {os.cpu_count()}, CPU {cpu_model}, Linux {platform.release()}; "
        f"load average before {load_before}, after {load_average()}",
        f"- badges-health: {version[0] if version else '?'} at {commit}"
        f"{' with uncommitted changes' if dirty else ''}; "
        f"CMAKE_BUILD_TYPE={cmake_cache_value(args.binary, 'CMAKE_BUILD_TYPE')}"
        f"{', CMAKE_CXX_FLAGS=' + repr(cxx_flags) if cxx_flags not in ('', '?') else ''}; "
        "`--threads 1 --host 127.0.0.1 --log-level warn`",
    ]
    if any(reference_of(key) == NGINX for key in bench_scenarios(args)):
        lines.append(
            f"- nginx: {nginx_version or '?'}, 1 worker, access log off, "
            "bench/nginx/status.conf.in"
            + ("; for h2c `listen ... http2` (prior knowledge)" if "h2" in args.scenarios else ""))
    if "grpc" in args.scenarios:
        grpc_version = command_output(["pkg-config", "--modversion", "grpc++"]) or "?"
        lines.append(f"- grpc++: {grpc_version}, its default health service "
                     "(bench/grpc-peer/health_server.cpp), plaintext, one thread polling its "
                     "completion queue, the library's own callback threads")
    if CHECKS in args.scenarios:
        version = re.search(r"version (\S+)", command_output([args.haproxy, "-v"]))
        lines.append(f"- HAProxy: {version.group(1) if version else '?'}, the checks scenario's "
                     f"reference ({CHECKS_COUNTS} tcp checks at 1 s, and idle; its section "
                     "closes the report)")
    clients = []
    if wrk_scenarios(args):
        clients.append(f"{wrk_version.group(0) if wrk_version else 'wrk'}, 1 thread")
    if any(key in H2_SCENARIOS for key in args.scenarios):
        h2load_version = re.search(r"nghttp2/\S+", command_output(["h2load", "--version"]))
        clients.append(f"h2load {h2load_version.group(0) if h2load_version else '?'}, 1 thread")
    if clients:
        lines.append(f"- client: {'; '.join(clients)}")
    lines.append(f"- pinning: servers on CPU {args.server_cpu}, the client and helpers on CPU "
                 f"{args.client_cpu}")
    if bench_scenarios(args):
        lines.append(
            f"- rounds: {args.rounds} × {args.duration} s per server per scenario after a "
            f"{args.warmup} s warm-up, alternating badges-health and the reference"
            + (f"; {args.starts} starts each" if "startup" in args.scenarios else ""))
    if sizes:
        lines.append(f"- one response to GET /status, headers and body: {sizes}")
    return lines


# --------------------------------------------------------------------------

def main(argv):
    args = parse_args(argv)
    tools = ["taskset"]
    if wrk_scenarios(args):
        tools.append("wrk")
    if any(key in H2_SCENARIOS for key in args.scenarios):
        tools += ["h2load", "curl"]
    require("bench/run", tools, args.binary)
    if "grpc" in args.scenarios and not os.access(args.grpc_peer, os.X_OK):
        sys.exit(f"bench/run: {args.grpc_peer} is not an executable "
                 "(bench/grpc-peer/build makes it)")
    if CHECKS in args.scenarios and not os.access(args.haproxy, os.X_OK):
        sys.exit(f"bench/run: {args.haproxy} is not an executable (bench/run installs haproxy "
                 "for the checks scenario)")
    if args.server_cpu == args.client_cpu:
        log(f"bench: warning: servers and wrk share CPU {args.server_cpu}")

    own_workdir = args.workdir is None
    workdir = args.workdir or tempfile.mkdtemp(prefix="badges-health-bench.")
    children = ChildProcesses(os.path.join(workdir, "process-groups"))

    def on_signal(signum, frame):
        del frame
        log(f"bench: stopped by {signal.Signals(signum).name}")
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    # Explicitly, since a shell starting us in the background ignores SIGINT.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # The harness itself (polling /proc, reading wrk) stays off the servers' CPU.
    os.sched_setaffinity(0, {args.client_cpu})

    load_before = load_average()
    bench = Bench(args, children, workdir)
    checks_section = None
    try:
        bench.run()
        if CHECKS in args.scenarios:
            try:
                checks_section = run_checks(args, children, workdir)
            except Exception as e:  # noqa: BLE001  (any failure is the scenario's)
                message = str(e) or type(e).__name__
                bench.failures.append((CHECKS, message))
                log(f"bench: scenario {CHECKS} FAILED: {message}")
    except KeyboardInterrupt:
        log("bench: interrupted")
        return 130
    finally:
        children.stop_all()
        if own_workdir:
            shutil.rmtree(workdir, ignore_errors=True)

    report = build_report(bench, describe_machine(args, load_before, bench.response_sizes),
                          checks_section)
    os.makedirs(os.path.dirname(os.path.abspath(args.results)), exist_ok=True)
    with open(args.results, "w", encoding="utf-8") as f:
        f.write(report)
    print(report)
    log(f"bench: written to {os.path.relpath(args.results)}")
    if bench.failures:
        log(f"bench: FAILED: {', '.join(key for key, _ in bench.failures)} (see the report)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
