// `fizzhost classify --pcap`, run as a user would: a pcap and a pcapng capture the test writes, every
// frame through each shipped plugin's real program, each output line checked against the reference
// classifiers and the reference parser; and the captures it must refuse.
#include "support/cli_run.hpp"
#include "support/capture_writer.hpp"
#include "support/daemon_process.hpp"
#include "support/frame_builder.hpp"
#include "support/packet_reference.hpp"
#include "support/privilege.hpp"
#include "support/reference.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <pcap/pcap.h>

#include <random>
#include <sstream>

using namespace fizzhost::test;
using Catch::Matchers::Contains;

namespace {

// Sources from 198.18.0.0/15 that hit every rule: Fibonacci octets, multiples of 3, 5 and 15,
// neither, both halves of the /15; then tagged, optioned and broken frames around them.
Frames captureFrames() {
    std::mt19937 rng(20261125);
    auto source = [&] { return kTestNet | (rng() & ~kTestNetMask); };
    Frames frames;
    for (uint32_t octet : {0u, 1u, 2u, 3u, 5u, 8u, 13u, 15u, 21u, 34u, 55u, 89u, 144u, 233u, 241u, 255u})
        frames.push_back(FrameBuilder().ipv4(kTestNet | 0x100u | octet).udp().build());
    for (int i = 0; i < 48; ++i) {
        const uint32_t src = source();
        FrameBuilder b;
        switch (i % 6) {
            case 0: break;
            case 1: b.vlan(uint16_t(rng() % 4096)); break;
            case 2: b.vlan(uint16_t(rng() % 4096)).vlan(uint16_t(rng() % 4096)); break;  // QinQ
            case 3: b.ipOptions(int(1 + rng() % 10)); break;
            case 4: b.vlan(7).vlan(8).ipOptions(int(1 + rng() % 10)); break;
            case 5: b.vlan(1).vlan(2).vlan(3); break;  // one tag too many: the parser gives up
        }
        frames.push_back(b.ipv4(src, kTestNet | 1).udp(uint16_t(rng()), uint16_t(rng())).build());
    }
    frames.push_back(ipv6Frame());
    frames.push_back(arpFrame());
    for (size_t ipBytes : {0u, 1u, 12u, 16u, 19u}) frames.push_back(truncatedIpv4Frame(source(), ipBytes));
    // Options announced but cut off, a QinQ frame cut inside its IPv4 header.
    auto cut = FrameBuilder().ipv4(source()).ipOptions(4).udp().build();
    cut.resize(14 + 20 + 8);
    frames.push_back(cut);
    cut = FrameBuilder().vlan(5).vlan(6).ipv4(source()).udp().build();
    cut.resize(22 + 19);
    frames.push_back(cut);
    // Shorter than an Ethernet header: no program runs on it, the line says so with nulls.
    cut.resize(10);
    frames.push_back(cut);
    return frames;
}

std::vector<nlohmann::json> jsonLines(const std::string& text) {
    std::vector<nlohmann::json> out;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) out.push_back(nlohmann::json::parse(line));
    return out;
}

}  // namespace

TEST_CASE("fizzhost classify --pcap agrees with the reference classifiers frame by frame, pcap and pcapng",
          "[bpf]") {
    if (!requirePrivilege("fizzhost classify --pcap")) return;
    TempDir dir;
    const Frames frames = captureFrames();
    writePcap(dir.path() / "lab.pcap", frames);
    writePcapng(dir.path() / "lab.pcapng", frames);

    // What every line must say, from the C++ references alone.
    std::vector<std::optional<uint32_t>> sources;
    size_t parsed = 0;
    for (const auto& f : frames) {
        auto view = referencePacket(f);
        sources.push_back(view ? std::optional<uint32_t>(view->saddr) : std::nullopt);
        parsed += view.has_value();
    }
    // The capture exercises both sides of the parser.
    REQUIRE(parsed > frames.size() / 2);
    REQUIRE(parsed < frames.size() - 10);

    for (const std::string plugin : {"fizz", "fizzbuzz", "fibonacci"}) {
        for (const std::string file : {"lab.pcap", "lab.pcapng"}) {
            INFO(plugin << " over " << file);
            auto r = runFizzhost({"classify", "--plugin", plugin, "--plugin-dir", FIZZHOST_PLUGIN_DIR, "--pcap",
                                  (dir.path() / file).string()});
            CHECK(r.status == 0);
            INFO(r.err);
            const auto lines = jsonLines(r.out);
            REQUIRE(lines.size() == frames.size());
            size_t emitted = 0;
            for (size_t i = 0; i < frames.size(); ++i) {
                const auto& src = sources[i];
                nlohmann::json want = {{"frame", i + 1},
                                       {"src", src ? nlohmann::json(formatIpv4(*src)) : nlohmann::json(nullptr)},
                                       {"kind", nullptr}};
                if (src) {
                    if (auto kind = referenceKind(plugin, *src)) want["kind"] = *kind;
                }
                emitted += !want["kind"].is_null();
                INFO("frame " << i + 1);
                CHECK(lines[i] == want);
            }
            CHECK(emitted > 5);
        }
    }
}

