// A tc ingress attachment through a tcx link (Linux 6.6+): the kernel's own multi-program hook, so
// fizzhost's program runs beside whatever else is there (a datapath, a firewall), at a place in
// their order chosen at attach time, and is swapped with bpf_link_update in that same place. The
// programs on the hook run in order, each passing the packet on with TCX_NEXT (or deciding it).
// libbpf 1.1 has no tcx support: links are made with the raw syscall (bpf/link_uapi.hpp).
#pragma once

#include "bpf/hook_link.hpp"
#include "util/unique_fd.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace fizzhost::bpf {

/// Where a new tcx link goes among the programs already on the hook.
struct TcxPlacement {
    enum class Where { First, Last, Before, After };
    Where where = Where::Last;
    /// Before/After: the program to go next to, by id, or the link holding it (exactly one of the
    /// two). First/Last: both 0.
    uint32_t relativeProgramId = 0;
    uint32_t relativeLinkId = 0;
    /// The hook's revision the placement was decided on (TcxChain::revision); the attach fails
    /// with ESTALE when the hook changed since. 0: whatever it is now.
    uint64_t expectedRevision = 0;
};

class TcxLink : public HookLink {
public:
    /// Attaches the tc program `progFd` (BPF_PROG_TYPE_SCHED_CLS) to tc ingress of `ifindex` (in
    /// the calling thread's network namespace) at `at`. Throws Error naming the interface and the
    /// place, with the kernel's reason: ENOENT (the relative program is not on the hook), ESTALE
    /// (the hook changed since `expectedRevision`), EEXIST (this program is on the hook already),
    /// ERANGE (the hook is full: 63 programs), EINVAL (not a tc program).
    static TcxLink attach(int progFd, int ifindex, const std::string& ifname, const TcxPlacement& at = {});

    /// Takes a tcx link a previous process pinned: the same attachment, same id and place.
    static TcxLink adopt(UniqueFd fd, const std::string& ifname);

    TcxLink() = default;
    TcxLink(TcxLink&&) noexcept = default;
    TcxLink& operator=(TcxLink&&) noexcept = default;

private:
    TcxLink(UniqueFd fd, const std::string& ifname) : HookLink(std::move(fd), ifname) {}
};

/// One program on a tcx hook.
struct TcxEntry {
    uint32_t programId = 0;
    uint32_t linkId = 0;  // 0: attached without a link (BPF_PROG_ATTACH)
    std::string name;     // the program's name as the kernel keeps it (at most 15 characters)
};

/// The programs on a tcx hook, in the order they run, and the hook's revision, which changes with
/// every attach, detach and replacement.
struct TcxChain {
    uint64_t revision = 0;
    std::vector<TcxEntry> entries;
};

/// Reads tc ingress of `ifindex` (calling thread's netns). Throws Error.
TcxChain queryTcx(int ifindex);

/// Where to put a program, as a configuration names it: first, last, or before/after a program on
/// the hook by name, or the program or link pinned at a path.
struct TcxAnchor {
    TcxPlacement::Where where = TcxPlacement::Where::Last;
    std::string programName;          // Before/After: the one program of this name on the hook ...
    std::filesystem::path pinnedPath; // ... or the program (or the link holding it) pinned here
};

/// For messages: "first", "last", "before program 'x'", "after the program pinned at '/p'".
std::string describe(const TcxAnchor& anchor);

/// Attaches `progFd` at `anchor`: reads the hook, resolves the anchor to the id of a program or
/// link on it, and attaches with the revision it read; when the hook changed in between (ESTALE)
/// it reads it again, up to `attempts` times. Throws Error naming the interface and the anchor:
/// ENOENT when the anchor is not on the hook (the message lists what is), ENOTUNIQ when several
/// programs there have the name, ESTALE when the hook kept changing, or what attach() throws.
TcxLink attachTcxAt(int progFd, int ifindex, const std::string& ifname, const TcxAnchor& anchor,
                    unsigned attempts = 8);

}  // namespace fizzhost::bpf
