// Who holds the XDP program already attached to an interface, for the message that refuses to
// replace it: another fizzhost (by its process), another program, or nobody we can see (pinned in
// bpffs, or attached through netlink).
#pragma once

#include <cstdint>
#include <string>

namespace fizzhost::bpf {

/// E.g. "program 'fizz_xdp' held by another fizzhost (pid 4242)". Scans /proc/*/fdinfo for a
/// bpf_link to `programId`; reads the program's name from the kernel. Never throws: what cannot
/// be learnt is left out.
std::string describeXdpOwner(uint32_t programId);

}  // namespace fizzhost::bpf
