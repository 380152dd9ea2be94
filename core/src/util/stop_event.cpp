#include "util/stop_event.hpp"

#include "util/error.hpp"

#include <poll.h>
#include <sys/eventfd.h>

#include <cerrno>
#include <cstdint>

namespace fizzhost {

StopEvent::StopEvent(const std::string& owner) : owner_(owner), fd_(eventfd(0, EFD_CLOEXEC)) {
    if (!fd_) throwErrno(owner_ + ": eventfd", errno);
}

void StopEvent::raise() noexcept {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(fd_.get(), &one, sizeof one);
}

StopEvent::Wake StopEvent::wait(int fd) const {
    for (;;) {
        pollfd fds[2] = {{fd, POLLIN, 0}, {fd_.get(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            throwErrno(owner_ + ": poll", errno);
        }
        if (fds[1].revents) return Wake::Stopped;
        if (fds[0].revents) return Wake::Readable;
    }
}

}  // namespace fizzhost
