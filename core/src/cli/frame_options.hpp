// How synthetic frames look, as `fizzhost classify` and `fizzhost-send` are told on their command
// lines (frame_option_flags.hpp), so the lab sends what classify tests.
#pragma once

#include "measure/frames.hpp"
#include "util/address.hpp"

#include "util/error.hpp"

#include <string>
#include <vector>

namespace fizzhost::cli {

struct FrameShapeOptions {
    std::string dst = "198.18.0.1";
    unsigned ttl = 64;
    std::string protocol = "udp";
    unsigned srcPort = 40000, dstPort = 9;
    std::vector<unsigned> vlans;

    /// The shape for a frame from `src`. Throws Error naming the bad option.
    measure::FrameShape shapeFor(uint32_t src) const {
        measure::FrameShape s;
        s.src = src;
        auto d = parseAddress(dst);
        if (!d) throw Error("--dst: '" + dst + "' is not an IPv4 address", EINVAL);
        s.dst = *d;
        auto p = measure::parseProtocol(protocol);
        if (!p) throw Error("--protocol: '" + protocol + "' is not udp, tcp, icmp or 0..255", EINVAL);
        s.protocol = *p;
        s.ttl = uint8_t(ttl);
        s.srcPort = uint16_t(srcPort);
        s.dstPort = uint16_t(dstPort);
        for (unsigned v : vlans) s.vlans.push_back(uint16_t(v));
        return s;
    }
};

}  // namespace fizzhost::cli
