// What reaches the IP stack of a namespace: a UDP socket bound to one port there, counting the
// datagrams delivered to it. Frames dropped at a hook (XDP or tc) never arrive; AF_PACKET taps see
// frames before tc ingress, so only a socket tells what the stack got.
#pragma once

#include "support/netns.hpp"
#include "util/unique_fd.hpp"

#include <cstdint>
#include <string>

namespace fizzhost::test {

/// Gives `ifname` in `ns` the frame builder's destination MAC and address (kDstMac, kDefaultDst/15),
/// so that FrameBuilder frames sent to it are for this host. Throws std::runtime_error.
void acceptTestFrames(const NetNs& ns, const std::string& ifname);

class UdpSink {
public:
    /// Binds 0.0.0.0:`port` inside `ns`, with a receive buffer of several MB. Throws.
    UdpSink(const NetNs& ns, uint16_t port);
    /// Reads every datagram waiting now (non-blocking) and returns the total received so far.
    uint64_t count();

private:
    UniqueFd fd_;
    uint64_t received_ = 0;
};

}  // namespace fizzhost::test
