// The A/B dispatcher splits sources by the shared hash and hands the variant the frame alone: the
// variant parses it itself, XDP metadata someone else put in front of the frame passes through the
// classifier and the dispatcher untouched, and no metadata reaches the stack. Checked with
// BPF_PROG_TEST_RUN (metadata in and out through ctx_in/ctx_out) and on a real veth pair in generic
// and native XDP.
#include "bpf/classifier_harness.hpp"
#include "bpf/object.hpp"
#include "bpf/xdp_link.hpp"
#include "runtime/rollout/dispatcher.hpp"
#include "support/frame_builder.hpp"
#include "support/netns.hpp"
#include "support/privilege.hpp"
#include "support/reference.hpp"
#include "support/xdp_test_run.hpp"
#include "util/error.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <catch2/catch.hpp>
#include <fizz/dispatcher.h>
#include <linux/bpf.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <thread>

using namespace fizzhost;
using namespace fizzhost::test;

namespace {


// Someone else's XDP metadata (a multiple of 4 bytes, at most 32), different for each `seed`.
std::vector<uint8_t> foreignMeta(size_t size, uint32_t seed) {
    std::vector<uint8_t> bytes(size);
    for (size_t i = 0; i < size; ++i) bytes[i] = uint8_t(seed * 131 + i * 7 + 1);
    return bytes;
}

// The messages the harness's classifier queued since it last drained: the harness drains only in
// run(), so run it on an ARP frame, which no classifier emits for.
std::vector<fizzhost_event> collect(ClassifierHarness& h) { return h.run(arpFrame()).events; }

std::vector<uint8_t> readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in.good());
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("a classifier reads the source from the frame and leaves foreign XDP metadata as it found it", "[bpf]") {
    if (!requirePrivilege("BPF_PROG_TEST_RUN with XDP metadata")) return;
    ClassifierHarness h("fizzbuzz");
    uint32_t seed = 0;
    for (size_t metaSize : {0u, 4u, 8u, 32u}) {
        for (uint32_t src : {0xC6120003u, 0xC6120005u, 0xC612000Fu, 0xC6120007u}) {  // Fizz, Buzz, FizzBuzz, none
            INFO(metaSize << " bytes of metadata, source " << src);
            const auto meta = foreignMeta(metaSize, ++seed);
            const auto frame = FrameBuilder().vlan(3).ipv4(src).ipOptions(1).udp().build();
            const auto r = runWithMeta(h.classifier().programFd(), meta, frame);
            CHECK(r.verdict == XDP_PASS);
            CHECK(r.meta == meta);
            CHECK(r.frame == frame);
            const auto events = collect(h);
            const auto want = referenceKind("fizzbuzz", src);
            REQUIRE(events.size() == (want ? 1u : 0u));
            if (want) {
                CHECK(events[0].src_addr == src);
                CHECK(h.plugin().kindName(events[0].kind) == *want);
            }
        }
    }
}

TEST_CASE("the dispatcher splits by the shared hash and leaves the frame and foreign metadata as they came", "[bpf]") {
    if (!requirePrivilege("BPF_PROG_TEST_RUN of the dispatcher")) return;
    ClassifierHarness base("fizzbuzz"), cand("fibonacci");
    std::mt19937 rng(0xd15c);
    for (unsigned percent : {0u, 10u, 50u, 100u}) {
        INFO("percent " << percent);
        auto d = runtime::Dispatcher::load();
        d->setVariant(FIZZ_VARIANT_BASELINE, base.classifier().programFd());
        d->setVariant(FIZZ_VARIANT_CANDIDATE, cand.classifier().programFd());
        d->setPercent(percent);
        size_t toCandidate = 0;
        for (int i = 0; i < 3000; ++i) {
            const uint32_t src = i < 256 ? 0xC6120000u | uint32_t(i) : uint32_t(rng());
            // Some frames arrive with someone else's metadata: it must stay, alone.
            const auto foreign = foreignMeta(i % 3 ? 0 : i % 2 ? 4 : 8, uint32_t(i));
            const auto frame = (i % 2 ? FrameBuilder().vlan(7).ipv4(src).ipOptions(2) : FrameBuilder().ipv4(src)).udp().build();
            auto r = runWithMeta(d->programFd(), foreign, frame);
            REQUIRE(r.verdict == XDP_PASS);
            REQUIRE(r.meta == foreign);
            REQUIRE(r.frame == frame);
            const bool candidate = referenceToCandidate(src, percent);
            toCandidate += candidate;
            ClassifierHarness& chosen = candidate ? cand : base;
            ClassifierHarness& other = candidate ? base : cand;
            const auto events = collect(chosen);
            REQUIRE(collect(other).empty());
            const auto want = referenceKind(chosen.plugin().name(), src);
            REQUIRE(events.size() == (want ? 1u : 0u));
            if (want) {
                REQUIRE(events[0].src_addr == src);
                REQUIRE(chosen.plugin().kindName(events[0].kind) == *want);
            }
        }
        if (percent == 0) CHECK(toCandidate == 0);
        if (percent == 100) CHECK(toCandidate == 3000);
        if (percent == 50) CHECK((toCandidate > 1300 && toCandidate < 1700));
    }
    // Frames without an IPv4 source, at a split and at both ends: passed on as they came, with or
    // without someone else's metadata, and neither classifier has anything to say about them.
    for (unsigned percent : {0u, 50u, 100u}) {
        INFO("percent " << percent);
        auto d = runtime::Dispatcher::load();
        d->setVariant(FIZZ_VARIANT_BASELINE, base.classifier().programFd());
        d->setVariant(FIZZ_VARIANT_CANDIDATE, cand.classifier().programFd());
        d->setPercent(percent);
        for (const auto& f : {ipv6Frame(), arpFrame(), truncatedIpv4Frame(0xC6120003, 19)}) {
            for (size_t metaSize : {0u, 8u}) {
                const auto foreign = foreignMeta(metaSize, percent + 1);
                auto r = runWithMeta(d->programFd(), foreign, f);
                CHECK(r.verdict == XDP_PASS);
                CHECK(r.meta == foreign);
                CHECK(r.frame == f);
                CHECK(collect(base).empty());
                CHECK(collect(cand).empty());
            }
        }
    }
}

