// Chaining on XDP: the dispatcher classifies every frame, then hands it by a tail call to the XDP
// program in FIZZ_SLOT_NEXT (pinned by someone, here by the test in a bpffs folder it made), whose
// verdict is the frame's. Under BPF_PROG_TEST_RUN behind each shipped classifier, a split and shadow
// mode; on a veth pair in native XDP with real frames; what the chain costs the frame's tail-call
// budget; and a next program the kernel would not tail-call refused with the reason.
#include "bpf/pin.hpp"
#include "bpf/tail_call.hpp"
#include "bpf/test_run.hpp"
#include "bpf/xdp_link.hpp"
#include "runtime/rollout/dispatcher.hpp"
#include "support/bpffs_dir.hpp"
#include "support/foreign_programs.hpp"
#include "support/frame_builder.hpp"
#include "support/hook_programs.hpp"
#include "support/netns.hpp"
#include "support/privilege.hpp"
#include "support/reference.hpp"
#include "support/udp_sink.hpp"
#include "support/wait.hpp"
#include "util/error.hpp"

#include <catch2/catch.hpp>
#include <fizz/dispatcher.h>
#include <linux/bpf.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <optional>
#include <thread>

using namespace fizzhost;
using namespace fizzhost::test;

namespace {

constexpr uint16_t kPassPort = 7101, kDropPort = 7102;

// The next program as a host would take it: pinned, opened by path, checked against the dispatcher.
UniqueFd pinnedNext(const ChainNext& next, const BpffsDir& dir, const HookDispatcher& d) {
    bpf::pinObject(next.fd(), dir.path() / "next");
    return bpf::openChainTarget(dir.path() / "next", d.profile(), "then");
}

}  // namespace

TEST_CASE("chained behind each classifier, a split and shadow mode, the next XDP program decides every frame "
          "and every frame is still classified",
          "[bpf]") {
    if (!requirePrivilege("BPF_PROG_TEST_RUN of the dispatcher chaining to a pinned XDP program")) return;
    BpffsDir dir;
    ChainNext next("chain_drop_port", kDropPort);
    struct Case {
        std::string label, baseline, candidate;
        unsigned percent;
        bool shadow;
        uint32_t period;
    };
    const std::vector<Case> cases = {
        {"fizz alone", "fizz", "", 0, false, FIZZ_COST_SAMPLE_PERIOD},
        {"fizzbuzz alone", "fizzbuzz", "", 0, false, FIZZ_COST_SAMPLE_PERIOD},
        {"fibonacci alone", "fibonacci", "", 0, false, FIZZ_COST_SAMPLE_PERIOD},
        {"fizzbuzz alone, every frame timed", "fizzbuzz", "", 0, false, 1},
        {"fizzbuzz + fibonacci at 50%", "fizzbuzz", "fibonacci", 50, false, FIZZ_COST_SAMPLE_PERIOD},
        {"fizzbuzz + fibonacci at 100%, untimed", "fizzbuzz", "fibonacci", 100, false, 0},
        {"fizzbuzz + fibonacci in shadow mode", "fizzbuzz", "fibonacci", 0, true, FIZZ_COST_SAMPLE_PERIOD},
    };
    for (const auto& c : cases) {
        DYNAMIC_SECTION(c.label) {
            const auto decisions = c.shadow ? runtime::Dispatcher::createDecisionMap() : nullptr;
            const int decisionFd = decisions ? decisions->get() : -1;
            HookClassifier base(findPlugin(c.baseline, FIZZHOST_PLUGIN_DIR), FIZZ_HOOK_XDP, decisionFd);
            std::optional<HookClassifier> cand;
            if (!c.candidate.empty()) cand.emplace(findPlugin(c.candidate, FIZZHOST_PLUGIN_DIR), FIZZ_HOOK_XDP, decisionFd);
            HookDispatcher d({FIZZ_HOOK_XDP, true, c.period, decisionFd});
            d.setSlot(FIZZ_VARIANT_BASELINE, base.programFd());
            if (cand) d.setSlot(FIZZ_VARIANT_CANDIDATE, cand->programFd());
            d.setPercent(c.percent);
            const UniqueFd nextFd = pinnedNext(next, dir, d);
            d.setSlot(FIZZ_SLOT_NEXT, nextFd.get());
            next.reset();

            size_t drops = 0, frames = 0;
            for (uint32_t i = 0; i < 512; ++i) {
                const uint32_t src = kTestNet | (i * 7919 % 0x1ffff);
                const bool drop = i % 3 == 0;
                const auto frame = FrameBuilder().ipv4(src).udp(40000, drop ? kDropPort : kPassPort).build();
                const uint32_t verdict = bpf::testRun(d.programFd(), frame).retval;
                REQUIRE(verdict == uint32_t(drop ? XDP_DROP : XDP_PASS));
                drops += drop;
                ++frames;
                // The frame met its variant(s) before the next program decided it.
                const bool candidate = !c.shadow && referenceToCandidate(src, c.percent);
                HookClassifier& chosen = candidate ? *cand : base;
                const auto events = chosen.drain();
                const auto want = referenceKind(chosen.plugin().name(), src);
                REQUIRE(events.size() == (want ? 1u : 0u));
                if (want) REQUIRE(chosen.plugin().kindName(events[0].kind) == *want);
                if (c.shadow) REQUIRE(cand->drain().size() == (referenceKind(c.candidate, src) ? 1u : 0u));
                else if (cand && !candidate) REQUIRE(cand->drain().empty());
            }
            // Frames with no IPv4 source are classified as nothing and still handed on.
            for (const auto& f : {ipv6Frame(), arpFrame()}) {
                REQUIRE(bpf::testRun(d.programFd(), f).retval == uint32_t(XDP_PASS));
                ++frames;
            }
            // The next program ran exactly once per frame: never skipped, never twice.
            CHECK(next.counts().frames == frames);
            CHECK(next.counts().dropped == drops);
            CHECK(base.packets() + (cand && !c.shadow ? cand->packets() : 0) == frames);
            if (c.shadow) CHECK(cand->packets() == frames);
        }
    }
}

