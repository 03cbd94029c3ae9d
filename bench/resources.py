#!/usr/bin/env python3
"""The figures behind deploy/kubernetes' resource requests and limits: the
binary run as the manifests run it (one worker thread, JSON logs, no access
log), measured from /proc:

  idle            RSS 2 s after start
  probe load      CPU (utime+stime) and RSS over --seconds at --rate requests
                  per second of GET /status and /readyz, on 4 keep-alive
                  connections (what kubelets, balancers and Prometheus send,
                  many times over)
  saturated       CPU per request and requests/s under wrk (1 thread, 16
                  connections) for --seconds: what one core buys
  idle clients    RSS with --idle 10,000 idle keep-alive connections
                  (bench/harness/idle_connections.py), and the peak (VmHWM)

Usage: bench/resources.py BINARY [--rate 200] [--seconds 20] [--idle 10000]
"""

import argparse
import os
import re
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TICK = os.sysconf("SC_CLK_TCK")


def proc_status(pid, key):
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024  # kB
    raise KeyError(key)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def mib(n):
    return f"{n / 1048576:.1f} MiB"


def start(binary):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    proc = subprocess.Popen(
        [binary, "--host", "127.0.0.1", "--port", "0", "--threads", "1", "--log-format", "json",
         "--drain-delay", "0"],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True)
    for line in proc.stderr:
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if match:
            return proc, int(match.group(1))
    proc.kill()
    sys.exit("resources: the server did not start")


def paced_load(port, rate, seconds):
    """`rate` requests a second for `seconds`, round robin over 4 keep-alive
    connections, each answer read before the next request on it."""
    conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]
    targets = [b"/status", b"/readyz"]
    sent = 0
    begin = time.monotonic()
    while True:
        now = time.monotonic()
        if now - begin >= seconds:
            break
        due = int((now - begin) * rate)
        while sent < due:
            c = conns[sent % len(conns)]
            c.sendall(b"GET " + targets[sent % 2] + b" HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            while b"\r\n\r\n" not in data or not data.endswith(b"}"):
                chunk = c.recv(4096)
                if not chunk:
                    sys.exit("resources: the server closed a connection")
                data += chunk
            sent += 1
        time.sleep(0.001)
    for c in conns:
        c.close()
    return sent


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--idle", type=int, default=10000)
    args = parser.parse_args()

    proc, port = start(args.binary)
    try:
        time.sleep(2)
        print(f"idle: RSS {mib(proc_status(proc.pid, 'VmRSS'))}")

        before = cpu_seconds(proc.pid)
        sent = paced_load(port, args.rate, args.seconds)
        used = cpu_seconds(proc.pid) - before
        print(f"probe load: {sent / args.seconds:.0f} requests/s for {args.seconds:.0f} s: "
              f"CPU {1000 * used / args.seconds:.1f} millicores, "
              f"RSS {mib(proc_status(proc.pid, 'VmRSS'))}")

        before = cpu_seconds(proc.pid)
        wrk = subprocess.run(
            ["wrk", "-t1", "-c16", f"-d{int(args.seconds)}s", f"http://127.0.0.1:{port}/status"],
            capture_output=True, text=True, check=True)
        used = cpu_seconds(proc.pid) - before
        total = int(re.search(r"(\d+) requests in", wrk.stdout).group(1))
        print(f"saturated (wrk -t1 -c16): {total / args.seconds:.0f} requests/s, "
              f"CPU {1000 * used / args.seconds:.0f} millicores, "
              f"{1e6 * used / total:.2f} us CPU per request")

        holder = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "harness", "idle_connections.py"), "--port",
             str(port), "--count", str(args.idle), "--hold-max", "120"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready = holder.stdout.readline().strip()
        time.sleep(1)
        print(f"idle clients: {ready}: RSS {mib(proc_status(proc.pid, 'VmRSS'))}, "
              f"peak (VmHWM) {mib(proc_status(proc.pid, 'VmHWM'))}")
        holder.stdin.write("check\n")
        holder.stdin.flush()
        holder.communicate(timeout=60)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
