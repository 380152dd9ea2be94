#include "bpf/xdp_link.hpp"

#include "util/error.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include <cstring>

namespace fizzhost::bpf {

XdpLink XdpLink::attach(int progFd, int ifindex, const std::string& ifname, XdpMode mode) {
    LIBBPF_OPTS(bpf_link_create_opts, opts);
    opts.flags = mode == XdpMode::Native ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
    int fd = bpf_link_create(progFd, ifindex, BPF_XDP, &opts);
    if (fd < 0) {
        int err = errno;
        std::string what = "interface '" + ifname + "': attach XDP program in " +
                           (mode == XdpMode::Native ? "native" : "generic") + " mode";
        if (err == EBUSY || err == EEXIST)
            what += " (another XDP program is attached and fizzhost does not own it; "
                    "see 'bpftool net show dev " + ifname + "')";
        throwErrno(what, err);
    }
    XdpLink link;
    link.fd_.reset(fd);
    link.ifname_ = ifname;
    link.mode_ = mode;
    return link;
}

XdpLink XdpLink::adopt(UniqueFd fd, const std::string& ifname, XdpMode mode) {
    XdpLink link;
    link.fd_ = std::move(fd);
    link.ifname_ = ifname;
    link.mode_ = mode;
    return link;
}

void XdpLink::detach() {
    // A pinned link outlives its fds: only BPF_LINK_DETACH ends the attachment for every holder.
    // It fails only for a link already detached (its device went away); closing then suffices.
    if (fd_) (void)bpf_link_detach(fd_.get());
    fd_.reset();
}

void XdpLink::update(int newProgFd, int expectedProgFd) {
    LIBBPF_OPTS(bpf_link_update_opts, opts);
    opts.flags = BPF_F_REPLACE;
    opts.old_prog_fd = expectedProgFd;
    if (bpf_link_update(fd_.get(), newProgFd, &opts) != 0) {
        int err = errno;
        std::string what = "interface '" + ifname_ + "': bpf_link_update";
        if (err == EPERM) what += " (the attached program is not the one fizzhost expects: replaced by someone else?)";
        throwErrno(what, err);
    }
}

uint32_t XdpLink::id() const {
    bpf_link_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd_.get(), &info, &len) != 0) throwErrno("link info of '" + ifname_ + "'", errno);
    return info.id;
}

uint32_t XdpLink::programId() const {
    bpf_link_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd_.get(), &info, &len) != 0) throwErrno("link info of '" + ifname_ + "'", errno);
    return info.prog_id;
}

uint32_t attachedXdpProgramId(int ifindex) {
    LIBBPF_OPTS(bpf_xdp_query_opts, opts);
    if (int err = bpf_xdp_query(ifindex, 0, &opts)) throwErrno("query XDP on ifindex " + std::to_string(ifindex), err);
    return opts.prog_id ? opts.prog_id : (opts.drv_prog_id ? opts.drv_prog_id : opts.skb_prog_id);
}

uint32_t programId(int progFd) {
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(progFd, &info, &len) != 0) throwErrno("program info", errno);
    return info.id;
}

}  // namespace fizzhost::bpf
