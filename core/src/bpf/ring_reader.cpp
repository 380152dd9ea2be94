#include "bpf/ring_reader.hpp"

#include "util/error.hpp"

#include <bpf/libbpf.h>

#include <utility>

namespace fizzhost::bpf {

RingReader::RingReader(RingReader&& other) noexcept : rb_(std::exchange(other.rb_, nullptr)) {}

RingReader& RingReader::operator=(RingReader&& other) noexcept {
    if (this != &other) {
        if (rb_) ring_buffer__free(rb_);
        rb_ = std::exchange(other.rb_, nullptr);
    }
    return *this;
}

RingReader::~RingReader() {
    if (rb_) ring_buffer__free(rb_);
}

void RingReader::add(int ringFd, Callback cb, void* ctx) {
    if (!rb_) {
        rb_ = ring_buffer__new(ringFd, cb, ctx, nullptr);
        if (!rb_) throwErrno("open ring buffer fd " + std::to_string(ringFd), errno);
        return;
    }
    if (int err = ring_buffer__add(rb_, ringFd, cb, ctx)) throwErrno("add ring buffer fd " + std::to_string(ringFd), err);
}

size_t RingReader::consume() {
    if (!rb_) return 0;
    int n = ring_buffer__consume(rb_);
    if (n < 0) throwErrno("consume ring buffers", n);
    return static_cast<size_t>(n);
}

int RingReader::epollFd() const { return rb_ ? ring_buffer__epoll_fd(rb_) : -1; }

}  // namespace fizzhost::bpf
