// One plugin source, two hooks: every shipped classifier and the test plugins, loaded as a tc
// program (BPF_PROG_TYPE_SCHED_CLS, hook knob FIZZ_HOOK_TC), emit under BPF_PROG_TEST_RUN exactly
// the messages their XDP instance emits on the same frames, byte for byte; the host's dispatcher
// loaded for tc runs its variant on every frame and returns TCX_NEXT whatever the variant said; and a
// plugin built with the SDK before the tc hook runs on XDP but is refused for tc with the advice to
// rebuild.
#include "bpf/hook_load.hpp"
#include "bpf/object.hpp"
#include "bpf/test_run.hpp"
#include "runtime/rollout/dispatcher.hpp"
#include "support/frame_builder.hpp"
#include "support/hook_programs.hpp"
#include "support/privilege.hpp"
#include "support/reference.hpp"
#include "util/error.hpp"

#include <bpf/bpf.h>
#include <catch2/catch.hpp>
#include <fizz/dispatcher.h>
#include <linux/bpf.h>

#include <map>
#include <random>

using namespace fizzhost;
using namespace fizzhost::test;

namespace {

constexpr uint32_t kXdpPass = 2;

// Frames of every shape the parsers treat differently, from `src`.
std::vector<std::vector<uint8_t>> shapes(uint32_t src) {
    auto cut = FrameBuilder().ipv4(src).ipOptions(3).udp().payload(0).build();
    cut.resize(14 + 24);  // IHL says 8 words, the frame ends inside the options
    return {
        FrameBuilder().ipv4(src).udp().build(),
        FrameBuilder().vlan(100).ipv4(src).udp(1, 443).build(),
        FrameBuilder().vlan(100).vlan(200).ipv4(src).udp().build(),
        FrameBuilder().vlan(1).vlan(2).vlan(3).ipv4(src).udp().build(),  // one tag too many
        FrameBuilder().ipv4(src).ipOptions(10).udp().build(),
        FrameBuilder().vlan(7).ipv4(src).ipOptions(4).udp(53, 53).build(),
        truncatedIpv4Frame(src, 19),
        truncatedIpv4Frame(src, 12),
        cut,
    };
}

// The test frames of one run: every last octet in two /24s, edges, random sources, each in every
// shape for the first few hundred, and frames that are not IPv4 at all.
std::vector<std::vector<uint8_t>> testFrames() {
    std::vector<std::vector<uint8_t>> frames;
    std::mt19937 rng(0x7c);
    for (uint32_t o = 0; o < 256; ++o) {
        frames.push_back(FrameBuilder().ipv4(kTestNet | o).udp().build());
        frames.push_back(FrameBuilder().ipv4(0xC6130700u | o).udp().build());
    }
    for (int i = 0; i < 1500; ++i) frames.push_back(FrameBuilder().ipv4(rng()).udp().build());
    for (uint32_t s : {0xC612000Fu, 0xC6120003u, 0xC6120005u, 0xC6120007u, 0u, 0xffffffffu})
        for (auto& f : shapes(s)) frames.push_back(std::move(f));
    frames.push_back(ipv6Frame());
    frames.push_back(arpFrame());
    return frames;
}

std::string hex(const std::vector<uint8_t>& bytes) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (uint8_t b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

}  // namespace

TEST_CASE("each classifier loaded as a tc program emits what its XDP instance emits, frame by frame", "[bpf]") {
    if (!requirePrivilege("BPF_PROG_TEST_RUN of classifiers as XDP and as tc programs")) return;
    const std::string tests = FIZZHOST_TEST_PLUGIN_DIR;
    const std::vector<std::pair<std::string, std::string>> plugins = {
        {"fizz", FIZZHOST_PLUGIN_DIR},           {"fizzbuzz", FIZZHOST_PLUGIN_DIR},
        {"fibonacci", FIZZHOST_PLUGIN_DIR},      {"fibonacci-naive", tests + "/fibonacci-naive"},
        {"fields-probe", tests + "/fields-probe"}, {"uncounted", tests + "/uncounted"},
    };
    const auto frames = testFrames();
    for (const auto& [name, dir] : plugins) {
        DYNAMIC_SECTION(name) {
            const auto plugin = findPlugin(name, dir);
            HookClassifier xdp(plugin, FIZZ_HOOK_XDP), tc(plugin, FIZZ_HOOK_TC);
            size_t emitted = 0, xdpOnly = 0;
            for (const auto& f : frames) {
                // The classifier's own verdict (XDP_PASS) comes back on either hook: on tc it is never
                // the hook's verdict, the dispatcher's is (below).
                REQUIRE(bpf::testRun(xdp.programFd(), f).retval == kXdpPass);
                if (skbTestRunRefuses(f)) {
                    // The kernel runs no tc program on it (BPF_PROG_TEST_RUN only): on XDP it emits nothing.
                    CHECK_THROWS_WITH(bpf::testRun(tc.programFd(), f), Catch::Contains("EINVAL"));
                    CHECK(xdp.drainRaw().empty());
                    ++xdpOnly;
                    continue;
                }
                REQUIRE(bpf::testRun(tc.programFd(), f).retval == kXdpPass);
                const auto onXdp = xdp.drainRaw(), onTc = tc.drainRaw();
                INFO(name << " on frame " << hex(f));
                REQUIRE(onXdp.size() <= 1);
                REQUIRE(onTc.size() == onXdp.size());
                if (!onXdp.empty()) {
                    CHECK(hex(onTc[0]) == hex(onXdp[0]));
                    ++emitted;
                }
            }
            CHECK(xdp.packets() == (name == "uncounted" ? 0 : frames.size()));
            CHECK(tc.packets() == (name == "uncounted" ? 0 : frames.size() - xdpOnly));
            CHECK(xdpOnly == 12);  // two truncated IPv4 frames from each of 6 sources
            // The comparison met messages, and the silence of frames without one.
            CHECK(emitted > 100);
            CHECK(emitted < frames.size());
        }
    }
}

TEST_CASE("the tc dispatcher runs its variant on every frame and returns TCX_NEXT whatever the variant said",
          "[bpf]") {
    if (!requirePrivilege("BPF_PROG_TEST_RUN of the dispatcher as a tc program")) return;
    const auto fizzbuzz = findPlugin("fizzbuzz", FIZZHOST_PLUGIN_DIR);
    const auto fibonacci = findPlugin("fibonacci", FIZZHOST_PLUGIN_DIR);
    HookClassifier base(fizzbuzz, FIZZ_HOOK_TC), cand(fibonacci, FIZZ_HOOK_TC);
    for (unsigned percent : {0u, 50u, 100u}) {
        for (uint32_t period : {0u, 1u, uint32_t(FIZZ_COST_SAMPLE_PERIOD)}) {
            INFO("percent " << percent << ", timed 1 in " << period);
            HookDispatcher d({FIZZ_HOOK_TC, false, period, -1});
            d.setSlot(FIZZ_VARIANT_BASELINE, base.programFd());
            d.setSlot(FIZZ_VARIANT_CANDIDATE, cand.programFd());
            d.setPercent(percent);
            size_t toCandidate = 0;
            for (uint32_t i = 0; i < 600; ++i) {
                const uint32_t src = kTestNet | (i * 7919 % 0x1ffff);
                const auto frame = (i % 3 ? FrameBuilder().ipv4(src) : FrameBuilder().vlan(9).ipv4(src)).udp().build();
                REQUIRE(int32_t(bpf::testRun(d.programFd(), frame).retval) == FIZZ_TCX_NEXT);
                const bool candidate = referenceToCandidate(src, percent);
                toCandidate += candidate;
                HookClassifier& chosen = candidate ? cand : base;
                HookClassifier& other = candidate ? base : cand;
                const auto events = chosen.drain();
                REQUIRE(other.drain().empty());
                const auto want = referenceKind(chosen.plugin().name(), src);
                REQUIRE(events.size() == (want ? 1u : 0u));
                if (want) {
                    REQUIRE(events[0].src_addr == src);
                    REQUIRE(chosen.plugin().kindName(events[0].kind) == *want);
                }
            }
            // Frames with no IPv4 source go to the baseline and pass on as well.
            for (const auto& f : {ipv6Frame(), arpFrame(), FrameBuilder().vlan(1).vlan(2).vlan(3).ipv4(3).udp().build()})
                REQUIRE(int32_t(bpf::testRun(d.programFd(), f).retval) == FIZZ_TCX_NEXT);
            CHECK(base.drain().empty());
            if (percent == 0) CHECK(toCandidate == 0);
            if (percent == 100) CHECK(toCandidate == 600);
            // Every frame timed with period 1, none with 0: the timed path returns TCX_NEXT too.
            const auto costs = d.costs();
            const uint64_t timed = costs[0].runs + costs[1].runs;
            if (period == 1) CHECK(timed == 603);
            if (period == 0) CHECK(timed == 0);
        }
    }
}

TEST_CASE("the tc dispatcher in shadow mode runs both variants on every frame, pairs their decisions and returns "
          "TCX_NEXT",
          "[bpf]") {
    if (!requirePrivilege("BPF_PROG_TEST_RUN of the shadow-mode dispatcher as a tc program")) return;
    const auto decisions = runtime::Dispatcher::createDecisionMap();
    const auto fibonacci = findPlugin("fibonacci", FIZZHOST_PLUGIN_DIR);
    const auto naive = findPlugin("fibonacci-naive", std::string(FIZZHOST_TEST_PLUGIN_DIR) + "/fibonacci-naive");
    HookClassifier base(fibonacci, FIZZ_HOOK_TC, decisions->get()), cand(naive, FIZZ_HOOK_TC, decisions->get());
    HookDispatcher d({FIZZ_HOOK_TC, false, FIZZ_COST_SAMPLE_PERIOD, decisions->get()});
    d.setSlot(FIZZ_VARIANT_BASELINE, base.programFd());
    d.setSlot(FIZZ_VARIANT_CANDIDATE, cand.programFd());
    for (uint32_t o = 0; o < 256; ++o) {
        const uint32_t src = kTestNet | o;
        REQUIRE(int32_t(bpf::testRun(d.programFd(), FrameBuilder().ipv4(src).udp().build()).retval) == FIZZ_TCX_NEXT);
        const auto b = base.drain(), c = cand.drain();
        REQUIRE(b.size() == (referenceKind("fibonacci", src) ? 1u : 0u));
        REQUIRE(c.size() == (referenceKind("fibonacci-naive", src) ? 1u : 0u));
    }
    CHECK(base.packets() == 256);
    CHECK(cand.packets() == 256);
}

TEST_CASE("a plugin built with the SDK before the tc hook runs on XDP and is refused for tc with the advice to "
          "rebuild",
          "[bpf]") {
    if (!requirePrivilege("load a pre-tc plugin as XDP")) return;
    const auto plugin = findPlugin("pre-tc-sdk", std::string(FIZZHOST_TEST_PLUGIN_DIR) + "/pre-tc-sdk");
    {
        auto obj = bpf::Object::openMemory(plugin->bpfObject(), plugin->name());
        CHECK(bpf::classifierSdk(obj) == bpf::ClassifierSdk::PreTc);
        const std::string where = "plugin 'pre-tc-sdk' (" + plugin->path().string() + ")";
        try {
            bpf::requireTcHook(obj, where);
            FAIL("a pre-tc plugin was accepted for tc");
        } catch (const Error& e) {
            CHECK(e.code() == ENOTSUP);
            const std::string what = e.what();
            INFO(what);
            CHECK(what.rfind(where + " was built with an SDK without the tc hook", 0) == 0);
            CHECK(what.find("rebuild it against this fizzhost's SDK") != std::string::npos);
        }
    }
    // Loading it for tc fails the same way, before the kernel is asked.
    CHECK_THROWS_WITH(HookClassifier(plugin, FIZZ_HOOK_TC),
                      Catch::Contains("was built with an SDK without the tc hook"));
    // On XDP it classifies as it always did.
    HookClassifier xdp(plugin, FIZZ_HOOK_XDP);
    REQUIRE(bpf::testRun(xdp.programFd(), FrameBuilder().ipv4(0xC6120003).udp().build()).retval == kXdpPass);
    const auto events = xdp.drain();
    REQUIRE(events.size() == 1);
    CHECK(events[0].src_addr == 0xC6120003u);
    // And the shipped plugins are of the current generation.
    auto current = bpf::Object::openMemory(findPlugin("fizz", FIZZHOST_PLUGIN_DIR)->bpfObject(), "fizz");
    CHECK(bpf::classifierSdk(current) == bpf::ClassifierSdk::Tc);
}