TEST_CASE("a chained frame has the kernel's tail-call budget less what the dispatcher spent on it", "[bpf]") {
    if (!requirePrivilege("BPF_PROG_TEST_RUN of tail-call chains")) return;
    ChainNext budget("chain_budget", 0);
    const auto frame = FrameBuilder().ipv4(0xC6120003).udp().build();
    bpf::testRun(budget.fd(), frame);
    const uint64_t alone = budget.counts().depth;  // its own run and every tail call it got
    INFO("a program alone runs " << alone << " times: itself and MAX_TAIL_CALL_CNT calls");
    CHECK(alone == 1 + 33);
    const auto fizz = findPlugin("fizz", FIZZHOST_PLUGIN_DIR);
    const auto decisions = runtime::Dispatcher::createDecisionMap();
    HookClassifier base(fizz, FIZZ_HOOK_XDP), shadowBase(fizz, FIZZ_HOOK_XDP, decisions->get()),
        shadowCand(fizz, FIZZ_HOOK_XDP, decisions->get());
    struct Case {
        const char* label;
        bool shadow;
        uint64_t spent;  // tail calls the dispatcher makes for a frame: one per variant, one to the next
    };
    for (const Case& c : {Case{"one variant", false, 2}, Case{"shadow mode, two variants", true, 3}}) {
        INFO(c.label);
        HookDispatcher d({FIZZ_HOOK_XDP, true, 1, c.shadow ? decisions->get() : -1});
        d.setSlot(FIZZ_VARIANT_BASELINE, (c.shadow ? shadowBase : base).programFd());
        if (c.shadow) d.setSlot(FIZZ_VARIANT_CANDIDATE, shadowCand.programFd());
        d.setSlot(FIZZ_SLOT_NEXT, budget.fd());
        budget.reset();
        CHECK(bpf::testRun(d.programFd(), frame).retval == uint32_t(XDP_PASS));
        CHECK(budget.counts().depth == alone - c.spent);
    }
}

