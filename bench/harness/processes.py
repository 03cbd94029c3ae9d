"""The processes the harness starts (servers, wrk, helpers): each in its own
process group, pinned with taskset, recorded so that nothing outlives the
run. bench/run's trap reads the same record in case this process dies
without cleaning up."""

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import time

_PR_SET_PDEATHSIG = 1


def require(prog, tools, binary):
    """Exits with a message naming `prog` unless every tool is on PATH and
    `binary` is executable; `prog` (bench/run, bench/syscalls) installs the
    tools."""
    for tool in tools:
        if not shutil.which(tool):
            sys.exit(f"{prog}: {tool} not found ({prog} installs it)")
    if not os.access(binary, os.X_OK):
        sys.exit(f"{prog}: {binary} is not an executable")


def _die_with_parent():
    # If the harness is killed outright, the child gets SIGKILL too.
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def wait_exit(pid, timeout):
    """Reaps `pid` if it exits within `timeout` seconds; True when it did
    (or was already gone)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return True
        if done:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)


class ChildProcesses:
    """Starts and stops process groups; `groups_file` lists the groups still
    running, one id per line, for the shell trap."""

    def __init__(self, groups_file):
        self._groups_file = groups_file
        self._live = set()

    def _record(self, pid):
        self._live.add(pid)
        self._save()

    def _drop(self, pid):
        self._live.discard(pid)
        self._save()

    def _save(self):
        with open(self._groups_file, "w", encoding="ascii") as f:
            f.write("".join(f"{pid}\n" for pid in sorted(self._live)))

    def start(self, argv, cpu=None, **popen_kwargs):
        """Starts `argv` as the leader of a new process group, pinned to `cpu`
        (taskset execs the command, so the pid is the command's)."""
        if cpu is not None:
            argv = ["taskset", "-c", str(cpu)] + list(argv)
        proc = subprocess.Popen(argv, start_new_session=True, preexec_fn=_die_with_parent,
                                **popen_kwargs)
        self._record(proc.pid)
        return proc

    def adopt(self, pid):
        """Records a group leader started elsewhere (posix_spawn with setsid)."""
        self._record(pid)

    def forget(self, pid):
        """The leader has exited and was reaped by the caller."""
        self._drop(pid)

    def stop(self, pid, sig=signal.SIGTERM, grace=5.0):
        """Asks the leader to stop with `sig`, waits up to `grace` seconds,
        then kills whatever is left of the group."""
        try:
            exited, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            exited = pid  # reaped already: its pid may belong to someone else now
        if exited:
            # Only the group can be left (Linux does not reuse a pid while a
            # group of that id has members).
            self._kill_group(pid)
            self._drop(pid)
            return
        os.kill(pid, sig)
        if not wait_exit(pid, grace):
            # The leader and anything it forked (nginx's worker).
            self._kill_group(pid)
            wait_exit(pid, 5.0)
        self._drop(pid)

    def stop_all(self):
        for pid in list(self._live):
            self._kill_group(pid)
            wait_exit(pid, 2.0)
        self._live.clear()
        self._save()

    @staticmethod
    def _kill_group(pgid):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
