// Capture files for `classify --pcap` (libpcap), and the host's shaped synthetic frames.
#include "cli/capture.hpp"
#include "measure/frames.hpp"
#include "support/capture_writer.hpp"
#include "support/daemon_process.hpp"
#include "support/frame_builder.hpp"
#include "util/error.hpp"

#include <catch2/catch.hpp>
#include <pcap/pcap.h>
#include <sys/stat.h>

#include <fstream>
#include <vector>

using namespace fizzhost;
using namespace fizzhost::test;
using Catch::Matchers::Contains;

namespace {

Frames readAll(const std::filesystem::path& path) {
    Frames got;
    size_t expected = 1;
    cli::readCapture(path, [&](const cli::CaptureFrame& f) {
        CHECK(f.number == expected++);
        got.emplace_back(f.bytes.begin(), f.bytes.end());
    });
    return got;
}

Frames sampleFrames() {
    return {FrameBuilder().ipv4(0xC612000F).udp().build(), ipv6Frame(), arpFrame(), truncatedIpv4Frame(0xC6120003, 12),
            FrameBuilder().vlan(10).vlan(20).ipv4(0xC61200E9).ipOptions(3).udp().build()};
}

}  // namespace

TEST_CASE("pcap and pcapng captures give back every frame, in order, byte for byte", "[unit]") {
    TempDir dir;
    const auto frames = sampleFrames();
    writePcap(dir.path() / "a.pcap", frames);
    writePcapng(dir.path() / "a.pcapng", frames);
    CHECK(readAll(dir.path() / "a.pcap") == frames);
    CHECK(readAll(dir.path() / "a.pcapng") == frames);
}

TEST_CASE("a capture that is cut short, of another link type, not a capture or not a file is refused by name",
          "[unit]") {
    TempDir dir;
    const auto frames = sampleFrames();
    SECTION("truncated in the middle of the third frame: the first two were read, the error names frame 3") {
        writePcap(dir.path() / "t.pcap", frames);
        const auto full = std::filesystem::file_size(dir.path() / "t.pcap");
        const auto cut = 24 + (16 + frames[0].size()) + (16 + frames[1].size()) + 16 + 5;
        REQUIRE(cut < full);
        std::filesystem::resize_file(dir.path() / "t.pcap", cut);
        size_t seen = 0;
        try {
            cli::readCapture(dir.path() / "t.pcap", [&](const cli::CaptureFrame&) { ++seen; });
            FAIL("a truncated capture was accepted");
        } catch (const Error& e) {
            CHECK_THAT(e.what(), Contains(dir.path().string() + "/t.pcap") && Contains("frame 3"));
        }
        CHECK(seen == 2);
    }
    SECTION("Linux cooked capture (tcpdump -i any)") {
        writePcap(dir.path() / "sll.pcap", frames, DLT_LINUX_SLL);
        CHECK_THROWS_WITH(readAll(dir.path() / "sll.pcap"), Contains("sll.pcap") && Contains("not Ethernet") &&
                                                                Contains("LINUX_SLL"));
    }
    SECTION("garbage and empty files") {
        std::ofstream(dir.path() / "g.pcap") << "this is not a capture file at all\n";
        CHECK_THROWS_WITH(readAll(dir.path() / "g.pcap"), Contains("g.pcap") && Contains("not a readable pcap"));
        std::ofstream(dir.path() / "e.pcap");
        CHECK_THROWS_WITH(readAll(dir.path() / "e.pcap"), Contains("e.pcap"));
    }
    SECTION("a FIFO is refused at once instead of blocking, a missing file names errno") {
        REQUIRE(::mkfifo((dir.path() / "fifo.pcap").c_str(), 0600) == 0);
        CHECK_THROWS_WITH(readAll(dir.path() / "fifo.pcap"), Contains("fifo.pcap") && Contains("not a regular file"));
        CHECK_THROWS_WITH(readAll(dir.path() / "missing.pcap"), Contains("missing.pcap") && Contains("ENOENT"));
    }
}

TEST_CASE("shaped frames carry what was asked, with valid checksums", "[unit]") {
    measure::FrameShape shape;
    shape.src = 0xC6120021;
    shape.dst = 0xC6130005;
    shape.ttl = 7;
    shape.protocol = 6;
    shape.srcPort = 1234;
    shape.dstPort = 443;
    shape.vlans = {100, 200};
    const auto f = measure::shapedFrame(shape);
    auto be16 = [&](size_t off) { return uint16_t(f[off] << 8 | f[off + 1]); };
    auto be32 = [&](size_t off) { return uint32_t(be16(off)) << 16 | be16(off + 2); };
    CHECK(be16(12) == 0x88a8);
    CHECK((be16(14) & 0xfff) == 100);
    CHECK(be16(16) == 0x8100);
    CHECK((be16(18) & 0xfff) == 200);
    CHECK(be16(20) == 0x0800);
    const size_t ip = 22;
    CHECK(f[ip] == 0x45);
    CHECK(f[ip + 8] == 7);
    CHECK(f[ip + 9] == 6);
    CHECK(be32(ip + 12) == 0xC6120021);
    CHECK(be32(ip + 16) == 0xC6130005);
    CHECK(ipChecksum(&f[ip], 20) == 0);
    CHECK(be16(ip + 2) + ip <= f.size());
    CHECK(be16(ip + 20) == 1234);
    CHECK(be16(ip + 22) == 443);
    // The TCP checksum over pseudo-header and segment sums to zero.
    const size_t tcpLen = be16(ip + 2) - 20;
    std::vector<uint8_t> pseudo = {f[ip + 12], f[ip + 13], f[ip + 14], f[ip + 15], f[ip + 16], f[ip + 17],
                                   f[ip + 18], f[ip + 19], 0, 6, uint8_t(tcpLen >> 8), uint8_t(tcpLen)};
    pseudo.insert(pseudo.end(), f.begin() + ip + 20, f.begin() + ip + 20 + long(tcpLen));
    CHECK(ipChecksum(pseudo.data(), pseudo.size()) == 0);

    const auto plain = measure::udpFrame(0xC612000F);
    CHECK(plain.size() == 60);
    CHECK(plain[14 + 9] == 17);
    CHECK(measure::parseProtocol("tcp") == std::optional<uint8_t>(6));
    CHECK(measure::parseProtocol("47") == std::optional<uint8_t>(47));
    CHECK_FALSE(measure::parseProtocol("256"));
    CHECK_FALSE(measure::parseProtocol("sctp"));
    CHECK_FALSE(measure::parseProtocol(""));
}