TEST_CASE("fizzhost classify --pcap prints each frame's typed fields, null where nothing was emitted", "[bpf]") {
    if (!requirePrivilege("fizzhost classify --pcap")) return;
    TempDir dir;
    const Frames frames = captureFrames();
    writePcapng(dir.path() / "lab.pcapng", frames);
    auto r = runFizzhost({"classify", "--plugin", "fields-probe", "--plugin-dir",
                          std::string(FIZZHOST_TEST_PLUGIN_DIR) + "/fields-probe", "--pcap",
                          (dir.path() / "lab.pcapng").string()});
    CHECK(r.status == 0);
    const auto lines = jsonLines(r.out);
    REQUIRE(lines.size() == frames.size());
    for (size_t i = 0; i < frames.size(); ++i) {
        INFO("frame " << i + 1);
        nlohmann::json want = {{"frame", i + 1}, {"src", nullptr}, {"kind", nullptr}, {"fields", nullptr}};
        // fields-probe emits for every IPv4 frame; its values follow from the source alone
        // (tests/plugins/fields_probe_msg.h).
        if (auto view = referencePacket(frames[i])) {
            const uint32_t src = view->saddr;
            const bool odd = src & 1;
            const int64_t delta = int64_t(src & 0xff) - 128;
            want["src"] = formatIpv4(src);
            want["kind"] = odd ? "Odd" : "Even";
            want["fields"] = {{"src", formatIpv4(src)},   {"big", uint64_t(src) * 1000003},
                              {"delta", delta},           {"odd", odd},
                              {"label", odd ? "odd \"q\"" : "even\\"}, {"ratio", double(delta) / 4.0},
                              {"only_odd", odd ? nlohmann::json(src & 0xff) : nlohmann::json(nullptr)}};
        }
        CHECK(lines[i] == want);
    }
}

TEST_CASE("fizzhost classify --pcap refuses another link type and a truncated capture by name, without crashing",
          "[bpf]") {
    if (!requirePrivilege("fizzhost classify --pcap")) return;
    TempDir dir;
    const Frames frames = {FrameBuilder().ipv4(kTestNet | 15).udp().build(), FrameBuilder().ipv4(kTestNet | 4).udp().build(),
                           FrameBuilder().vlan(9).ipv4(kTestNet | 15).udp().build()};
    const auto classify = [&](const std::filesystem::path& file) {
        return runFizzhost({"classify", "--plugin", "fizzbuzz", "--plugin-dir", FIZZHOST_PLUGIN_DIR, "--pcap", file.string()});
    };

    const auto sll = dir.path() / "any.pcap";
    writePcap(sll, frames, DLT_LINUX_SLL);
    auto other = classify(sll);
    CHECK(other.status == 1);
    CHECK(other.out.empty());
    CHECK_THAT(other.err, Contains(sll.string()) && Contains("not Ethernet") && Contains("LINUX_SLL"));

    // Cut inside the third frame's bytes: two lines printed, then the error names the file and frame 3.
    const auto cut = dir.path() / "cut.pcap";
    writePcap(cut, frames);
    std::filesystem::resize_file(cut, 24 + 2 * (16 + frames[0].size()) + 16 + 7);
    auto truncated = classify(cut);
    CHECK(truncated.status == 1);
    CHECK(truncated.out == "{\"frame\":1,\"src\":\"198.18.0.15\",\"kind\":\"Fizz\"}\n"
                           "{\"frame\":2,\"src\":\"198.18.0.4\",\"kind\":\"Buzz\"}\n");
    CHECK_THAT(truncated.err, Contains(cut.string()) && Contains("frame 3"));

    auto missing = classify(dir.path() / "missing.pcap");
    CHECK(missing.status == 1);
    CHECK_THAT(missing.err, Contains("missing.pcap") && Contains("ENOENT"));
}
