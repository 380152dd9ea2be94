// The three shipped classifiers, run for real with BPF_PROG_TEST_RUN, against the C++ reference.
#include "bpf/classifier_harness.hpp"
#include "bpf/map.hpp"
#include "bpf/object.hpp"
#include "bpf/stats.hpp"
#include "runtime/attachment/attachment.hpp"
#include "support/frame_builder.hpp"
#include "support/privilege.hpp"
#include "support/reference.hpp"

#include <catch2/catch.hpp>
#include <linux/bpf.h>

#include <bpf/bpf.h>
#include <sched.h>

#include <map>
#include <random>
#include <thread>

using namespace fizzhost;
using namespace fizzhost::test;

namespace {


std::optional<std::string> classifyOnce(ClassifierHarness& h, const std::vector<uint8_t>& frame, uint32_t expectSrc) {
    auto r = h.run(frame);
    REQUIRE(r.verdict == XDP_PASS);
    REQUIRE(r.undecodable == 0);
    REQUIRE(r.events.size() <= 1);
    if (r.events.empty()) return std::nullopt;
    REQUIRE(r.events[0].src_addr == expectSrc);
    return std::string(h.plugin().kindName(r.events[0].kind));
}

// Compares the plugin with the reference for each address; reports the first disagreement. The
// addresses must make the plugin emit every one of its kinds and also stay silent: a sample that
// never reaches a rule proves nothing about it.
void agreeOn(ClassifierHarness& h, const std::vector<uint32_t>& addrs) {
    std::map<std::string, size_t> perKind;
    size_t silent = 0;
    for (uint32_t a : addrs) {
        auto got = classifyOnce(h, FrameBuilder().ipv4(a).udp().build(), a);
        auto want = referenceKind(h.plugin().name(), a);
        if (got != want) {
            INFO(h.plugin().name() << " on 0x" << std::hex << a << ": got " << got.value_or("nothing") << ", want "
                                   << want.value_or("nothing"));
            REQUIRE(got == want);
        }
        if (got) ++perKind[*got];
        else ++silent;
    }
    for (const auto& kind : h.plugin().kinds()) {
        INFO(h.plugin().name() << " never emitted " << kind << " on these addresses");
        CHECK(perKind[kind] > 0);
    }
    CHECK(silent > 0);
}

}  // namespace

TEST_CASE("classifiers agree with the reference on every last octet, the edges and 100000 random addresses",
          "[bpf]") {
    if (!requirePrivilege("BPF_PROG_TEST_RUN of the shipped classifiers")) return;
    for (const char* name : {"fizz", "fizzbuzz", "fibonacci"}) {
        DYNAMIC_SECTION(name) {
            ClassifierHarness h(name);
            std::vector<uint32_t> addrs;
            for (uint32_t o = 0; o < 256; ++o) {
                addrs.push_back(0xC6120000u | o);        // 198.18.0.o
                addrs.push_back(0xC6130700u | o);        // 198.19.7.o
            }
            for (uint32_t edge : {0u, 1u, 2u, 3u, 5u, 15u, 255u, 256u, 0x7fffffffu, 0x80000000u, 0xfffffff0u,
                                  0xfffffffeu, 0xffffffffu, 0xC612000Fu})
                addrs.push_back(edge);
            std::mt19937 rng(0xf122);
            for (int i = 0; i < 100000; ++i) addrs.push_back(rng());
            agreeOn(h, addrs);
        }
    }
}

