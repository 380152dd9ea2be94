// fizzhost under a service manager, with the real things: a NOTIFY_SOCKET datagram listener in
// place of systemd (which is not PID 1 here), the daemon restricted to exactly the capabilities
// the shipped unit grants (setpriv), and `systemd-analyze verify` on the unit itself.
#include "netns/daemon_lab.hpp"
#include "support/cli_run.hpp"
#include "support/privilege.hpp"
#include "support/wait.hpp"

#include <catch2/catch.hpp>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <csignal>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <regex>
#include <sstream>

using namespace fizzhost;
using namespace fizzhost::test;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

// A bound AF_UNIX datagram socket, what systemd listens on for sd_notify().
class NotifyListener {
public:
    explicit NotifyListener(std::filesystem::path path) : path_(std::move(path)) {
        fd_ = UniqueFd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        REQUIRE(fd_);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        REQUIRE(path_.native().size() < sizeof addr.sun_path);
        std::strcpy(addr.sun_path, path_.c_str());
        REQUIRE(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    }
    const std::filesystem::path& path() const { return path_; }

    /// The next datagram, or nullopt after `timeout`.
    std::optional<std::string> next(std::chrono::milliseconds timeout) {
        pollfd p{fd_.get(), POLLIN, 0};
        if (::poll(&p, 1, int(timeout.count())) != 1) return std::nullopt;
        char buf[4096];
        ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
        REQUIRE(n >= 0);
        return std::string(buf, size_t(n));
    }
    /// The next datagram that is not a watchdog ping (those are counted).
    std::optional<std::string> nextState(std::chrono::milliseconds timeout) {
        for (;;) {
            auto m = next(timeout);
            if (!m || *m != "WATCHDOG=1") return m;
            ++watchdogs;
        }
    }
    size_t watchdogs = 0;

private:
    std::filesystem::path path_;
    UniqueFd fd_;
};

uint64_t monotonicUsec() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000u + uint64_t(ts.tv_nsec) / 1000u;
}

// The effective capability set of a process, from /proc.
uint64_t effectiveCaps(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("CapEff:", 0) == 0) return std::stoull(line.substr(7), nullptr, 16);
    FAIL("no CapEff in /proc/" << pid << "/status");
    return 0;
}

// The capabilities packaging/systemd/fizzhost.service grants the host's own work, as setpriv and as
// a bit mask; and the three it adds for starting confined decoder workers.
constexpr int kCapNetAdmin = 12, kCapPerfmon = 38, kCapBpf = 39;
constexpr int kCapKill = 5, kCapSetgid = 6, kCapSetuid = 7, kCapSysChroot = 18;
const std::vector<std::pair<std::string, int>> kServiceCaps = {
    {"net_admin", kCapNetAdmin}, {"perfmon", kCapPerfmon}, {"bpf", kCapBpf}};
const std::vector<std::pair<std::string, int>> kDecoderCaps = {
    {"sys_chroot", kCapSysChroot}, {"setuid", kCapSetuid}, {"setgid", kCapSetgid}, {"kill", kCapKill}};

