#include "bpf/tcx_link.hpp"

#include "bpf/link_uapi.hpp"
#include "bpf/pin.hpp"
#include "bpf/xdp_link.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

#include <bpf/bpf.h>

#include <array>
#include <cstring>

namespace fizzhost::bpf {
namespace {

// A tcx hook holds at most 63 programs (bpf_mprog's 64 slots, one kept empty): one query reads all.
constexpr uint32_t kMaxTcxPrograms = 64;

std::string whereText(const TcxPlacement& at) {
    using W = TcxPlacement::Where;
    std::string rel = at.relativeLinkId ? "link id " + std::to_string(at.relativeLinkId)
                                        : "program id " + std::to_string(at.relativeProgramId);
    switch (at.where) {
    case W::First: return "first";
    case W::Last: return "last";
    case W::Before: return "before " + rel;
    case W::After: return "after " + rel;
    }
    return "?";
}

std::string programName(uint32_t id) {
    UniqueFd fd(bpf_prog_get_fd_by_id(id));
    if (!fd) return "";
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0) return "";
    return std::string(info.name, strnlen(info.name, sizeof info.name));
}

std::string listChain(const TcxChain& chain) {
    if (chain.entries.empty()) return "no program";
    std::string out;
    for (const auto& e : chain.entries) {
        if (!out.empty()) out += ", ";
        out += "'" + printable(e.name) + "' (id " + std::to_string(e.programId) +
               (e.linkId ? ", link " + std::to_string(e.linkId) : ", no link") + ")";
    }
    return out;
}

// The anchor as ids on `chain`; throws Error when it is not there.
TcxPlacement resolve(const TcxAnchor& anchor, const TcxChain& chain, const std::string& where) {
    TcxPlacement at;
    at.where = anchor.where;
    at.expectedRevision = chain.revision;
    using W = TcxPlacement::Where;
    if (anchor.where == W::First || anchor.where == W::Last) return at;
    if (!anchor.pinnedPath.empty()) {
        UniqueFd fd = openPinned(anchor.pinnedPath);
        switch (objectKind(fd.get())) {
        case ObjectKind::Program: {
            const uint32_t id = programId(fd.get());
            for (const auto& e : chain.entries)
                if (e.programId == id) {
                    at.relativeProgramId = id;
                    return at;
                }
            throw Error(where + ": the program pinned at '" + anchor.pinnedPath.string() + "' (id " + std::to_string(id) +
                            ") is not on the hook (there: " + listChain(chain) + ")",
                        ENOENT);
        }
        case ObjectKind::Link: {
            const LinkInfo link = linkInfo(fd.get());
            for (const auto& e : chain.entries)
                if (e.linkId == link.id) {
                    at.relativeLinkId = link.id;
                    return at;
                }
            throw Error(where + ": the link pinned at '" + anchor.pinnedPath.string() + "' (id " +
                            std::to_string(link.id) + ") is not on the hook (there: " + listChain(chain) + ")",
                        ENOENT);
        }
        default: break;
        }
        throw Error(where + ": '" + anchor.pinnedPath.string() + "' holds neither a program nor a link", EINVAL);
    }
    const TcxEntry* found = nullptr;
    for (const auto& e : chain.entries) {
        if (e.name != anchor.programName) continue;
        if (found)
            throw Error(where + ": several programs on the hook are named '" + printable(anchor.programName) +
                            "' (ids " + std::to_string(found->programId) + " and " + std::to_string(e.programId) +
                            "); name the one you mean by its pin",
                        ENOTUNIQ);
        found = &e;
    }
    if (!found)
        throw Error(where + ": no program named '" + printable(anchor.programName) + "' on the hook (there: " +
                        listChain(chain) + "; the kernel keeps the first 15 characters of a name)",
                    ENOENT);
    at.relativeProgramId = found->programId;
    return at;
}

}  // namespace

