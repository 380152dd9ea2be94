// The SDK's parsed packet view (fizz_parse_packet in bpf/include/fizz/parse.h), run for real with
// BPF_PROG_TEST_RUN (tests/plugins/packet_view.bpf.c), against the C++ reference over random
// frames: VLAN and QinQ tags (and one too many), IPv4 options, bad versions and IHLs, TCP, UDP, ICMP
// and other protocols, fragments, non-IPv4 ethertypes, each frame also cut at every length. The same
// program loaded as a tc program (its hook knob set) must give the very same view.
#include "bpf/hook_load.hpp"
#include "bpf/object.hpp"
#include "bpf/test_run.hpp"
#include "support/frame_builder.hpp"
#include "support/hook_programs.hpp"
#include "support/packet_reference.hpp"
#include "support/privilege.hpp"
#include "support/xdp_test_run.hpp"

#include <catch2/catch.hpp>
#include <fizz/packet.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>

using namespace fizzhost;
using namespace fizzhost::test;

namespace {

// The global the test program writes (struct fizz_packet_view_out in packet_view.bpf.c).
struct ViewOut {
    int32_t ret;
    uint32_t runs;
    fizz_packet pkt;
};

class PacketViewProgram {
public:
    explicit PacketViewProgram(fizz_hook hook = FIZZ_HOOK_XDP)
        : elf_(readElf()), object_(bpf::Object::openMemory(elf_, "fizz_packet_view")), hook_(hook) {
        const uint32_t knob = hook;  // packet_view_hook, the object's whole .rodata
        object_.findSectionMap(".rodata")->setInitialValue(&knob, sizeof knob);
        bpf::setProgramHook(*object_.findProgram("fizz_packet_view"), hook);
        object_.load();
        progFd_ = object_.findProgram("fizz_packet_view")->fd();
        outFd_ = object_.findSectionMap(".bss")->fd();
    }

    /// The program's view of `frame` (nullopt when it returned -1), with `meta` in front of it
    /// (XDP only: a tc program is run on the frame alone).
    std::optional<fizz_packet> run(const std::vector<uint8_t>& frame, const std::vector<uint8_t>& meta = {},
                                   MetaRun* raw = nullptr) {
        const ViewOut before = read();
        MetaRun r;
        if (hook_ == FIZZ_HOOK_TC) {
            REQUIRE(meta.empty());
            r.verdict = bpf::testRun(progFd_, frame).retval;
        } else {
            r = runWithMeta(progFd_, meta, frame);
        }
        const ViewOut after = read();
        REQUIRE(after.runs == before.runs + 1);
        if (raw) *raw = std::move(r);
        if (after.ret != 0) {
            REQUIRE(after.ret == -1);
            const fizz_packet zero{};
            REQUIRE(std::memcmp(&after.pkt, &zero, sizeof zero) == 0);  // nothing half-filled
            return std::nullopt;
        }
        return after.pkt;
    }

private:
    static std::vector<uint8_t> readElf() {
        std::ifstream in(std::string(FIZZHOST_TEST_BPF_DIR) + "/packet_view.bpf.o", std::ios::binary);
        REQUIRE(in.good());
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }
    ViewOut read() const {
        ViewOut out{};
        const uint32_t zero = 0;
        REQUIRE(bpf_map_lookup_elem(outFd_, &zero, &out) == 0);
        return out;
    }

