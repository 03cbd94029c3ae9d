"""One run of a load generator (wrk, h2load) against a running server, and
what the server spent meanwhile: its CPU time from /proc around the run,
the largest RSS seen, and how much of its CPU other processes took. The
callers parse the generator's own output."""

import os
import signal
import subprocess
import time

import proc_stats

# How long a generator may overrun the duration it was given.
OVERRUN_S = 30


class MeasuredRun:
    """The generator's output and exit code, and what it and the server used."""

    def __init__(self, returncode, stdout, stderr, wall, server_cpu_s, other_cpu_s,
                 client_cpu_s, peak_rss_kib, threads):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.wall = wall                  # seconds from start to exit of the generator
        self.server_cpu_s = server_cpu_s  # utime + stime of the server's processes
        self.other_cpu_s = other_cpu_s    # busy time of the server's CPU not the server's
        self.client_cpu_s = client_cpu_s  # utime + stime of the generator
        self.peak_rss_kib = peak_rss_kib
        self.threads = threads            # the server's threads at the end of the run


def thread_count(pids):
    """Threads of the server's processes (all of them, idle ones too)."""
    total = 0
    for pid in pids:
        try:
            total += len(os.listdir(f"/proc/{pid}/task"))
        except OSError:
            pass
    return total


def run(children, argv, client_cpu, server_cpu, server, duration):
    """Runs `argv` pinned to `client_cpu` while sampling `server` (pinned to
    `server_cpu`); kills it if it overruns `duration` by OVERRUN_S."""
    pids = server.pids()
    cpu_before = proc_stats.total(proc_stats.cpu_seconds, pids)
    core_before = proc_stats.cpu_busy_seconds(server_cpu)
    began = time.monotonic()
    proc = children.start(argv, cpu=client_cpu, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = began + duration + OVERRUN_S
    peak_rss = 0
    threads = 0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            children.stop(proc.pid, signal.SIGKILL, grace=1.0)
            raise RuntimeError(f"{argv[0]} did not finish within {duration + OVERRUN_S}s")
        peak_rss = max(peak_rss, proc_stats.total(proc_stats.rss_kib, pids))
        threads = thread_count(pids)
        time.sleep(0.2)
    wall = time.monotonic() - began
    cpu_after = proc_stats.total(proc_stats.cpu_seconds, pids)
    core_after = proc_stats.cpu_busy_seconds(server_cpu)
    children.forget(proc.pid)
    # Generators print a few KiB at most, so the pipes never fill while we poll.
    out = proc.stdout.read().decode("utf-8", "replace")
    err = proc.stderr.read().decode("utf-8", "replace")
    proc.stdout.close()
    proc.stderr.close()
    server_cpu_s = cpu_after - cpu_before
    return MeasuredRun(
        returncode=os.waitstatus_to_exitcode(status), stdout=out, stderr=err, wall=wall,
        server_cpu_s=server_cpu_s,
        other_cpu_s=max(0.0, (core_after - core_before) - server_cpu_s),
        client_cpu_s=usage.ru_utime + usage.ru_stime, peak_rss_kib=peak_rss,
        threads=threads or thread_count(pids))
