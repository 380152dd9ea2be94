// Consumer of the "queue" transport: a BPF queue map, popped one message per syscall.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fizzhost::bpf {

class QueueReader {
public:
    /// Pops from the queue map `fd` (not owned; must outlive the reader) of `messageSize`-byte values.
    QueueReader(int fd, uint32_t messageSize) : fd_(fd), buffer_(messageSize) {}

    /// Hands up to `max` messages to `fn(const void* data, uint32_t size)` (on this thread; `data`
    /// is valid during the call only); returns how many. Stops at the first failing pop (ENOENT:
    /// empty). Never blocks, never allocates; noexcept if `fn` is.
    template <typename Fn>
    size_t drain(size_t max, Fn&& fn) {
        size_t n = 0;
        while (n < max && pop()) {
            ++n;
            fn(static_cast<const void*>(buffer_.data()), uint32_t(buffer_.size()));
        }
        return n;
    }

private:
    bool pop() noexcept;
    int fd_;
    std::vector<unsigned char> buffer_;
};

}  // namespace fizzhost::bpf
