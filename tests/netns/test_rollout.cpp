// A/B rollout through the host-owned dispatcher, with real frames on a veth pair.
#include "netns/daemon_lab.hpp"
#include "runtime/rollout/dispatcher.hpp"
#include "support/privilege.hpp"
#include "support/reference.hpp"

#include <catch2/catch.hpp>
#include <fizz/dispatcher.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <thread>

using namespace fizzhost;
using namespace fizzhost::test;

namespace {

std::string rolloutConfig(const DaemonLab& lab, const std::string& baseline, std::optional<std::pair<std::string, int>> rollout) {
    if (!rollout) return interfaceTable(lab.ifname(), baseline);
    return rolloutTable(lab.ifname(), baseline,
                        "candidate = \"" + rollout->first + "\"\npercent = " + std::to_string(rollout->second) + "\n");
}

std::map<std::string, uint64_t> packetsByVariant(const nlohmann::json& ifc) {
    std::map<std::string, uint64_t> out;
    for (const auto& v : ifc["variants"]) out[v["variant"]] = v["packets"];
    return out;
}

}  // namespace

// One daemon, one straight line (Catch2 re-runs a test case from the top for every section, so the
// steps cannot be sections): state carries from step to step, and each step is judged on the
// packets and events of its own window only.
TEST_CASE("one daemon moves a rollout 0 -> 10 -> 50 -> 100 -> promote: at each step exactly the sources the hash "
          "assigns reach the candidate, each sticks to its variant, and each variant's events follow its own rules",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    lab.writeConfig(rolloutConfig(lab, "fizzbuzz", std::nullopt));
    lab.start();
    const auto linkId = lab.interfaceStatus()["link_id"];
    constexpr size_t kSources = 4000;
    const auto sources = benchmarkSources(0x100, kSources);
    auto count = [](const std::map<std::string, uint64_t>& m, const std::string& k) {
        auto it = m.find(k);
        return it == m.end() ? uint64_t(0) : it->second;
    };
    uint64_t sent = 0;
    size_t seenEvents = 0;
    std::set<uint32_t> candidatesBefore;  // sources seen at the candidate in the previous step
    constexpr int kPromote = -1;

    for (int percent : {0, 10, 50, 100, kPromote}) {
        INFO("step: " << (percent == kPromote ? std::string("promote") : std::to_string(percent) + "%"));
        const bool promoted = percent == kPromote;
        lab.writeConfig(promoted ? rolloutConfig(lab, "fibonacci", std::nullopt)
                                 : rolloutConfig(lab, "fizzbuzz", std::pair{"fibonacci", percent}));
        REQUIRE(lab.reload());
        auto ifc = lab.interfaceStatus();
        CHECK(ifc["link_id"] == linkId);
        if (promoted) {
            CHECK_FALSE(ifc.contains("percent"));
            CHECK(ifc["variants"][0]["plugin"] == "fibonacci");
            CHECK(ifc["variants"][0]["variant"] == "baseline");
        } else {
            CHECK(ifc["percent"] == percent);
        }
        const auto before = packetsByVariant(ifc);

        // What this step must do, from the shared hash and the reference rules.
        size_t toCandidate = 0, emitting = 0;
        for (uint32_t s : sources) {
            const bool candidate = !promoted && referenceToCandidate(s, unsigned(percent));
            toCandidate += candidate;
            emitting += referenceKind(candidate || promoted ? "fibonacci" : "fizzbuzz", s).has_value();
        }
        // Twice the same sources: the second pass must meet the same variants.
        for (int pass = 0; pass < 2; ++pass) sent += lab.send(sources);
        REQUIRE(lab.waitForPackets(sent) == sent);
        const auto after = packetsByVariant(lab.interfaceStatus());
        CHECK(count(after, "candidate") - count(before, "candidate") == 2 * toCandidate);
        CHECK(count(after, "baseline") - count(before, "baseline") == 2 * (kSources - toCandidate));
        if (percent > 0 && percent < 100) {
            // Within 4.5 standard deviations of the configured share.
            const double share = double(toCandidate) / kSources, p = percent / 100.0;
            CHECK(std::abs(share - p) < 4.5 * std::sqrt(p * (1 - p) / kSources));
            std::fprintf(stderr, "rollout percent %d: %zu of %zu sources (%.2f%%) went to the candidate\n", percent,
                         toCandidate, kSources, 100.0 * share);
        }

        const auto events = lab.waitForEvents(seenEvents + 2 * emitting);
        REQUIRE(events.size() == seenEvents + 2 * emitting);
        std::map<uint32_t, std::string> variantOf;
        std::set<uint32_t> candidates;
        for (size_t i = seenEvents; i < events.size(); ++i) {
            const auto& e = events[i];
            const bool candidate = !promoted && referenceToCandidate(e.src, unsigned(percent));
            CHECK(e.variant == (candidate ? "candidate" : "baseline"));
            CHECK(e.plugin == (candidate || promoted ? "fibonacci" : "fizzbuzz"));
            CHECK(referenceKind(e.plugin, e.src) == std::optional<std::string>(e.kind));
            auto [it, fresh] = variantOf.emplace(e.src, e.variant);
            if (!fresh) CHECK(it->second == e.variant);  // sticky
            if (e.variant == "candidate") candidates.insert(e.src);
        }
        // A growing share only adds sources: whoever was at the candidate stays there.
        if (!promoted)
            for (uint32_t s : candidatesBefore) CHECK(candidates.count(s) == 1);
        candidatesBefore = std::move(candidates);
        seenEvents = events.size();
    }
    CHECK(lab.stop() == 0);
}

