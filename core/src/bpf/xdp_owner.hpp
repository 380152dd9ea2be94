// Who holds the XDP program already attached to an interface, for the message that refuses to
// replace it: which program (id, name), in which mode, and how it is attached: through a bpf_link
// (and which process holds it), or through netlink (ip link set xdp, bpf_xdp_attach), which no
// process holds.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fizzhost::bpf {

/// E.g. "program 'fizz_xdp' held by another fizzhost (pid 4242)". Scans /proc/*/fdinfo for a
/// bpf_link to `programId`; reads the program's name from the kernel. Never throws: what cannot
/// be learnt is left out.
std::string describeXdpOwner(uint32_t programId);

/// One XDP program attached to an interface.
struct XdpAttachment {
    uint32_t programId = 0;
    std::string programName;
    std::string mode;     // "native", "generic" or "offloaded"
    uint32_t linkId = 0;  // the bpf_link it is attached through; 0: attached through netlink
    std::optional<pid_t> holder;  // a process holding that link open (none: pinned, or netlink)
    std::string holderName;       // its comm
};

/// Every XDP program attached to `ifindex` in the calling thread's network namespace (at most one
/// per mode). Finding the link walks every bpf_link on the machine (CAP_SYS_ADMIN). Throws Error
/// when the interface cannot be queried.
std::vector<XdpAttachment> xdpAttachments(int ifindex);

/// "program 'x' (id 12) in native mode, attached through netlink (no bpf_link: ip link set xdp or
/// bpf_xdp_attach)" or "... through bpf_link id 7, held by process 'y' (pid 99)".
std::string describe(const XdpAttachment& a);

/// The refusal for an interface whose XDP hook another program holds: what is attached and how,
/// that fizzhost does not replace it, and the two ways forward: run at tc ingress beside it
/// (hook = "tc"), or run it after classifying on XDP (then = its pin), saying when the kernel would
/// refuse to chain it (frags support, expected attach type). Never throws; "" when nothing is
/// attached.
std::string foreignXdpRefusal(const std::string& ifname, int ifindex);

}  // namespace fizzhost::bpf