    std::vector<uint8_t> elf_;
    bpf::Object object_;
    fizz_hook hook_;
    int progFd_ = -1, outFd_ = -1;
};

std::string describe(const std::optional<fizz_packet>& p) {
    if (!p) return "none";
    std::ostringstream s;
    s << "saddr=" << formatIpv4(p->saddr) << " daddr=" << formatIpv4(p->daddr) << " proto=" << int(p->protocol)
      << " ttl=" << int(p->ttl) << " ihl=" << int(p->ihl_bytes) << " vlans=" << int(p->vlan_tags)
      << " flags=" << int(p->flags) << " ports=" << p->sport << "->" << p->dport;
    return s.str();
}

std::string hex(const std::vector<uint8_t>& f) {
    std::ostringstream s;
    for (uint8_t b : f) s << std::hex << (b >> 4) << (b & 15);
    return s.str();
}

bool same(const std::optional<fizz_packet>& a, const std::optional<fizz_packet>& b) {
    if (a.has_value() != b.has_value()) return false;
    return !a || std::memcmp(&*a, &*b, sizeof *a) == 0;
}

// A random frame: Ethernet, 0-3 VLAN tags, mostly IPv4 (sometimes a bad version or IHL), options,
// a fragment now and then, and a TCP, UDP, ICMP or other header with some payload.
std::vector<uint8_t> randomFrame(std::mt19937& rng) {
    auto pick = [&](unsigned n) { return unsigned(rng() % n); };
    std::vector<uint8_t> f;
    f.reserve(160);
    for (uint8_t b : kDstMac) f.push_back(b);
    for (uint8_t b : kSrcMac) f.push_back(b);
    auto put16 = [&](uint16_t v) { f.push_back(uint8_t(v >> 8)); f.push_back(uint8_t(v)); };
    auto put32 = [&](uint32_t v) { put16(uint16_t(v >> 16)); put16(uint16_t(v)); };
    const unsigned tags = pick(10) < 5 ? 0 : pick(4);
    for (unsigned t = 0; t < tags; ++t) {
        put16(pick(2) ? 0x8100 : 0x88a8);
        put16(uint16_t(pick(4096)));
    }
    const unsigned kind = pick(20);
    put16(kind < 17 ? 0x0800 : kind == 17 ? 0x86dd : kind == 18 ? 0x0806 : uint16_t(rng()));
    const unsigned r = pick(20);
    const unsigned version = r == 0 ? pick(16) : 4;
    const unsigned ihl = r == 1 ? pick(5) : pick(3) == 0 ? 5 + pick(11) : 5;
    f.push_back(uint8_t(version << 4 | ihl));
    f.push_back(uint8_t(rng()));  // TOS
    put16(uint16_t(rng()));       // total length: not checked by the view
    put16(uint16_t(rng()));       // id
    const unsigned frag = pick(10);
    put16(frag < 6 ? 0 : frag == 6 ? 0x4000 : frag == 7 ? 0x2000 : frag == 8 ? uint16_t(0x2000 | (1 + pick(0x1fff))) : uint16_t(1 + pick(0x1fff)));
    f.push_back(uint8_t(rng()));  // TTL
    const unsigned p = pick(20);
    const uint8_t proto = p < 7 ? 6 : p < 14 ? 17 : p < 17 ? 1 : uint8_t(rng());
    f.push_back(proto);
    put16(uint16_t(rng()));  // checksum: not checked by the view
    put32(kTestNet | (rng() & ~kTestNetMask));
    put32(kTestNet | (rng() & ~kTestNetMask));
    for (unsigned i = 5; i < std::max(ihl, 5u); ++i) put32(rng());
    const unsigned l4 = proto == 6 ? 20 : 8;
    for (unsigned i = 0; i < l4 / 4; ++i) put32(rng());
    for (unsigned i = pick(24); i > 0; --i) f.push_back(uint8_t(rng()));
    return f;
}

}  // namespace

