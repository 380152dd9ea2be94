// fizzhost_frame_rate: the whole path at frame rate on a real interface. fizzhost-gen (live frames,
// BPF_PROG_TEST_RUN) sends frames from 198.18.0.0/15 out of one end of a veth pair as fast as one CPU
// can; the other end runs native XDP: first the empty XDP_PASS program alone (the floor), then the
// real fizzhost daemon with each shipped classifier (frames classified, messages drained by the
// pump, decoded, turned into JSON and written to a file), then the A/B dispatcher at 50%. One run
// measures them all, round after round, and prints per configuration, from its median round:
// frames/s received (the host end's XDP count over the generator's time) and the ratio to the
// floor, events/s written, the losses (frames the peer's ring refused, messages the ring had no
// room for, events lost on write), the daemon's CPU (cores during the run; CPU seconds per million
// events, the drain after the run included) and each CPU's split between user, system, softirq and
// idle, which shows what sets the rate.
//
//   fizzhost_frame_rate [--seconds 5] [--rounds 3] [--gen-cpu N|-1] [--sources 65536] [--batch 64]
//                       [--threaded-napi]
//
// Runs as root in two namespaces of its own (the veth pair between them); removes them at exit.
#include "host_probe.hpp"

#include "bpf/xdp_link.hpp"
#include "measure/interface_counters.hpp"
#include "measure/program_bench.hpp"
#include "service/control_server.hpp"
#include "support/daemon_process.hpp"
#include "support/netns.hpp"

#include <CLI/CLI.hpp>
#include <signal.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

using namespace fizzhost;
using namespace fizzhost::bench;
using fizzhost::test::DaemonProcess;
using fizzhost::test::NetNs;
using fizzhost::test::ScopedNetns;
using Clock = std::chrono::steady_clock;

