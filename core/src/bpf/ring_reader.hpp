// Consumer of BPF ring buffers through mmap (libbpf ring_buffer): no syscall per message, one epoll
// fd for all rings.
#pragma once

#include <cstddef>

struct ring_buffer;

namespace fizzhost::bpf {

class RingReader {
public:
    /// Called for each record; return 0 to continue. Runs on the consuming thread.
    using Callback = int (*)(void* ctx, void* data, size_t size);

    RingReader() = default;
    RingReader(RingReader&&) noexcept;
    RingReader& operator=(RingReader&&) noexcept;
    RingReader(const RingReader&) = delete;
    RingReader& operator=(const RingReader&) = delete;
    ~RingReader();

    /// Adds the ring map `ringFd`; records go to `cb(ctx, ...)`. Throws Error.
    void add(int ringFd, Callback cb, void* ctx);
    /// Consumes every available record without blocking; returns the count (or throws Error).
    size_t consume();
    /// Pollable fd that becomes readable when any ring has data (-1 when empty).
    int epollFd() const;
    bool empty() const { return rb_ == nullptr; }

private:
    ring_buffer* rb_ = nullptr;
};

}  // namespace fizzhost::bpf