TEST_CASE("on a veth pair, generic and native XDP, the dispatcher's variants classify by the frame's source and "
          "no skb reaches tc with metadata",
          "[netns]") {
    if (!requirePrivilege("attach XDP and tc programs on a veth pair")) return;
    for (auto mode : {bpf::XdpMode::Generic, bpf::XdpMode::Native}) {
        const char* modeName = mode == bpf::XdpMode::Generic ? "generic" : "native";
        INFO(modeName << " XDP");
        NetNs hostNs, peerNs;
        VethPair veth(hostNs, peerNs);
        ClassifierHarness base("fizzbuzz"), cand("fibonacci");
        auto d = runtime::Dispatcher::load();
        d->setVariant(FIZZ_VARIANT_BASELINE, base.classifier().programFd());
        d->setVariant(FIZZ_VARIANT_CANDIDATE, cand.classifier().programFd());
        d->setPercent(50);
        const auto probeElf = readFile(std::string(FIZZHOST_TEST_BPF_DIR) + "/meta_probe.bpf.o");
        auto probe = bpf::Object::openMemory(probeElf, "fizz_meta_probe");
        probe.load();
        const int probeCounts = probe.findSectionMap(".bss")->fd();

        std::optional<bpf::XdpLink> link;
        {
            ScopedNetns in(hostNs);
            link.emplace(bpf::XdpLink::attach(d->programFd(), veth.ifindexA(), veth.nameA(), mode));
            // A clsact qdisc with the probe on ingress; both go when the namespaces do.
            LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = veth.ifindexA(), .attach_point = BPF_TC_INGRESS);
            REQUIRE(bpf_tc_hook_create(&hook) == 0);
            LIBBPF_OPTS(bpf_tc_opts, tc, .prog_fd = probe.findProgram("fizz_meta_probe")->fd());
            REQUIRE(bpf_tc_attach(&hook, &tc) == 0);
        }
        RawSender sender(peerNs, veth.nameB());
        std::vector<uint32_t> sources;
        std::vector<std::vector<uint8_t>> frames;
        for (uint32_t i = 0; i < 512; ++i) {
            sources.push_back(kTestNet | (i * 37 % 0x1ffff));
            frames.push_back(FrameBuilder().ipv4(sources.back()).udp().build());
        }
        REQUIRE(sender.sendBatch(frames) == frames.size());

        std::map<uint32_t, std::string> got;  // source -> "plugin kind"
        std::map<uint32_t, std::string> want;
        for (uint32_t s : sources) {
            const bool candidate = referenceToCandidate(s, 50);
            const std::string plugin = candidate ? "fibonacci" : "fizzbuzz";
            if (auto k = referenceKind(plugin, s)) want[s] = plugin + " " + *k;
        }
        struct {
            uint64_t frames, withMeta;
        } counts{};
        const uint32_t zero = 0;
        for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
             std::chrono::steady_clock::now() < until;) {
            for (ClassifierHarness* h : {&base, &cand})
                for (const auto& e : collect(*h)) got[e.src_addr] = h->plugin().name() + " " + std::string(h->plugin().kindName(e.kind));
            REQUIRE(bpf_map_lookup_elem(probeCounts, &zero, &counts) == 0);
            if (counts.frames >= frames.size() && got.size() >= want.size()) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        CHECK(got == want);
        CHECK(counts.frames >= frames.size());
        CHECK(counts.withMeta == 0);
    }
}
