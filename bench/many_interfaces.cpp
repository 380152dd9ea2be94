// fizzhost_many_interfaces: what a host with tens of interfaces costs, against the interface count.
// For each N (1 8 16 32 64 by default): N veth pairs between two namespaces of its own, the real
// daemon on the N host ends (fizz on each), and
//   start   from exec to READY=1 on a NOTIFY_SOCKET the bench listens on (what systemd waits for);
//   reload  a `fizzhost reload` request (the control socket) that changes every interface's
//           classifier (fizz -> fizzbuzz), until the answer; baseline measured in the same run: N bare
//           bpf_link_updates on the same N interfaces, one after another, each to a loaded program of
//           its own (the kernel's floor: each waits for an RCU grace period);
//   status  one `status` request (median of 10); scrape: one GET /metrics (median of 10), its size
//           and the interfaces it has series for;
//   idle    the daemon's CPU over --idle-seconds with no traffic (and its busiest thread, the pump);
//   memory  RSS, open fds, and the BPF maps it holds as the kernel counts them (memlock), per
//           interface and not attached to any (spare regions maps), measure/bpf_memory.hpp.
// Then the cost per added interface (least-squares slope over N) and the ring memory formula.
//
//   fizzhost_many_interfaces [--counts 1,8,16,32,64] [--idle-seconds 10] [--ring-slots N]
#include "host_probe.hpp"

#include "bpf/cpu_regions.hpp"
#include "bpf/map.hpp"
#include "bpf/xdp_link.hpp"
#include "measure/bpf_memory.hpp"
#include "measure/program_bench.hpp"
#include "runtime/instance/classifier.hpp"
#include "service/control_request.hpp"
#include "service/control_server.hpp"
#include "support/daemon_process.hpp"
#include "support/veth_set.hpp"

#include <CLI/CLI.hpp>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <thread>

using namespace fizzhost;
using namespace fizzhost::bench;
using namespace fizzhost::test;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kMetricsPort = 9464;
constexpr int kSamples = 10;

