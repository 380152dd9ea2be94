// Every change a reload makes is one atomic kernel operation, proven by failure injection: for
// each kind of change (a plain swap, starting a rollout, moving its percent, changing its
// candidate, promoting it, ending it) the daemon runs with every failure point armed
// (FIZZHOST_FAILPOINTS, util/failpoint.hpp), so successive reloads of the change fail at
// successive points of the transaction. After each refusal: the reason names the point, the link
// runs the same program, frames on the veth are classified exactly as before (the shared hash
// decides the variant, the reference rules the kind), every message is delivered (every source
// still drained), and the daemon holds the same fds and the same BPF programs, maps and links. The
// reload after the last point goes through.
#include "netns/daemon_lab.hpp"
#include "support/bpf_footprint.hpp"
#include "support/cli_run.hpp"
#include "support/privilege.hpp"
#include "support/reference.hpp"
#include "util/failpoint.hpp"

#include <catch2/catch.hpp>
#include <fizz/dispatcher.h>

#include <algorithm>
#include <csignal>
#include <map>
#include <optional>
#include <thread>

using namespace fizzhost;
using namespace fizzhost::test;
using Catch::Matchers::Contains;

namespace {

struct State {
    std::string baseline;
    std::optional<std::string> candidate;
    unsigned percent = 0;
};

std::string configOf(const DaemonLab& lab, const State& s) {
    if (!s.candidate) return interfaceTable(lab.ifname(), s.baseline);
    return rolloutTable(lab.ifname(), s.baseline,
                        "candidate = \"" + *s.candidate + "\"\npercent = " + std::to_string(s.percent) + "\n");
}

std::string describeState(const State& s) {
    return s.baseline + (s.candidate ? " + " + *s.candidate + " at " + std::to_string(s.percent) + "%" : "");
}

struct Change {
    const char* what;
    State before, after;
    std::vector<const char*> points;  // the failure points this change reaches, in order
};

// Sends 64 new sources and checks that `state` classified each one: the variant the dispatcher's
// hash picks (fizz/dispatcher.h), the kind the reference rules give, every message delivered.
void expectClassifiedBy(DaemonLab& lab, const State& state, uint32_t& next) {
    const size_t eventsBefore = lab.events().size();
    const uint64_t packetsBefore = lab.packetsCounted();
    const auto sources = benchmarkSources(next, 64);
    next += 64;
    const size_t sent = lab.send(sources);
    REQUIRE(lab.waitForPackets(packetsBefore + sent) == packetsBefore + sent);
    const auto ifc = lab.interfaceStatus();
    const size_t emitted = ifc["totals"]["emitted"].get<size_t>();
    const auto events = lab.waitForEvents(emitted);
    REQUIRE(events.size() == emitted);  // everything emitted so far was delivered
    // Every source drained: each variant delivered what it emitted (read once the events are out).
    for (const auto& v : lab.interfaceStatus()["variants"]) CHECK(v["delivered"] == v["emitted"]);

    std::map<uint32_t, const Event*> bySrc;
    for (size_t i = eventsBefore; i < events.size(); ++i) bySrc[events[i].src] = &events[i];
    const uint64_t threshold = state.candidate ? fizz_split_threshold(state.percent) : 0;
    for (uint32_t src : sources) {
        const bool toCandidate = fizz_dispatch_variant(src, threshold) == FIZZ_VARIANT_CANDIDATE;
        const std::string plugin = toCandidate ? *state.candidate : state.baseline;
        const auto kind = referenceKind(plugin, src);
        auto it = bySrc.find(src);
        INFO("source " << src << " expected from " << plugin << " (" << describeState(state) << ")");
        if (!kind) {
            CHECK(it == bySrc.end());
            continue;
        }
        REQUIRE(it != bySrc.end());
        CHECK(it->second->plugin == plugin);
        CHECK(it->second->kind == *kind);
        CHECK(it->second->variant == (toCandidate ? "candidate" : "baseline"));
    }
}

// The variants as status shows them: (variant, plugin, program id), and the split.
std::string variantsOf(const nlohmann::json& ifc) {
    std::string s;
    for (const auto& v : ifc["variants"])
        s += v["variant"].get<std::string>() + "=" + v["plugin"].get<std::string>() + "#" + v["program_id"].dump() + " ";
    return s + "percent=" + (ifc.contains("percent") ? ifc["percent"].dump() : "-");
}

}  // namespace

