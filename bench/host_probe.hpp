// What the whole-system benches read from /proc about the machine and a process: per-CPU time by
// kind (user, system, softirq, idle), a process's CPU time, its busiest thread, resident memory and
// open fds. Plain figures, no opinion: each bench says what they mean for its own run.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace fizzhost::bench {

/// One CPU's times from /proc/stat, in clock ticks (USER_HZ).
struct CpuTimes {
    uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    uint64_t total() const { return user + nice + system + idle + iowait + irq + softirq + steal; }
};

/// Every CPU's line of /proc/stat ("cpuN"), in order. Throws std::runtime_error.
std::vector<CpuTimes> cpuTimes();

/// "cpu0 user 12% sys 40% softirq 45% idle 3%; cpu1 ..." for the time between two cpuTimes().
std::string cpuSplit(const std::vector<CpuTimes>& before, const std::vector<CpuTimes>& after);

/// Shares of one CPU's time between two readings, in percent.
struct CpuShare {
    double user = 0, system = 0, softirq = 0, idle = 0, other = 0;
};
std::vector<CpuShare> cpuShares(const std::vector<CpuTimes>& before, const std::vector<CpuTimes>& after);

/// CPU seconds of a process (its live threads) or of one thread (/proc/<pid>/task/<tid>), from the
/// scheduler's nanosecond clock (schedstat; tick-based utime + stime where it is missing).
double processCpuSeconds(pid_t pid);
double threadCpuSeconds(pid_t pid, pid_t tid);
/// The CPU seconds of every thread of `pid`, by tid.
std::vector<std::pair<pid_t, double>> threadCpuSeconds(pid_t pid);
/// The largest growth of one thread's CPU seconds between two threadCpuSeconds() readings.
double busiestThreadDelta(const std::vector<std::pair<pid_t, double>>& before,
                          const std::vector<std::pair<pid_t, double>>& after);

/// CPU seconds of every kernel thread whose name starts with one of `prefixes` ("ksoftirqd/": the
/// softirq work the kernel deferred from interrupted tasks; "napi/": threaded NAPI polls).
double kernelThreadCpuSeconds(const std::vector<std::string>& prefixes);

/// Resident memory (VmRSS) in KiB and open fds of a process.
long residentKiB(pid_t pid);
size_t openFds(pid_t pid);

/// The 1-minute load average, for the header of a bench's output.
double loadAverage();

}  // namespace fizzhost::bench
