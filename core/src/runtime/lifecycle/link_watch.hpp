// Network interfaces appearing and disappearing, as rtnetlink reports them (RTM_NEWLINK /
// RTM_DELLINK on the RTMGRP_LINK group, read and parsed with libmnl), delivered to a handler on the
// watch's own thread. The host uses it to retire the state of a deleted interface and to attach
// the configured classifier again when an interface of that name comes back.
#pragma once

#include "util/stop_event.hpp"

#include <functional>
#include <memory>
#include <string>
#include <thread>

struct mnl_socket;

namespace fizzhost::runtime {

struct LinkChange {
    enum class Kind {
        Added,    // RTM_NEWLINK: a new interface, or a change to one (flags, name, ...)
        Removed,  // RTM_DELLINK
        Lost,     // the socket overflowed (ENOBUFS): changes were missed; re-read what matters
    };
    Kind kind;
    int ifindex = 0;   // 0 for Lost
    std::string name;  // empty for Lost
};

class LinkWatch {
public:
    using Handler = std::function<void(const LinkChange&)>;
    /// Subscribes to link changes in the calling thread's network namespace and starts a thread
    /// that calls `handler` for each, in the kernel's order. `handler` must not throw and must not
    /// destroy this watch. Throws Error when the netlink socket cannot be opened or bound.
    explicit LinkWatch(Handler handler);
    /// Stops and joins the thread; no call of the handler runs after it returns.
    ~LinkWatch();
    LinkWatch(const LinkWatch&) = delete;
    LinkWatch& operator=(const LinkWatch&) = delete;

private:
    struct SocketCloser {
        void operator()(mnl_socket* s) const noexcept;
    };
    void run();
    void handleBatch(const void* buf, size_t len);

    Handler handler_;
    std::unique_ptr<mnl_socket, SocketCloser> socket_;
    StopEvent stop_{"link watch"};
    std::thread thread_;
};

}  // namespace fizzhost::runtime
