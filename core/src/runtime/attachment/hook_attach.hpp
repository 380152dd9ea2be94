// Attaching an interface's program to the hook its config names: the XDP hook, which holds one
// program (a foreign one there is never replaced: the refusal names it and the ways forward), or tc
// ingress through tcx, at the configured place among the programs already there.
#pragma once

#include "bpf/tcx_link.hpp"
#include "config/host_config.hpp"
#include "runtime/attachment/attachment.hpp"

#include <string>

namespace fizzhost::runtime {

/// The bpf layer's anchor for a configured tc place.
bpf::TcxAnchor anchorOf(const config::TcPlace& place);

/// Attaches a.attachedProgramFd() to a.ifindex as a.cfg says, into a.link. XDP: refused (EBUSY)
/// when another program holds the hook, with bpf::foreignXdpRefusal's message; mode "auto" tries
/// native, then generic. tc: bpf::attachTcxAt at a.cfg.place (retried while the hook changes).
/// Throws Error naming the interface; a.link is untouched then.
void attachHook(Attachment& a);

/// For logs and status: "xdp native", "xdp generic", "tc ingress (first)", "tc ingress (after program 'x')".
std::string describeHook(const Attachment& a);

}  // namespace fizzhost::runtime
