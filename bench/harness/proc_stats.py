"""What the benchmark reads about a server from /proc: CPU time, resident
memory and child processes. Linux only; every reader takes a pid that the
harness started."""

import os

CLOCK_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User plus system CPU time of the whole process (all threads), from
    fields 14 and 15 of /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
        text = f.read()
    # The command name (field 2) may hold spaces and parentheses; the fields
    # after it start behind the last ')'. Field 3 is fields_after[0].
    fields_after = text[text.rindex(")") + 2:].split()
    utime, stime = int(fields_after[11]), int(fields_after[12])
    return (utime + stime) / CLOCK_TICKS_PER_SECOND


def _runtime_ns(pid):
    """Nanoseconds on a CPU summed over the threads of `pid` (the first
    field of each /proc/<pid>/task/<tid>/schedstat, the scheduler's
    sum_exec_runtime), or None when no thread's schedstat could be read."""
    tids = os.listdir(f"/proc/{pid}/task")  # OSError once the process is gone
    total_ns = 0
    read_any = False
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat", encoding="ascii") as f:
                total_ns += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # the thread exited between the listing and the read
        read_any = True
    return total_ns if read_any else None


def cpu_sample(pid):
    """(seconds, source): the CPU time of the whole process with nanosecond
    precision from the threads' schedstat ("schedstat"), or, where the
    kernel does not provide it, utime + stime in clock ticks ("stat").

    The schedstat sum covers the live threads only: a thread that exits takes
    its time with it (/proc/<pid>/stat keeps it), so compare two samples only
    for processes whose threads live as long as they do, as the servers'."""
    try:
        ns = _runtime_ns(pid)
    except OSError:
        ns = None
    if ns is None:
        return cpu_seconds(pid), "stat"
    return ns / 1e9, "schedstat"


def cpu_seconds_precise(pid):
    """CPU time of the whole process in seconds, nanosecond precision where
    the kernel has schedstat, else in clock ticks (see cpu_sample)."""
    return cpu_sample(pid)[0]


def _status_kib(path, key):
    with open(path, encoding="ascii", errors="replace") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1])
    return 0


def rss_kib(pid):
    """VmRSS from /proc/<pid>/status."""
    return _status_kib(f"/proc/{pid}/status", "VmRSS:")


def pss_kib(pid):
    """Proportional set size: shared pages divided among the processes that
    map them, so that the PSS of nginx's master and worker add up fairly."""
    try:
        return _status_kib(f"/proc/{pid}/smaps_rollup", "Pss:")
    except OSError:
        return 0


def children(pid):
    """Direct children of `pid` (nginx's workers), by scanning /proc once."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                text = f.read()
        except OSError:
            continue  # exited while we looked
        fields_after = text[text.rindex(")") + 2:].split()
        if int(fields_after[1]) == pid:
            found.append(int(entry))
    return sorted(found)


def total(reader, pids):
    """Sum of `reader` over processes, skipping any that has exited."""
    result = 0
    for pid in pids:
        try:
            result += reader(pid)
        except (OSError, ValueError):
            pass
    return result


def cpu_busy_seconds(cpu):
    """Time CPU `cpu` spent on anything but idling (all processes, interrupts
    and time stolen by the hypervisor), from /proc/stat. Compared with the
    server's own CPU time it shows how much other work shared its CPU."""
    with open("/proc/stat", encoding="ascii") as f:
        for line in f:
            if line.startswith(f"cpu{cpu} "):
                # user nice system idle iowait irq softirq steal (guest is in user)
                values = [int(v) for v in line.split()[1:9]]
                busy = sum(values) - values[3] - values[4]
                return busy / CLOCK_TICKS_PER_SECOND
    raise ValueError(f"cpu{cpu} not in /proc/stat")
