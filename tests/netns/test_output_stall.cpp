// A stalled events consumer never reaches the control plane: with a FIFO whose reader stopped, or
// stdout into a pipe nobody reads, the real daemon still reloads, answers `status` and a /metrics
// scrape, and stops on SIGTERM with a truthful account, while the events it cannot write within
// [output] write_timeout_ms are counted lost; when the reader reads again, events flow again.
#include "netns/daemon_lab.hpp"
#include "support/cli_run.hpp"
#include "support/http_client.hpp"
#include "support/netns.hpp"
#include "support/privilege.hpp"
#include "support/reference.hpp"
#include "util/address.hpp"
#include "util/unique_fd.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <regex>
#include <thread>

using namespace fizzhost;
using namespace fizzhost::test;
using Catch::Matchers::Contains;

namespace {

template <typename Pred>
bool waitUntil(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

uint64_t counter(const nlohmann::json& s, const char* key) { return s.value(key, uint64_t(0)); }

// Sends frames in rounds until the host counts events lost for the write timeout (the reader does
// not read); `first` moves on so each round is new traffic. False when that never happened.
bool stallUntilTimedOut(DaemonLab& lab, uint32_t& first) {
    const uint64_t before = counter(lab.status(), "events_lost_write_timeout");
    for (int round = 0; round < 60; ++round) {
        lab.send(benchmarkSources(first % 100000, 4000));
        first += 4000;
        if (waitUntil([&] { return counter(lab.status(), "events_lost_write_timeout") > before; },
                      std::chrono::seconds(2)))
            return true;
    }
    return false;
}

// Reads from `fd` until nothing more comes for a while; returns the complete lines.
std::vector<std::string> drainLines(int fd, std::string& partial, std::chrono::milliseconds quiet) {
    std::vector<std::string> lines;
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, int(quiet.count())) <= 0) return lines;
        char buf[65536];
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) return lines;
        partial.append(buf, size_t(n));
        for (size_t nl; (nl = partial.find('\n')) != std::string::npos; partial.erase(0, nl + 1))
            lines.push_back(partial.substr(0, nl));
    }
}

// Events among `lines` from sources [lo, hi) of the lab's range.
size_t eventsFrom(const std::vector<std::string>& lines, uint32_t lo, uint32_t hi) {
    size_t n = 0;
    for (const auto& l : lines) {
        const auto j = nlohmann::json::parse(l, nullptr, false);
        if (j.is_discarded() || !j.contains("src")) continue;  // a line cut by a timed-out write
        const auto src = parseAddress(j["src"].get<std::string>());
        if (src && *src >= 0xC6120000u + lo && *src < 0xC6120000u + hi) ++n;
    }
    return n;
}

size_t expectedEvents(const char* plugin, uint32_t lo, uint32_t hi) {
    size_t n = 0;
    for (uint32_t s = lo; s < hi; ++s) n += referenceKind(plugin, 0xC6120000u + s).has_value();
    return n;
}

int metricsPort(const std::string& log) {
    std::smatch m;
    if (!std::regex_search(log, m, std::regex(R"(metrics: serving http://127\.0\.0\.1:(\d+)/metrics)"))) return -1;
    return std::stoi(m[1]);
}

// One scrape of the daemon's /metrics, from inside its namespace.
std::optional<Response> scrapeIn(const DaemonLab& lab, int port) {
    ScopedNetns in(lab.hostNs());
    return scrape(port);
}

std::string stallConfig(const DaemonLab& lab, const std::string& classifier, const std::string& events) {
    return "[output]\nevents = \"" + events + "\"\nformat = \"json\"\nwrite_timeout_ms = 200\n" +
           "[metrics]\nlisten = \"127.0.0.1:0\"\n[service]\non_exit = \"keep\"\n[interface." + lab.ifname() +
           "]\nclassifier = \"" + classifier + "\"\n";
}

// What a host with on_exit = "keep" left is removed at the end, whatever happened.
struct DetachAtEnd {
    const DaemonLab& lab;
    ~DetachAtEnd() { runUnchecked({FIZZHOST_BINARY, "detach", "--config", lab.configPath().string(), "--all"}); }
};

}  // namespace