TcxLink TcxLink::attach(int progFd, int ifindex, const std::string& ifname, const TcxPlacement& at) {
    using W = TcxPlacement::Where;
    uapi::LinkCreateTcx attr{};
    attr.progFd = uint32_t(progFd);
    attr.targetIfindex = uint32_t(ifindex);
    attr.attachType = uapi::kTcxIngress;
    attr.expectedRevision = at.expectedRevision;
    const std::string what = "interface '" + ifname + "': attach tc program at tc ingress (tcx), " + whereText(at);
    if ((at.where == W::First || at.where == W::Last) && (at.relativeProgramId || at.relativeLinkId))
        throw Error(what + ": first and last take no relative program", EINVAL);
    if ((at.where == W::Before || at.where == W::After) && !at.relativeProgramId == !at.relativeLinkId)
        throw Error(what + ": before and after take exactly one relative program or link", EINVAL);
    // With no relative object, BPF_F_BEFORE puts the program first and BPF_F_AFTER last.
    if (at.where == W::First || at.where == W::Before) attr.flags |= uapi::kFBefore;
    if (at.where == W::Last || at.where == W::After) attr.flags |= uapi::kFAfter;
    if (at.relativeProgramId) {
        attr.flags |= uapi::kFId;
        attr.relative = at.relativeProgramId;
    } else if (at.relativeLinkId) {
        attr.flags |= uapi::kFId | uapi::kFLink;
        attr.relative = at.relativeLinkId;
    }
    const long fd = uapi::sys(BPF_LINK_CREATE, &attr, sizeof attr);
    if (fd < 0) {
        const int err = errno;
        std::string hint;
        switch (err) {
        case ENOENT: hint = " (the relative program or link is not on this hook)"; break;
        case ESTALE: hint = " (the hook changed since it was read: read it again)"; break;
        case EEXIST: hint = " (this program is on the hook already)"; break;
        case ERANGE: hint = " (the hook holds the most programs it can: 63)"; break;
        case EINVAL: hint = " (a tc program (BPF_PROG_TYPE_SCHED_CLS) is needed, and Linux 6.6 or later for tcx)"; break;
        default: break;
        }
        throwErrno(what + hint, err);
    }
    return TcxLink(UniqueFd(int(fd)), ifname);
}

TcxLink TcxLink::adopt(UniqueFd fd, const std::string& ifname) { return TcxLink(std::move(fd), ifname); }

TcxChain queryTcx(int ifindex) {
    std::array<uint32_t, kMaxTcxPrograms> progs{}, links{};
    uapi::ProgQuery q{};
    q.targetIfindex = uint32_t(ifindex);
    q.attachType = uapi::kTcxIngress;
    q.progIds = reinterpret_cast<uint64_t>(progs.data());
    q.linkIds = reinterpret_cast<uint64_t>(links.data());
    q.count = kMaxTcxPrograms;
    if (uapi::sys(BPF_PROG_QUERY, &q, sizeof q) != 0)
        throwErrno("query tc ingress (tcx) of ifindex " + std::to_string(ifindex), errno);
    TcxChain chain;
    chain.revision = q.revision;
    for (uint32_t i = 0; i < q.count && i < kMaxTcxPrograms; ++i)
        chain.entries.push_back({progs[i], links[i], programName(progs[i])});
    return chain;
}

std::string describe(const TcxAnchor& anchor) {
    using W = TcxPlacement::Where;
    if (anchor.where == W::First) return "first";
    if (anchor.where == W::Last) return "last";
    const std::string side = anchor.where == W::Before ? "before " : "after ";
    if (!anchor.pinnedPath.empty()) return side + "the program pinned at '" + anchor.pinnedPath.string() + "'";
    return side + "program '" + printable(anchor.programName) + "'";
}

TcxLink attachTcxAt(int progFd, int ifindex, const std::string& ifname, const TcxAnchor& anchor, unsigned attempts) {
    const std::string where = "interface '" + ifname + "': tc ingress, " + describe(anchor);
    for (unsigned i = 0;; ++i) {
        const TcxPlacement at = resolve(anchor, queryTcx(ifindex), where);
        try {
            return TcxLink::attach(progFd, ifindex, ifname, at);
        } catch (const Error& e) {
            // The hook changed between the read and the attach (another loader at work): read again.
            if (e.code() != ESTALE || i + 1 >= attempts) throw;
        }
    }
}

}  // namespace fizzhost::bpf
