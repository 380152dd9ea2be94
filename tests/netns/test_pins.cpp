// Pinned state with the real daemon on a veth pair: a host killed with SIGKILL leaves its
// classifier attached and counting; the next host adopts link and program and delivers what
// queued meanwhile; on_exit = "keep" restarts without a gap; `fizzhost detach` cleans up.
#include "netns/daemon_lab.hpp"
#include "runtime/rollout/dispatcher.hpp"
#include "support/cli_run.hpp"
#include "support/privilege.hpp"
#include "support/reference.hpp"
#include "support/wait.hpp"

#include <fizz/dispatcher.h>

#include <catch2/catch.hpp>

#include <unistd.h>

#include <csignal>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

using namespace fizzhost;
using namespace fizzhost::test;
using Catch::Matchers::Contains;

namespace {

std::string table(const DaemonLab& lab, const std::string& classifier, const std::string& service = "") {
    return (service.empty() ? "" : "[service]\n" + service) + interfaceTable(lab.ifname(), classifier);
}

// Sources in [first, first + count) that `plugin` emits an event for.
std::set<uint32_t> expectedSources(const std::string& plugin, uint32_t first, size_t count) {
    std::set<uint32_t> out;
    for (uint32_t s : benchmarkSources(first, count))
        if (referenceKind(plugin, s)) out.insert(s);
    return out;
}

void killHard(DaemonLab& lab) {
    lab.daemon().signal(SIGKILL);
    REQUIRE(lab.daemon().waitExit(std::chrono::seconds(10)) == 128 + SIGKILL);
}

CommandResult detachCli(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {FIZZHOST_BINARY, "detach"};
    argv.insert(argv.end(), args.begin(), args.end());
    return runUnchecked(argv);
}

// Frames the host end of the lab's veth pair received (every one of them passed its XDP hook).
uint64_t rxPackets(const DaemonLab& lab) {
    auto out = run({"ip", "-n", lab.hostNs().name(), "-s", "-j", "link", "show", lab.ifname()}).out;
    return nlohmann::json::parse(out)[0]["stats64"]["rx"]["packets"].get<uint64_t>();
}

}  // namespace

TEST_CASE("kill -9 leaves the classifier attached and counting; the next host adopts link and program and "
          "delivers the messages that queued meanwhile",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    for (const std::string transport : {"ring", "queue"}) {
        DYNAMIC_SECTION("transport " << transport) {
            DaemonLab lab;
            lab.setTransport(transport);
            lab.writeConfig(table(lab, "fizz"));
            lab.start();
            const auto before = lab.interfaceStatus();
            const uint32_t linkId = before["link_id"], programId = before["program_id"];

            constexpr size_t kBatch = 300;
            lab.send(benchmarkSources(0, kBatch));
            REQUIRE(lab.waitForPackets(kBatch) == kBatch);
            REQUIRE(lab.waitForEvents(expectedSources("fizz", 0, kBatch).size()).size() ==
                    expectedSources("fizz", 0, kBatch).size());
            killHard(lab);
            CHECK(lab.attachedProgramId() == programId);  // still attached with no host

            // Classified and queued while no host runs: the program keeps counting.
            lab.send(benchmarkSources(kBatch, kBatch));
            lab.start();
            CHECK_THAT(lab.daemon().stderrText(), Contains("adopted pinned state: link id " + std::to_string(linkId)));
            CHECK_THAT(lab.daemon().stderrText(), Contains("programs kept"));
            const auto after = lab.interfaceStatus();
            CHECK(after["link_id"] == linkId);
            CHECK(after["program_id"] == programId);
            CHECK(after["variants"][0]["program_id"] == programId);
            CHECK(lab.packetsCounted() == 2 * kBatch);  // counters continue

            // Every message of both batches, the backlog from the new host, exactly once.
            const auto want = expectedSources("fizz", 0, 2 * kBatch);
            auto events = lab.waitForEvents(want.size());
            std::multiset<uint32_t> got;
            for (const auto& e : events) got.insert(e.src);
            CHECK(got.size() == want.size());
            CHECK(std::set<uint32_t>(got.begin(), got.end()) == want);
            CHECK(lab.interfaceStatus()["totals"]["dropped"] == 0);
            CHECK(lab.stop() == 0);
            // on_exit = "detach" (the default): nothing left attached or pinned.
            CHECK(lab.attachedProgramId() == 0);
            CHECK(lab.pinnedEntries() == 0);
        }
    }
}

