// A program attached to a network hook through a bpf_link: the XDP hook (bpf/xdp_link.hpp) or tc
// ingress through tcx (bpf/tcx_link.hpp). What the host does with either is the same: swap the
// program atomically (bpf_link_update, the link and its id stay), notice that someone detached it,
// detach it, or leave it to its pin. The kinds differ only in how they attach.
#pragma once

#include "util/unique_fd.hpp"

#include <cstdint>
#include <string>

namespace fizzhost::bpf {

class HookLink {
public:
    HookLink() = default;
    HookLink(HookLink&&) noexcept = default;
    HookLink& operator=(HookLink&&) noexcept = default;

    /// Atomically swaps the attached program for `newProgFd`, but only if the program attached
    /// now is `expectedProgFd` (BPF_F_REPLACE): a program someone else swapped in is never
    /// clobbered. On tc the program keeps its place among the others on the hook. Throws Error
    /// (EPERM when the expectation does not hold, ENOLINK when the link was detached).
    void update(int newProgFd, int expectedProgFd);

    /// Link id (asked of the kernel). Throws Error.
    uint32_t id() const;
    /// Id of the program attached through the link right now (asked of the kernel). Throws Error.
    uint32_t programId() const;
    /// The interface the link is attached to, 0 once it is detached. Throws Error.
    uint32_t ifindex() const;
    /// True once the attachment is gone while this handle stays open: someone called
    /// BPF_LINK_DETACH on the link (bpftool link detach, libxdp's xdp_detach_link, another
    /// process holding it by id) or the device went away. The kernel then reports ifindex 0 for
    /// XDP and tcx links alike; one syscall, safe to poll. Throws Error.
    bool detached() const;

    int fd() const { return fd_.get(); }
    const std::string& ifname() const { return ifname_; }
    explicit operator bool() const { return bool(fd_); }
    /// Detaches now (also done by the destructor, unless the link is pinned: then only by detach()).
    void detach();
    /// Closes this process's handle and leaves the attachment to its pin (on_exit = "keep").
    void release() { fd_.reset(); }

protected:
    HookLink(UniqueFd fd, std::string ifname) : fd_(std::move(fd)), ifname_(std::move(ifname)) {}
    ~HookLink() = default;

    UniqueFd fd_;
    std::string ifname_;  // for messages
};

/// True when the link `linkFd` (XDP or tcx) no longer holds an attachment: the kernel reports
/// ifindex 0 for a detached netdev link. Throws Error.
bool linkDetached(int linkFd);

}  // namespace fizzhost::bpf
