// Shadow mode in the dispatcher: both variants run on every frame (each called through its
// subprogram, so each returns), the frame is passed, and the pair of kinds they decided on is
// counted exactly, frame by frame, with example sources. Checked with BPF_PROG_TEST_RUN against the
// reference rules; the refusal of a plugin built before shadow mode; the store the verifier prunes
// from a classifier that is no shadow-mode variant.
#include "bpf/classifier_harness.hpp"
#include "bpf/map.hpp"
#include "bpf/pin.hpp"
#include "bpf/test_run.hpp"
#include "runtime/rollout/dispatcher.hpp"
#include "runtime/rollout/shadow_comparison.hpp"
#include "support/frame_builder.hpp"
#include "support/privilege.hpp"
#include "support/reference.hpp"
#include "util/error.hpp"

#include <bpf/bpf.h>
#include <catch2/catch.hpp>
#include <fizz/dispatcher.h>
#include <linux/bpf.h>

#include <map>
#include <random>
#include <set>

using namespace fizzhost;
using namespace fizzhost::test;

namespace {

runtime::ClassifierOptions shadowVariant(const UniqueFd& decisions) {
    runtime::ClassifierOptions o;
    o.decisionMapFd = decisions.get();
    return o;
}

uint32_t xlatedBytes(int progFd) { return bpf::programInfo(progFd).xlatedBytes; }

}  // namespace

TEST_CASE("in shadow mode the dispatcher runs both variants on every frame, passes it, and counts each frame's "
          "pair of decisions exactly, with example sources",
          "[bpf]") {
    if (!requirePrivilege("BPF_PROG_TEST_RUN of the dispatcher")) return;
    const auto decisions = runtime::Dispatcher::createDecisionMap();
    // Kind lists that differ (fibonacci declares Fibonacci first): agreement is by name.
    ClassifierHarness base("fibonacci", shadowVariant(*decisions)), cand("fizzbuzz", shadowVariant(*decisions));
    REQUIRE(base.classifier().shadowVariant());
    auto d = runtime::Dispatcher::load({1, decisions, FIZZ_HOOK_XDP, {}});
    REQUIRE(d->shadow());
    d->setVariant(FIZZ_VARIANT_BASELINE, base.classifier().programFd());
    d->setVariant(FIZZ_VARIANT_CANDIDATE, cand.classifier().programFd());

    std::vector<uint32_t> sources;
    for (uint32_t octet = 0; octet < 256; ++octet) sources.push_back(kTestNet | octet);
    std::mt19937 rng(0x5ad0);
    for (int i = 0; i < 1500; ++i) sources.push_back(kTestNet | (rng() & ~kTestNetMask));

    std::map<std::pair<std::string, std::string>, uint64_t> want;  // (baseline kind, candidate kind) -> frames
    std::map<std::pair<std::string, std::string>, std::set<uint32_t>> wantSources;
    for (uint32_t src : sources) {
        REQUIRE(bpf::testRun(d->programFd(), FrameBuilder().ipv4(src).udp().build()).retval == XDP_PASS);
        // Both variants ran on the frame and emitted what their rules say.
        const auto b = referenceKind("fibonacci", src), c = referenceKind("fizzbuzz", src);
        for (auto [h, k] : {std::pair{&base, b}, std::pair{&cand, c}}) {
            const auto events = h->run(arpFrame()).events;
            REQUIRE(events.size() == (k ? 1u : 0u));
            if (k) REQUIRE(h->plugin().kindName(events[0].kind) == *k);
        }
        const std::pair key{b.value_or("none"), c.value_or("none")};
        ++want[key];
        wantSources[key].insert(src);
    }
    // Frames without an IPv4 source: neither decides anything; passed all the same.
    for (int i = 0; i < 10; ++i) REQUIRE(bpf::testRun(d->programFd(), ipv6Frame()).retval == XDP_PASS);
    want[{"none", "none"}] += 10;

    const auto table = runtime::compareDecisions(d->shadowCounts(), base.plugin().kinds(), cand.plugin().kinds());
    std::map<std::pair<std::string, std::string>, uint64_t> got;
    uint64_t disagreed = 0;
    for (const auto& cell : table.cells) {
        INFO(cell.baseline << " / " << cell.candidate);
        got[{cell.baseline, cell.candidate}] = cell.frames;
        CHECK(cell.agree == (cell.baseline == cell.candidate));
        if (cell.agree) {
            CHECK(cell.examples.empty());
            continue;
        }
        disagreed += cell.frames;
        const auto& mine = wantSources[{cell.baseline, cell.candidate}];
        CHECK(cell.examples.size() == std::min<size_t>(mine.size(), FIZZ_SHADOW_EXAMPLES));
        for (uint32_t e : cell.examples) CHECK(mine.count(e) == 1);
    }
    CHECK(got == want);
    CHECK(table.compared == sources.size() + 10);
    CHECK(table.disagreed == disagreed);
    CHECK(disagreed > 0);
    // Every frame timed (period 1), for both variants.
    const auto costs = d->costs();
    CHECK(costs[FIZZ_VARIANT_BASELINE].runs == sources.size() + 10);
    CHECK(costs[FIZZ_VARIANT_CANDIDATE].runs == sources.size() + 10);
}