namespace {

struct Settings {
    double seconds = 5;
    unsigned rounds = 3;
    int genCpu = -2;  // -2: the last CPU; -1: not pinned
    uint32_t sources = 65536;
    uint32_t batch = 64;
    bool threadedNapi = false;
};

// The daemon's counters for the one interface, and its CPU.
struct DaemonFigures {
    uint64_t packets = 0, emitted = 0, dropped = 0, delivered = 0, undecodable = 0, lost = 0;
    double cpu = 0;
    std::vector<std::pair<pid_t, double>> threads;
};

struct Snapshot {
    Clock::time_point at;
    uint64_t received = 0;     // frames the host end's XDP program ran on
    double kernelThreads = 0;  // CPU seconds of ksoftirqd and NAPI threads
    std::vector<CpuTimes> cpus;
    DaemonFigures daemon;
};

struct RunFigures {
    double rate = 0;  // frames received per second of generation
    // Frames received per CPU second of the path: the generator's process (its kernel calls and the
    // receive softirq that runs on their way out) and the kernel threads that took deferred softirq
    // or NAPI work. Steadier than `rate` where other work shares the CPUs.
    double perCpuSecond = 0;
    double pathCpu = 0;
    uint64_t frames = 0, received = 0, refused = 0;
    double genSeconds = 0, genCpu = 0;
    uint64_t events = 0, dropped = 0, lost = 0, undecodable = 0, backlog = 0;
    double eventsRate = 0, daemonCores = 0, busiestThreadCores = 0, cpuPerMillionEvents = 0, drainSeconds = 0;
    std::vector<CpuShare> cpus;
};

struct Configuration {
    std::string label;
    std::string table;  // the interface's config body; empty: the floor program, no daemon
};

double since(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

DaemonFigures daemonFigures(const std::filesystem::path& socket, pid_t pid) {
    const auto st = service::queryStatus(socket);
    const auto& totals = st["interfaces"].at(0)["totals"];
    DaemonFigures d;
    d.packets = totals["packets"];
    d.emitted = totals["emitted"];
    d.dropped = totals["dropped"];
    d.delivered = totals["delivered"];
    d.undecodable = totals["undecodable"];
    d.lost = st["events_lost"];
    d.cpu = processCpuSeconds(pid);
    d.threads = threadCpuSeconds(pid);
    return d;
}

class RateLab {
public:
    explicit RateLab(const Settings& s) : settings_(s), veth_(hostNs_, genNs_) {
        ScopedNetns in(hostNs_);
        counters_.emplace(veth_.nameA());
    }
    const std::string& ifname() const { return veth_.nameA(); }
    const std::string& engine() const { return engine_; }

    RunFigures measure(const Configuration& c) {
        std::optional<bpf::XdpLink> floorLink;
        std::optional<measure::FloorProgram> floor;
        std::optional<DaemonProcess> daemon;
        const auto& dir = dir_.path();
        const auto socket = dir / "control.sock", events = dir / "events.jsonl";
        if (c.table.empty()) {
            floor.emplace(measure::loadFloorProgram());
            ScopedNetns in(hostNs_);
            floorLink.emplace(bpf::XdpLink::attach(floor->fd, veth_.ifindexA(), veth_.nameA(), bpf::XdpMode::Native));
        } else {
            const auto config = dir / "rate.toml";
            std::ofstream(config) << "plugin_dir = \"" FIZZHOST_PLUGIN_DIR "\"\ncontrol_socket = \"" << socket.string()
                                  << "\"\n[output]\nevents = \"" << events.string()
                                  << "\"\nformat = \"json\"\n[service]\nstate_root = \"" << stateRoot_.path << "\"\n"
                                  << c.table;
            daemon.emplace(std::vector<std::string>{FIZZHOST_BINARY, "--config", config.string()}, dir, hostNs_.name());
            if (!daemon->waitForStderr("fizzhost running", std::chrono::seconds(30)))
                throw std::runtime_error("fizzhost did not start:\n" + daemon->stderrText());
        }
        // veth makes its NAPI instance when an XDP program arrives (and drops it when the last one
        // goes), so the setting is made after each attachment.
        if (settings_.threadedNapi)
            test::run({"ip", "netns", "exec", hostNs_.name(), "sh", "-c",
                       "echo 1 > /sys/class/net/" + veth_.nameA() + "/threaded"});
        const pid_t pid = daemon ? daemon->pid() : 0;
        auto snapshot = [&] {
            Snapshot s;
            s.at = Clock::now();
            s.received = counters_->sum("rx_queue_", "_xdp_packets");
            s.kernelThreads = kernelThreadCpuSeconds({"ksoftirqd/", "napi/"});
            s.cpus = cpuTimes();
            if (daemon) s.daemon = daemonFigures(socket, pid);
            return s;
        };
        generate(0.5);  // warm-up: page pools, the pump's buffers, the file
        const Snapshot s0 = snapshot();
        const auto gen = generate(settings_.seconds);
        const Snapshot s1 = snapshot();
        Snapshot s2 = s1;
        if (daemon) {
            // The run is over when every message that entered the ring left it (written, lost or refused).
            const auto deadline = Clock::now() + std::chrono::seconds(60);
            while (s2.daemon.delivered + s2.daemon.lost + s2.daemon.undecodable <
                       s2.daemon.emitted - s2.daemon.dropped &&
                   Clock::now() < deadline) {
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
                s2 = snapshot();
            }
        }

        RunFigures r;
        r.frames = gen.at("frames");
        r.genSeconds = gen.at("seconds");
        r.genCpu = gen.at("cpu_user_seconds").get<double>() + gen.at("cpu_system_seconds").get<double>();
        r.refused = gen.value("dropped", uint64_t(0));
        engine_ = gen.value("engine", std::string("?"));
        if (gen.contains("live_refused"))
            engine_ += " (live frames refused here: " + gen["live_refused"].get<std::string>() + ")";
        r.received = s1.received - s0.received;
        r.rate = double(r.received) / r.genSeconds;
        r.pathCpu = r.genCpu + (s1.kernelThreads - s0.kernelThreads);
        r.perCpuSecond = r.pathCpu > 0 ? double(r.received) / r.pathCpu : 0;
        r.cpus = cpuShares(s0.cpus, s1.cpus);
        if (daemon) {
            const auto& a = s0.daemon;
            r.events = s1.daemon.delivered - a.delivered;
            r.eventsRate = double(r.events) / r.genSeconds;
            r.dropped = s2.daemon.dropped - a.dropped;
            r.lost = s2.daemon.lost - a.lost;
            r.undecodable = s2.daemon.undecodable - a.undecodable;
            r.backlog =
                (s1.daemon.emitted - s1.daemon.dropped) - s1.daemon.delivered - s1.daemon.lost - s1.daemon.undecodable;
            r.drainSeconds = since(s1.at, s2.at);
            r.daemonCores = (s1.daemon.cpu - a.cpu) / since(s0.at, s1.at);
            r.busiestThreadCores = busiestThreadDelta(a.threads, s1.daemon.threads) / since(s0.at, s1.at);
            const uint64_t written = s2.daemon.delivered - a.delivered;
            r.cpuPerMillionEvents = written ? (s2.daemon.cpu - a.cpu) / double(written) * 1e6 : 0;
            daemon->signal(SIGTERM);
            if (!daemon->waitExit(std::chrono::seconds(30))) throw std::runtime_error("fizzhost did not stop");
        }
        std::error_code ec;
        std::filesystem::remove(events, ec);  // up to gigabytes per run
        return r;
    }

private:
    // fizzhost-gen in the generator's namespace for `seconds`; its JSON summary.
    nlohmann::json generate(double seconds) {
        std::vector<std::string> argv = {FIZZHOST_GEN_BINARY, "--json", "--iface", veth_.nameB()};
        argv.insert(argv.end(), {"--from", "198.18.0.0"});
        argv.insert(argv.end(), {"--count", std::to_string(settings_.sources), "--seconds", std::to_string(seconds)});
        argv.insert(argv.end(), {"--batch", std::to_string(settings_.batch)});
        if (settings_.genCpu >= 0) argv.insert(argv.end(), {"--cpu", std::to_string(settings_.genCpu)});
        DaemonProcess gen(argv, {}, genNs_.name());
        const auto status = gen.waitExit(std::chrono::seconds(int(seconds) + 60));
        if (status != 0) throw std::runtime_error("fizzhost-gen failed:\n" + gen.stderrText());
        return nlohmann::json::parse(gen.stdoutText());
    }

    // The daemon's state root, removed whatever happened (a daemon that was killed leaves its pins).
    struct StateRoot {
        std::string path = "/sys/fs/bpf/fizzhost-rate-" + std::to_string(getpid());
        ~StateRoot() {
            std::error_code ec;
            std::filesystem::remove_all(path, ec);
        }
    };

    Settings settings_;
    test::TempDir dir_;
    StateRoot stateRoot_;
    NetNs hostNs_, genNs_;
    test::VethPair veth_;
    std::optional<measure::InterfaceCounters> counters_;
    std::string engine_;
};

const RunFigures& medianRun(std::vector<RunFigures>& runs) {
    std::sort(runs.begin(), runs.end(), [](const auto& a, const auto& b) { return a.rate < b.rate; });
    return runs[runs.size() / 2];
}

double medianPerCpu(const std::vector<RunFigures>& runs) {
    std::vector<double> v;
    for (const auto& r : runs) v.push_back(r.perCpuSecond);
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

void printRow(const std::string& label, std::vector<RunFigures> runs, double floorRate, double floorPerCpu,
              bool daemon) {
    const RunFigures& m = medianRun(runs);
    const double perCpu = medianPerCpu(runs);
    std::printf("%-28s %9.0f %6.0f-%-6.0f %5.2fx %9.0f %5.2fx %6.0f", label.c_str(), m.rate, runs.front().rate / 1e3,
                runs.back().rate / 1e3, m.rate / floorRate, perCpu, perCpu / floorPerCpu, 1e9 / perCpu);
    if (daemon)
        std::printf(" %9.0f %7llu %8llu %5llu %6.2f %6.2f %7.3f %7llu\n", m.eventsRate, (unsigned long long)m.refused,
                    (unsigned long long)m.dropped, (unsigned long long)m.lost, m.daemonCores, m.busiestThreadCores,
                    m.cpuPerMillionEvents, (unsigned long long)m.backlog);
    else
        std::printf(" %9s %7llu %8s %5s %6s %6s %7s %7s\n", "-", (unsigned long long)m.refused, "-", "-", "-", "-", "-",
                    "-");
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"fizzhost_frame_rate: frames/s through native XDP, the classifier and the daemon's event path"};
    Settings s;
    app.add_option("--seconds", s.seconds, "generation per measurement")->capture_default_str();
    app.add_option("--rounds", s.rounds, "rounds over every configuration (median reported)")->capture_default_str();
    app.add_option("--gen-cpu", s.genCpu, "pin the generator to this CPU (-1: not pinned; default: the last CPU)");
    app.add_option("--sources", s.sources, "source addresses the generator cycles through")->capture_default_str();
    app.add_option("--batch", s.batch, "generator frames per kernel batch (1..256)")->capture_default_str();
    app.add_flag("--threaded-napi", s.threadedNapi, "receive on the host end in a NAPI thread, not in softirq");
    CLI11_PARSE(app, argc, argv);
    const unsigned cpus = unsigned(std::thread::hardware_concurrency());
    if (s.genCpu == -2) s.genCpu = int(cpus) - 1;

    NetNs::sweepStale();
    RateLab lab(s);
    const std::string ifc = "[interface." + lab.ifname() + "]\nmode = \"native\"\n";
    const std::vector<Configuration> configs = {
        {"floor: XDP_PASS only", ""},
        {"fizz", ifc + "classifier = \"fizz\"\n"},
        {"fizzbuzz", ifc + "classifier = \"fizzbuzz\"\n"},
        {"fibonacci", ifc + "classifier = \"fibonacci\"\n"},
        {"A/B 50% fizzbuzz|fibonacci", ifc + "classifier = \"fizzbuzz\"\n[interface." + lab.ifname() +
                                           ".rollout]\ncandidate = \"fibonacci\"\npercent = 50\n"},
    };
    utsname un{};
    uname(&un);
    std::printf(
        "frame rate through a veth pair: fizzhost-gen (%u sources, batch %u, %s) -> native XDP "
        "on the peer%s\n%u CPUs, kernel %s, load average %.2f at the start; %.1f s per run, median of %u rounds\n",
        s.sources, s.batch, s.genCpu >= 0 ? ("on CPU " + std::to_string(s.genCpu)).c_str() : "not pinned",
        s.threadedNapi ? " (threaded NAPI)" : " (NAPI in softirq)", cpus, un.release, loadAverage(), s.seconds,
        s.rounds);

    std::vector<std::vector<RunFigures>> runs(configs.size());
    for (unsigned round = 0; round < s.rounds; ++round)
        for (size_t i = 0; i < configs.size(); ++i) {
            runs[i].push_back(lab.measure(configs[i]));
            std::fprintf(stderr, "round %u: %-28s %10.0f frames/s, %10.0f per path CPU second\n", round + 1,
                         configs[i].label.c_str(), runs[i].back().rate, runs[i].back().perCpuSecond);
        }

    std::vector<RunFigures> floorRuns = runs[0];
    const double floorRate = medianRun(floorRuns).rate, floorPerCpu = medianPerCpu(runs[0]);
    std::printf("\n%-28s %9s %13s %6s %9s %6s %6s %9s %7s %8s %5s %6s %6s %7s %7s\n", "configuration", "frames/s",
                "(k, min-max)", "floor", "/CPU-s", "floor", "ns/fr", "events/s", "refused", "ringfull", "lost",
                "daemon", "pump", "CPU s/M", "backlog");
    for (size_t i = 0; i < configs.size(); ++i) printRow(configs[i].label, runs[i], floorRate, floorPerCpu, i > 0);
    std::printf("\ngenerator engine: %s\n", lab.engine().c_str());
    std::printf(
        "frames/s: received by the host end's XDP per second of generation (median round, and the range).\n"
        "/CPU-s: frames per CPU second of the path (the generator's process, which also runs the host end's\n"
        "receive softirq, plus ksoftirqd and NAPI threads), steadier than frames/s when other work shares the\n"
        "CPUs; ns/fr: its inverse. floor: ratios to the XDP_PASS-only program of the same run. refused: frames\n"
        "the host end had no room for (the sending veth's tx_dropped). ringfull: messages the classifier's ring\n"
        "had no room for. lost: events lost on write. daemon: the daemon's CPU in cores during the run; pump:\n"
        "its busiest thread. CPU s/M: daemon CPU seconds per million events written, the drain after the run\n"
        "included. backlog: messages still in the rings when the run ended.\n\n");
    std::printf("CPU split during the median run:\n");
    for (size_t i = 0; i < configs.size(); ++i) {
        const auto m = medianRun(runs[i]);
        std::printf("  %-28s path %.2f CPU s in %.1f s;", configs[i].label.c_str(), m.pathCpu, m.genSeconds);
        for (size_t c = 0; c < m.cpus.size(); ++c)
            std::printf(" cpu%zu usr %2.0f%% sys %2.0f%% si %2.0f%% idle %2.0f%%%s", c, m.cpus[c].user,
                        m.cpus[c].system, m.cpus[c].softirq, m.cpus[c].idle, c + 1 < m.cpus.size() ? ";" : "\n");
    }
    return 0;
}
