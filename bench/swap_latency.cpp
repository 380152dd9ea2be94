// fizzhost_swap_latency: SIGHUP-to-new-program latency of the real daemon, object load and verifier
// included, measured from outside: from kill(SIGHUP) until the kernel's link reports the new program.
// Also the idle host's CPU. Baseline, measured in the same run: a bare bpf_link_update of two
// already-loaded programs (the kernel's floor for any swap), twice:
// - back to back, 40 in a row before the daemon starts (the figure earlier runs reported);
// - interleaved: one on the veth peer before each SIGHUP, after the same pause. The update waits
//   for an RCU grace period (the kernel's XDP dispatcher changes), whose length depends on the
//   machine's load at that moment and on where in the scheduler tick it starts; back to back, each
//   update starts right where the last grace period ended. Interleaved, both see the same moments,
//   so their ratio is the daemon's own cost.
//
// The daemon runs at debug level with its log kept: each reload logs where its time went ("reload
// phases: ..."), and the bench prints the median of every phase, so a regression shows its place.
//
// FIZZHOST_BENCH_DAEMON=<path> runs another fizzhost binary as the daemon (a build to compare with,
// one run after the other on the same machine).
//
// Runs in a private network namespace with its own veth pair; removes both at exit.
#include "bpf/xdp_link.hpp"
#include "plugin/catalog.hpp"
#include "runtime/instance/classifier.hpp"
#include "service/control_server.hpp"
#include "util/unique_fd.hpp"

#include <bpf/bpf.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <thread>
#include <vector>

using namespace fizzhost;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kNs = "fzbench-" + std::to_string(getpid());
constexpr int kSwaps = 40;

int sh(const std::string& cmd) { return std::system(cmd.c_str()); }

uint32_t linkProgramId(uint32_t linkId) {
    UniqueFd fd(bpf_link_get_fd_by_id(linkId));
    bpf_link_info info{};
    uint32_t len = sizeof info;
    if (!fd || bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0) return 0;
    return info.prog_id;
}

double cpuSeconds(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string s((std::istreambuf_iterator<char>(in)), {});
    auto p = s.rfind(')');
    std::vector<std::string> f;
    size_t i = p + 2;
    while (i < s.size()) {
        size_t j = s.find(' ', i);
        f.push_back(s.substr(i, j - i));
        if (j == std::string::npos) break;
        i = j + 1;
    }
    return double(std::stoull(f[11]) + std::stoull(f[12])) / double(sysconf(_SC_CLK_TCK));
}

void report(const char* what, std::vector<double> ms) {
    std::sort(ms.begin(), ms.end());
    std::printf("%-44s median %7.2f ms  min %7.2f  max %7.2f  (n=%zu)\n", what, ms[ms.size() / 2], ms.front(), ms.back(),
                ms.size());
}

// The median of each phase over the daemon's "reload phases: a 1.00 ms, b 2.00 ms (2x), ..." lines, in
// the order first seen, and of the signal's hand-over ("SIGHUP taken 0.01 ms after it was read").
void reportPhases(const std::string& logPath) {
    std::ifstream in(logPath);
    std::vector<std::string> order;
    std::map<std::string, std::vector<double>> phases;
    auto add = [&](const std::string& name, double ms) {
        if (!phases.count(name)) order.push_back(name);
        phases[name].push_back(ms);
    };
    const std::regex taken(R"(SIGHUP taken ([0-9.]+) ms)"), config(R"(config read in ([0-9.]+) ms)"),
        step(R"(([a-z][a-z -]*) ([0-9.]+) ms)");
    std::smatch m;
    for (std::string line; std::getline(in, line);) {
        if (std::regex_search(line, m, taken)) add("signal hand-over", std::stod(m[1]));
        else if (std::regex_search(line, m, config)) add("config read", std::stod(m[1]));
        const auto at = line.find("reload phases: ");
        if (at == std::string::npos) continue;
        const std::string list = line.substr(at + 15);
        for (auto it = std::sregex_iterator(list.begin(), list.end(), step); it != std::sregex_iterator(); ++it)
            add((*it)[1], std::stod((*it)[2]));
    }
    if (order.empty()) return;
    std::printf("daemon's phases per reload (median ms; the new program is live after 'link update'):\n");
    for (const auto& name : order) {
        auto& v = phases[name];
        std::sort(v.begin(), v.end());
        std::printf("  %-20s %7.2f  (n=%zu)\n", name.c_str(), v[v.size() / 2], v.size());
    }
}

}  // namespace

