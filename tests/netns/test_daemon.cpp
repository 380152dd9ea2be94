// The real fizzhost binary on a veth pair in namespaces the tests make: events, hot swap under
// traffic, failed reloads, rollout, shutdown.
#include "netns/daemon_lab.hpp"
#include "bpf/xdp_link.hpp"
#include "runtime/dispatcher.hpp"
#include "support/privilege.hpp"
#include "support/reference.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <net/if.h>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <thread>

using namespace fizzhost;
using namespace fizzhost::test;
using Catch::Matchers::Contains;

namespace {

std::string interfaceTable(const DaemonLab& lab, const std::string& classifier, const std::string& extra = "") {
    return "[interface." + lab.ifname() + "]\nclassifier = \"" + classifier + "\"\n" + extra;
}

// Every event's kind is what its plugin's rules say for its source, and no source is reported twice.
void checkEventsAgainstReference(const std::vector<Event>& events, std::map<uint32_t, Event>& bySrc) {
    for (const auto& e : events) {
        auto want = referenceKind(e.plugin, e.src);
        INFO("event from " << e.plugin << " " << e.version << " for 0x" << std::hex << e.src << ": " << e.kind);
        REQUIRE(want);
        REQUIRE(*want == e.kind);
        REQUIRE(bySrc.emplace(e.src, e).second);  // exactly once
    }
}

}  // namespace

TEST_CASE("the daemon classifies real frames and swaps fizz -> fizzbuzz -> fibonacci under traffic with "
          "bpf_link_update, losing nothing",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    const std::string transport = GENERATE("queue", "ring");
    INFO("transport " << transport);
    DaemonLab lab;
    lab.setTransport(transport);
    lab.writeConfig(interfaceTable(lab, "fizz"));
    lab.start();
    const auto before = lab.interfaceStatus();
    const uint32_t linkId = before["link_id"];
    const uint32_t firstProgram = before["program_id"];
    CHECK(lab.attachedProgramId() == firstProgram);
    CHECK(before["variants"][0]["plugin"] == "fizz");

    // Continuous traffic from distinct sources, before, during and after two swaps.
    constexpr size_t kBatch = 500;
    std::atomic<size_t> sent{0};
    std::atomic<bool> done{false};
    std::thread sender([&] {
        for (uint32_t next = 0; !done; next += kBatch) sent += lab.send(benchmarkSources(next, kBatch));
    });
    auto trafficFlows = [&] {
        const size_t mark = sent + 5000;
        while (sent < mark) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    };
    std::vector<uint32_t> programs = {firstProgram};
    for (const char* next : {"fizzbuzz", "fibonacci"}) {
        trafficFlows();
        lab.writeConfig(interfaceTable(lab, next));
        REQUIRE(lab.reload());
        auto now = lab.interfaceStatus();
        CHECK(now["link_id"] == linkId);  // the link stays
        CHECK(now["variants"][0]["plugin"] == next);
        programs.push_back(now["program_id"]);
        CHECK(lab.attachedProgramId() == programs.back());
    }
    trafficFlows();
    done = true;
    sender.join();
    const size_t kFrames = sent;
    const auto sources = benchmarkSources(0, kFrames);
    std::fprintf(stderr, "swap under traffic (%s): %zu frames sent across two swaps\n", transport.c_str(), kFrames);
    CHECK(std::set<uint32_t>(programs.begin(), programs.end()).size() == 3);  // three programs, one link

    // Every frame sent was classified by some version: the interface totals saw all of them.
    CHECK(lab.waitForPackets(kFrames) == kFrames);
    const auto counters = lab.interfaceStatus()["totals"];
    CHECK(counters["dropped"] == 0);
    const uint64_t emitted = counters["emitted"];
    auto events = lab.waitForEvents(emitted);
    REQUIRE(events.size() == emitted);  // every message delivered ...
    std::map<uint32_t, Event> bySrc;
    checkEventsAgainstReference(events, bySrc);  // ... once, and right
    std::set<std::string> plugins;
    for (const auto& e : events) plugins.insert(e.plugin);
    CHECK(plugins == std::set<std::string>{"fizz", "fizzbuzz", "fibonacci"});  // the swaps happened under traffic
    // A source without an event was not one every version would report (divisible by 3).
    for (uint32_t s : sources)
        if (!bySrc.count(s)) CHECK(s % 3 != 0);

    const auto log = lab.daemon().stderrText();
    CHECK_THAT(log, Contains("link id " + std::to_string(linkId) + " kept"));
    CHECK(lab.stop() == 0);
    CHECK(lab.attachedProgramId() == 0);  // SIGTERM detaches
    CHECK(lab.events().size() == emitted);
}

