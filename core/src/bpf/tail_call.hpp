// The kernel's rule for the programs of one program array (a tail call's targets): the first
// program to use the array decides, and every other must be alike in type, JIT, frags support
// (BPF_F_XDP_HAS_FRAGS) and expected attach type, and bound to no device (__bpf_prog_map_compatible
// on 6.18); inserting any other fails with a bare EINVAL. A program chained behind the dispatcher
// (FIZZ_SLOT_NEXT) meets the same rule, so a refusal must say which of them differs. A program's
// info shows its type, JIT and device, not its expected attach type or frags support: those are
// found by trying programs of each kind beside it in an array of its own.
#pragma once

#include "util/unique_fd.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace fizzhost::bpf {

struct TailCallProfile {
    uint32_t type = 0;  // enum bpf_prog_type
    bool jited = false;
    bool devBound = false;  // offloaded or device-bound: never allowed in a program array
    /// Known for XDP and tc programs that are not device-bound (found by trying; see above).
    std::optional<uint32_t> expectedAttachType;
    std::optional<bool> xdpHasFrags;
};

/// The profile of a loaded program. Probes with small programs of its type when needed (a few
/// loads). Throws Error.
TailCallProfile tailCallProfile(int progFd);

/// For messages: "xdp, jited, expected attach type xdp (37), without frags support".
std::string describe(const TailCallProfile& profile);

/// Why `candidate` may not share a program array with programs of `owner`'s profile, or "" when
/// nothing tells them apart.
std::string tailCallMismatch(const TailCallProfile& owner, const TailCallProfile& candidate);

/// "program 'name' (id N, type xdp)": how an error names a program it did not load itself.
std::string describeProgram(int progFd);

/// Puts `progFd` into slot `key` of the program array `mapFd`, whose programs are of `owner`'s
/// profile. Throws Error prefixed with `what`; when the kernel finds the program incompatible
/// (EINVAL), the message names it (id, name, type) and says what differs.
void insertTailCallTarget(int mapFd, uint32_t key, int progFd, const TailCallProfile& owner, const std::string& what);

/// Opens the XDP program a chain is to hand frames to (`then`): pinned at `path`, a program, of
/// type XDP, and alike to `dispatcher` (the profile of the dispatcher that tail-calls it). Throws
/// Error prefixed with `what` saying which of these fails: ENOENT (nothing pinned there), EINVAL
/// (a link, map or non-XDP program, or an incompatible one: what differs).
UniqueFd openChainTarget(const std::filesystem::path& path, const TailCallProfile& dispatcher, const std::string& what);

}  // namespace fizzhost::bpf
