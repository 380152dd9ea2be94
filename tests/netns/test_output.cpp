// The events output of the real daemon under traffic: a sink that refuses every write loses
// events that are counted, logged and reported at shutdown while classification goes on; a
// rotated events file (renamed, or SIGUSR1) is followed by a new file of the same name.
#include "netns/daemon_lab.hpp"
#include "support/privilege.hpp"
#include "support/reference.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace fizzhost;
using namespace fizzhost::test;
using Catch::Matchers::Contains;

namespace {

// Waits until `pred(status)` holds; returns the last status.
template <typename Pred>
nlohmann::json waitForStatus(const DaemonLab& lab, Pred pred, std::chrono::seconds timeout = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    nlohmann::json s = lab.status();
    while (!pred(s) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        s = lab.status();
    }
    return s;
}

uint64_t emittedOf(const nlohmann::json& s) { return s["interfaces"][0]["variants"][0]["emitted"].get<uint64_t>(); }

size_t linesIn(const std::filesystem::path& p) {
    std::ifstream in(p);
    size_t n = 0;
    for (std::string line; std::getline(in, line);) n += !line.empty();
    return n;
}

}  // namespace

TEST_CASE("events written to /dev/full are counted lost, logged and reported, and the daemon keeps classifying",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    lab.writeConfig(interfaceTable(lab.ifname(), "fizz") + "[output]\nevents = \"/dev/full\"\nformat = \"json\"\n");
    lab.start();

    const auto sources = benchmarkSources(0, 2000);
    REQUIRE(lab.send(sources) == sources.size());
    size_t expected = 0;
    for (uint32_t s : sources) expected += referenceKind("fizz", s).has_value();
    REQUIRE(expected > 0);
    auto s = waitForStatus(lab, [&](const nlohmann::json& st) { return st["events_lost"].get<uint64_t>() >= expected; });
    INFO(s.dump(2));
    const auto& v = s["interfaces"][0]["variants"][0];
    CHECK(emittedOf(s) == expected);
    CHECK(s["events_lost"] == expected);
    CHECK(s["events_written"] == 0);
    CHECK(s["write_errors"].get<uint64_t>() > 0);
    CHECK(s["last_write_error"] == "No space left on device (ENOSPC)");
    CHECK(v["delivered"] == 0);
    CHECK(v["write_lost"] == expected);
    CHECK(s["interfaces"][0]["totals"]["delivered"] == 0);

    // The log says so, once per interval however many writes fail.
    const auto log = lab.daemon().stderrText();
    CHECK_THAT(log, Contains("events output '/dev/full': write failed: No space left on device (ENOSPC)"));
    CHECK(countOccurrences(log, "write failed") <= 2);

    // Still classifying: a second batch is counted and lost too.
    const auto more = benchmarkSources(2000, 1000);
    REQUIRE(lab.send(more) == more.size());
    size_t expectedMore = 0;
    for (uint32_t src : more) expectedMore += referenceKind("fizz", src).has_value();
    s = waitForStatus(lab, [&](const nlohmann::json& st) {
        return st["events_lost"].get<uint64_t>() >= expected + expectedMore;
    });
    CHECK(s["events_lost"] == expected + expectedMore);
    CHECK(lab.packetsCounted() >= sources.size() + more.size());

    {
        DaemonProcess text({FIZZHOST_BINARY, "status", "--config", lab.configPath().string()});
        REQUIRE(text.waitExit(std::chrono::seconds(20)) == 0);
        CHECK_THAT(text.stdoutText(), Contains("events output: 0 written, " + std::to_string(expected + expectedMore) +
                                               " lost") &&
                                          Contains("last: No space left on device (ENOSPC)") &&
                                          Contains("UNDECODABLE"));
    }

    CHECK(lab.stop() == 0);
    const auto end = lab.daemon().stderrText();
    CHECK_THAT(end, Contains(std::to_string(expected + expectedMore) + " event(s) lost at the events output '/dev/full'"));
    CHECK_THAT(end, Contains("the last with No space left on device (ENOSPC)"));
    CHECK_THAT(end, Contains("stopped: every interface detached, NOT every message delivered: 0 written, " +
                             std::to_string(expected + expectedMore) + " lost, 0 dropped"));
}