TEST_CASE("a changed module file takes the update path: new program, same link id, the backlog decoded",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    const auto plugins = lab.dir() / "plugins";
    std::filesystem::create_directory(plugins);
    std::filesystem::copy_file(std::filesystem::path(FIZZHOST_PLUGIN_DIR) / "fizz.so", plugins / "fizz.so");
    lab.writeConfig(table(lab, "fizz"), plugins);
    lab.start();
    const auto before = lab.interfaceStatus();
    const uint32_t linkId = before["link_id"], programId = before["program_id"];
    lab.send(benchmarkSources(0, 300));
    REQUIRE(lab.waitForPackets(300) == 300);
    REQUIRE(lab.waitForEvents(expectedSources("fizz", 0, 300).size()).size() == expectedSources("fizz", 0, 300).size());
    killHard(lab);
    lab.send(benchmarkSources(300, 300));  // waits in the old program's regions

    // Same plugin and version, other bytes: an ELF with something appended still loads.
    std::ofstream(plugins / "fizz.so", std::ios::app | std::ios::binary) << "rebuilt";
    lab.start();
    const std::string err = lab.daemon().stderrText();
    CHECK_THAT(err, Contains("module file changed"));
    CHECK_THAT(err, Contains("link id " + std::to_string(linkId) + " kept"));
    const auto after = lab.interfaceStatus();
    CHECK(after["link_id"] == linkId);
    CHECK(after["program_id"] != programId);
    CHECK(lab.attachedProgramId() == after["program_id"].get<uint32_t>());
    // The old instance's counts are retired into the totals, its backlog delivered.
    CHECK(lab.packetsCounted() == 600);
    const auto want = expectedSources("fizz", 0, 600);
    CHECK(lab.waitForEvents(want.size()).size() == want.size());
    CHECK(lab.stop() == 0);
}

TEST_CASE("fizzhost detach removes what a host left attached and pinned, refuses while one runs, and names "
          "unknown interfaces",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    lab.writeConfig(table(lab, "fizz", "on_exit = \"keep\"\n"));
    lab.start();
    const uint32_t linkId = lab.interfaceStatus()["link_id"];
    const std::string root = lab.stateRoot().string();

    auto busy = detachCli({"--state-root", root, "--all"});
    CHECK(busy.status == 1);
    CHECK_THAT(busy.err, Contains("in use by a running fizzhost"));

    CHECK(lab.stop() == 0);
    CHECK(lab.attachedProgramId() != 0);  // on_exit = "keep"
    CHECK(lab.pinnedEntries() > 0);
    CHECK_THAT(run({"bpftool", "link", "show"}).out, Contains(std::to_string(linkId) + ": xdp"));

    auto unknown = detachCli({"--state-root", root, "fztnosuch0"});
    CHECK(unknown.status == 1);
    CHECK_THAT(unknown.err, Contains("no pinned state for interface(s) 'fztnosuch0'"));
    CHECK_THAT(unknown.err, Contains("pinned: " + lab.ifname()));
    CHECK(lab.attachedProgramId() != 0);  // nothing was detached

    auto all = detachCli({"--config", lab.configPath().string(), "--all"});
    INFO(all.err);
    CHECK(all.status == 0);
    CHECK_THAT(all.out, Contains("detached link id " + std::to_string(linkId)));
    CHECK(lab.attachedProgramId() == 0);
    CHECK(lab.pinnedEntries() == 0);
    CHECK_THAT(run({"bpftool", "link", "show"}).out, !Contains(std::to_string(linkId) + ": xdp"));
}