TEST_CASE("in shadow mode every frame is passed whatever the variants return, and both return to the dispatcher",
          "[bpf]") {
    if (!requirePrivilege("BPF_PROG_TEST_RUN of the dispatcher")) return;
    // Two instances of fizz whose verdicts the dispatcher must ignore: XDP_PASS is theirs anyway,
    // so the check that matters is that both ran on each frame.
    const auto decisions = runtime::Dispatcher::createDecisionMap();
    ClassifierHarness base("fizz", shadowVariant(*decisions)), cand("fizz", shadowVariant(*decisions));
    auto d = runtime::Dispatcher::load({64, decisions, FIZZ_HOOK_XDP, {}});
    d->setVariant(FIZZ_VARIANT_BASELINE, base.classifier().programFd());
    d->setVariant(FIZZ_VARIANT_CANDIDATE, cand.classifier().programFd());
    const auto frame = FrameBuilder().ipv4(kTestNet | 3).udp().build();  // Fizz
    constexpr uint32_t kRepeat = 64 * 50;
    CHECK(bpf::testRun(d->programFd(), frame, kRepeat).retval == XDP_PASS);
    CHECK(base.counters().packets == kRepeat);
    CHECK(cand.counters().packets == kRepeat);
    const auto table = runtime::compareDecisions(d->shadowCounts(), base.plugin().kinds(), cand.plugin().kinds());
    REQUIRE(table.cells.size() == 1);
    CHECK(table.cells[0].baseline == "Fizz");
    CHECK(table.cells[0].candidate == "Fizz");
    CHECK(table.compared == kRepeat);
    CHECK(table.disagreed == 0);
    const auto costs = d->costs();
    for (const auto& c : costs) {
        CHECK(c.runs <= kRepeat / 64);
        CHECK(c.runs + bpf::possibleCpus() >= kRepeat / 64);
    }
    CHECK_THROWS_WITH(runtime::Dispatcher::load()->shadowCounts(), Catch::Contains("split mode"));
}

TEST_CASE("a plugin built against the SDK before shadow mode is refused as a shadow-mode variant, with why; it "
          "still runs otherwise",
          "[bpf]") {
    if (!requirePrivilege("load BPF programs")) return;
    const auto decisions = runtime::Dispatcher::createDecisionMap();
    const std::string dir = std::string(FIZZHOST_TEST_PLUGIN_DIR) + "/pre-shadow-sdk";
    try {
        ClassifierHarness h("pre-shadow-sdk", shadowVariant(*decisions), dir);
        FAIL("loaded as a shadow-mode variant");
    } catch (const Error& e) {
        CHECK_THAT(e.what(), Catch::Contains("plugin 'pre-shadow-sdk'") &&
                                 Catch::Contains("cannot run in shadow mode: built with an SDK without it") &&
                                 Catch::Contains("no map 'fizz_decision'") && Catch::Contains("rebuild it"));
        CHECK(e.code() == ENOTSUP);
    }
    runtime::ClassifierOptions queue;  // the only transport this old build speaks
    queue.transport = FIZZ_TRANSPORT_QUEUE;
    ClassifierHarness h("pre-shadow-sdk", queue, dir);
    const auto r = h.run(FrameBuilder().ipv4(kTestNet | 3).udp().build());
    REQUIRE(r.events.size() == 1);
    CHECK(r.events[0].src_addr == (kTestNet | 3));
}

TEST_CASE("a classifier that is no shadow-mode variant carries no decision store: the verifier prunes it", "[bpf]") {
    if (!requirePrivilege("load BPF programs")) return;
    const auto decisions = runtime::Dispatcher::createDecisionMap();
    for (const char* plugin : {"fizz", "fizzbuzz", "fibonacci"}) {
        INFO(plugin);
        ClassifierHarness plain(plugin), shadow(plugin, shadowVariant(*decisions));
        CHECK_FALSE(plain.classifier().shadowVariant());
        // The store is a map lookup, a compare and a store per emit site: the shadow variant is
        // larger by that, the plain one is not.
        CHECK(xlatedBytes(plain.classifier().programFd()) < xlatedBytes(shadow.classifier().programFd()));
    }
}
