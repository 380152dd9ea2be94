// Shadow mode and per-variant cost with the real daemon and real frames on a veth pair: the seed's
// naive Fibonacci loop shadows the fibonacci plugin over every last octet, and the confusion table
// shows exactly the octets where the loop is wrong (derived from the reference rules), nothing else.
#include "netns/daemon_lab.hpp"
#include "support/cli_run.hpp"
#include "support/privilege.hpp"
#include "support/reference.hpp"

#include <arpa/inet.h>
#include <catch2/catch.hpp>

#include <map>
#include <set>

using namespace fizzhost::test;
using Catch::Matchers::Contains;

namespace {

std::string dotted(uint32_t hostOrder) {
    char buf[INET_ADDRSTRLEN];
    const uint32_t net = htonl(hostOrder);
    return inet_ntop(AF_INET, &net, buf, sizeof buf);
}

std::filesystem::path pluginsWithNaive(const DaemonLab& lab) {
    auto plugins = lab.dir() / "plugins";
    std::filesystem::create_directory(plugins);
    for (const char* p : {"fibonacci.so", "fizzbuzz.so", "fizz.so"})
        std::filesystem::copy_file(std::filesystem::path(FIZZHOST_PLUGIN_DIR) / p, plugins / p);
    std::filesystem::copy_file(std::filesystem::path(FIZZHOST_TEST_PLUGIN_DIR) / "fibonacci-naive/fibonacci-naive.so",
                               plugins / "fibonacci-naive.so");
    return plugins;
}

std::string shadowConfig(const DaemonLab& lab, bool events) {
    return rolloutTable(lab.ifname(), "fibonacci",
                        std::string("candidate = \"fibonacci-naive\"\nmode = \"shadow\"\n") +
                            (events ? "shadow_events = true\n" : ""));
}

// Waits until the shadow table compared `frames` frames; returns the interface status then.
nlohmann::json waitCompared(const DaemonLab& lab, uint64_t frames) {
    nlohmann::json ifc;
    for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
         std::chrono::steady_clock::now() < until;) {
        ifc = lab.interfaceStatus();
        if (ifc.contains("shadow") && ifc["shadow"]["compared"].get<uint64_t>() >= frames) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return ifc;
}

const nlohmann::json& variant(const nlohmann::json& ifc, const std::string& name) {
    for (const auto& v : ifc["variants"])
        if (v["variant"] == name) return v;
    FAIL("no variant " << name << " in " << ifc.dump());
    throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("shadow mode: fibonacci-naive shadows fibonacci over every last octet; the table shows exactly the octets "
          "the naive loop gets wrong, only the baseline's events are written unless shadow_events, and each variant "
          "shows its own ns/run",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    const auto plugins = pluginsWithNaive(lab);
    lab.writeConfig(shadowConfig(lab, false), plugins);
    lab.start();
    const auto sources = benchmarkSources(0, 256);  // 198.18.0.0 .. 198.18.0.255

    // What the table must hold, from the reference rules of both plugins.
    std::map<std::pair<std::string, std::string>, std::set<std::string>> wrong;  // disagreeing cell -> sources
    std::map<std::pair<std::string, std::string>, uint64_t> cells;
    size_t baselineEvents = 0, shadowEvents = 0;
    std::set<uint32_t> wrongOctets;
    for (uint32_t s : sources) {
        const auto b = referenceKind("fibonacci", s), c = referenceKind("fibonacci-naive", s);
        baselineEvents += b.has_value();
        shadowEvents += c.has_value();
        const std::pair key{b.value_or("none"), c.value_or("none")};
        ++cells[key];
        if (b != c) {
            wrong[key].insert(dotted(s));
            wrongOctets.insert(s & 0xff);
        }
    }
    // The list, for whoever reads the test: the reference derives it, the table must match.
    CHECK(wrongOctets == std::set<uint32_t>{0, 241, 245, 247, 253, 255});

    REQUIRE(lab.send(sources) == sources.size());
    auto ifc = waitCompared(lab, sources.size());
    REQUIRE(ifc.contains("shadow"));
    CHECK_FALSE(ifc.contains("percent"));
    const auto& sh = ifc["shadow"];
    CHECK(sh["compared"] == sources.size());
    size_t disagreeing = 0;
    for (const auto& s : wrong) disagreeing += s.second.size();
    CHECK(sh["disagreed"] == disagreeing);
    CHECK(sh["events"] == false);
    std::map<std::pair<std::string, std::string>, uint64_t> gotCells;
    std::map<std::pair<std::string, std::string>, std::set<std::string>> gotWrong;
    for (const auto& cell : sh["cells"]) {
        const std::pair key{cell["baseline"].get<std::string>(), cell["candidate"].get<std::string>()};
        gotCells[key] = cell["frames"];
        CHECK(cell["agree"] == (key.first == key.second));
        if (!cell["agree"].get<bool>())
            for (const auto& e : cell["examples"]) gotWrong[key].insert(e.get<std::string>());
    }
    CHECK(gotCells == cells);
    // Every disagreeing cell holds at most 4 sources here, so its examples are all of them.
    for (const auto& [key, srcs] : wrong) REQUIRE(srcs.size() <= 4);
    CHECK(gotWrong == wrong);

    // Only the baseline's events are written; the shadow's messages are drained and withheld.
    const auto events = lab.waitForEvents(baselineEvents);
    CHECK(events.size() == baselineEvents);
    for (const auto& e : events) {
        CHECK(e.variant == "baseline");
        CHECK(e.plugin == "fibonacci");
    }
    for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
         std::chrono::steady_clock::now() < until && variant(lab.interfaceStatus(), "shadow")["withheld"] < shadowEvents;)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ifc = lab.interfaceStatus();
    const auto& shadow = variant(ifc, "shadow");
    CHECK(shadow["plugin"] == "fibonacci-naive");
    CHECK(shadow["withheld"] == shadowEvents);
    CHECK(shadow["delivered"] == 0);
    CHECK(shadow["packets"] == sources.size());
    CHECK(variant(ifc, "baseline")["packets"] == sources.size());
    // Each variant's cost, as the dispatcher timed it (1 frame in 64 per CPU).
    for (const char* v : {"baseline", "shadow"}) {
        INFO(v);
        const auto& fig = variant(ifc, v);
        CHECK(fig["runs_timed_1_in"] == 64);
        CHECK(fig["runs"].get<uint64_t>() >= 1);
        CHECK(fig["ns_per_run"].get<double>() > 0);
    }

    // The text status shows the table with kind names and examples.
    const auto text = runFizzhost({"status", "--config", lab.configPath().string()});
    REQUIRE(text.status == 0);
    CHECK_THAT(text.out, Contains("rollout in shadow mode"));
    CHECK_THAT(text.out, Contains("shadow: 256 frames compared, " + std::to_string(disagreeing) + " disagreed"));
    CHECK_THAT(text.out, Contains("candidate events withheld"));
    CHECK_THAT(text.out, Contains("198.18.0.255") && Contains("198.18.0.241") && Contains("!="));
    CHECK_THAT(text.out, Contains("cost (dispatcher-timed, 1 frame in 64 per CPU): baseline fibonacci"));
    std::fprintf(stderr, "%s", text.out.c_str());

    // shadow_events = true: a reload brings a new shadow instance (and dispatcher) that writes its
    // events as "variant":"shadow"; the table starts again with the new dispatcher.
    lab.writeConfig(shadowConfig(lab, true), plugins);
    REQUIRE(lab.reload());
    REQUIRE(lab.send(sources) == sources.size());
    ifc = waitCompared(lab, sources.size());
    CHECK(ifc["shadow"]["compared"] == sources.size());
    CHECK(ifc["shadow"]["disagreed"] == disagreeing);
    CHECK(ifc["shadow"]["events"] == true);
    const auto all = lab.waitForEvents(2 * baselineEvents + shadowEvents);
    REQUIRE(all.size() == 2 * baselineEvents + shadowEvents);
    size_t shadowSeen = 0;
    for (size_t i = baselineEvents; i < all.size(); ++i) {
        const auto& e = all[i];
        if (e.variant == "shadow") {
            ++shadowSeen;
            CHECK(e.plugin == "fibonacci-naive");
            CHECK(referenceKind("fibonacci-naive", e.src) == std::optional<std::string>(e.kind));
        } else {
            CHECK(e.variant == "baseline");
            CHECK(referenceKind("fibonacci", e.src) == std::optional<std::string>(e.kind));
        }
    }
    CHECK(shadowSeen == shadowEvents);
    // The shadow's frames are the baseline's: the interface counted each once.
    CHECK(lab.interfaceStatus()["totals"]["packets"] == 2 * sources.size());

    // Shadow -> split -> no rollout, each one reload on the same link: fresh instances for the
    // new mode, and the dispatcher leaves with the last.
    const auto linkId = lab.interfaceStatus()["link_id"];
    lab.writeConfig(rolloutTable(lab.ifname(), "fibonacci", "candidate = \"fibonacci-naive\"\npercent = 50\n"), plugins);
    REQUIRE(lab.reload());
    ifc = lab.interfaceStatus();
    CHECK(ifc["link_id"] == linkId);
    CHECK(ifc["percent"] == 50);
    CHECK_FALSE(ifc.contains("shadow"));
    CHECK(variant(ifc, "candidate")["plugin"] == "fibonacci-naive");
    lab.writeConfig(interfaceTable(lab.ifname(), "fibonacci"), plugins);
    REQUIRE(lab.reload());
    const size_t before = lab.events().size();
    REQUIRE(lab.send(sources) == sources.size());
    const auto last = lab.waitForEvents(before + baselineEvents);
    REQUIRE(last.size() == before + baselineEvents);
    for (size_t i = before; i < last.size(); ++i) CHECK(last[i].variant == "baseline");
    ifc = lab.interfaceStatus();
    CHECK(ifc["link_id"] == linkId);
    CHECK(ifc["variants"].size() == 1);
    CHECK(ifc["variants"][0]["packets"] == sources.size());  // a fresh, plain baseline instance
    CHECK(lab.stop() == 0);
}

TEST_CASE("a split rollout shows each variant's ns/run as the dispatcher timed it, in status text and JSON",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    lab.writeConfig(rolloutTable(lab.ifname(), "fizzbuzz", "candidate = \"fibonacci\"\npercent = 50\n"));
    lab.start();
    const auto sources = benchmarkSources(0x100, 2048);
    REQUIRE(lab.send(sources) == sources.size());
    REQUIRE(lab.waitForPackets(sources.size()) == sources.size());
    const auto ifc = lab.interfaceStatus();
    CHECK(ifc["percent"] == 50);
    CHECK_FALSE(ifc.contains("shadow"));
    uint64_t timed = 0;
    for (const auto& v : ifc["variants"]) {
        INFO(v.dump());
        CHECK(v["runs_timed_1_in"] == 64);
        CHECK(v["ns_per_run"].get<double>() > 0);
        timed += v["runs"].get<uint64_t>();
    }
    // 1 frame in 64 per CPU, whichever variant it met (per variant, the share is the split's by chance).
    CHECK(timed <= sources.size() / 64);
    CHECK(timed + 2 * 2 >= sources.size() / 64);
    const auto text = runFizzhost({"status", "--config", lab.configPath().string()});
    REQUIRE(text.status == 0);
    CHECK_THAT(text.out, Contains("cost (dispatcher-timed, 1 frame in 64 per CPU): baseline fizzbuzz 2.0.0"));
    CHECK_THAT(text.out, Contains(", candidate fibonacci 3.0.0"));

    // cost_sample_period: another period is a new dispatcher (one link update), 0 times nothing.
    for (const uint32_t period : {8u, 0u}) {
        INFO("cost_sample_period = " << period);
        const auto dispatcherBefore = lab.interfaceStatus()["program_id"];
        lab.writeConfig(rolloutTable(lab.ifname(), "fizzbuzz",
                                     "candidate = \"fibonacci\"\npercent = 50\ncost_sample_period = " +
                                         std::to_string(period) + "\n"));
        REQUIRE(lab.reload());
        const uint64_t counted = lab.packetsCounted();
        REQUIRE(lab.send(sources) == sources.size());
        REQUIRE(lab.waitForPackets(counted + sources.size()) == counted + sources.size());
        const auto now = lab.interfaceStatus();
        CHECK(now["program_id"] != dispatcherBefore);
        uint64_t runs = 0;
        for (const auto& v : now["variants"]) {
            INFO(v.dump());
            CHECK(v["runs_timed_1_in"] == period);
            runs += v["runs"].get<uint64_t>();
        }
        if (period == 0) {
            CHECK(runs == 0);
        } else {
            CHECK(runs <= sources.size() / period);
            CHECK(runs + 2 * 2 >= sources.size() / period);
        }
    }
    CHECK(lab.stop() == 0);
}