// argv running FIZZHOST_BINARY as root with only `caps`: nothing inheritable or ambient, and a
// bounding set that caps what root's exec gets. `args` follow the binary (default: run the daemon).
std::vector<std::string> withOnlyCaps(const std::vector<std::pair<std::string, int>>& caps,
                                      const std::filesystem::path& config, std::vector<std::string> args = {}) {
    std::string bounding = "-all";
    for (const auto& [name, bit] : caps) bounding += ",+" + name;
    if (args.empty()) args = {"--config", config.string()};
    std::vector<std::string> argv = {"setpriv", "--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=" + bounding,
                                     "--no-new-privs", FIZZHOST_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

std::string unitFrom(const std::string& executable) {
    std::ifstream in(std::string(FIZZHOST_SOURCE_DIR) + "/packaging/systemd/fizzhost.service.in");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string unit = ss.str();
    unit = std::regex_replace(unit, std::regex("@FIZZHOST_EXECUTABLE@"), executable);
    unit = std::regex_replace(unit, std::regex("@FIZZHOST_CONFIG_FILE@"), "/etc/fizzhost/fizzhost.toml");
    return std::regex_replace(unit, std::regex("@FIZZHOST_DOC_DIR@"), "/usr/share/doc/fizzhost");
}

}  // namespace

TEST_CASE("the daemon tells a NOTIFY_SOCKET listener READY once attached, RELOADING/READY around reloads, "
          "STOPPING, its status and watchdog pings",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    lab.writeConfig(interfaceTable(lab.ifname(), "fizzbuzz"));
    NotifyListener notify(lab.dir() / "notify.sock");
    DaemonProcess daemon({"env", "NOTIFY_SOCKET=" + notify.path().string(), "WATCHDOG_USEC=200000",
                          FIZZHOST_BINARY, "--config", lab.configPath().string()},
                         lab.dir(), lab.hostNs().name());

    // The first message is READY, and by then the program is attached.
    auto ready = notify.nextState(std::chrono::seconds(20));
    INFO(daemon.stderrText());
    REQUIRE(ready);
    CHECK_THAT(*ready, StartsWith("READY=1\nSTATUS=" + lab.ifname() + ": fizzbuzz "));
    const uint32_t first = lab.attachedProgramId();
    CHECK(first != 0);
    CHECK(lab.interfaceStatus()["program_id"] == first);

    // A reload: RELOADING=1 stamped with CLOCK_MONOTONIC when it began, then READY=1 naming the new plugin.
    lab.writeConfig(interfaceTable(lab.ifname(), "fibonacci"));
    const uint64_t before = monotonicUsec();
    daemon.signal(SIGHUP);
    auto reloading = notify.nextState(std::chrono::seconds(20));
    REQUIRE(reloading);
    std::smatch m;
    REQUIRE(std::regex_match(*reloading, m, std::regex("RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=([0-9]+)")));
    const uint64_t stamp = std::stoull(m[1]);
    CHECK(stamp >= before);
    CHECK(stamp <= monotonicUsec());
    auto reloaded = notify.nextState(std::chrono::seconds(30));
    REQUIRE(reloaded);
    CHECK_THAT(*reloaded, StartsWith("READY=1\nSTATUS=" + lab.ifname() + ": fibonacci "));
    CHECK(lab.attachedProgramId() != first);

    // A refused reload still ends in READY=1 (the old classifier runs on), with the same status.
    lab.writeConfig(interfaceTable(lab.ifname(), "no-such-plugin"));
    daemon.signal(SIGHUP);
    auto again = notify.nextState(std::chrono::seconds(20));
    REQUIRE(again);
    CHECK_THAT(*again, StartsWith("RELOADING=1\n"));
    auto after = notify.nextState(std::chrono::seconds(30));
    REQUIRE(after);
    CHECK_THAT(*after, StartsWith("READY=1\nSTATUS=" + lab.ifname() + ": fibonacci "));

    // `fizzhost reload`, the unit's ExecReload: the host sends RELOADING=1 and READY=1 before it
    // answers, so both are there when the command exits, live or refused.
    for (const std::string plugin : {"fizzbuzz", "no-such-plugin"}) {
        lab.writeConfig(interfaceTable(lab.ifname(), plugin));
        auto run = runFizzhost({"reload", "--socket", (lab.dir() / "control.sock").string()});
        CHECK(run.status == (plugin == "fizzbuzz" ? 0 : 1));
        auto began = notify.nextState(std::chrono::milliseconds(0));
        REQUIRE(began);
        CHECK_THAT(*began, StartsWith("RELOADING=1\n"));
        auto ended = notify.nextState(std::chrono::milliseconds(0));
        REQUIRE(ended);
        CHECK_THAT(*ended, StartsWith("READY=1\nSTATUS=" + lab.ifname() + ": fizzbuzz "));
    }

    // WATCHDOG_USEC=200 ms: pings at least every 100 ms while idle; five of them, and nothing else.
    const size_t pings = notify.watchdogs;
    std::optional<std::string> other;
    CHECK(waitUntil([&] {
        auto m = notify.next(std::chrono::milliseconds(100));
        if (m && *m == "WATCHDOG=1") ++notify.watchdogs;
        else if (m) other = m;
        return other || notify.watchdogs - pings >= 5;
    }));
    CHECK_FALSE(other);
    daemon.signal(SIGTERM);
    auto stopping = notify.nextState(std::chrono::seconds(20));
    REQUIRE(stopping);
    CHECK(*stopping == "STOPPING=1\nSTATUS=stopping");
    CHECK(notify.watchdogs - pings >= 5);
    CHECK(daemon.waitExit(std::chrono::seconds(20)) == 0);
    CHECK_FALSE(notify.next(std::chrono::milliseconds(200)));  // nothing after STOPPING
}

TEST_CASE("without NOTIFY_SOCKET the daemon sends nothing and needs no service manager", "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    ::unsetenv("NOTIFY_SOCKET");  // a test run started by a service manager must not lend it its socket
    DaemonLab lab;
    lab.writeConfig(interfaceTable(lab.ifname(), "fizz"));
    lab.start();
    CHECK_THAT(lab.daemon().stderrText(), !Contains("service manager"));
    CHECK(lab.stop() == 0);
}

TEST_CASE("the daemon runs, reloads and rolls out with exactly the unit's capabilities (CAP_BPF, CAP_PERFMON, "
          "CAP_NET_ADMIN and the decoder workers' four), and fails without any one of the first three",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    const std::string transport = GENERATE("queue", "ring");
    INFO("transport " << transport);
    DaemonLab lab;
    lab.setTransport(transport);
    lab.writeConfig(interfaceTable(lab.ifname(), "fizzbuzz"));
    // What the shipped unit grants: the kernel side's three, and what confined decoders need.
    auto unitCaps = kServiceCaps;
    unitCaps.insert(unitCaps.end(), kDecoderCaps.begin(), kDecoderCaps.end());
    {
        DaemonProcess daemon(withOnlyCaps(unitCaps, lab.configPath()), lab.dir(), lab.hostNs().name());
        REQUIRE(daemon.waitForStderr("fizzhost running", std::chrono::seconds(20)));
        INFO(daemon.stderrText());
        uint64_t want = 0;
        for (const auto& [name, bit] : unitCaps) want |= uint64_t(1) << bit;
        CHECK(effectiveCaps(daemon.pid()) == want);

        const size_t sent = lab.send(benchmarkSources(0, 300));
        CHECK(lab.waitForPackets(sent) == sent);
        const auto& events = lab.waitForEvents(140);  // fizzbuzz reports 140 of 0..299 (multiples of 3 or 5)
        CHECK(events.size() == 140);

        // A rollout (dispatcher, prog-array, tail calls), then a plain swap. ([guard] is left out: its
        // bench needs CAP_SYS_ADMIN for a private namespace and, without it, takes minutes; see the unit.)
        lab.writeConfig(rolloutTable(lab.ifname(), "fizzbuzz", "candidate = \"fizz\"\npercent = 50\n"));
        daemon.signal(SIGHUP);
        REQUIRE(daemon.waitForStderr("reload complete", std::chrono::seconds(30), 1));
        CHECK(lab.interfaceStatus()["percent"] == 50);
        lab.writeConfig(interfaceTable(lab.ifname(), "fibonacci"));
        daemon.signal(SIGHUP);
        REQUIRE(daemon.waitForStderr("reload complete", std::chrono::seconds(30), 2));
        CHECK(lab.interfaceStatus()["variants"][0]["plugin"] == "fibonacci");
        CHECK_THAT(daemon.stderrText(), !Contains("reload failed"));

        daemon.signal(SIGTERM);
        CHECK(daemon.waitExit(std::chrono::seconds(20)) == 0);
        CHECK(lab.attachedProgramId() == 0);
    }
    // Each capability is needed: without it the daemon cannot start (and says why).
    for (size_t drop = 0; drop < kServiceCaps.size(); ++drop) {
        auto caps = unitCaps;
        caps.erase(caps.begin() + long(drop));  // kServiceCaps lead unitCaps
        lab.writeConfig(interfaceTable(lab.ifname(), "fizzbuzz"));
        DaemonProcess daemon(withOnlyCaps(caps, lab.configPath()), lab.dir(), lab.hostNs().name());
        auto status = daemon.waitExit(std::chrono::seconds(20));
        INFO("without CAP_" << kServiceCaps[drop].first << ": " << daemon.stderrText());
        REQUIRE(status);
        CHECK(*status != 0);
        CHECK_THAT(daemon.stderrText(), Contains("Operation not permitted") || Contains("Permission denied"));
        CHECK(lab.attachedProgramId() == 0);
    }
}

TEST_CASE("systemd-analyze verify accepts the shipped unit, and flags a broken one", "[unit]") {
    TempDir dir;
    const auto unit = dir.path() / "fizzhost.service";
    std::ofstream(unit) << unitFrom(FIZZHOST_BINARY);
    auto ok = runUnchecked({"systemd-analyze", "verify", unit.string()});
    INFO(ok.out << ok.err);
    CHECK(ok.status == 0);
    CHECK(ok.err.empty());  // unknown keys and bad values are warnings on stderr with status 0
    const std::string text = unitFrom(FIZZHOST_BINARY);
    CHECK_THAT(text, Contains("\nType=notify\n"));
    CHECK_THAT(text, Contains("\nExecReload=" + std::string(FIZZHOST_BINARY) + " reload --config "));
    CHECK_THAT(text, Contains("\nCapabilityBoundingSet=CAP_BPF CAP_PERFMON CAP_NET_ADMIN CAP_SYS_CHROOT CAP_SETUID "
                              "CAP_SETGID CAP_KILL\n"));
    // The decoder workers' chroot folders: writable under ProtectSystem=strict, root-owned 0755.
    CHECK_THAT(text, Contains("\nStateDirectory=fizzhost\nStateDirectoryMode=0755\n"));
    CHECK_THAT(text, Contains("\nProtectSystem=strict\n"));

    // The check can fail: a misspelt key, and an executable that is not there.
    std::ofstream(unit) << std::regex_replace(unitFrom(FIZZHOST_BINARY), std::regex("\nRestart="), "\nRestrat=");
    auto typo = runUnchecked({"systemd-analyze", "verify", unit.string()});
    CHECK_THAT(typo.err, Contains("Restrat"));
    std::ofstream(unit) << unitFrom("/nonexistent/fizzhost");
    CHECK(runUnchecked({"systemd-analyze", "verify", unit.string()}).status != 0);
}

TEST_CASE("the unit's capabilities start and stop confined decoders, and each of the four it adds for them is needed",
          "[decoder]") {
    if (!requirePrivilege("run fizzhost classify under setpriv")) return;
    auto all = kServiceCaps;
    all.insert(all.end(), kDecoderCaps.begin(), kDecoderCaps.end());
    const std::vector<std::string> classify = {"classify", "--plugin", "fizz", "198.18.0.15"};
    {
        DaemonProcess run(withOnlyCaps(all, {}, classify));
        REQUIRE(run.waitExit(std::chrono::seconds(60)) == 0);
        INFO(run.stderrText());
        CHECK(run.stdoutText() == "{\"src\":\"198.18.0.15\",\"kind\":\"Fizz\"}\n");
    }
    for (size_t drop = 0; drop < kDecoderCaps.size(); ++drop) {
        auto caps = all;
        caps.erase(caps.begin() + long(kServiceCaps.size() + drop));
        DaemonProcess run(withOnlyCaps(caps, {}, classify));
        const auto status = run.waitExit(std::chrono::seconds(60));
        std::string name = kDecoderCaps[drop].first;
        for (char& c : name) c = char(std::toupper(static_cast<unsigned char>(c)));
        INFO("without CAP_" << name << ": " << run.stderrText());
        REQUIRE(status);
        CHECK(*status != 0);
        CHECK_THAT(run.stderrText(), Contains("confined decoders need CAP_SYS_CHROOT, CAP_SETUID, CAP_SETGID and "
                                              "CAP_KILL") &&
                                         Contains("missing: CAP_" + name + ". "));
    }
}
