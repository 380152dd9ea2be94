// The real fizzhost binary on a veth pair in namespaces the tests make: events, hot swap under
// traffic, failed reloads, rollout, shutdown.
#include "netns/daemon_lab.hpp"
#include "bpf/xdp_link.hpp"
#include "runtime/rollout/dispatcher.hpp"
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
    lab.writeConfig(interfaceTable(lab.ifname(), "fizz"));
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
        lab.writeConfig(interfaceTable(lab.ifname(), next));
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
    lab.writeConfig(interfaceTable(lab.ifname(), "fizz"), plugins);
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
        lab.writeConfig(interfaceTable(lab.ifname(), "nonexistent"), plugins);
        CHECK_FALSE(lab.reload());
        // Where the config names it: line 5 is the classifier line writeConfig() writes.
        CHECK_THAT(lab.daemon().stderrText(), Contains(lab.configPath().string() + ":5:14: interface '" + lab.ifname() +
                                                       "': unknown plugin 'nonexistent'"));
    }
    SECTION("a program the verifier rejects") {
        lab.writeConfig(interfaceTable(lab.ifname(), "rejected"), plugins);
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
    lab.writeConfig(interfaceTable(lab.ifname(), "fizz"), plugins);
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

TEST_CASE("a module file whose bytes changed under the same version is loaded and said, with both hashes, on SIGHUP",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    auto plugins = lab.dir() / "plugins";
    std::filesystem::create_directory(plugins);
    std::filesystem::copy_file(std::filesystem::path(FIZZHOST_PLUGIN_DIR) / "fizz.so", plugins / "fizz.so");
    lab.writeConfig(interfaceTable(lab.ifname(), "fizz"), plugins);
    lab.start();
    const auto before = lab.interfaceStatus();
    // The same module with a few bytes after its end: another file under fizz 1.0.0.
    std::filesystem::copy_file(plugins / "fizz.so", plugins / "fizz.so.new");
    std::ofstream(plugins / "fizz.so.new", std::ios::app | std::ios::binary) << std::string("rebuilt", 7);
    std::filesystem::rename(plugins / "fizz.so.new", plugins / "fizz.so");
    REQUIRE(lab.reload());
    const auto after = lab.interfaceStatus();
    CHECK(after["variants"][0]["version"] == "1.0.0");
    CHECK(after["program_id"] != before["program_id"]);
    CHECK_THAT(lab.daemon().stderrText(),
               Contains("fizz 1.0.0: the module file changed under the same version (sha256 ") &&
                   Contains("...); loading the new bytes"));
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
        CHECK_THAT(d.stderrText(),
                   Contains(lab.configPath().string() + ":3:12: interface 'fztnothere0' does not exist"));
    }
    SECTION("an XDP program someone else attached") {
        lab.writeConfig(interfaceTable(lab.ifname(), "fizz"));
        lab.start();
        const uint32_t theirs = lab.interfaceStatus()["program_id"];
        TempDir other;
        std::ofstream(other.path() / "fizz.toml")
            << "plugin_dir = \"" FIZZHOST_PLUGIN_DIR "\"\ncontrol_socket = \"" << (other.path() / "c.sock").string()
            << "\"\n[interface." << lab.ifname() << "]\nclassifier = \"fizzbuzz\"\n";
        DaemonProcess second({FIZZHOST_BINARY, "--config", (other.path() / "fizz.toml").string()}, other.path(),
                             lab.hostNs().name());
        REQUIRE(second.waitExit(std::chrono::seconds(20)) == 1);
        CHECK_THAT(second.stderrText(), Contains("already has XDP program 'fizz_xdp' (id " + std::to_string(theirs) + ")"));
        // Named for what it is: another fizzhost, by its pid; not "a program fizzhost does not own".
        CHECK_THAT(second.stderrText(), Contains("held by another fizzhost (pid " + std::to_string(lab.daemon().pid()) + ")"));
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
    lab.writeConfig(interfaceTable(lab.ifname(), "fizz"));
    lab.start();
    const auto first = lab.interfaceStatus();
    CHECK(xdpOn(second.nameA()) == 0);

    lab.writeConfig(interfaceTable(lab.ifname(), "fizz") + secondTable);
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

TEST_CASE("a SIGHUP with an identical config keeps every link and program id, rollout included", "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    lab.setTransport(GENERATE("queue", "ring"));
    lab.writeConfig(rolloutTable(lab.ifname(), "fizzbuzz", "candidate = \"fibonacci\"\npercent = 30\n"));
    lab.start();
    // Every id the host reports: the link, the program it runs (the dispatcher), each variant's.
    auto ids = [&] {
        auto ifc = lab.interfaceStatus();
        std::vector<uint32_t> out = {ifc["link_id"], ifc["program_id"]};
        for (const auto& v : ifc["variants"]) out.push_back(v["program_id"]);
        return out;
    };
    const auto before = ids();
    REQUIRE(before.size() == 4);
    for (int i = 0; i < 2; ++i) {
        REQUIRE(lab.reload());
        CHECK(ids() == before);
    }
    CHECK(lab.attachedProgramId() == before[1]);
    lab.send(benchmarkSources(0, 300));
    CHECK(lab.waitForPackets(300) == 300);
    CHECK(lab.stop() == 0);
}

TEST_CASE("at a trickle of one frame a second, each event arrives before the next frame is sent", "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    // Neither transport wakes the pump: it polls, at most kMaxIdleMs (16 ms) apart when idle. The
    // bound asserted is the test's pace, one second, far above that: a lost wakeup or an event held
    // back until the next frame pushes it out fails here; a slow machine does not.
    const std::string transport = GENERATE("ring", "queue");
    INFO("transport " << transport);
    DaemonLab lab;
    lab.setTransport(transport);
    lab.writeConfig(interfaceTable(lab.ifname(), "fizz"));
    lab.start();
    constexpr int kFrames = 4;
    std::vector<double> latencyMs;
    for (int i = 0; i < kFrames; ++i) {
        const auto sentAt = std::chrono::steady_clock::now();
        const auto nextFrame = sentAt + std::chrono::seconds(1);
        REQUIRE(lab.send({0xC6120000u + 3u * uint32_t(i + 1)}) == 1);  // a Fizz source: one event each
        size_t seen = 0;
        while (std::chrono::steady_clock::now() < nextFrame) {
            seen = lab.events().size();
            if (seen == size_t(i + 1)) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        INFO("frame " << i);
        REQUIRE(seen == size_t(i + 1));
        latencyMs.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - sentAt).count());
        std::this_thread::sleep_until(nextFrame);
    }
    std::string text;
    for (double ms : latencyMs) text += " " + std::to_string(int(ms + 0.5)) + " ms";
    std::fprintf(stderr, "trickle (%s): frame to event, including the file poll:%s\n", transport.c_str(), text.c_str());
    const auto events = lab.events();
    for (int i = 0; i < kFrames; ++i) CHECK(events[size_t(i)].src == 0xC6120000u + 3u * uint32_t(i + 1));
    CHECK(lab.stop() == 0);
}

TEST_CASE("counters belong to the instance that counted them, across a swap between plugins with different kinds",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    lab.writeConfig(interfaceTable(lab.ifname(), "fizzbuzz"));
    lab.start();
    // Expected counts per kind name, from the reference rules.
    auto expectKinds = [](const std::string& plugin, const std::vector<uint32_t>& sources) {
        std::map<std::string, uint64_t> kinds;
        for (uint32_t s : sources)
            if (auto k = referenceKind(plugin, s)) ++kinds[*k];
        return kinds;
    };
    auto sum = [](const std::map<std::string, uint64_t>& m) {
        uint64_t n = 0;
        for (const auto& [k, v] : m) n += v;
        return n;
    };
    auto kindsOf = [](const nlohmann::json& j) {
        std::map<std::string, uint64_t> out;
        for (const auto& [k, v] : j.items())
            if (v.get<uint64_t>() > 0) out[k] = v.get<uint64_t>();
        return out;
    };

    const auto first = benchmarkSources(0, 300);
    REQUIRE(lab.send(first) == first.size());
    REQUIRE(lab.waitForPackets(first.size()) == first.size());
    const auto fizzbuzzKinds = expectKinds("fizzbuzz", first);
    REQUIRE(lab.waitForEvents(sum(fizzbuzzKinds)).size() == sum(fizzbuzzKinds));
    auto before = lab.interfaceStatus();
    REQUIRE(before["variants"].size() == 1);
    CHECK(before["variants"][0]["plugin"] == "fizzbuzz");
    CHECK(before["variants"][0]["packets"] == first.size());
    CHECK(kindsOf(before["variants"][0]["kinds"]) == fizzbuzzKinds);

    lab.writeConfig(interfaceTable(lab.ifname(), "fizz"));
    REQUIRE(lab.reload());
    const auto second = benchmarkSources(1000, 200);
    REQUIRE(lab.send(second) == second.size());
    REQUIRE(lab.waitForPackets(first.size() + second.size()) == first.size() + second.size());
    const auto fizzKinds = expectKinds("fizz", second);
    REQUIRE(lab.waitForEvents(sum(fizzbuzzKinds) + sum(fizzKinds)).size() == sum(fizzbuzzKinds) + sum(fizzKinds));

    const auto after = lab.interfaceStatus();
    // The live row is fizz's own, every column since it went live: nothing of fizzbuzz lingers.
    REQUIRE(after["variants"].size() == 1);
    const auto& v = after["variants"][0];
    CHECK(v["plugin"] == "fizz");
    CHECK(v["packets"] == second.size());
    CHECK(v["emitted"] == sum(fizzKinds));
    CHECK(v["delivered"] == sum(fizzKinds));
    CHECK(v["dropped"] == 0);
    CHECK(v["counts_packets"] == true);
    CHECK(kindsOf(v["kinds"]) == fizzKinds);
    // The interface's totals: the retired fizzbuzz's final counts plus fizz's, kinds by name.
    const auto& t = after["totals"];
    CHECK(t["packets"] == first.size() + second.size());
    CHECK(t["emitted"] == sum(fizzbuzzKinds) + sum(fizzKinds));
    CHECK(t["delivered"] == sum(fizzbuzzKinds) + sum(fizzKinds));
    auto allKinds = fizzbuzzKinds;
    for (const auto& [k, n] : fizzKinds) allKinds[k] += n;
    CHECK(kindsOf(t["kinds"]) == allKinds);
    CHECK(lab.stop() == 0);
}

TEST_CASE("a program that emits but never counts packets is flagged in status and warned about once", "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    lab.writeConfig(interfaceTable(lab.ifname(), "uncounted"), std::filesystem::path(FIZZHOST_TEST_PLUGIN_DIR) / "uncounted");
    lab.start();
    const auto sources = benchmarkSources(0, 30);
    REQUIRE(lab.send(sources) == sources.size());
    REQUIRE(lab.waitForEvents(10).size() == 10);  // 198.18.0.0 .. +29: ten divisible by 3
    for (int i = 0; i < 2; ++i) {
        const auto v = lab.interfaceStatus()["variants"][0];
        CHECK(v["packets"] == 0);
        CHECK(v["emitted"] == 10);
        CHECK(v["counts_packets"] == false);
    }
    const std::string log = lab.daemon().stderrText();
    const std::string warning = "never calls fizz_count_packet()";
    REQUIRE_THAT(log, Contains(warning));
    CHECK(log.find(warning) == log.rfind(warning));  // once
    CHECK(lab.stop() == 0);
}
