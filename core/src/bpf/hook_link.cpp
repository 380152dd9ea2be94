#include "bpf/hook_link.hpp"

#include "bpf/pin.hpp"
#include "util/error.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

namespace fizzhost::bpf {

void HookLink::update(int newProgFd, int expectedProgFd) {
    LIBBPF_OPTS(bpf_link_update_opts, opts);
    opts.flags = BPF_F_REPLACE;
    opts.old_prog_fd = expectedProgFd;
    if (int rc = bpf_link_update(fd_.get(), newProgFd, &opts); rc != 0) {
        // libbpf 1.1 returns the error; errno is not always set (an XDP link reports ENOLINK so).
        const int err = rc < 0 ? -rc : errno;
        std::string what = "interface '" + ifname_ + "': bpf_link_update";
        if (err == EPERM) what += " (the attached program is not the one fizzhost expects: replaced by someone else?)";
        if (err == ENOLINK) what += " (the link was detached: by someone else, or the device went away)";
        throwErrno(what, err);
    }
}

uint32_t HookLink::id() const { return linkInfo(fd_.get()).id; }
uint32_t HookLink::programId() const { return linkInfo(fd_.get()).programId; }
uint32_t HookLink::ifindex() const { return linkInfo(fd_.get()).ifindex; }
bool HookLink::detached() const { return linkDetached(fd_.get()); }

void HookLink::detach() {
    // A pinned link outlives its fds: only BPF_LINK_DETACH ends the attachment for every holder.
    // It fails only for a link already detached (its device went away); closing then suffices.
    if (fd_) (void)bpf_link_detach(fd_.get());
    fd_.reset();
}

bool linkDetached(int linkFd) {
    const LinkInfo info = linkInfo(linkFd);
    if (!info.netdev)
        throw Error("link id " + std::to_string(info.id) + " (type " + std::to_string(info.type) +
                        ") is not attached to a network device: cannot tell whether it is detached",
                    EINVAL);
    return info.ifindex == 0;
}

}  // namespace fizzhost::bpf