int main() {
    if (sh("ip netns add " + kNs + " && ip -n " + kNs + " link add fzb0 type veth peer name fzb1 && ip -n " + kNs +
           " link set fzb0 up && ip -n " + kNs + " link set fzb1 up") != 0)
        return 1;
    struct Cleanup {
        ~Cleanup() { sh("ip netns del " + kNs); }
    } cleanup;
    char dir[] = "/tmp/fizzhost-swap-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    const std::string cfg = std::string(dir) + "/fizz.toml", sock = std::string(dir) + "/c.sock",
                      log = std::string(dir) + "/daemon.log";
    auto writeConfig = [&](const char* classifier) {
        std::ofstream(cfg) << "plugin_dir = \"" FIZZHOST_PLUGIN_DIR "\"\ncontrol_socket = \"" << sock
                           << "\"\n[output]\nevents = \"/dev/null\"\n[interface.fzb0]\nclassifier = \"" << classifier
                           << "\"\n";
    };

    // Baseline: bpf_link_update between two loaded programs, nothing else. The programs and the
    // peer's link stay for the interleaved baseline.
    std::vector<double> bare, interleaved;
    plugin::Catalog catalog(FIZZHOST_PLUGIN_DIR, plugin::FilePolicy{});
    catalog.rescan();
    auto a = runtime::Classifier::load(catalog.find("fizz"), {});
    auto b = runtime::Classifier::load(catalog.find("fizzbuzz"), {});
    int bareUpdates = 0;
    auto bareUpdate = [&](bpf::XdpLink& link) {
        auto t0 = Clock::now();
        if (bareUpdates++ % 2 == 0) link.update(b->programFd(), a->programFd());
        else link.update(a->programFd(), b->programFd());
        return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    };
    auto attachIn = [&](const char* ifname) {
        UniqueFd self(open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
        UniqueFd target(open(("/var/run/netns/" + kNs).c_str(), O_RDONLY | O_CLOEXEC));
        setns(target.get(), CLONE_NEWNET);
        bareUpdates = 0;
        auto link = bpf::XdpLink::attach(a->programFd(), int(if_nametoindex(ifname)), ifname, bpf::XdpMode::Native);
        setns(self.get(), CLONE_NEWNET);
        return link;
    };
    {
        auto link = attachIn("fzb0");
        for (int i = 0; i < kSwaps; ++i) bare.push_back(bareUpdate(link));
        link.detach();
    }
    auto peerLink = attachIn("fzb1");

    writeConfig("fizz");
    const char* daemon = std::getenv("FIZZHOST_BENCH_DAEMON") ? std::getenv("FIZZHOST_BENCH_DAEMON") : FIZZHOST_BINARY;
    std::printf("daemon: %s\n", daemon);
    pid_t pid = fork();
    if (pid == 0) {
        int out = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        dup2(out, 2);
        execlp("ip", "ip", "netns", "exec", kNs.c_str(), daemon, "--config", cfg.c_str(), "--log-level",
               "debug", nullptr);
        _exit(127);
    }
    nlohmann::json st;
    for (int i = 0; i < 200; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        try {
            st = service::queryStatus(sock);
            break;
        } catch (...) {
        }
    }
    if (st.is_null()) {
        std::fprintf(stderr, "fizzhost did not start\n");
        kill(pid, SIGKILL);
        return 1;
    }
    const uint32_t linkId = st["interfaces"][0]["link_id"];
    // The daemon's own pid (ip netns exec execs it in place).
    std::vector<double> swaps;
    const char* plugins[] = {"fizzbuzz", "fibonacci", "fizz"};
    for (int i = 0; i < kSwaps; ++i) {
        interleaved.push_back(bareUpdate(peerLink));
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the same pause as before a SIGHUP
        const uint32_t before = linkProgramId(linkId);
        writeConfig(plugins[i % 3]);
        auto t0 = Clock::now();
        kill(pid, SIGHUP);
        while (linkProgramId(linkId) == before) std::this_thread::sleep_for(std::chrono::microseconds(50));
        swaps.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let the old state drain
    }
    const double cpu0 = cpuSeconds(pid);
    std::this_thread::sleep_for(std::chrono::seconds(10));
    const double idle = (cpuSeconds(pid) - cpu0) / 10.0;
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);

    peerLink.detach();

    report("baseline: bare bpf_link_update, back to back", bare);
    report("baseline: bare bpf_link_update, interleaved", interleaved);
    report("SIGHUP -> new program attached (daemon)", swaps);
    auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v[v.size() / 2];
    };
    std::printf("ratio of medians: %.2fx the interleaved baseline, %.2fx the back-to-back one\n",
                median(swaps) / median(interleaved), median(swaps) / median(bare));
    std::printf("idle host (1 interface, ring transport, 10 s): %.3f%% of a core\n", idle * 100);
    reportPhases(log);
    std::filesystem::remove_all(dir);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
