#include "host_probe.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

namespace fizzhost::bench {
namespace {

// Fields 14 and 15 (utime, stime) of a /proc stat line, after the command name in parentheses.
double statCpuSeconds(const std::filesystem::path& stat) {
    std::ifstream in(stat);
    std::string s((std::istreambuf_iterator<char>(in)), {});
    const auto close = s.rfind(')');
    if (close == std::string::npos) return 0;  // gone
    std::istringstream fields(s.substr(close + 2));
    std::string f;
    uint64_t utime = 0, stime = 0;
    for (int i = 3; fields >> f; ++i) {
        if (i == 14) utime = std::stoull(f);
        if (i == 15) {
            stime = std::stoull(f);
            break;
        }
    }
    return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

// A task's time on a CPU in ns (the first field of schedstat: the scheduler's own clock, not ticks),
// or the tick-based utime + stime of its stat where schedstat is missing.
double taskCpuSeconds(const std::filesystem::path& task) {
    std::ifstream in(task / "schedstat");
    uint64_t ns = 0;
    if (in >> ns) return double(ns) / 1e9;
    return statCpuSeconds(task / "stat");
}

}  // namespace

std::vector<CpuTimes> cpuTimes() {
    std::ifstream in("/proc/stat");
    if (!in) throw std::runtime_error("cannot read /proc/stat");
    std::vector<CpuTimes> out;
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("cpu", 0) != 0 || line.size() < 4 || line[3] < '0' || line[3] > '9') continue;
        std::istringstream fields(line);
        std::string name;
        CpuTimes t;
        fields >> name >> t.user >> t.nice >> t.system >> t.idle >> t.iowait >> t.irq >> t.softirq >> t.steal;
        out.push_back(t);
    }
    return out;
}

std::vector<CpuShare> cpuShares(const std::vector<CpuTimes>& before, const std::vector<CpuTimes>& after) {
    std::vector<CpuShare> out;
    for (size_t i = 0; i < std::min(before.size(), after.size()); ++i) {
        const auto& a = before[i];
        const auto& b = after[i];
        const double total = double(b.total() - a.total());
        if (total <= 0) {
            out.push_back({});
            continue;
        }
        auto pct = [&](uint64_t x, uint64_t y) { return 100.0 * double(y - x) / total; };
        CpuShare s;
        s.user = pct(a.user + a.nice, b.user + b.nice);
        s.system = pct(a.system, b.system);
        s.softirq = pct(a.softirq, b.softirq);
        s.idle = pct(a.idle + a.iowait, b.idle + b.iowait);
        s.other = pct(a.irq + a.steal, b.irq + b.steal);
        out.push_back(s);
    }
    return out;
}

std::string cpuSplit(const std::vector<CpuTimes>& before, const std::vector<CpuTimes>& after) {
    std::string out;
    char buf[160];
    const auto shares = cpuShares(before, after);
    for (size_t i = 0; i < shares.size(); ++i) {
        const auto& s = shares[i];
        std::snprintf(buf, sizeof buf, "%scpu%zu user %3.0f%% sys %3.0f%% softirq %3.0f%% idle %3.0f%%%s",
                      out.empty() ? "" : "; ", i, s.user, s.system, s.softirq, s.idle,
                      s.other >= 1 ? (" irq+steal " + std::to_string(int(s.other + 0.5)) + "%").c_str() : "");
        out += buf;
    }
    return out;
}

double processCpuSeconds(pid_t pid) {
    double total = 0;
    for (const auto& [tid, seconds] : threadCpuSeconds(pid)) total += seconds;
    return total;
}

double threadCpuSeconds(pid_t pid, pid_t tid) {
    return taskCpuSeconds("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid));
}

std::vector<std::pair<pid_t, double>> threadCpuSeconds(pid_t pid) {
    std::vector<std::pair<pid_t, double>> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
        const pid_t tid = pid_t(std::stol(e.path().filename().string()));
        out.emplace_back(tid, threadCpuSeconds(pid, tid));
    }
    return out;
}

double busiestThreadDelta(const std::vector<std::pair<pid_t, double>>& before,
                          const std::vector<std::pair<pid_t, double>>& after) {
    std::map<pid_t, double> start(before.begin(), before.end());
    double best = 0;
    for (const auto& [tid, cpu] : after) best = std::max(best, cpu - (start.count(tid) ? start[tid] : 0.0));
    return best;
}

double kernelThreadCpuSeconds(const std::vector<std::string>& prefixes) {
    double total = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
        const std::string pid = e.path().filename().string();
        if (pid.empty() || pid[0] < '0' || pid[0] > '9') continue;
        std::ifstream comm(e.path() / "comm");
        std::string name;
        if (!std::getline(comm, name)) continue;
        for (const auto& prefix : prefixes)
            if (name.rfind(prefix, 0) == 0) {
                total += taskCpuSeconds(e.path());
                break;
            }
    }
    return total;
}

long residentKiB(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}

size_t openFds(pid_t pid) {
    size_t n = 0;
    std::error_code ec;
    for ([[maybe_unused]] const auto& e :
         std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec))
        ++n;
    return n;
}

double loadAverage() {
    double load = -1;
    getloadavg(&load, 1);
    return load;
}

}  // namespace fizzhost::bench
