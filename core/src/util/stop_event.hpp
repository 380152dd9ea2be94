// The stop signal of a thread that blocks on one file descriptor (rtnetlink, a signalfd, a
// listening socket): the owner raises it, the thread's wait returns, the owner joins.
#pragma once

#include "util/unique_fd.hpp"

#include <string>

namespace fizzhost {

class StopEvent {
public:
    /// Throws Error naming `owner` when no eventfd can be made.
    explicit StopEvent(const std::string& owner);

    /// Wakes the wait now, and every later one. Never throws.
    void raise() noexcept;

    enum class Wake { Readable, Stopped };
    /// Blocks until `fd` is readable (or hung up) or the event is raised; raised wins. Throws Error
    /// naming the owner when poll fails for another reason than a signal.
    Wake wait(int fd) const;

private:
    std::string owner_;
    UniqueFd fd_;
};

}  // namespace fizzhost