TEST_CASE("a renamed events file is followed by a new one of the same name, under traffic, losing nothing",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    const bool bySignal = GENERATE(false, true);
    INFO((bySignal ? "SIGUSR1 after the rename" : "the rename noticed by itself"));
    DaemonLab lab;
    lab.writeConfig(interfaceTable(lab.ifname(), "fizz"));
    lab.start();
    const auto events = lab.dir() / "events.jsonl", rotated = lab.dir() / "events.jsonl.1";

    // Paced traffic: the events file must not grow faster than the test can read it.
    std::atomic<bool> done{false};
    std::atomic<size_t> sent{0};
    std::thread sender([&] {
        for (uint32_t next = 0; !done; next += 100) {
            sent += lab.send(benchmarkSources(next, 100));
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    });
    struct Join {  // the thread ends whatever the assertions do
        std::atomic<bool>& done;
        std::thread& t;
        ~Join() {
            done = true;
            if (t.joinable()) t.join();
        }
    } join{done, sender};
    auto waitForLines = [&](const std::filesystem::path& p, size_t n) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while ((!std::filesystem::exists(p) || linesIn(p) < n) && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
    };
    waitForLines(events, 50);
    REQUIRE(linesIn(events) >= 50);
    std::filesystem::rename(events, rotated);  // what logrotate does without copytruncate
    if (bySignal) lab.daemon().signal(SIGUSR1);
    const char* line = bySignal ? "reopened (on request (SIGUSR1))" : "reopened (it was renamed or deleted)";
    CHECK(lab.daemon().waitForStderr(line, std::chrono::seconds(10)));
    // New events land in a new file of the same name.
    waitForLines(events, 50);
    done = true;
    sender.join();
    CHECK(linesIn(events) >= 50);

    // Nothing lost across the rotation: the two files hold every event the status counts.
    auto s = waitForStatus(lab, [&](const nlohmann::json& st) {
        const auto& v = st["interfaces"][0]["variants"][0];
        return v["delivered"] == v["emitted"] && v["packets"].get<uint64_t>() >= sent;
    });
    const auto& v = s["interfaces"][0]["variants"][0];
    CHECK(v["packets"].get<uint64_t>() >= sent);
    CHECK(v["delivered"] == v["emitted"]);
    CHECK(s["events_lost"] == 0);
    CHECK(s["events_reopens"].get<uint64_t>() >= 1);
    CHECK(linesIn(events) + linesIn(rotated) == v["delivered"].get<size_t>());
    CHECK(lab.stop() == 0);
    CHECK_THAT(lab.daemon().stderrText(), Contains("stopped: every interface detached, every message delivered"));
}

TEST_CASE("undecodable messages and transport drops are logged, rate-limited, with what and where", "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    SECTION("a decoder that throws: the reason and a hex dump of the first bad message") {
        DaemonLab lab;
        lab.writeConfig(interfaceTable(lab.ifname(), "throws"),
                        std::filesystem::path(FIZZHOST_TEST_PLUGIN_DIR) / "throws");
        lab.start();
        // fizz emits for sources divisible by 3; this decoder throws for odd ones.
        std::vector<uint32_t> sources;
        size_t odd = 0;
        for (uint32_t i = 0; i < 60; ++i) {
            sources.push_back(0xC6120000 + 3 * i);
            odd += (3 * i) % 2;
        }
        for (int round = 0; round < 2; ++round) {
            lab.send(sources);
            waitForStatus(lab, [&](const nlohmann::json& st) {
                return st["interfaces"][0]["variants"][0]["undecodable"].get<uint64_t>() >= odd * (round + 1);
            });
        }
        const auto log = lab.daemon().stderrText();
        INFO(log);
        const std::string who = "interface '" + lab.ifname() + "' throws 1.0.0 (baseline): ";
        CHECK_THAT(log, Contains(who + std::to_string(odd) + " undecodable message(s) since the last report, " +
                                 std::to_string(odd) + " in all; the first: the decoder threw "
                                                       "(FIZZHOST_DECODE_THREW), 8 bytes: 00 00 00 00 "));
        CHECK_THAT(log, Contains(" 12 c6 (reported at most every 5 s)"));
        // The second round came within the interval: one line so far.
        CHECK(countOccurrences(log, "undecodable message(s)") == 1);
        {
            DaemonProcess text({FIZZHOST_BINARY, "status", "--config", lab.configPath().string()});
            REQUIRE(text.waitExit(std::chrono::seconds(20)) == 0);
            CHECK_THAT(text.stdoutText(), Contains("UNDECODABLE"));
            CHECK_THAT(text.stdoutText(), Contains(" " + std::to_string(2 * odd) + "  Fizz="));
        }
        CHECK(lab.stop() == 0);
        // What was not reported yet is at the end, and the stop line counts it.
        const auto end = lab.daemon().stderrText();
        CHECK_THAT(end, Contains(std::to_string(odd) + " undecodable message(s) since the last report, " +
                                 std::to_string(2 * odd) + " in all"));
        CHECK_THAT(end, Contains("NOT every message delivered: " + std::to_string(2 * (60 - odd)) + " written, 0 lost, 0 "
                                 "dropped, " + std::to_string(2 * odd) + " undecodable"));
    }
    SECTION("a ring of one slot per CPU under a burst drops messages, and says so") {
        DaemonLab lab;
        lab.writeConfig(interfaceTable(lab.ifname(), "fizz") + "[output]\nevents = \"" + (lab.dir() / "events.jsonl").string() +
                        "\"\nformat = \"json\"\ntransport = \"ring\"\nring_slots = 1\n");
        lab.start();
        uint64_t dropped = 0;
        for (uint32_t round = 0; round < 20 && dropped == 0; ++round) {
            lab.send(benchmarkSources(round * 5000, 5000));
            dropped = waitForStatus(lab, [](const nlohmann::json&) { return true; })["interfaces"][0]["variants"][0]
                          ["dropped"]
                              .get<uint64_t>();
        }
        REQUIRE(dropped > 0);
        CHECK(lab.daemon().waitForStderr("interface '" + lab.ifname() + "' fizz 1.0.0 (baseline): ",
                                         std::chrono::seconds(10)));
        CHECK(lab.daemon().waitForStderr("message(s) dropped by the transport since the last report",
                                         std::chrono::seconds(10)));
        CHECK(lab.stop() == 0);
        CHECK_THAT(lab.daemon().stderrText(), Contains("message(s) dropped by the transport (the ring or queue was full"));
    }
}
