"""Holds N idle HTTP/1.1 keep-alive connections to a server: opens them
(a bounded number of connects in flight, so that no listen backlog
overflows), sends one GET /status on each, reads the answer, then leaves
them idle.

Protocol on stdout, one line each:
  ready opened=<n> failed=<n> seconds=<s>   once every connection is idle
  open <n>                                  after `check` (or EOF) on stdin:
                                            connections the server kept
Then every connection is closed and the process exits. It also exits after
--hold-max seconds whatever happens, so it can never linger."""

import argparse
import errno
import resource
import select
import selectors
import socket
import sys
import time

import status_client


def raise_descriptor_limit(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < needed:
        try:  # only root may raise the hard limit
            resource.setrlimit(resource.RLIMIT_NOFILE, (needed, needed))
            return
        except (ValueError, OSError):
            sys.exit(f"idle_connections: open file limit {hard} is below {needed}; "
                     f"raise it with ulimit -n")
    if soft == resource.RLIM_INFINITY or soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class _Pending:
    """A connection on its way to idle: connecting, then reading its answer."""
    __slots__ = ("sock", "reading", "buf")

    def __init__(self, sock):
        self.sock = sock
        self.reading = False
        self.buf = b""


def open_idle(port, count, in_flight_max, deadline):
    """Returns (idle sockets, failures)."""
    address = ("127.0.0.1", port)
    selector = selectors.DefaultSelector()
    idle, failed, started, in_flight = [], 0, 0, 0

    def fail(pending):
        nonlocal failed, in_flight
        selector.unregister(pending.sock)
        pending.sock.close()
        failed += 1
        in_flight -= 1

    while (started < count or in_flight) and time.monotonic() < deadline:
        while started < count and in_flight < in_flight_max:
            started += 1
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            err = sock.connect_ex(address)
            if err not in (0, errno.EINPROGRESS):
                sock.close()
                failed += 1
                continue
            selector.register(sock, selectors.EVENT_WRITE, _Pending(sock))
            in_flight += 1
        for key, _ in selector.select(timeout=0.2):
            pending = key.data
            sock = pending.sock
            if not pending.reading:
                if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                    fail(pending)
                    continue
                # 38 bytes into an empty send buffer: never a partial send.
                sock.send(status_client.REQUEST)
                pending.reading = True
                selector.modify(sock, selectors.EVENT_READ, pending)
                continue
            try:
                chunk = sock.recv(4096)
            except OSError:
                chunk = b""
            if not chunk:
                fail(pending)
                continue
            pending.buf += chunk
            if status_client.response_length(pending.buf) is None:
                continue
            selector.unregister(sock)
            in_flight -= 1
            if status_client.status_code(pending.buf) == 200:
                idle.append(sock)
            else:
                sock.close()
                failed += 1
    for key in list(selector.get_map().values()):  # deadline passed
        key.data.sock.close()
        failed += 1
    selector.close()
    return idle, failed + (count - started)


def still_open(sockets):
    """Connections the server has not closed: a peek finds no data and no EOF."""
    alive = 0
    for sock in sockets:
        try:
            if sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT):
                alive += 1  # unexpected bytes, but the connection is open
        except BlockingIOError:
            alive += 1
        except OSError:
            pass
    return alive


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--in-flight", type=int, default=256,
                        help="connects and first requests in progress at once")
    parser.add_argument("--open-timeout", type=float, default=60.0)
    parser.add_argument("--hold-max", type=float, default=600.0)
    args = parser.parse_args()

    raise_descriptor_limit(args.count + 64)
    began = time.monotonic()
    idle, failed = open_idle(args.port, args.count, args.in_flight, began + args.open_timeout)
    print(f"ready opened={len(idle)} failed={failed} seconds={time.monotonic() - began:.2f}",
          flush=True)

    hold_until = began + args.hold_max
    while time.monotonic() < hold_until:
        wait = max(0.0, min(1.0, hold_until - time.monotonic()))
        readable, _, _ = select.select([sys.stdin], [], [], wait)
        if readable:
            sys.stdin.readline()  # `check` or EOF: either way, report and finish
            break
    print(f"open {still_open(idle)}", flush=True)
    for sock in idle:
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
