// The live-frames engine of measure/frame_generator.hpp: the host's generator program
// (bpf/generator.bpf.c) run by BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES, which gives each
// copy of a template frame the next source of a range and redirects it out of one interface. The
// kernel carries the verdicts out for real: no socket and no skb on the sending side.
#pragma once

#include "bpf/object.hpp"
#include "measure/frame_generator.hpp"

#include <cstdint>
#include <vector>

namespace fizzhost::measure {

class LiveGenerator final : public FrameGenerator {
public:
    /// Builds the template frame and loads the generator program for `settings`. Throws Error for
    /// bad settings (checkGeneratorSettings), a shape whose IPv4 header lies too deep (more than two
    /// VLAN tags), or a program the kernel refuses (with the verifier's log).
    static LiveGenerator load(const GeneratorSettings& settings);

    const char* engine() const override { return "live"; }
    int programFd() const { return fd_; }
    const std::vector<uint8_t>& templateFrame() const { return frame_; }

protected:
    void send(uint32_t frames, uint32_t batch) override;

private:
    LiveGenerator(bpf::Object object, int fd, std::vector<uint8_t> frame)
        : object_(std::move(object)), fd_(fd), frame_(std::move(frame)) {}

    bpf::Object object_;
    int fd_ = -1;
    std::vector<uint8_t> frame_;
};

}  // namespace fizzhost::measure
