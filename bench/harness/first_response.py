"""Time from exec to the first 200 on /status: spawns the server and polls
connect + GET in a tight loop, timing with the monotonic clock.

posix_spawn (vfork + exec) starts the clock as close to the exec as Python
can; the server inherits this process's CPU affinity, so the caller pins
itself to the server's CPU around the spawn instead of going through
taskset, whose own exec would be timed too.

Standalone: first_response.py --port P [--cpu N] -- COMMAND ARGS...
prints the milliseconds and stops the server."""

import argparse
import errno
import os
import signal
import socket
import sys
import time

import processes
import status_client


def spawn_and_time(argv, env, port, server_cpu=None, timeout=10.0, on_spawn=None):
    """Starts `argv` in a new session and returns (pid, milliseconds until
    the first 200 on 127.0.0.1:port/status). The server is left running.
    `on_spawn(pid)` is called as soon as the pid is known (for cleanup)."""
    previous_affinity = os.sched_getaffinity(0)
    if server_cpu is not None:
        os.sched_setaffinity(0, {server_cpu})
    start = time.monotonic_ns()
    try:
        pid = os.posix_spawn(argv[0], argv, env, setsid=True)
    finally:
        if server_cpu is not None:
            os.sched_setaffinity(0, previous_affinity)
    if on_spawn is not None:
        on_spawn(pid)
    deadline = start + int(timeout * 1e9)
    attempts = 0
    while True:
        now = time.monotonic_ns()
        if now >= deadline:
            raise RuntimeError(f"{argv[0]}: no 200 within {timeout:.0f}s ({attempts} attempts)")
        attempts += 1
        if attempts % 64 == 0:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                raise RuntimeError(f"{argv[0]} exited before answering")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            err = sock.connect_ex(("127.0.0.1", port))
            if err in (errno.ECONNREFUSED, errno.ECONNRESET):
                continue  # not listening yet: try again at once
            if err != 0:
                raise OSError(err, os.strerror(err))
            sock.sendall(status_client.REQUEST)
            response = status_client.read_response(sock, time.monotonic() + 5.0)
        except ConnectionError:
            continue  # accepted and closed during start-up: try again
        finally:
            sock.close()
        if status_client.status_code(response) == 200:
            return pid, (time.monotonic_ns() - start) / 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cpu", type=int, default=None, help="CPU to pin the server to")
    parser.add_argument("--stop-signal", default="TERM", help="signal that stops the server")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("missing COMMAND")
    pid, ms = spawn_and_time(command, dict(os.environ), args.port, args.cpu)
    print(f"{ms:.2f} ms")
    os.kill(pid, getattr(signal, "SIG" + args.stop_signal))
    if not processes.wait_exit(pid, 10.0):
        os.killpg(pid, signal.SIGKILL)
        processes.wait_exit(pid, 5.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
