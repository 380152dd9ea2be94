#include "measure/packet_generator.hpp"

#include "util/error.hpp"

#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

namespace fizzhost::measure {
namespace {

// sendmmsg stops at a frame the device cannot take now; it is retried, with a bounded wait.
constexpr auto kStallLimit = std::chrono::seconds(10);

}  // namespace

PacketGenerator::PacketGenerator(const GeneratorSettings& s) : count_(s.sourceCount) {
    checkGeneratorSettings(s);
    FrameShape shape = s.shape;
    for (uint32_t i = 0; i < s.sourceCount; ++i) {
        shape.src = s.firstSource + i;
        const auto frame = shapedFrame(shape);
        if (i == 0) {
            frameSize_ = frame.size();
            frames_.reserve(frameSize_ * s.sourceCount);
        }
        frames_.insert(frames_.end(), frame.begin(), frame.end());
    }
    // Protocol 0: the socket sends but is hooked into no receive path.
    fd_.reset(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
    if (!fd_) throwErrno("generator: AF_PACKET socket (needs CAP_NET_RAW)", errno);
    const int one = 1;
    if (setsockopt(fd_.get(), SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) != 0)
        throwErrno("generator: PACKET_QDISC_BYPASS", errno);
    sockaddr_ll addr{};
    addr.sll_family = AF_PACKET;
    addr.sll_ifindex = s.ifindex;
    if (bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        throwErrno("generator: bind the AF_PACKET socket to interface " + std::to_string(s.ifindex), errno);
    iov_.resize(kMaxBatch);
    msgs_.resize(kMaxBatch);
}

void PacketGenerator::send(uint32_t frames, uint32_t batch) {
    uint32_t left = frames;
    auto lastProgress = std::chrono::steady_clock::now();
    while (left > 0) {
        const uint32_t n = std::min(left, batch);
        for (uint32_t i = 0; i < n; ++i) {
            iov_[i] = {const_cast<uint8_t*>(&frames_[size_t((next_ + i) % count_) * frameSize_]), frameSize_};
            msgs_[i] = {};
            msgs_[i].msg_hdr.msg_iov = &iov_[i];
            msgs_[i].msg_hdr.msg_iovlen = 1;
        }
        const int sent = sendmmsg(fd_.get(), msgs_.data(), n, 0);
        if (sent > 0) {
            left -= uint32_t(sent);
            next_ = uint32_t((uint64_t(next_) + uint32_t(sent)) % count_);
            lastProgress = std::chrono::steady_clock::now();
            continue;
        }
        // Only the first frame of a call failing is reported as an error; it was not sent.
        if (sent < 0 && errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
            throwErrno("generator: sendmmsg of " + std::to_string(n) + " frames", errno);
        if (std::chrono::steady_clock::now() - lastProgress > kStallLimit)
            throw Error("generator: the interface took no frame for 10 s", ETIMEDOUT);
        std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
}

}  // namespace fizzhost::measure