TEST_CASE("the out-of-tree fibonacci-naive plugin agrees with the naive reference, wrap-around included", "[bpf]") {
    if (!requirePrivilege("BPF_PROG_TEST_RUN of fibonacci-naive")) return;
    ClassifierHarness h("fibonacci-naive", {}, std::string(FIZZHOST_TEST_PLUGIN_DIR) + "/fibonacci-naive");
    std::vector<uint32_t> addrs;
    for (uint32_t o = 0; o < 256; ++o) addrs.push_back(0xC6120000u | o);
    std::mt19937 rng(3);
    for (int i = 0; i < 20000; ++i) addrs.push_back(rng());
    agreeOn(h, addrs);
    // Where the naive loop is wrong, the two real programs disagree: octet 0 is a Fibonacci number
    // the naive loop never finds (it starts at 1), and 241 is none that it finds after wrapping.
    ClassifierHarness fibonacci("fibonacci");
    for (uint32_t octet : {0u, 241u}) {
        const uint32_t a = 0xC6120000u | octet;
        const auto frame = FrameBuilder().ipv4(a).udp().build();
        INFO("198.18.0." << octet);
        CHECK((classifyOnce(h, frame, a) == std::optional<std::string>("Fibonacci")) == (octet == 241));
        CHECK((classifyOnce(fibonacci, frame, a) == std::optional<std::string>("Fibonacci")) == (octet == 0));
    }
}

TEST_CASE("frames that are not IPv4 over Ethernet, or too short, emit nothing; VLAN and options still classify",
          "[bpf]") {
    if (!requirePrivilege("BPF_PROG_TEST_RUN of the shipped classifiers")) return;
    const uint32_t src = 0xC612000F;  // 198.18.0.15: Fizz for fizz, fizzbuzz and fibonacci
    for (const char* name : {"fizz", "fizzbuzz", "fibonacci"}) {
        DYNAMIC_SECTION(name) {
            ClassifierHarness h(name);
            const auto want = referenceKind(name, src);
            REQUIRE(want);
            CHECK(classifyOnce(h, ipv6Frame(), 0) == std::nullopt);
            CHECK(classifyOnce(h, arpFrame(), 0) == std::nullopt);
            CHECK(classifyOnce(h, truncatedIpv4Frame(src, 19), 0) == std::nullopt);
            CHECK(classifyOnce(h, truncatedIpv4Frame(src, 12), 0) == std::nullopt);
            // IHL says 8 words, but the frame ends inside the options.
            auto cut = FrameBuilder().ipv4(src).ipOptions(3).udp().payload(0).build();
            cut.resize(14 + 24);
            CHECK(classifyOnce(h, cut, 0) == std::nullopt);
            CHECK(classifyOnce(h, FrameBuilder().ipv4(src).udp().build(), src) == want);
            CHECK(classifyOnce(h, FrameBuilder().vlan(100).ipv4(src).udp().build(), src) == want);
            CHECK(classifyOnce(h, FrameBuilder().vlan(100).vlan(200).ipv4(src).udp().build(), src) == want);
            CHECK(classifyOnce(h, FrameBuilder().ipv4(src).ipOptions(1).udp().build(), src) == want);
            CHECK(classifyOnce(h, FrameBuilder().ipv4(src).ipOptions(10).udp().build(), src) == want);
            CHECK(classifyOnce(h, FrameBuilder().vlan(7).ipv4(src).ipOptions(4).udp().build(), src) == want);
        }
    }
}

TEST_CASE("a full transport counts the message as dropped instead of losing it silently", "[bpf]") {
    if (!requirePrivilege("BPF_PROG_TEST_RUN with a tiny queue and a tiny ring")) return;
    runtime::ClassifierOptions opts;
    opts.queueSize = 4;
    opts.ringSlots = 4;
    opts.transport = GENERATE(FIZZ_TRANSPORT_QUEUE, FIZZ_TRANSPORT_RING);
    INFO("transport " << (opts.transport == FIZZ_TRANSPORT_RING ? "ring" : "queue"));
    ClassifierHarness h("fizz", opts);
    const auto frame = FrameBuilder().ipv4(0xC6120003).udp().build();  // Fizz
    // Nobody drains: the transport fills after 4. testRun stays on this thread's CPU for the call.
    for (int i = 0; i < 10; ++i) REQUIRE(bpf::testRun(h.classifier().programFd(), frame).retval == XDP_PASS);

    const fizz_counters c = h.counters();
    CHECK(c.packets == 10);
    CHECK(c.emitted == 4);
    CHECK(c.dropped == 6);
    CHECK(c.kinds[0] == 4);
    ClassifierHarness::Result r;
    CHECK(h.drain(SIZE_MAX, r) == 4);
    CHECK(r.events.size() == 4);
    // Room again: the next message is delivered.
    CHECK(h.run(frame).events.size() == 1);
    CHECK(h.counters().dropped == 6);
}