TEST_CASE("a reload that fails keeps the old classifier attached and delivering", "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    // One plugin folder holding fizz and a plugin the verifier rejects.
    auto plugins = lab.dir() / "plugins";
    std::filesystem::create_directory(plugins);
    std::filesystem::copy_file(std::filesystem::path(FIZZHOST_PLUGIN_DIR) / "fizz.so", plugins / "fizz.so");
    std::filesystem::copy_file(std::filesystem::path(FIZZHOST_TEST_PLUGIN_DIR) / "rejected/rejected.so",
                               plugins / "rejected.so");
    lab.writeConfig(interfaceTable(lab, "fizz"), plugins);
    lab.start();
    const auto program = lab.interfaceStatus()["program_id"];
    size_t sent = 0;
    auto stillDelivering = [&](uint32_t base) {
        const auto sources = benchmarkSources(base, 300);
        sent += lab.send(sources);
        REQUIRE(lab.waitForPackets(sent) == sent);
        auto status = lab.interfaceStatus();
        CHECK(status["program_id"] == program);
        CHECK(status["variants"][0]["plugin"] == "fizz");
        auto events = lab.waitForEvents(status["variants"][0]["emitted"].get<size_t>());
        REQUIRE(events.size() == status["variants"][0]["emitted"].get<size_t>());
        CHECK(events.back().plugin == "fizz");
    };
    stillDelivering(0);

    SECTION("unparsable config") {
        std::ofstream(lab.configPath()) << "plugin_dir = [broken\n";
        CHECK_FALSE(lab.reload());
        CHECK_THAT(lab.daemon().stderrText(), Contains(lab.configPath().string() + ":1:"));
    }
    SECTION("unknown plugin") {
        lab.writeConfig(interfaceTable(lab, "nonexistent"), plugins);
        CHECK_FALSE(lab.reload());
        CHECK_THAT(lab.daemon().stderrText(), Contains("unknown plugin 'nonexistent'"));
    }
    SECTION("a program the verifier rejects") {
        lab.writeConfig(interfaceTable(lab, "rejected"), plugins);
        CHECK_FALSE(lab.reload());
        const auto log = lab.daemon().stderrText();
        CHECK_THAT(log, Contains("plugin 'rejected'"));
        CHECK_THAT(log, Contains("verifier log"));
        CHECK_THAT(log, Contains("invalid access to packet"));
    }
    CHECK_THAT(lab.daemon().stderrText(), Contains("the running classifiers keep running"));
    stillDelivering(1000);
    CHECK(lab.attachedProgramId() == program);
    CHECK(lab.stop() == 0);
}

TEST_CASE("a plugin file replaced on disk is loaded anew on SIGHUP", "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    auto plugins = lab.dir() / "plugins";
    std::filesystem::create_directory(plugins);
    std::filesystem::copy_file(std::filesystem::path(FIZZHOST_PLUGIN_DIR) / "fizz.so", plugins / "fizz.so");
    lab.writeConfig(interfaceTable(lab, "fizz"), plugins);
    lab.start();
    const auto before = lab.interfaceStatus();
    CHECK(before["variants"][0]["version"] == "1.0.0");
    // Replace the file the way a package manager does: write beside it, rename over it.
    std::filesystem::copy_file(std::filesystem::path(FIZZHOST_TEST_PLUGIN_DIR) / "fizz-rebuilt/fizz.so",
                               plugins / "fizz.so.new");
    std::filesystem::rename(plugins / "fizz.so.new", plugins / "fizz.so");
    REQUIRE(lab.reload());
    const auto after = lab.interfaceStatus();
    CHECK(after["variants"][0]["version"] == "1.0.1");
    CHECK(after["link_id"] == before["link_id"]);
    CHECK(after["program_id"] != before["program_id"]);
    lab.send({0xC6120003});  // Fizz
    auto events = lab.waitForEvents(1);
    REQUIRE(events.size() == 1);
    CHECK(events[0].version == "1.0.1");  // the new build's decoder wrote it
    CHECK(lab.stop() == 0);
}