TEST_CASE("the parsed packet view agrees with the C++ reference on random frames, each cut at every length",
          "[bpf]") {
    if (!requirePrivilege("BPF_PROG_TEST_RUN of the packet view test program")) return;
    PacketViewProgram view;
    std::mt19937 rng(0x9a7e);
    size_t frames = 0, accepted = 0, withPorts = 0, fragments = 0, tagged = 0;
    auto check = [&](const std::vector<uint8_t>& f) {
        const auto want = referencePacket(f);
        const auto got = view.run(f);
        if (!same(got, want)) {
            INFO("frame " << hex(f) << " (" << f.size() << " bytes)\n got  " << describe(got) << "\n want "
                          << describe(want));
            REQUIRE(same(got, want));
        }
        ++frames;
        if (want) {
            ++accepted;
            withPorts += (want->flags & FIZZ_PACKET_PORTS) != 0;
            fragments += (want->flags & FIZZ_PACKET_FRAGMENT) != 0;
            tagged += want->vlan_tags != 0;
        }
    };
    for (int i = 0; i < 20000; ++i) {
        const auto f = randomFrame(rng);
        check(f);
        // BPF_PROG_TEST_RUN refuses XDP frames shorter than an Ethernet header.
        if (i < 400)
            for (size_t len = 14; len < f.size(); ++len) check({f.begin(), f.begin() + len});
    }
    // Known frames through the independent frame builder, exact values.
    auto udp = view.run(FrameBuilder().vlan(5).vlan(6).ipv4(0xC6120009, 0xC6130001).ipOptions(3).udp(1234, 53).build());
    REQUIRE(udp);
    CHECK(udp->saddr == 0xC6120009);
    CHECK(udp->daddr == 0xC6130001);
    CHECK(udp->protocol == 17);
    CHECK(udp->ttl == 64);
    CHECK(udp->ihl_bytes == 32);
    CHECK(udp->vlan_tags == 2);
    CHECK(udp->flags == FIZZ_PACKET_PORTS);
    CHECK(udp->sport == 1234);
    CHECK(udp->dport == 53);
    CHECK_FALSE(view.run(ipv6Frame()));
    CHECK_FALSE(view.run(arpFrame()));
    // Every kind of frame was met often enough to mean something.
    std::fprintf(stderr, "packet view: %zu frames, %zu IPv4 (%zu tagged, %zu with ports, %zu fragments)\n", frames,
                 accepted, tagged, withPorts, fragments);
    CHECK(accepted > frames / 4);
    CHECK(withPorts > 1000);
    CHECK(fragments > 1000);
    CHECK(tagged > 1000);
}

TEST_CASE("the parsed packet view reads the frame and leaves XDP metadata in front of it as it found it", "[bpf]") {
    if (!requirePrivilege("BPF_PROG_TEST_RUN of the packet view test program")) return;
    PacketViewProgram view;
    const auto frame = FrameBuilder().ipv4(0xC6120021).udp(7, 9).build();
    for (size_t size : {4u, 8u, 32u}) {
        INFO(size << " bytes of metadata");
        std::vector<uint8_t> meta(size);
        for (size_t i = 0; i < size; ++i) meta[i] = uint8_t(0xa0 + i);
        MetaRun raw;
        auto got = view.run(frame, meta, &raw);
        REQUIRE(got);
        CHECK(got->saddr == 0xC6120021);
        CHECK(got->sport == 7);
        CHECK(got->dport == 9);
        CHECK(raw.meta == meta);
        CHECK(raw.frame == frame);
    }
}

TEST_CASE("the parsed packet view is the same when the program runs on tc as on XDP", "[bpf]") {
    if (!requirePrivilege("BPF_PROG_TEST_RUN of the packet view test program as XDP and as tc")) return;
    PacketViewProgram xdp(FIZZ_HOOK_XDP), tc(FIZZ_HOOK_TC);
    std::mt19937 rng(0x7c00);
    size_t accepted = 0, tagged = 0;
    size_t xdpOnly = 0;
    auto check = [&](const std::vector<uint8_t>& f) {
        if (skbTestRunRefuses(f)) {  // no tc test run on such a frame; its view on XDP is the reference's
            REQUIRE(same(xdp.run(f), referencePacket(f)));
            ++xdpOnly;
            return;
        }
        const auto onXdp = xdp.run(f), onTc = tc.run(f);
        if (!same(onXdp, onTc)) {
            INFO("frame " << hex(f) << " (" << f.size() << " bytes)\n xdp " << describe(onXdp) << "\n tc  "
                          << describe(onTc));
            REQUIRE(same(onXdp, onTc));
        }
        // And both are right, not merely alike.
        REQUIRE(same(onTc, referencePacket(f)));
        accepted += onTc.has_value();
        tagged += onTc && onTc->vlan_tags;
    };
    for (int i = 0; i < 5000; ++i) {
        const auto f = randomFrame(rng);
        check(f);
        // BPF_PROG_TEST_RUN refuses frames shorter than an Ethernet header on either hook.
        if (i < 100)
            for (size_t len = 14; len < f.size(); ++len) check({f.begin(), f.begin() + len});
    }
    check(FrameBuilder().vlan(5).vlan(6).ipv4(0xC6120009, 0xC6130001).ipOptions(3).udp(1234, 53).build());
    check(ipv6Frame());
    check(arpFrame());
    CHECK(accepted > 1000);
    CHECK(tagged > 300);
    CHECK(xdpOnly < 2000);  // most cut frames still run on both
}