TEST_CASE("the ring wraps around slots it has freed, in order, with a slot count no power of two", "[bpf]") {
    if (!requirePrivilege("BPF_PROG_TEST_RUN with a 3-slot ring")) return;
    runtime::ClassifierOptions opts;
    opts.ringSlots = 3;
    ClassifierHarness h("fizz", opts);
    // Fizz sources 3, 6, 9, ...: two messages written per drain, so the slots wrap many times.
    uint32_t next = 0xC6120000, expect = 0xC6120000;
    for (int round = 0; round < 20; ++round) {
        for (int i = 0; i < 2; ++i) {
            next += 3;
            REQUIRE(bpf::testRun(h.classifier().programFd(), FrameBuilder().ipv4(next).udp().build()).retval == XDP_PASS);
        }
        ClassifierHarness::Result r;
        REQUIRE(h.drain(SIZE_MAX, r) == 2);
        for (const auto& e : r.events) {
            expect += 3;
            REQUIRE(e.src_addr == expect);
        }
    }
    CHECK(h.counters().dropped == 0);
    CHECK(h.counters().emitted == 40);
}

TEST_CASE("the ring transport delivers the same messages as the queue", "[bpf]") {
    if (!requirePrivilege("BPF_PROG_TEST_RUN with per-CPU rings")) return;
    runtime::ClassifierOptions opts;
    opts.transport = FIZZ_TRANSPORT_RING;
    ClassifierHarness ring("fibonacci", opts);
    runtime::ClassifierOptions queueOpts;
    queueOpts.transport = FIZZ_TRANSPORT_QUEUE;
    ClassifierHarness queue("fibonacci", queueOpts);
    std::mt19937 rng(7);
    for (int i = 0; i < 5000; ++i) {
        uint32_t a = rng();
        auto frame = FrameBuilder().ipv4(a).udp().build();
        auto r1 = ring.run(frame), r2 = queue.run(frame);
        REQUIRE(r1.events.size() == r2.events.size());
        if (!r1.events.empty()) {
            REQUIRE(r1.events[0].kind == r2.events[0].kind);
            REQUIRE(r1.events[0].src_addr == a);
        }
        REQUIRE(referenceKind("fibonacci", a).has_value() == !r1.events.empty());
    }
}

TEST_CASE("loaded outside the host with libbpf's defaults, a classifier delivers to its queue on every CPU", "[bpf]") {
    if (!requirePrivilege("BPF_PROG_TEST_RUN of an object loaded with its defaults")) return;
    // What a plugin's own test does (docs/writing-a-plugin.md): open, load, run, pop. fizz_regions
    // keeps its one entry, so only CPU 0 has counters; the message must reach the queue anyway.
    plugin::Catalog catalog(FIZZHOST_PLUGIN_DIR, plugin::FilePolicy{});
    catalog.rescan();
    auto fizz = catalog.find("fizz");
    bpf::Object obj = bpf::Object::openMemory(fizz->bpfObject(), fizz->name());
    obj.load();
    const int prog = obj.findProgram(fizz->program())->fd();
    const int queue = obj.findMap(fizz->messageMap())->fd();
    const unsigned cpus = std::min(bpf::possibleCpus(), 2u);
    for (unsigned cpu = 0; cpu < cpus; ++cpu) {
        INFO("CPU " << cpu);
        int pinned = -1;
        uint32_t verdict = 0;
        std::thread([&] {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(cpu, &set);
            pinned = sched_setaffinity(0, sizeof set, &set);
            if (pinned == 0) verdict = bpf::testRun(prog, FrameBuilder().ipv4(0xC6120003).udp().build()).retval;
        }).join();
        REQUIRE(pinned == 0);
        REQUIRE(verdict == XDP_PASS);
        unsigned char msg[8];
        CHECK(bpf_map_lookup_and_delete_elem(queue, nullptr, msg) == 0);
    }
}