TEST_CASE("0 -> 10 -> 50 -> 100 -> promote under continuous traffic loses no packet and keeps the link", "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    lab.writeConfig(rolloutConfig(lab, "fizzbuzz", std::pair{"fibonacci", 0}));
    lab.start();
    const auto linkId = lab.interfaceStatus()["link_id"];
    CHECK(lab.interfaceStatus()["percent"] == 0);

    std::atomic<bool> stop{false};
    std::atomic<uint64_t> sent{0};
    std::thread sender([&] {
        uint32_t next = 0;
        while (!stop) {
            sent += lab.send(benchmarkSources(next % 100000, 256));
            next += 256;
        }
    });
    auto settle = [&] {
        const uint64_t mark = sent + 2000;
        while (sent < mark) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    };

    settle();
    auto at0 = packetsByVariant(lab.interfaceStatus());
    CHECK(at0["candidate"] == 0);  // percent 0 is baseline-only
    std::vector<nlohmann::json> steps;
    for (int percent : {10, 50, 100}) {
        lab.writeConfig(rolloutConfig(lab, "fizzbuzz", std::pair{"fibonacci", percent}));
        REQUIRE(lab.reload());
        settle();
        steps.push_back(lab.interfaceStatus());
        CHECK(steps.back()["link_id"] == linkId);
        CHECK(steps.back()["percent"] == percent);
    }
    // At 100 the baseline sees nothing more.
    auto a = packetsByVariant(steps.back());
    settle();
    auto b = packetsByVariant(lab.interfaceStatus());
    CHECK(b["baseline"] == a["baseline"]);
    CHECK(b["candidate"] > a["candidate"]);

    // Promotion: the candidate becomes the classifier, the dispatcher leaves.
    lab.writeConfig(rolloutConfig(lab, "fibonacci", std::nullopt));
    REQUIRE(lab.reload());
    settle();
    stop = true;
    sender.join();
    auto final = lab.interfaceStatus();
    CHECK(final["link_id"] == linkId);
    CHECK_FALSE(final.contains("percent"));
    CHECK(final["variants"][0]["plugin"] == "fibonacci");
    CHECK(final["variants"][0]["variant"] == "baseline");
    CHECK(lab.waitForPackets(sent) == sent);  // every frame met a classifier, across every step
    std::fprintf(stderr, "rollout under traffic: %llu frames sent, %llu counted\n", (unsigned long long)sent.load(),
                 (unsigned long long)lab.packetsCounted());
    CHECK(lab.stop() == 0);
}

// Changing a variant inside a running rollout swaps in a complete new dispatcher with one
// bpf_link_update (the program id changes, the link stays); the old candidate is drained before it
// goes: every frame counted, every message delivered, each event right for its plugin.
TEST_CASE("a candidate replaced inside a running rollout swaps one dispatcher for another under traffic, losing nothing",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    lab.writeConfig(rolloutConfig(lab, "fizzbuzz", std::pair{"fibonacci", 50}));
    lab.start();
    const auto before = lab.interfaceStatus();
    const uint32_t linkId = before["link_id"], dispatcherId = before["program_id"];

    constexpr uint32_t kMaxFrames = 2000000;
    std::atomic<bool> stop{false};
    std::atomic<uint32_t> sent{0};
    std::thread sender([&] {
        // Until told to stop (a reload may take longer than any fixed number of frames lasts), over
        // 60000 sources; the cap only bounds a test that hangs.
        while (!stop && sent < kMaxFrames) sent += uint32_t(lab.send(benchmarkSources(sent % 60000, 200)));
    });
    // Returns once 3000 more frames went out, so each variant set sees traffic of its own.
    auto settle = [&] {
        const uint32_t mark = sent + 3000;
        while (sent < mark && sent < kMaxFrames) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    };
    settle();
    lab.writeConfig(rolloutConfig(lab, "fizzbuzz", std::pair{"fizz", 50}));
    REQUIRE(lab.reload());
    const auto after = lab.interfaceStatus();
    CHECK(after["link_id"] == linkId);
    CHECK(after["program_id"] != dispatcherId);  // a new dispatcher took the link
    CHECK(lab.attachedProgramId() == after["program_id"].get<uint32_t>());
    CHECK(after["percent"] == 50);
    settle();
    stop = true;
    sender.join();

    CHECK(lab.waitForPackets(sent) == sent);
    const uint64_t emitted = lab.countedTotal("emitted");
    CHECK(lab.countedTotal("dropped") == 0);
    const auto events = lab.waitForEvents(emitted);
    REQUIRE(events.size() == emitted);
    std::set<std::string> candidates;
    for (const auto& e : events) {
        INFO(e.plugin << " " << e.variant << " 0x" << std::hex << e.src);
        CHECK(referenceKind(e.plugin, e.src) == std::optional<std::string>(e.kind));
        if (e.variant == "candidate") candidates.insert(e.plugin);
    }
    CHECK(candidates == std::set<std::string>{"fibonacci", "fizz"});  // both candidates ran under traffic
    CHECK(lab.stop() == 0);
}
