// Per-variant cost behind the A/B dispatcher: it calls the variant through a subprogram that does
// the tail call, times the call, and the variant's verdict comes back to it (x86-64 JIT: a tail
// call from a subprogram returns to the subprogram's caller). Checked with BPF_PROG_TEST_RUN on
// programs whose verdicts tell them apart, and on the real classifiers.
#include "bpf/classifier_harness.hpp"
#include "bpf/map.hpp"
#include "bpf/test_run.hpp"
#include "util/unique_fd.hpp"
#include "runtime/rollout/dispatcher.hpp"
#include "support/frame_builder.hpp"
#include "support/privilege.hpp"
#include "support/reference.hpp"
#include "util/error.hpp"

#include <bpf/bpf.h>
#include <catch2/catch.hpp>
#include <fizz/dispatcher.h>
#include <linux/bpf.h>

using namespace fizzhost;
using namespace fizzhost::test;

namespace {

// An XDP program that returns `verdict` and does nothing else: "r0 = verdict; exit".
UniqueFd verdictProgram(uint32_t verdict) {
    const bpf_insn insns[] = {
        {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .src_reg = 0, .off = 0, .imm = int32_t(verdict)},
        {.code = BPF_JMP | BPF_EXIT, .dst_reg = 0, .src_reg = 0, .off = 0, .imm = 0},
    };
    LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_XDP);
    const int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "fizztest_verdict", "GPL", insns, 2, &opts);
    if (fd < 0) throwErrno("load a test XDP program returning " + std::to_string(verdict), errno);
    return UniqueFd(fd);
}

std::unique_ptr<runtime::Dispatcher> dispatcher(int baseline, int candidate, unsigned percent, uint32_t period) {
    auto d = runtime::Dispatcher::load({period, nullptr, FIZZ_HOOK_XDP, {}});
    d->setVariant(FIZZ_VARIANT_BASELINE, baseline);
    d->setVariant(FIZZ_VARIANT_CANDIDATE, candidate);
    d->setPercent(percent);
    return d;
}

}  // namespace

TEST_CASE("a variant the dispatcher calls through its subprogram returns its verdict to the dispatcher, which "
          "times the run for that variant",
          "[bpf]") {
    if (!requirePrivilege("BPF_PROG_TEST_RUN of the dispatcher")) return;
    const UniqueFd drop = verdictProgram(XDP_DROP), tx = verdictProgram(XDP_TX);
    for (unsigned percent : {0u, 50u, 100u}) {
        INFO("percent " << percent);
        // Every frame timed: every one goes through the subprogram.
        auto d = dispatcher(drop.get(), tx.get(), percent, 1);
        uint64_t toCandidate = 0;
        constexpr uint32_t kFrames = 512;
        for (uint32_t i = 0; i < kFrames; ++i) {
            const uint32_t src = kTestNet | (i * 7919 % 0x1ffff);
            const bool candidate = referenceToCandidate(src, percent);
            toCandidate += candidate;
            const auto frame = FrameBuilder().ipv4(src).udp().build();
            // The verdict is the variant's, and the dispatcher was still there to count the run:
            // the variant's exit returned to the subprogram's caller.
            REQUIRE(bpf::testRun(d->programFd(), frame).retval == (candidate ? XDP_TX : XDP_DROP));
        }
        const auto costs = d->costs();
        CHECK(costs[FIZZ_VARIANT_CANDIDATE].runs == toCandidate);
        CHECK(costs[FIZZ_VARIANT_BASELINE].runs == kFrames - toCandidate);
        for (const auto& c : costs) {
            CHECK((c.runs == 0) == (c.ns == 0));
            CHECK(c.nsPerRun() < 1e6);  // a two-instruction program: far below a millisecond
        }
        if (percent == 0) CHECK(toCandidate == 0);
        if (percent == 100) CHECK(toCandidate == kFrames);
    }
}

TEST_CASE("the dispatcher times 1 frame in the sample period per CPU; the others take the direct tail call with "
          "the same verdict",
          "[bpf]") {
    if (!requirePrivilege("BPF_PROG_TEST_RUN of the dispatcher")) return;
    const UniqueFd drop = verdictProgram(XDP_DROP), tx = verdictProgram(XDP_TX);
    const auto frame = FrameBuilder().ipv4(kTestNet | 3).udp().build();
    for (unsigned percent : {0u, 100u}) {
        INFO("percent " << percent);
        auto d = dispatcher(drop.get(), tx.get(), percent, 64);
        CHECK(d->samplePeriod() == 64u);
        constexpr uint32_t kRepeat = 64 * 100;
        CHECK(bpf::testRun(d->programFd(), frame, kRepeat).retval == (percent ? XDP_TX : XDP_DROP));
        const auto costs = d->costs();
        const auto& timed = costs[percent ? FIZZ_VARIANT_CANDIDATE : FIZZ_VARIANT_BASELINE];
        const auto& idle = costs[percent ? FIZZ_VARIANT_BASELINE : FIZZ_VARIANT_CANDIDATE];
        // Per CPU floor(frames / 64): exactly 100 if the run stayed on one CPU; the test run may
        // move between CPUs when it yields, leaving less than 64 frames behind on each.
        CHECK(timed.runs <= kRepeat / 64);
        CHECK(timed.runs + bpf::possibleCpus() >= kRepeat / 64);
        CHECK(timed.ns > 0);
        CHECK(idle.runs == 0);
    }
    CHECK_THROWS_WITH(runtime::Dispatcher::load({48, nullptr, FIZZ_HOOK_XDP, {}}), Catch::Contains("not a power of two"));
}

TEST_CASE("timed through the subprogram, the real classifiers classify exactly as through the direct tail call",
          "[bpf]") {
    if (!requirePrivilege("BPF_PROG_TEST_RUN of the dispatcher")) return;
    ClassifierHarness base("fizzbuzz"), cand("fibonacci");
    auto d = dispatcher(base.classifier().programFd(), cand.classifier().programFd(), 50, 1);
    uint64_t toCandidate = 0;
    constexpr uint32_t kFrames = 1024;
    for (uint32_t i = 0; i < kFrames; ++i) {
        const uint32_t src = kTestNet | i;
        const bool candidate = referenceToCandidate(src, 50);
        toCandidate += candidate;
        REQUIRE(bpf::testRun(d->programFd(), FrameBuilder().ipv4(src).udp().build()).retval == XDP_PASS);
        ClassifierHarness& chosen = candidate ? cand : base;
        const auto events = chosen.run(arpFrame()).events;  // drains what the variant emitted
        const auto want = referenceKind(chosen.plugin().name(), src);
        REQUIRE(events.size() == (want ? 1u : 0u));
        if (want) REQUIRE(chosen.plugin().kindName(events[0].kind) == *want);
    }
    const auto costs = d->costs();
    CHECK(costs[FIZZ_VARIANT_CANDIDATE].runs == toCandidate);
    CHECK(costs[FIZZ_VARIANT_BASELINE].runs == kFrames - toCandidate);
    // Each classifier counted its frames, and the ARP frame each of them ran directly to drain.
    CHECK(cand.counters().packets == 2 * toCandidate);
    CHECK(base.counters().packets == 2 * (kFrames - toCandidate));
}
