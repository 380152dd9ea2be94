#include "measure/live_generator.hpp"

#include "bpf/test_run.hpp"
#include "util/error.hpp"

#include <fizz/generator.h>

#include <span>

extern "C" {
extern const unsigned char fizzhost_generator_object[];
extern const unsigned char fizzhost_generator_object_end[];
}

namespace fizzhost::measure {
namespace {

constexpr uint8_t kTcp = 6, kUdp = 17;
constexpr size_t kEthernetHeader = 14, kVlanTag = 4, kIpv4Header = 20;
constexpr size_t kUdpChecksumAt = 6, kTcpChecksumAt = 16;  // offsets in their headers

// The generator's settings for the frame `shape` describes (the layout measure::shapedFrame builds).
fizz_gen_config configFor(const GeneratorSettings& s) {
    fizz_gen_config c{};
    c.first_src = s.firstSource;
    c.src_count = s.sourceCount;
    c.ifindex = uint32_t(s.ifindex);
    const size_t ip = kEthernetHeader + kVlanTag * s.shape.vlans.size();
    if (ip > FIZZ_GEN_MAX_IP_OFFSET)
        throw Error("generator: " + std::to_string(s.shape.vlans.size()) + " VLAN tags put the IPv4 header at byte " +
                        std::to_string(ip) + ", past the " + std::to_string(FIZZ_GEN_MAX_IP_OFFSET) +
                        " the generator reaches (at most two tags)",
                    EINVAL);
    c.ip_offset = uint16_t(ip);
    if (s.shape.protocol == kUdp || s.shape.protocol == kTcp) {
        c.l4_csum_offset = uint16_t(ip + kIpv4Header + (s.shape.protocol == kUdp ? kUdpChecksumAt : kTcpChecksumAt));
        c.l4_is_udp = s.shape.protocol == kUdp;
    }
    return c;
}

}  // namespace

LiveGenerator LiveGenerator::load(const GeneratorSettings& s) {
    checkGeneratorSettings(s);
    const fizz_gen_config cfg = configFor(s);
    FrameShape shape = s.shape;
    shape.src = s.firstSource;
    std::vector<uint8_t> frame = shapedFrame(shape);
    // The program trusts the offsets: hold them against the frame the layout rules built.
    if (frameIpv4Source(frame) != s.firstSource)
        throw Error("generator: the template frame's IPv4 source is not where the generator writes it", EINVAL);

    const std::span<const unsigned char> elf(fizzhost_generator_object,
                                             size_t(fizzhost_generator_object_end - fizzhost_generator_object));
    bpf::Object object = bpf::Object::openMemory(elf, FIZZ_GENERATOR_PROG);
    auto config = object.findSectionMap(FIZZ_GENERATOR_CONFIG_SECTION);
    if (!config || config->valueSize() != sizeof cfg)
        throw Error("generator: the embedded object's '" FIZZ_GENERATOR_CONFIG_SECTION
                    "' section does not hold struct fizz_gen_config alone",
                    EINVAL);
    config->setInitialValue(&cfg, sizeof cfg);
    object.load();
    auto program = object.findProgram(FIZZ_GENERATOR_PROG);
    if (!program) throw Error("generator: the embedded object has no program '" FIZZ_GENERATOR_PROG "'", ENOENT);
    const int fd = program->fd();
    return LiveGenerator(std::move(object), fd, std::move(frame));
}

void LiveGenerator::send(uint32_t frames, uint32_t batch) {
    bpf::testRunLive(fd_, frame_, frames, batch);
}

}  // namespace fizzhost::measure
