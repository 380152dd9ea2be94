// The packet engine of measure/frame_generator.hpp, for kernels that refuse live frames: an
// AF_PACKET socket bound to the interface with PACKET_QDISC_BYPASS (frames go straight to the
// driver's transmit, as the live engine's redirects do, with no queue to absorb or pace them), one
// sendmmsg per batch. Every frame of the range is built once up front (measure::shapedFrame), so
// sending costs the kernel's work alone: an skb per frame, the driver's transmit, and on veth the
// peer's receive. A frame the peer has no room for is dropped and counted by the interface
// (tx_dropped), as with the live engine.
#pragma once

#include "measure/frame_generator.hpp"
#include "util/unique_fd.hpp"

#include <sys/socket.h>

#include <cstdint>
#include <vector>

namespace fizzhost::measure {

class PacketGenerator final : public FrameGenerator {
public:
    /// Builds the frames and opens the socket (in the calling thread's network namespace: needs
    /// CAP_NET_RAW there). Throws Error for bad settings or a socket that cannot be made or bound.
    explicit PacketGenerator(const GeneratorSettings& settings);

    const char* engine() const override { return "packet"; }

protected:
    void send(uint32_t frames, uint32_t batch) override;

private:
    UniqueFd fd_;
    std::vector<uint8_t> frames_;  // sourceCount frames of frameSize_ bytes, one per source, in order
    size_t frameSize_ = 0;
    uint32_t count_ = 0;
    uint32_t next_ = 0;  // the source of the next frame
    std::vector<iovec> iov_;
    std::vector<mmsghdr> msgs_;
};

}  // namespace fizzhost::measure