TEST_CASE("a next program the kernel would not tail-call from the dispatcher is refused with the reason", "[bpf]") {
    if (!requirePrivilege("load and pin programs that cannot follow the dispatcher")) return;
    BpffsDir dir;
    HookDispatcher d({FIZZ_HOOK_XDP, true});
    const std::string what = "interface 'eth1': then";

    // Nothing pinned there.
    CHECK_THROWS_WITH(bpf::openChainTarget(dir.path() / "absent", d.profile(), what),
                      Catch::Contains("absent") && Catch::Contains("ENOENT"));
    // A tc program.
    ForeignTc tc(0);
    bpf::pinObject(tc.fd(), dir.path() / "tc");
    CHECK_THROWS_WITH(bpf::openChainTarget(dir.path() / "tc", d.profile(), what),
                      Catch::Contains("program 'foreign_tc'") && Catch::Contains("type sched_cls") &&
                          Catch::Contains("is not an XDP program"));
    // An XDP program with frags support: the kernel's EINVAL on insert, explained.
    ChainNext frags("chain_drop_port_frags", kDropPort);
    bpf::pinObject(frags.fd(), dir.path() / "frags");
    CHECK_THROWS_WITH(bpf::openChainTarget(dir.path() / "frags", d.profile(), what),
                      Catch::Contains("program 'chain_drop_port") && Catch::Contains("with frags support"));
    try {
        d.setSlot(FIZZ_SLOT_NEXT, frags.fd());
        FAIL("the kernel took a frags program beside the dispatcher");
    } catch (const Error& e) {
        CHECK(e.code() == EINVAL);
        const std::string msg = e.what();
        INFO(msg);
        CHECK(msg.find("id " + std::to_string(bpf::programId(frags.fd()))) != std::string::npos);
        CHECK(msg.find("type xdp") != std::string::npos);
        CHECK(msg.find("it was loaded with frags support") != std::string::npos);
    }
    // An XDP program loaded without an expected attach type (as older loaders and iproute2 do).
    ChainNext legacy("chain_drop_port", kDropPort, 0);
    try {
        d.setSlot(FIZZ_SLOT_NEXT, legacy.fd());
        FAIL("the kernel took a program with another expected attach type beside the dispatcher");
    } catch (const Error& e) {
        CHECK(e.code() == EINVAL);
        CHECK_THAT(e.what(), Catch::Contains("expected attach type 0 (none given)") && Catch::Contains("xdp (37)"));
    }
    // A link pinned where a program is expected.
    NetNs ns;
    {
        ScopedNetns in(ns);
        ChainNext ok("chain_drop_port", kDropPort);
        auto link = bpf::XdpLink::attach(ok.fd(), 1, "lo", bpf::XdpMode::Generic);
        bpf::pinObject(link.fd(), dir.path() / "link");
        CHECK_THROWS_WITH(bpf::openChainTarget(dir.path() / "link", d.profile(), what),
                          Catch::Contains("holds a link, not a program"));
        // And the program itself is taken.
        bpf::pinObject(ok.fd(), dir.path() / "ok");
        const UniqueFd fd = bpf::openChainTarget(dir.path() / "ok", d.profile(), what);
        d.setSlot(FIZZ_SLOT_NEXT, fd.get());
        bpf::unpin(dir.path() / "link");
        link.detach();
    }
}

TEST_CASE("on a veth pair in native XDP, the chained program's verdicts decide real frames, every frame "
          "classified, at 0% and at a split",
          "[netns]") {
    if (!requirePrivilege("attach the chaining dispatcher in native XDP on a veth pair")) return;
    for (const unsigned percent : {0u, 50u}) {
        DYNAMIC_SECTION("percent " << percent) {
            NetNs hostNs, peerNs;
            VethPair veth(hostNs, peerNs);
            acceptTestFrames(hostNs, veth.nameA());
            UdpSink passSink(hostNs, kPassPort), dropSink(hostNs, kDropPort);
            BpffsDir dir;
            HookClassifier base(findPlugin("fizzbuzz", FIZZHOST_PLUGIN_DIR), FIZZ_HOOK_XDP);
            HookClassifier cand(findPlugin("fibonacci", FIZZHOST_PLUGIN_DIR), FIZZ_HOOK_XDP);
            HookDispatcher d({FIZZ_HOOK_XDP, true});
            d.setSlot(FIZZ_VARIANT_BASELINE, base.programFd());
            d.setSlot(FIZZ_VARIANT_CANDIDATE, cand.programFd());
            d.setPercent(percent);
            ChainNext next("chain_drop_port", kDropPort);
            const UniqueFd nextFd = pinnedNext(next, dir, d);
            d.setSlot(FIZZ_SLOT_NEXT, nextFd.get());
            std::optional<bpf::XdpLink> link;
            {
                ScopedNetns in(hostNs);
                link.emplace(bpf::XdpLink::attach(d.programFd(), veth.ifindexA(), veth.nameA(), bpf::XdpMode::Native));
            }
            RawSender sender(peerNs, veth.nameB());
            std::vector<std::vector<uint8_t>> frames;
            size_t toDrop = 0;
            std::map<std::string, size_t> want;
            for (uint32_t i = 0; i < 400; ++i) {
                const uint32_t src = kTestNet | (i * 37 % 0x1ffff);
                const bool drop = i % 4 == 1;
                toDrop += drop;
                frames.push_back(FrameBuilder().ipv4(src).udp(40000, drop ? kDropPort : kPassPort).build());
                const bool candidate = referenceToCandidate(src, percent);
                const std::string plugin = candidate ? "fibonacci" : "fizzbuzz";
                if (auto k = referenceKind(plugin, src)) ++want[plugin + " " + *k];
            }
            REQUIRE(sender.sendBatch(frames) == frames.size());
            std::map<std::string, size_t> got;
            auto collect = [&] {
                for (HookClassifier* h : {&base, &cand})
                    for (const auto& e : h->drain()) ++got[h->plugin().name() + " " + std::string(h->plugin().kindName(e.kind))];
            };
            CHECK(waitUntil(
                [&] {
                    collect();
                    return next.counts().frames >= frames.size() && passSink.count() >= frames.size() - toDrop &&
                           got == want;
                },
                std::chrono::seconds(10)));
            CHECK(got == want);
            CHECK(next.counts().frames == frames.size());
            CHECK(next.counts().dropped == toDrop);
            CHECK(base.packets() + cand.packets() == frames.size());
            CHECK(passSink.count() == frames.size() - toDrop);
            CHECK(dropSink.count() == 0);
        }
    }
}