TEST_CASE("a restart with on_exit = \"keep\" leaves no frame of a steady stream unclassified; \"detach\" does",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    constexpr unsigned kRate = 5000;  // frames per second asked for; the printed rate is what was sent
    std::map<std::string, uint64_t> gap;
    for (const std::string policy : {"keep", "detach"}) {
        DaemonLab lab;
        lab.writeConfig(table(lab, "fizz", "on_exit = \"" + policy + "\"\n"));
        lab.start();
        const uint64_t rx0 = rxPackets(lab);
        const auto t0 = std::chrono::steady_clock::now();
        std::atomic<bool> done{false};
        std::atomic<uint64_t> sent{0};
        std::thread sender([&] {
            // Batches of 50 every 10 ms; sources cycle through 198.18.0.0/22.
            uint32_t next = 0;
            while (!done) {
                sent += lab.send(benchmarkSources(next % 1024, kRate / 100));
                next += kRate / 100;
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
        });
        // 300 ms of traffic at kRate before the stop, and as much after the restart.
        const auto sendMore = [&](uint64_t frames) {
            const uint64_t mark = sent + frames;
            REQUIRE(waitUntil([&] { return sent >= mark; }));
        };
        sendMore(kRate * 3 / 10);
        CHECK(lab.stop() == 0);
        const std::string firstLog = lab.daemon().stderrText();
        lab.start();
        sendMore(kRate * 3 / 10);
        done = true;
        sender.join();
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const uint64_t received = rxPackets(lab) - rx0;
        CHECK(received == sent);
        uint64_t classified = lab.waitForPackets(policy == "keep" ? received : 0, std::chrono::seconds(5));
        if (policy == "detach") {
            // Counters start again with the new attachment: add the first host's final count.
            std::smatch m;
            REQUIRE(std::regex_search(firstLog, m, std::regex("detached after (\\d+) packets")));
            classified += std::stoull(m[1]);
        }
        gap[policy] = received - classified;
        const double rate = double(received) / seconds;
        std::printf("restart with on_exit = \"%s\": %llu frames in %.2f s (%.0f frames/s), %llu unclassified "
                    "(%.1f ms of traffic)\n",
                    policy.c_str(), static_cast<unsigned long long>(received), seconds, rate,
                    static_cast<unsigned long long>(gap[policy]), 1000.0 * double(gap[policy]) / rate);
        CHECK(lab.stop() == 0);
    }
    CHECK(gap["keep"] == 0);
    CHECK(gap["detach"] > 0);
}

TEST_CASE("a rollout in pinned state is rebuilt on the kept link: new dispatcher and variants, the backlog "
          "of both delivered",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    auto config = [&](unsigned percent) {
        return rolloutTable(lab.ifname(), "fizz", "candidate = \"fizzbuzz\"\npercent = " + std::to_string(percent) + "\n");
    };
    lab.writeConfig(config(50));
    lab.start();
    const auto before = lab.interfaceStatus();
    const uint32_t linkId = before["link_id"], dispatcherId = before["program_id"];
    REQUIRE(before["variants"].size() == 2);
    const uint32_t baseId = before["variants"][0]["program_id"], candId = before["variants"][1]["program_id"];
    // Events each source gets from the variant the dispatcher picks for it at 50%.
    auto expected = [](uint32_t first, size_t count) {
        size_t n = 0;
        for (uint32_t s : benchmarkSources(first, count)) {
            const bool cand = referenceToCandidate(s, 50);
            if (referenceKind(cand ? "fizzbuzz" : "fizz", s)) ++n;
        }
        return n;
    };
    lab.send(benchmarkSources(0, 300));
    REQUIRE(lab.waitForPackets(300) == 300);
    REQUIRE(lab.waitForEvents(expected(0, 300)).size() == expected(0, 300));
    killHard(lab);
    lab.send(benchmarkSources(300, 300));  // split between the variants while no host runs

    lab.writeConfig(config(30));
    lab.start();
    CHECK_THAT(lab.daemon().stderrText(), Contains("a pinned rollout is rebuilt"));
    CHECK_THAT(lab.daemon().stderrText(), Contains("link id " + std::to_string(linkId) + " kept"));
    const auto after = lab.interfaceStatus();
    CHECK(after["link_id"] == linkId);
    CHECK(after["program_id"] != dispatcherId);
    CHECK(after["variants"][0]["program_id"] != baseId);
    CHECK(after["variants"][1]["program_id"] != candId);
    CHECK(lab.attachedProgramId() == after["program_id"].get<uint32_t>());
    CHECK(after["percent"] == 30);
    CHECK(lab.packetsCounted() == 600);
    const size_t want = expected(0, 600);
    auto events = lab.waitForEvents(want);
    CHECK(events.size() == want);
    for (const auto& e : events) {
        const bool cand = referenceToCandidate(e.src, 50);
        CHECK(e.plugin == (cand ? "fizzbuzz" : "fizz"));
    }
    CHECK(lab.stop() == 0);
}

TEST_CASE("a host in another network namespace refuses a state root holding pinned state of this one, and "
          "changes nothing",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    lab.writeConfig(table(lab, "fizz", "on_exit = \"keep\"\n"));
    lab.start();
    const uint32_t linkId = lab.interfaceStatus()["link_id"], programId = lab.interfaceStatus()["program_id"];
    CHECK(lab.stop() == 0);
    REQUIRE(lab.attachedProgramId() == programId);

    // Another namespace with a device of the same name: the name means another device there.
    NetNs other;
    run({"ip", "-n", other.name(), "link", "add", lab.ifname(), "type", "veth", "peer", "name",
         "fztp" + std::to_string(::getpid() % 100000)});
    run({"ip", "-n", other.name(), "link", "set", lab.ifname(), "up"});
    DaemonProcess host({FIZZHOST_BINARY, "--config", lab.configPath().string()}, {}, other.name());
    const auto status = host.waitExit(std::chrono::seconds(20));
    INFO(host.stderrText());
    REQUIRE(status);
    CHECK(*status == 1);
    CHECK_THAT(host.stderrText(), Contains("holds the pinned state of interface '" + lab.ifname() +
                                           "' from network namespace net:["));
    CHECK_THAT(host.stderrText(), Contains("its own [service] state_root"));
    // The first namespace's classifier runs on, pinned as it was.
    CHECK(lab.attachedProgramId() == programId);
    CHECK_THAT(run({"bpftool", "link", "show"}).out, Contains(std::to_string(linkId) + ": xdp"));
    CHECK(lab.pinnedEntries() > 0);

    // Started where it was pinned, the host adopts it.
    lab.start();
    CHECK(lab.interfaceStatus()["link_id"] == linkId);
}
