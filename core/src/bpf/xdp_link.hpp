// An XDP attachment held through a bpf_link: closing the link detaches, and the program behind it
// is replaced atomically with bpf_link_update, so the link (and its id) outlives program versions.
#pragma once

#include "util/unique_fd.hpp"

#include <cstdint>
#include <string>

namespace fizzhost::bpf {

enum class XdpMode { Native, Generic };

class XdpLink {
public:
    /// Attaches `progFd` to `ifindex` in `mode`. Throws Error naming the interface, with a hint
    /// when another XDP program is already attached (EBUSY/EEXIST).
    static XdpLink attach(int progFd, int ifindex, const std::string& ifname, XdpMode mode);

    /// Takes a link a previous process pinned (opened from bpffs): the same attachment, same id.
    static XdpLink adopt(UniqueFd fd, const std::string& ifname, XdpMode mode);

    XdpLink() = default;
    XdpLink(XdpLink&&) noexcept = default;
    XdpLink& operator=(XdpLink&&) noexcept = default;

    /// Atomically swaps the attached program for `newProgFd`, but only if the program attached
    /// now is `expectedProgFd` (BPF_F_REPLACE): a program someone else swapped in is never
    /// clobbered. Throws Error (EPERM when the expectation does not hold).
    void update(int newProgFd, int expectedProgFd);

    uint32_t id() const;
    /// Id of the program attached through the link right now (asked of the kernel).
    uint32_t programId() const;
    XdpMode mode() const { return mode_; }
    int fd() const { return fd_.get(); }
    explicit operator bool() const { return bool(fd_); }
    /// Detaches now (also done by the destructor, unless the link is pinned: then only by detach()).
    void detach();
    /// Closes this process's handle and leaves the attachment to its pin (on_exit = "keep").
    void release() { fd_.reset(); }

private:
    UniqueFd fd_;
    std::string ifname_;  // for messages
    XdpMode mode_ = XdpMode::Native;
};

/// Id of the XDP program attached to `ifindex` by anyone (0 if none), in the calling thread's netns.
uint32_t attachedXdpProgramId(int ifindex);

/// Id of a loaded program by fd.
uint32_t programId(int progFd);

}  // namespace fizzhost::bpf
