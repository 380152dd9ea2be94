// Network interfaces appearing and disappearing, as rtnetlink reports them (RTM_NEWLINK /
// RTM_DELLINK on the RTMGRP_LINK group, read and parsed with libmnl). The watch owns no thread and
// calls nobody: the kernel queues the changes on its socket, the owner's loop polls fd() and
// drains them. The host uses it to retire the state of a deleted interface and to attach the
// configured classifier again when an interface of that name comes back.
#pragma once

#include <functional>
#include <memory>
#include <string>

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
    /// Subscribes to link changes in the calling thread's network namespace. Throws Error when the
    /// netlink socket cannot be opened or bound.
    LinkWatch();
    LinkWatch(const LinkWatch&) = delete;
    LinkWatch& operator=(const LinkWatch&) = delete;
    ~LinkWatch();

    /// Readable (poll) while changes wait to be drained.
    int fd() const;
    /// Hands every change waiting now to `fn`, in the kernel's order, and returns how many; never
    /// blocks. A Lost change says the kernel dropped some (its queue overflowed). One thread at a
    /// time. Throws what `fn` throws.
    size_t drain(const std::function<void(const LinkChange&)>& fn);

private:
    struct SocketCloser {
        void operator()(mnl_socket* s) const noexcept;
    };
    std::unique_ptr<mnl_socket, SocketCloser> socket_;
};

}  // namespace fizzhost::runtime