TEST_CASE("a FIFO whose reader stopped: reload, status, /metrics and SIGTERM go on, what cannot be written "
          "within write_timeout_ms is counted lost, and events flow again when the reader reads",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    DetachAtEnd detach{lab};
    const auto fifo = lab.dir() / "events.fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    // The reader opens the FIFO and then reads nothing: a consumer that stopped.
    UniqueFd reader(::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    REQUIRE(reader);
    lab.writeConfig(stallConfig(lab, "fizz", fifo.string()));
    lab.start();
    const int port = metricsPort(lab.daemon().stderrText());
    REQUIRE(port > 0);

    uint32_t first = 0;
    REQUIRE(stallUntilTimedOut(lab, first));

    // The control plane goes on while the output is stalled.
    lab.writeConfig(stallConfig(lab, "fizzbuzz", fifo.string()));
    CHECK(lab.reload());
    CHECK(lab.interfaceStatus()["variants"][0]["plugin"] == "fizzbuzz");
    auto s = lab.status();
    CHECK(counter(s, "events_lost_write_timeout") > 0);
    CHECK(counter(s, "events_lost") >= counter(s, "events_lost_write_timeout") + counter(s, "events_lost_queue_full"));
    const auto scraped = scrapeIn(lab, port);
    REQUIRE(scraped);
    CHECK(scraped->status == 200);
    CHECK_THAT(scraped->body, Contains("fizzhost_events_output_lost_total{reason=\"write_timeout\"}"));
    CHECK_THAT(lab.daemon().stderrText(), Contains("no room within write_timeout_ms = 200"));

    // The reader reads again: what waited comes out, and new traffic's events arrive, every one.
    std::string partial;
    drainLines(reader.get(), partial, std::chrono::milliseconds(500));
    const uint32_t lo = 110000, hi = 110300;
    lab.send(benchmarkSources(lo, hi - lo));
    std::vector<std::string> got;
    const size_t want = expectedEvents("fizzbuzz", lo, hi);
    REQUIRE(want > 0);
    CHECK(waitUntil([&] {
        auto more = drainLines(reader.get(), partial, std::chrono::milliseconds(100));
        got.insert(got.end(), more.begin(), more.end());
        return eventsFrom(got, lo, hi) == want;
    }));

    // Stalled again, then SIGTERM: an orderly stop within the write timeout, saying what it left.
    REQUIRE(stallUntilTimedOut(lab, first));
    CHECK(lab.stop() == 0);
    const auto log = lab.daemon().stderrText();
    CHECK_THAT(log, Contains("not written within the write timeout"));
    CHECK_THAT(log, Contains("1 interface(s) left attached and pinned (on_exit = \"keep\")") &&
                        Contains("NOT every message delivered"));
    CHECK_THAT(log, !Contains("exiting now without an orderly stop"));
    CHECK(lab.attachedProgramId() != 0);  // on_exit = "keep": the kernel side stays
}

TEST_CASE("stdout into a pipe nobody reads: reload, status and SIGTERM go on, and what cannot be written is "
          "counted lost",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    DetachAtEnd detach{lab};
    const auto pipe = lab.dir() / "stdout.pipe";
    REQUIRE(::mkfifo(pipe.c_str(), 0600) == 0);
    UniqueFd reader(::open(pipe.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    REQUIRE(reader);
    lab.writeConfig(stallConfig(lab, "fizz", "-"));
    // The daemon's stdout is the pipe (a shell redirects it there and execs fizzhost).
    DaemonProcess daemon({"/bin/sh", "-c", "exec \"$0\" --config \"$1\" >\"$2\"", FIZZHOST_BINARY,
                          lab.configPath().string(), pipe.string()},
                         lab.dir(), lab.hostNs().name());
    REQUIRE(daemon.waitForStderr("fizzhost running", std::chrono::seconds(20)));
    const int port = metricsPort(daemon.stderrText());
    REQUIRE(port > 0);

    uint32_t first = 0;
    REQUIRE(stallUntilTimedOut(lab, first));

    lab.writeConfig(stallConfig(lab, "fizzbuzz", "-"));
    daemon.signal(SIGHUP);
    CHECK(daemon.waitForStderr("reload complete", std::chrono::seconds(30)));
    CHECK(lab.interfaceStatus()["variants"][0]["plugin"] == "fizzbuzz");
    const auto scraped = scrapeIn(lab, port);
    REQUIRE(scraped);
    CHECK(scraped->status == 200);

    daemon.signal(SIGTERM);
    const auto status = daemon.waitExit(std::chrono::seconds(30));
    REQUIRE(status);
    CHECK(*status == 0);
    const auto log = daemon.stderrText();
    INFO(log);
    CHECK_THAT(log, Contains("events output stdout") && Contains("not written within the write timeout"));
    CHECK_THAT(log, Contains("left attached and pinned") && !Contains("exiting now without an orderly stop"));
}