TEST_CASE("a reload failing at any point of its transaction changes nothing, keeps every source drained and "
          "leaks nothing; the next one commits",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    using namespace failpoints;
    const Change change = GENERATE(
        Change{"a plain swap", {"fizz", {}, 0}, {"fizzbuzz", {}, 0},
               {kCatalogRead, kInstanceLoaded, kSourcesAdded, kBeforeLinkUpdate}},
        Change{"starting a rollout", {"fizz", {}, 0}, {"fizz", "fizzbuzz", 50},
               {kCatalogRead, kInstanceLoaded, kDispatcherBuilt, kSourcesAdded, kBeforeLinkUpdate}},
        Change{"moving the percent", {"fizz", "fizzbuzz", 10}, {"fizz", "fizzbuzz", 60},
               {kCatalogRead, kBeforeMapWrite}},
        Change{"changing the candidate", {"fizz", "fizzbuzz", 50}, {"fizz", "fibonacci", 50},
               {kCatalogRead, kInstanceLoaded, kDispatcherBuilt, kSourcesAdded, kBeforeLinkUpdate}},
        Change{"promoting the candidate", {"fizz", "fizzbuzz", 50}, {"fizzbuzz", {}, 0},
               {kCatalogRead, kInstanceLoaded, kSourcesAdded, kBeforeLinkUpdate}},
        Change{"ending the rollout", {"fizz", "fizzbuzz", 50}, {"fizz", {}, 0}, {kCatalogRead, kBeforeLinkUpdate}});
    INFO(change.what << ": " << describeState(change.before) << " -> " << describeState(change.after));

    DaemonLab lab;
    lab.writeConfig(configOf(lab, change.before));
    std::string all;
    for (const auto& p : knownFailpoints()) all += (all.empty() ? "" : ",") + p;
    DaemonProcess daemon({"env", "FIZZHOST_FAILPOINTS=" + all, FIZZHOST_BINARY, "--config", lab.configPath().string()},
                         lab.dir(), lab.hostNs().name());
    REQUIRE(daemon.waitForStderr("fizzhost running", std::chrono::seconds(20)));
    INFO(daemon.stderrText());
    CHECK_THAT(daemon.stderrText(), Contains("FIZZHOST_FAILPOINTS is set: failure injection"));
    const auto socket = (lab.dir() / "control.sock").string();

    uint32_t next = 0;
    expectClassifiedBy(lab, change.before, next);
    const uint32_t program = lab.attachedProgramId();
    const std::string variants = variantsOf(lab.interfaceStatus());
    const BpfFootprint footprint = bpfFootprint(daemon.pid());
    INFO("footprint before: " << describe(footprint));
    CHECK_FALSE(footprint.progs.empty());
    CHECK(footprint.links.size() == 1);

    lab.writeConfig(configOf(lab, change.after));
    for (const char* point : change.points) {
        INFO("failure point " << point);
        auto run = runFizzhost({"reload", "--socket", socket});
        CHECK(run.status == 1);
        CHECK_THAT(run.err, Contains(std::string("failure injected at '") + point + "'"));
        CHECK_THAT(lab.status()["last_reload"]["reason"].get<std::string>(), Contains(point));
        // The old state runs on untouched ...
        CHECK(lab.attachedProgramId() == program);
        CHECK(variantsOf(lab.interfaceStatus()) == variants);
        expectClassifiedBy(lab, change.before, next);
        // ... and nothing leaked: the same fds, programs, maps and links.
        const BpfFootprint after = bpfFootprint(daemon.pid());
        INFO("footprint after: " << describe(after));
        CHECK(after == footprint);
    }

    // Every point is spent: the same change now commits.
    auto run = runFizzhost({"reload", "--socket", socket});
    CHECK(run.status == 0);
    INFO(run.err);
    CHECK(variantsOf(lab.interfaceStatus()) != variants);
    expectClassifiedBy(lab, change.after, next);
    // Each refusal said that nothing changed, and no point beyond those listed fired.
    const auto log = daemon.stderrText();
    CHECK(countOccurrences(log, "reload failed, nothing changed") == change.points.size());
    for (const auto& point : knownFailpoints())
        if (std::find(change.points.begin(), change.points.end(), point) == change.points.end())
            CHECK_THAT(log, !Contains("failure injected at '" + point + "'"));

    daemon.signal(SIGTERM);
    CHECK(daemon.waitExit(std::chrono::seconds(20)) == 0);
}
