// Test support: what a running process uses, read from /proc (Linux only):
// resident memory, CPU time and open descriptors; and its open-file limit,
// which a test may lower from outside to starve it of descriptors.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <cstddef>

namespace badges_health::test {

/// Whether the tests and the server run under ASan or TSan (scripts/test
/// asan|tsan). There the resident memory and descriptors are the sanitizer
/// runtime's as much as the server's (quarantine, shadow memory) and
/// everything runs several times slower, so memory bounds are asserted in
/// the plain build only.
#ifdef BADGES_HEALTH_SANITIZED
inline constexpr bool sanitized_build = true;
#else
inline constexpr bool sanitized_build = false;
#endif

/// Resident set size (VmRSS) of `pid` in KiB. Throws when it cannot be read.
std::size_t resident_kib(pid_t pid);

/// User plus system CPU time `pid` has used so far (utime + stime from
/// /proc/<pid>/stat, so in steps of one clock tick, usually 10 ms).
std::chrono::duration<double> cpu_time(pid_t pid);

/// Number of open file descriptors of `pid`.
std::size_t open_descriptors(pid_t pid);

/// The lowest descriptor number `pid` has free: the one its next open or
/// accept gets. At or above its RLIMIT_NOFILE, those fail with EMFILE.
int lowest_free_descriptor(pid_t pid);

/// Sets both the soft and the hard RLIMIT_NOFILE of the running process
/// `pid` (prlimit(2)), so it cannot raise the soft limit again. Throws on
/// failure.
void limit_descriptors(pid_t pid, rlim_t limit);

/// The current RLIMIT_NOFILE of `pid`. Throws on failure.
rlimit descriptor_limit(pid_t pid);

}  // namespace badges_health::test