TEST_CASE("startup refuses a missing interface and one whose XDP program fizzhost does not own", "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    SECTION("missing interface") {
        std::ofstream(lab.configPath()) << "plugin_dir = \"" FIZZHOST_PLUGIN_DIR "\"\ncontrol_socket = \""
                                        << (lab.dir() / "c.sock").string()
                                        << "\"\n[interface.fztnothere0]\nclassifier = \"fizz\"\n";
        DaemonProcess d({FIZZHOST_BINARY, "--config", lab.configPath().string()}, lab.dir(), lab.hostNs().name());
        REQUIRE(d.waitExit(std::chrono::seconds(20)) == 1);
        CHECK_THAT(d.stderrText(), Contains("interface 'fztnothere0' does not exist"));
    }
    SECTION("an XDP program someone else attached") {
        lab.writeConfig(interfaceTable(lab, "fizz"));
        lab.start();
        const uint32_t theirs = lab.interfaceStatus()["program_id"];
        TempDir other;
        std::ofstream(other.path() / "fizz.toml")
            << "plugin_dir = \"" FIZZHOST_PLUGIN_DIR "\"\ncontrol_socket = \"" << (other.path() / "c.sock").string()
            << "\"\n[interface." << lab.ifname() << "]\nclassifier = \"fizzbuzz\"\n";
        DaemonProcess second({FIZZHOST_BINARY, "--config", (other.path() / "fizz.toml").string()}, other.path(),
                             lab.hostNs().name());
        REQUIRE(second.waitExit(std::chrono::seconds(20)) == 1);
        CHECK_THAT(second.stderrText(), Contains("already has XDP program id " + std::to_string(theirs)));
        CHECK(lab.attachedProgramId() == theirs);  // untouched
        CHECK(lab.stop() == 0);
    }
}

TEST_CASE("a reload that adds or removes an interface attaches or detaches only that one", "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    VethPair second(lab.hostNs(), lab.peerNs());
    auto xdpOn = [&](const std::string& ifname) {
        ScopedNetns in(lab.hostNs());
        return bpf::attachedXdpProgramId(int(if_nametoindex(ifname.c_str())));
    };
    const std::string secondTable = "[interface." + second.nameA() + "]\nclassifier = \"fizzbuzz\"\n";
    lab.writeConfig(interfaceTable(lab, "fizz"));
    lab.start();
    const auto first = lab.interfaceStatus();
    CHECK(xdpOn(second.nameA()) == 0);

    lab.writeConfig(interfaceTable(lab, "fizz") + secondTable);
    REQUIRE(lab.reload());
    auto both = lab.status()["interfaces"];
    REQUIRE(both.size() == 2);
    for (const auto& ifc : both)
        if (ifc["name"] == lab.ifname()) {
            CHECK(ifc["link_id"] == first["link_id"]);        // untouched
            CHECK(ifc["program_id"] == first["program_id"]);
        } else {
            CHECK(ifc["name"] == second.nameA());
            CHECK(ifc["variants"][0]["plugin"] == "fizzbuzz");
            CHECK(xdpOn(second.nameA()) == ifc["program_id"].get<uint32_t>());
        }

    lab.writeConfig(secondTable);
    REQUIRE(lab.reload());
    auto left = lab.status()["interfaces"];
    REQUIRE(left.size() == 1);
    CHECK(left[0]["name"] == second.nameA());
    CHECK(xdpOn(lab.ifname()) == 0);  // detached
    CHECK(xdpOn(second.nameA()) != 0);
    CHECK(lab.stop() == 0);
    CHECK(xdpOn(second.nameA()) == 0);
}