double ms(Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// The datagram socket a service manager listens on for sd_notify().
class NotifySocket {
public:
    explicit NotifySocket(std::filesystem::path path) : path_(std::move(path)) {
        fd_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
        if (!fd_ || ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
            throw std::runtime_error("bind notify socket " + path_.string() + ": " + std::strerror(errno));
    }
    /// Waits for a datagram holding `what`; false after `timeout`.
    bool waitFor(const std::string& what, std::chrono::seconds timeout) {
        const auto deadline = Clock::now() + timeout;
        char buf[4096];
        while (Clock::now() < deadline) {
            pollfd p{fd_.get(), POLLIN, 0};
            if (::poll(&p, 1, 100) != 1) continue;
            const ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
            if (n > 0 && std::string(buf, size_t(n)).find(what) != std::string::npos) return true;
        }
        return false;
    }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
    UniqueFd fd_;
};

struct Scrape {
    double ms = 0;
    std::string body;
};

// GET /metrics from the daemon's listener on the loopback of `ns`.
Scrape scrape(const NetNs& ns) {
    UniqueFd fd;
    {
        ScopedNetns in(ns);  // the socket belongs to the namespace it was made in
        fd.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(kMetricsPort);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const auto t0 = Clock::now();
    if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        throw std::runtime_error(std::string("connect to the metrics listener: ") + std::strerror(errno));
    const std::string request = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    service::sendAll(fd.get(), request);
    Scrape s;
    char buf[65536];
    for (ssize_t n; (n = ::recv(fd.get(), buf, sizeof buf, 0)) > 0;) s.body.append(buf, size_t(n));
    s.ms = ms(Clock::now() - t0);
    return s;
}

struct Row {
    size_t n = 0;
    double startMs = 0, reloadMs = 0, bareMs = 0, statusMs = 0, scrapeMs = 0;
    size_t scrapeBytes = 0, scrapedInterfaces = 0;
    double idlePercent = 0, idleBusiestPercent = 0;
    long rssKiB = 0;
    size_t fds = 0;
    measure::BpfMemory memory;
    std::string reloadPhases;  // the daemon's own account of the reload ("reload phases: ..." at debug)
};

std::string config(const std::filesystem::path& dir, const std::string& stateRoot, const VethSet& veths,
                   const char* classifier, uint32_t ringSlots) {
    std::string c = "plugin_dir = \"" FIZZHOST_PLUGIN_DIR "\"\ncontrol_socket = \"" + (dir / "control.sock").string() +
                    "\"\n[output]\n";
    if (ringSlots) c += "ring_slots = " + std::to_string(ringSlots) + "\n";
    c += "events = \"" + (dir / "events.jsonl").string() +
         "\"\n[metrics]\nlisten = \"127.0.0.1:" + std::to_string(kMetricsPort) + "\"\n[service]\nstate_root = \"" +
         stateRoot + "\"\n";
    for (const auto& name : veths.namesA())
        c += "[interface." + name + "]\nclassifier = \"" + classifier + "\"\nmode = \"native\"\n";
    return c;
}

// N bare bpf_link_updates, one per interface, each to a program of its own (as a reload gives every
// interface a fresh instance): every update then changes the kernel's XDP dispatcher and waits for
// an RCU grace period. Updates to one shared program would only count references after the first.
double bareUpdates(const NetNs& ns, const VethSet& veths) {
    auto a = measure::loadFloorProgram();
    std::vector<measure::FloorProgram> next;
    for (size_t i = 0; i < veths.size(); ++i) next.push_back(measure::loadFloorProgram());
    std::vector<bpf::XdpLink> links;
    ScopedNetns in(ns);
    for (size_t i = 0; i < veths.size(); ++i)
        links.push_back(bpf::XdpLink::attach(a.fd, veths.ifindexA(i), veths.nameA(i), bpf::XdpMode::Native));
    const auto t0 = Clock::now();
    for (size_t i = 0; i < links.size(); ++i) links[i].update(next[i].fd, a.fd);
    const double took = ms(Clock::now() - t0);
    for (auto& l : links) l.detach();
    return took;
}

Row measureHost(size_t n, double idleSeconds, uint32_t ringSlots) {
    NetNs hostNs, peerNs;
    VethSet veths(hostNs, peerNs, n);
    TempDir dir;
    const std::string stateRoot = "/sys/fs/bpf/fizzhost-many-" + std::to_string(getpid());
    struct RemoveRoot {
        std::string path;
        ~RemoveRoot() {
            std::error_code ec;
            std::filesystem::remove_all(path, ec);
        }
    } removeRoot{stateRoot};
    Row r;
    r.n = n;
    r.bareMs = bareUpdates(hostNs, veths);

    const auto configPath = dir.path() / "many.toml";
    std::ofstream(configPath) << config(dir.path(), stateRoot, veths, "fizz", ringSlots);
    NotifySocket notify(dir.path() / "notify.sock");
    const auto t0 = Clock::now();
    DaemonProcess daemon({"env", "NOTIFY_SOCKET=" + notify.path().string(), FIZZHOST_BINARY, "--config",
                          configPath.string(), "--log-level", "debug"},
                         dir.path(), hostNs.name());
    if (!notify.waitFor("READY=1", std::chrono::seconds(120)))
        throw std::runtime_error("no READY=1 from fizzhost:\n" + daemon.stderrText());
    r.startMs = ms(Clock::now() - t0);

    std::ofstream(configPath, std::ios::trunc) << config(dir.path(), stateRoot, veths, "fizzbuzz", ringSlots);
    const auto t1 = Clock::now();
    const auto answer = service::requestReload(dir.path() / "control.sock", std::chrono::seconds(120));
    r.reloadMs = ms(Clock::now() - t1);
    if (answer.outcome != service::ReloadAnswer::Outcome::Live)
        throw std::runtime_error("the reload was not applied: " + answer.message);
    const std::string log = daemon.stderrText();
    if (const auto at = log.rfind("reload phases: "); at != std::string::npos)
        r.reloadPhases = log.substr(at + 15, log.find('\n', at) - at - 15);

    std::vector<double> status, scrapes;
    for (int i = 0; i < kSamples; ++i) {
        const auto s0 = Clock::now();
        const auto st = service::queryStatus(dir.path() / "control.sock");
        status.push_back(ms(Clock::now() - s0));
        if (st["interfaces"].size() != n)
            throw std::runtime_error("status lists " + std::to_string(st["interfaces"].size()));
        const auto s = scrape(hostNs);
        scrapes.push_back(s.ms);
        r.scrapeBytes = s.body.size();
        std::set<std::string> seen;
        const std::string series = "fizzhost_packets_total{interface=\"";
        for (size_t at = 0; (at = s.body.find(series, at)) != std::string::npos;) {
            at += series.size();
            seen.insert(s.body.substr(at, s.body.find('"', at) - at));
        }
        r.scrapedInterfaces = seen.size();
    }
    r.statusMs = median(status);
    r.scrapeMs = median(scrapes);

    const pid_t pid = daemon.pid();
    const double cpu0 = processCpuSeconds(pid);
    const auto threads0 = threadCpuSeconds(pid);
    std::this_thread::sleep_for(std::chrono::duration<double>(idleSeconds));
    r.idlePercent = (processCpuSeconds(pid) - cpu0) / idleSeconds * 100;
    r.idleBusiestPercent = busiestThreadDelta(threads0, threadCpuSeconds(pid)) / idleSeconds * 100;
    r.rssKiB = residentKiB(pid);
    r.fds = openFds(pid);
    r.memory = measure::bpfMemory(pid, std::filesystem::path(stateRoot));
    daemon.signal(SIGTERM);
    if (daemon.waitExit(std::chrono::seconds(60)) != 0) throw std::runtime_error("fizzhost did not stop cleanly");
    return r;
}

// Least-squares slope of y over n.
double slope(const std::vector<Row>& rows, double (*y)(const Row&)) {
    double sn = 0, sy = 0, snn = 0, sny = 0;
    for (const auto& r : rows) {
        const double x = double(r.n), v = y(r);
        sn += x, sy += v, snn += x * x, sny += x * v;
    }
    const double k = double(rows.size()), d = k * snn - sn * sn;
    return d != 0 ? (k * sny - sn * sy) / d : 0;
}

double mib(uint64_t bytes) {
    return double(bytes) / (1 << 20);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"fizzhost_many_interfaces: start, reload, status, metrics, idle CPU and memory against interfaces"};
    std::vector<size_t> counts = {1, 8, 16, 32, 64};
    double idleSeconds = 10;
    uint32_t ringSlots = 0;
    app.add_option("--counts", counts, "interface counts")->delimiter(',')->capture_default_str();
    app.add_option("--idle-seconds", idleSeconds, "idle window per count")->capture_default_str();
    app.add_option("--ring-slots", ringSlots, "ring_slots for the daemon (0: its default)")->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    NetNs::sweepStale();
    TempDir::sweepStale();

    const unsigned cpus = bpf::possibleCpus();
    // The daemon's own rule (runtime/instance/ring_sizing.hpp), for this machine and for 128 CPUs.
    const config::RingRate rate;
    const uint32_t slots = runtime::ringSlotsFor(8, ringSlots, rate, cpus);
    const uint32_t slots128 = runtime::ringSlotsFor(8, ringSlots, rate, 128);
    std::printf(
        "a host with N interfaces: fizz on each, reloaded to fizzbuzz; %u slots per CPU (%s), %u possible CPUs, "
        "load average %.2f at the start\n\n",
        slots, ringSlots ? "ring_slots" : "the default rate: 14.88e6/s x 20 ms over min(8, CPUs)", cpus,
        loadAverage());
    std::printf("%4s %9s %9s %9s %6s %8s %8s %9s %5s %8s %8s %5s %10s %10s %10s\n", "N", "start ms", "reload ms",
                "bare ms", "ratio", "status", "scrape", "bytes", "ifs", "idle %", "pump %", "fds", "RSS MiB",
                "maps MiB", "per-if MiB");
    std::vector<Row> rows;
    for (size_t n : counts) {
        rows.push_back(measureHost(n, idleSeconds, ringSlots));
        const Row& r = rows.back();
        const double perIf = r.memory.interfaces.empty() ? 0 : mib(r.memory.interfaces.front().bytes);
        std::printf("%4zu %9.1f %9.1f %9.1f %5.2fx %8.2f %8.2f %9zu %5zu %8.3f %8.3f %5zu %10.1f %10.1f %10.2f\n", r.n,
                    r.startMs, r.reloadMs, r.bareMs, r.reloadMs / r.bareMs, r.statusMs, r.scrapeMs, r.scrapeBytes,
                    r.scrapedInterfaces, r.idlePercent, r.idleBusiestPercent, r.fds, double(r.rssKiB) / 1024,
                    mib(r.memory.totalBytes), perIf);
        std::fflush(stdout);
    }
    std::printf(
        "\nratio: reload / bare link updates on the same N interfaces (the kernel's floor, measured in the same\n"
        "run); status and scrape in ms (median of %d); ifs: interfaces with series in the scrape; idle %%: the\n"
        "daemon's CPU over %.0f s without traffic, pump %%: its busiest thread; maps: the kernel's memlock of\n"
        "every BPF map the daemon holds (per-if: those of one interface's link alone).\n\n",
        kSamples, idleSeconds);
    if (rows.size() >= 2) {
        std::printf(
            "per added interface (least-squares slope): start %+.1f ms, reload %+.1f ms (bare update %+.1f ms), "
            "status %+.3f ms, scrape %+.3f ms, idle CPU %+.4f %%, fds %+.2f, RSS %+.0f KiB, BPF maps %+.2f MiB\n",
            slope(rows, [](const Row& r) { return r.startMs; }), slope(rows, [](const Row& r) { return r.reloadMs; }),
            slope(rows, [](const Row& r) { return r.bareMs; }), slope(rows, [](const Row& r) { return r.statusMs; }),
            slope(rows, [](const Row& r) { return r.scrapeMs; }),
            slope(rows, [](const Row& r) { return r.idlePercent; }),
            slope(rows, [](const Row& r) { return double(r.fds); }),
            slope(rows, [](const Row& r) { return double(r.rssKiB); }),
            slope(rows, [](const Row& r) { return mib(r.memory.totalBytes); }));
    }
    std::printf("\nwhere each reload's time went, by the daemon's own account (--log-level debug):\n");
    for (const auto& r : rows) std::printf("  N=%-3zu %s\n", r.n, r.reloadPhases.c_str());
    const uint64_t here = runtime::regionsMapBytes(8, slots, cpus);
    const uint64_t at128 = runtime::regionsMapBytes(8, slots128, 128);
    std::printf(
        "\nring memory (8-byte messages): one instance = possible CPUs x (256-byte header + slots x 8 bytes,\n"
        "rounded to 64) = %u x %llu = %.2f MiB here; at 128 possible CPUs (%u slots) 128 x %llu = %llu bytes\n"
        "(%.1f MiB, %.1f MB) per interface, two instances during a rollout; spare_regions = \"auto\" keeps a\n"
        "spare only for maps of at most %llu MiB.\n",
        cpus, (unsigned long long)(here / cpus), mib(here), slots128, (unsigned long long)(at128 / 128),
        (unsigned long long)at128, mib(at128), double(at128) / 1e6,
        (unsigned long long)(config::kAutoSpareMaxBytes >> 20));
    if (!rows.empty() && !rows.back().memory.interfaces.empty())
        std::printf(
            "measured at N=%zu: %.2f MiB per interface (%zu maps), %.2f MiB not attached (spares), %.2f MiB in all\n",
            rows.back().n, mib(rows.back().memory.interfaces.front().bytes), rows.back().memory.interfaces.front().maps,
            mib(rows.back().memory.unattachedBytes), mib(rows.back().memory.totalBytes));
    return 0;
}
