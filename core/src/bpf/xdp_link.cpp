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
    return XdpLink(UniqueFd(fd), ifname, mode);
}

XdpLink XdpLink::adopt(UniqueFd fd, const std::string& ifname, XdpMode mode) {
    return XdpLink(std::move(fd), ifname, mode);
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
