// fizzhost-gen, the live-frames generator: run as the frame-rate bench runs it, in one namespace of a
// veth pair, with native XDP on the other end (veth takes redirected frames only then). The frames
// are read back on the far end and taken apart by the reference parser; the checksums are summed
// here, independently of the generator's incremental update.
#include "bpf/xdp_link.hpp"
#include "measure/live_generator.hpp"
#include "measure/program_bench.hpp"
#include "support/cli_run.hpp"
#include "support/frame_builder.hpp"
#include "support/netns.hpp"
#include "support/packet_reference.hpp"
#include "support/privilege.hpp"
#include "support/xdp_test_run.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace fizzhost;
using namespace fizzhost::test;
using Catch::Matchers::Contains;

namespace {

CliRun runGen(const std::vector<std::string>& args, const std::string& netns) {
    return runToEnd(FIZZHOST_GEN_BINARY, args, netns, std::chrono::seconds(60));
}

std::vector<std::vector<uint8_t>> receiveAll(RawReceiver& rx) {
    std::vector<std::vector<uint8_t>> frames;
    while (auto f = rx.receive(std::chrono::milliseconds(500))) frames.push_back(std::move(*f));
    return frames;
}

// The UDP or TCP checksum over the pseudo-header and segment sums to zero when right (RFC 768/793).
bool l4ChecksumRight(const std::vector<uint8_t>& f, size_t ip, const fizz_packet& view) {
    const size_t l4 = ip + view.ihl_bytes;
    const size_t length = size_t(f[ip + 2] << 8 | f[ip + 3]) - view.ihl_bytes;
    std::vector<uint8_t> sum(12);
    std::copy(&f[ip + 12], &f[ip + 20], sum.begin());  // source and destination
    sum[9] = view.protocol;
    sum[10] = uint8_t(length >> 8);
    sum[11] = uint8_t(length);
    sum.insert(sum.end(), f.begin() + long(l4), f.begin() + long(l4 + length));
    return ipChecksum(sum.data(), sum.size()) == 0;
}

// Frames received on `nameA` of `hostNs` while fizzhost-gen runs `args` on `nameB` of `genNs`.
struct GenLab {
    NetNs hostNs, genNs;
    VethPair veth{hostNs, genNs};
    measure::FloorProgram floor = measure::loadFloorProgram();
    std::optional<bpf::XdpLink> link;
    std::optional<RawReceiver> rx;

    void attachFloor() {
        ScopedNetns in(hostNs);
        link.emplace(bpf::XdpLink::attach(floor.fd, veth.ifindexA(), veth.nameA(), bpf::XdpMode::Native));
    }
    void listen() { rx.emplace(hostNs, veth.nameA()); }
};

}  // namespace

TEST_CASE("the generator refuses sources outside 198.18.0.0/15 and frames it cannot rewrite, before any kernel call",
          "[unit]") {
    measure::GeneratorSettings s;
    s.ifindex = 1;
    s.firstSource = kTestNet + 0x1ffff;  // the last address of the range, then one past it
    s.sourceCount = 2;
    CHECK_THROWS_WITH(measure::LiveGenerator::load(s), Contains("leave 198.18.0.0/15"));
    s.firstSource = 0x0a000001;  // 10.0.0.1
    s.sourceCount = 1;
    CHECK_THROWS_WITH(measure::LiveGenerator::load(s), Contains("leave 198.18.0.0/15"));
    s.firstSource = kTestNet;
    s.sourceCount = 0;
    CHECK_THROWS_WITH(measure::LiveGenerator::load(s), Contains("range is empty"));
    s.sourceCount = 1;
    s.shape.vlans = {1, 2, 3};
    CHECK_THROWS_WITH(measure::LiveGenerator::load(s), Contains("at most two tags"));
    s.shape.vlans = {};
    s.ifindex = 0;
    CHECK_THROWS_WITH(measure::LiveGenerator::load(s), Contains("no interface"));
}

TEST_CASE(
    "the generator program gives each frame the next source of its range, both checksums right, whatever the "
    "page held before",
    "[bpf]") {
    if (!requirePrivilege("load the generator program")) return;
    struct Shape {
        const char* what;
        std::vector<uint16_t> vlans;
        uint8_t protocol;
        size_t ip;
    };
    for (const auto& shape : {Shape{"UDP", {}, 17, 14}, Shape{"TCP behind two tags", {100, 200}, 6, 22}}) {
        INFO(shape.what);
        measure::GeneratorSettings s;
        s.ifindex = 1;                   // a plain test run carries no verdict out
        s.firstSource = kTestNet | 250;  // the range crosses 198.18.0.255 -> 198.18.1.0
        s.sourceCount = 8;
        s.shape.vlans = shape.vlans;
        s.shape.protocol = shape.protocol;
        const auto generator = measure::LiveGenerator::load(s);
        // Live frames reuse pages: a frame may hold what an earlier run wrote, not the template. Each
        // run here gets the previous run's output, except every fifth, which gets the template.
        std::vector<uint8_t> frame = generator.templateFrame();
        for (uint32_t i = 0; i < 20; ++i) {
            INFO("run " << i);
            if (i % 5 == 0) frame = generator.templateFrame();
            auto out = runWithMeta(generator.programFd(), {}, frame);
            CHECK(out.verdict == XDP_REDIRECT);
            REQUIRE(out.frame.size() == frame.size());
            const auto view = referencePacket(out.frame);
            REQUIRE(view);
            CHECK(view->saddr == (kTestNet | 250) + i % 8);
            CHECK(view->protocol == shape.protocol);
            CHECK(ipChecksum(&out.frame[shape.ip], view->ihl_bytes) == 0);
            CHECK(l4ChecksumRight(out.frame, shape.ip, *view));
            frame = out.frame;
        }
    }
    // A UDP checksum of 0 means "none" (RFC 768) and stays 0.
    measure::GeneratorSettings s;
    s.ifindex = 1;
    const auto generator = measure::LiveGenerator::load(s);
    auto frame = generator.templateFrame();
    frame[14 + 20 + 6] = frame[14 + 20 + 7] = 0;
    const auto out = runWithMeta(generator.programFd(), {}, frame);
    CHECK(out.frame[14 + 20 + 6] == 0);
    CHECK(out.frame[14 + 20 + 7] == 0);
    CHECK(ipChecksum(&out.frame[14], 20) == 0);
}