TEST_CASE("100 swaps among chaining dispatchers (one variant, a split, shadow mode) under traffic: the next "
          "program meets every frame exactly once, and every frame is classified",
          "[netns]") {
    if (!requirePrivilege("swap chaining dispatchers in native XDP on a veth pair under traffic")) return;
    NetNs hostNs, peerNs;
    VethPair veth(hostNs, peerNs);
    BpffsDir dir;
    const auto fizz = findPlugin("fizz", FIZZHOST_PLUGIN_DIR);
    const auto decisions = runtime::Dispatcher::createDecisionMap();
    HookClassifier a(fizz, FIZZ_HOOK_XDP), b(fizz, FIZZ_HOOK_XDP);
    HookClassifier sa(fizz, FIZZ_HOOK_XDP, decisions->get()), sb(fizz, FIZZ_HOOK_XDP, decisions->get());
    ChainNext next("chain_drop_port", kDropPort);
    // Dispatcher i: one variant, a 50% split, or shadow mode, all chaining to the same pinned program.
    auto make = [&](int i) {
        const bool shadow = i % 3 == 2;
        auto d = std::make_unique<HookDispatcher>(
            HookDispatcherOptions{FIZZ_HOOK_XDP, true, FIZZ_COST_SAMPLE_PERIOD, shadow ? decisions->get() : -1});
        d->setSlot(FIZZ_VARIANT_BASELINE, (shadow ? sa : a).programFd());
        if (i % 3) d->setSlot(FIZZ_VARIANT_CANDIDATE, (shadow ? sb : b).programFd());
        d->setPercent(i % 3 == 1 ? 50 : 0);
        const UniqueFd nextFd = pinnedNext(next, dir, *d);
        d->setSlot(FIZZ_SLOT_NEXT, nextFd.get());
        return d;
    };
    auto current = make(0);
    std::optional<bpf::XdpLink> link;
    {
        ScopedNetns in(hostNs);
        link.emplace(bpf::XdpLink::attach(current->programFd(), veth.ifindexA(), veth.nameA(), bpf::XdpMode::Native));
    }
    const uint32_t linkId = link->id();
    RawSender sender(peerNs, veth.nameB());
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> sent{0}, sentToDrop{0};
    std::thread traffic([&] {
        std::vector<std::vector<uint8_t>> batch;
        for (uint32_t i = 0; i < 64; ++i)
            batch.push_back(FrameBuilder().ipv4(kTestNet | (i * 101 % 0x1ffff)).udp(40000, i % 4 ? kPassPort : kDropPort).build());
        while (!stop) {
            sent += sender.sendBatch(batch);
            sentToDrop += 16;
            std::this_thread::sleep_for(std::chrono::microseconds(500));  // pacing, not ordering
        }
    });
    std::vector<std::unique_ptr<HookDispatcher>> retired;
    for (int i = 1; i <= 100; ++i) {
        auto fresh = make(i);
        link->update(fresh->programFd(), current->programFd());
        retired.push_back(std::move(current));
        current = std::move(fresh);
    }
    stop = true;
    traffic.join();
    const uint64_t total = sent;
    std::fprintf(stderr, "chain swaps: 100 swaps, %llu frames meanwhile\n", (unsigned long long)total);
    CHECK(total > 0);
    CHECK(waitUntil([&] { return next.counts().frames >= total; }, std::chrono::seconds(10)));
    CHECK(next.counts().frames == total);             // never skipped, never twice
    CHECK(next.counts().dropped == sentToDrop.load());  // its verdict held on every frame
    // Every frame met exactly one dispatcher: one variant of a split, or both in shadow mode.
    CHECK(a.packets() + b.packets() + sa.packets() == total);
    CHECK(sa.packets() == sb.packets());
    CHECK(link->id() == linkId);
}
