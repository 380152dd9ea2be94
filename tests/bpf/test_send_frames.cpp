// fizzhost-send, run as the lab runs it: inside one namespace of a veth pair, frames read back on the
// other end and taken apart by the reference parser. Its frame-shaping options are classify's.
#include "support/cli_run.hpp"
#include "support/daemon_process.hpp"
#include "support/frame_builder.hpp"
#include "support/netns.hpp"
#include "support/packet_reference.hpp"
#include "support/privilege.hpp"

#include <catch2/catch.hpp>

using namespace fizzhost::test;
using Catch::Matchers::Contains;

namespace {

CliRun runSend(const std::vector<std::string>& args, const std::string& netns) {
    return runToEnd(FIZZHOST_SEND_BINARY, args, netns, std::chrono::seconds(30));
}

std::vector<std::vector<uint8_t>> receiveAll(RawReceiver& rx) {
    std::vector<std::vector<uint8_t>> frames;
    while (auto f = rx.receive(std::chrono::milliseconds(500))) frames.push_back(std::move(*f));
    return frames;
}

}  // namespace

TEST_CASE("fizzhost-send sends the frames classify's shaping options describe", "[netns]") {
    if (!requirePrivilege("fizzhost-send on a veth pair")) return;
    NetNs a, b;
    VethPair veth(a, b);
    RawReceiver rx(b, veth.nameB());

    auto shaped = runSend({"--iface", veth.nameA(), "--from", "198.18.0.20", "--count", "3", "--dst", "198.19.0.7",
                           "--ttl", "9", "--protocol", "tcp", "--src-port", "1234", "--dst-port", "443", "--vlan", "100",
                           "--vlan", "200"},
                          a.name());
    CHECK(shaped.status == 0);
    CHECK_THAT(shaped.err, Contains("3 frames sent"));
    auto frames = receiveAll(rx);
    REQUIRE(frames.size() == 3);
    for (uint32_t i = 0; i < 3; ++i) {
        const auto& f = frames[i];
        INFO("frame " << i);
        REQUIRE(f.size() >= 22);
        CHECK((f[12] << 8 | f[13]) == 0x88a8);  // QinQ: 802.1ad outside
        CHECK(((f[14] << 8 | f[15]) & 0xfff) == 100);
        CHECK((f[16] << 8 | f[17]) == 0x8100);
        CHECK(((f[18] << 8 | f[19]) & 0xfff) == 200);
        auto view = referencePacket(f);
        REQUIRE(view);
        CHECK(view->saddr == (kTestNet | (20 + i)));
        CHECK(view->daddr == 0xC6130007);
        CHECK(view->ttl == 9);
        CHECK(view->protocol == 6);
        CHECK(view->sport == 1234);
        CHECK(view->dport == 443);
        CHECK(view->vlan_tags == 2);
        CHECK(ipChecksum(&f[22], view->ihl_bytes) == 0);
    }

    // Without shaping options: untagged UDP to 198.18.0.1, TTL 64, port 9, as before.
    CHECK(runSend({"--iface", veth.nameA(), "--from", "198.18.0.5", "--count", "1"}, a.name()).status == 0);
    frames = receiveAll(rx);
    REQUIRE(frames.size() == 1);
    auto view = referencePacket(frames[0]);
    REQUIRE(view);
    CHECK(view->saddr == (kTestNet | 5));
    CHECK(view->daddr == kDefaultDst);
    CHECK(view->ttl == 64);
    CHECK(view->protocol == 17);
    CHECK(view->dport == 9);
    CHECK(view->vlan_tags == 0);

    // A bad shape is refused before anything is sent.
    auto bad = runSend({"--iface", veth.nameA(), "--protocol", "sctp"}, a.name());
    CHECK(bad.status == 2);
    CHECK_THAT(bad.err, Contains("--protocol: 'sctp'"));
    CHECK(receiveAll(rx).empty());
}