TEST_CASE(
    "fizzhost-gen sends exactly the frames asked for, sources cycling through the range, checksums right, with "
    "each engine this kernel runs",
    "[netns]") {
    if (!requirePrivilege("fizzhost-gen on a veth pair")) return;
    GenLab lab;
    lab.attachFloor();  // veth takes redirected (live) frames only with an XDP program on the peer
    lab.listen();
    const auto liveRefused = measure::liveFramesRefusal();
    for (const std::string engine : {"packet", "live", "auto"}) {
        INFO("engine " << engine);
        auto r = runGen({"--engine", engine, "--iface", lab.veth.nameB(), "--from", "198.18.0.10", "--count", "5",
                         "--frames", "23", "--json"},
                        lab.genNs.name());
        INFO(r.err);
        if (engine == "live" && liveRefused) {
            // Nothing to measure here: the kernel said no, and the tool says so and why.
            CHECK(r.status == 1);
            CHECK_THAT(r.err, Contains("refuses BPF_PROG_TEST_RUN on live frames") && Contains(*liveRefused));
            CHECK(receiveAll(*lab.rx).empty());
            WARN("this kernel refuses live frames (" << *liveRefused << "): the live engine's frames were not checked");
            continue;
        }
        REQUIRE(r.status == 0);
        const auto summary = nlohmann::json::parse(r.out);
        CHECK(summary.at("frames") == 23);
        CHECK(summary.at("dropped") == 0);
        CHECK(summary.at("engine") == (engine == "auto" ? (liveRefused ? "packet" : "live") : engine));
        if (engine == "auto" && liveRefused) CHECK(summary.at("live_refused") == *liveRefused);
        const auto frames = receiveAll(*lab.rx);
        REQUIRE(frames.size() == 23);
        for (size_t i = 0; i < frames.size(); ++i) {
            INFO("frame " << i);
            const auto view = referencePacket(frames[i]);
            REQUIRE(view);
            CHECK(view->saddr == (kTestNet | uint32_t(10 + i % 5)));
            CHECK(view->daddr == kDefaultDst);
            CHECK(view->protocol == 17);
            CHECK(view->dport == 9);
            CHECK(ipChecksum(&frames[i][14], view->ihl_bytes) == 0);
            CHECK(l4ChecksumRight(frames[i], 14, *view));
        }
    }

    // Paced, TCP behind two VLAN tags, up to the range's last address.
    auto r = runGen({"--iface", lab.veth.nameB(), "--from", "198.19.255.250", "--count", "6", "--frames", "40", "--pps",
                     "2000", "--protocol", "tcp", "--dst-port", "443", "--vlan", "100", "--vlan", "200"},
                    lab.genNs.name());
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK_THAT(r.err, Contains("40 frames on " + lab.veth.nameB()));
    const auto frames = receiveAll(*lab.rx);
    REQUIRE(frames.size() == 40);
    for (size_t i = 0; i < frames.size(); ++i) {
        INFO("frame " << i);
        const auto view = referencePacket(frames[i]);
        REQUIRE(view);
        CHECK(view->saddr == 0xC613FFFAu + uint32_t(i % 6));
        CHECK(view->vlan_tags == 2);
        CHECK(view->protocol == 6);
        CHECK(view->dport == 443);
        CHECK(ipChecksum(&frames[i][22], view->ihl_bytes) == 0);
        CHECK(l4ChecksumRight(frames[i], 22, *view));
    }

    // Sources outside 198.18.0.0/15 are refused before anything is sent.
    auto outside = runGen({"--iface", lab.veth.nameB(), "--from", "10.0.0.1", "--frames", "1"}, lab.genNs.name());
    CHECK(outside.status == 1);
    CHECK_THAT(outside.err, Contains("leave 198.18.0.0/15"));
    CHECK(receiveAll(*lab.rx).empty());
}

TEST_CASE("fizzhost-gen counts the live frames a veth peer without XDP cannot take", "[netns]") {
    if (!requirePrivilege("fizzhost-gen on a veth pair")) return;
    GenLab lab;  // no XDP program on the host end: veth takes no redirected frame
    if (const auto refused = measure::liveFramesRefusal()) {
        WARN("this kernel refuses live frames (" << *refused << "): nothing is redirected, nothing to count");
        return;
    }
    auto r = runGen({"--engine", "live", "--iface", lab.veth.nameB(), "--frames", "100", "--json"}, lab.genNs.name());
    INFO(r.err);
    REQUIRE(r.status == 0);
    const auto summary = nlohmann::json::parse(r.out);
    CHECK(summary.at("frames") == 100);
    CHECK(summary.at("dropped") == 100);
}
