// An XDP attachment held through a bpf_link: closing the link detaches, and the program behind it
// is replaced atomically with bpf_link_update, so the link (and its id) outlives program versions.
#pragma once

#include "bpf/hook_link.hpp"
#include "util/unique_fd.hpp"

#include <cstdint>
#include <string>

namespace fizzhost::bpf {

enum class XdpMode { Native, Generic };

class XdpLink : public HookLink {
public:
    /// Attaches `progFd` to `ifindex` in `mode`. Throws Error naming the interface, with a hint
    /// when another XDP program is already attached (EBUSY/EEXIST).
    static XdpLink attach(int progFd, int ifindex, const std::string& ifname, XdpMode mode);

    /// Takes a link a previous process pinned (opened from bpffs): the same attachment, same id.
    static XdpLink adopt(UniqueFd fd, const std::string& ifname, XdpMode mode);

    XdpLink() = default;
    XdpLink(XdpLink&&) noexcept = default;
    XdpLink& operator=(XdpLink&&) noexcept = default;

    XdpMode mode() const { return mode_; }

private:
    XdpLink(UniqueFd fd, const std::string& ifname, XdpMode mode) : HookLink(std::move(fd), ifname), mode_(mode) {}
    XdpMode mode_ = XdpMode::Native;
};

/// Id of the XDP program attached to `ifindex` by anyone (0 if none), in the calling thread's netns.
uint32_t attachedXdpProgramId(int ifindex);

/// Id of a loaded program by fd.
uint32_t programId(int progFd);

}  // namespace fizzhost::bpf
