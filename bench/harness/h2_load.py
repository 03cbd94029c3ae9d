"""One h2load run against a server over h2c with prior knowledge: its
requests/s, latency percentiles from h2load's per-request log, and the
server's CPU per request. A run in which any request failed, errored, timed
out or was answered other than 2xx, or in which nothing was answered at all,
raises: a ratio over such a run would compare different work."""

import os
import re

import measured_run

MIB = 1024.0


class H2Load:
    """The h2load side of a scenario: `connections` connections with up to
    `streams` requests in flight on each; with `data_file`, every request is
    a POST of that file's bytes."""

    def __init__(self, connections, streams, path, data_file=None, headers=()):
        self.connections = connections
        self.streams = streams
        self.path = path
        self.data_file = data_file
        self.headers = list(headers)


def _number(pattern, text, what):
    match = re.search(pattern, text, re.MULTILINE)
    if not match:
        raise ValueError(f"no {what} in h2load's output")
    return match


def parse_summary(out):
    """The counts h2load prints at the end of a run."""
    requests = _number(r"^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                       r"(\d+) failed, (\d+) errored, (\d+) timeout", out, "request counts")
    codes = _number(r"^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out,
                    "status codes")
    traffic = _number(r"^traffic: \S+ \((\d+)\) total, \S+ \((\d+)\) headers .*, "
                      r"\S+ \((\d+)\) data", out, "traffic")
    rate = _number(r"^finished in [^,]+, ([\d.]+) req/s", out, "request rate")
    keys = ("total", "started", "done", "succeeded", "failed", "errored", "timeout")
    summary = dict(zip(keys, (int(v) for v in requests.groups())))
    summary.update(zip(("2xx", "3xx", "4xx", "5xx"), (int(v) for v in codes.groups())))
    summary.update(zip(("bytes", "header_bytes", "data_bytes"),
                       (int(v) for v in traffic.groups())))
    summary["rps"] = float(rate.group(1))
    return summary


def problem(summary):
    """None when every request that finished succeeded with a 2xx; else
    what went wrong, in words."""
    done = summary["done"]
    # h2load counts a status when the headers arrive, so a response still
    # in flight when the run stops can count as 2xx without being done.
    if (done > 0 and summary["succeeded"] == done and summary["2xx"] >= done
            and summary["3xx"] == summary["4xx"] == summary["5xx"] == 0
            and summary["failed"] == summary["errored"] == summary["timeout"] == 0):
        return None
    text = (f"{done:,} of {summary['started']:,} started requests done, "
            f"{summary['succeeded']:,} succeeded, {summary['failed']:,} failed "
            f"({summary['errored']:,} errored, {summary['timeout']:,} timed out); status codes "
            f"{summary['2xx']:,} 2xx, {summary['3xx']:,} 3xx, {summary['4xx']:,} 4xx, "
            f"{summary['5xx']:,} 5xx")
    if done == 0:
        text += ": no response at all; does the server speak HTTP/2 with prior knowledge here?"
    return text


def percentiles(log_path, wanted=(50, 99)):
    """Latency percentiles (µs) from h2load's --log-file: one line per
    finished request, `start µs <TAB> status <TAB> duration µs`."""
    with open(log_path, encoding="ascii", errors="replace") as f:
        durations = sorted(int(line.split("\t")[2]) for line in f if line.count("\t") == 2)
    if not durations:
        return {p: 0 for p in wanted}
    return {p: durations[min(len(durations) - 1, (len(durations) * p) // 100)] for p in wanted}


def run(children, client_cpu, server_cpu, server, load, duration, log_path):
    """Runs `h2load -t1` for `duration` seconds against `server`; returns its
    numbers and what the server spent. Raises RuntimeError naming the server
    when h2load fails or any request did not get a 2xx."""
    argv = ["h2load", "-t1", f"-c{load.connections}", f"-m{load.streams}", f"-D{duration}",
            f"--log-file={log_path}"]
    if load.data_file:
        argv += ["-d", load.data_file]
    for header in load.headers:
        argv += ["-H", header]
    argv.append(f"http://127.0.0.1:{server.port}{load.path}")

    try:
        done = measured_run.run(children, argv, client_cpu, server_cpu, server, duration)
        if done.returncode != 0:
            raise RuntimeError(f"h2load against {server.name} exited with {done.returncode} "
                               f"({' '.join(argv)}):\n{done.stdout}{done.stderr}")
        try:
            summary = parse_summary(done.stdout)
        except ValueError as e:
            raise RuntimeError(f"h2load against {server.name}: {e} ({' '.join(argv)}):\n"
                               f"{done.stdout}{done.stderr}") from e
        wrong = problem(summary)
        if wrong:
            raise RuntimeError(f"h2load against {server.name} on port {server.port}: {wrong}\n"
                               f"  command: {' '.join(argv)}")
        latency = percentiles(log_path)
    finally:
        if os.path.exists(log_path):
            os.unlink(log_path)

    requests = summary["done"]
    return {
        "rps": summary["rps"],
        "p50_ms": latency[50] / 1000.0,
        "p99_ms": latency[99] / 1000.0,
        "cpu_us_per_req": done.server_cpu_s * 1e6 / requests,
        "server_cpu_pct": done.server_cpu_s * 100.0 / done.wall,
        "client_cpu_pct": done.client_cpu_s * 100.0 / done.wall,
        "other_cpu_pct": done.other_cpu_s * 100.0 / done.wall,
        "rss_peak_mib": done.peak_rss_kib / MIB,
        "bytes_per_response": summary["bytes"] / requests,
        "threads": done.threads,
        "errors": 0,  # any would have raised above
        "requests": requests,
    }
