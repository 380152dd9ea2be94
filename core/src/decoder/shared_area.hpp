// The host's side of the memory it shares with one worker (protocol.hpp): a memfd, mapped once,
// outliving the worker processes that come and go on it, so a restart finds every ring as it was.
#pragma once

#include "decoder/protocol.hpp"
#include "util/unique_fd.hpp"

#include <string>

namespace fizzhost::decoder {

class SharedArea {
public:
    /// A zeroed area laid out for `mode` and a plugin's message size and field count, its control
    /// block filled in. `name` labels the memfd (/proc/PID/fd). Throws Error.
    SharedArea(protocol::Mode mode, uint32_t messageSize, uint32_t fieldCount, const std::string& name);
    ~SharedArea();
    SharedArea(const SharedArea&) = delete;
    SharedArea& operator=(const SharedArea&) = delete;

    protocol::ControlBlock& control() const { return *control_; }
    unsigned char* base() const { return base_; }
    int fd() const { return fd_.get(); }
    const protocol::Layout& layout() const { return layout_; }

    /// Clears what a worker reports (state, phase, cause, description) before the next one starts.
    /// The rings, progress and doorbell stay.
    void resetWorkerReport() noexcept;

private:
    UniqueFd fd_;
    protocol::Layout layout_;
    unsigned char* base_ = nullptr;
    protocol::ControlBlock* control_ = nullptr;
};

}  // namespace fizzhost::decoder
