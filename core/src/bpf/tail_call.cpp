#include "bpf/tail_call.hpp"

#include "bpf/link_uapi.hpp"
#include "bpf/map.hpp"
#include "bpf/pin.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <array>
#include <cstring>

namespace fizzhost::bpf {
namespace {

bpf_prog_info rawProgramInfo(int progFd) {
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(progFd, &info, &len) != 0) throwErrno("program info", errno);
    return info;
}

std::string typeName(uint32_t type) {
    const char* name = libbpf_bpf_prog_type_str(bpf_prog_type(type));
    return name ? name : "type " + std::to_string(type);
}

std::string attachTypeName(uint32_t type) {
    if (type == 0) return "0 (none given)";  // BPF_CGROUP_INET_INGRESS's value, but unset for XDP and tc
    if (type == uapi::kTcxIngress) return "tcx_ingress";
    if (type == uapi::kTcxEgress) return "tcx_egress";
    const char* name = libbpf_bpf_attach_type_str(bpf_attach_type(type));
    return (name ? std::string(name) : "unnamed") + " (" + std::to_string(type) + ")";
}

// "r0 = 0; exit" as a program of `type`, for probing what an array accepts beside another program.
UniqueFd probeProgram(uint32_t type, uint32_t expectedAttachType, uint32_t flags) {
    const bpf_insn insns[] = {
        {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .src_reg = 0, .off = 0, .imm = 0},
        {.code = BPF_JMP | BPF_EXIT, .dst_reg = 0, .src_reg = 0, .off = 0, .imm = 0},
    };
    LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = bpf_attach_type(expectedAttachType),
                .prog_flags = flags);
    return UniqueFd(bpf_prog_load(bpf_prog_type(type), "fizz_probe", "GPL", insns, 2, &opts));
}

}  // namespace

std::string describeProgram(int progFd) {
    const bpf_prog_info info = rawProgramInfo(progFd);
    const std::string name(info.name, strnlen(info.name, sizeof info.name));
    return "program '" + printable(name) + "' (id " + std::to_string(info.id) + ", type " + typeName(info.type) + ")";
}

TailCallProfile tailCallProfile(int progFd) {
    const bpf_prog_info info = rawProgramInfo(progFd);
    TailCallProfile p;
    p.type = info.type;
    p.jited = info.jited_prog_len > 0;
    p.devBound = info.ifindex != 0;
    if (p.devBound || (info.type != BPF_PROG_TYPE_XDP && info.type != BPF_PROG_TYPE_SCHED_CLS)) return p;
    // An array of its own, owned by the program (the first to enter it), and one probe at a time
    // beside it: the probe the kernel accepts is alike in everything the info does not show.
    const UniqueFd array = createMap({BPF_MAP_TYPE_PROG_ARRAY, "fizz_probe", sizeof(uint32_t), sizeof(uint32_t), 2});
    const uint32_t owner = 0, probe = 1, fd = uint32_t(progFd);
    if (bpf_map_update_elem(array.get(), &owner, &fd, BPF_ANY) != 0) return p;
    struct Kind {
        uint32_t attachType;
        bool frags;
    };
    const std::array<Kind, 4> xdpKinds{{{BPF_XDP, false}, {0, false}, {BPF_XDP, true}, {0, true}}};
    const std::array<Kind, 3> tcKinds{{{0, false}, {uapi::kTcxIngress, false}, {uapi::kTcxEgress, false}}};
    const auto tryKinds = [&](const auto& kinds) {
        for (const Kind& k : kinds) {
            const UniqueFd candidate = probeProgram(info.type, k.attachType, k.frags ? BPF_F_XDP_HAS_FRAGS : 0);
            if (!candidate) continue;
            const uint32_t cfd = uint32_t(candidate.get());
            if (bpf_map_update_elem(array.get(), &probe, &cfd, BPF_ANY) == 0) {
                p.expectedAttachType = k.attachType;
                p.xdpHasFrags = k.frags;
                return;
            }
        }
    };
    if (info.type == BPF_PROG_TYPE_XDP)
        tryKinds(xdpKinds);
    else
        tryKinds(tcKinds);
    return p;
}

std::string describe(const TailCallProfile& p) {
    std::string out = typeName(p.type) + (p.jited ? ", jited" : ", interpreted");
    if (p.devBound) out += ", bound to a device";
    if (p.expectedAttachType) out += ", expected attach type " + attachTypeName(*p.expectedAttachType);
    if (p.xdpHasFrags && p.type == BPF_PROG_TYPE_XDP)
        out += *p.xdpHasFrags ? ", with frags support" : ", without frags support";
    return out;
}

std::string tailCallMismatch(const TailCallProfile& owner, const TailCallProfile& candidate) {
    if (candidate.devBound) return "it is bound to a device (offloaded or dev-bound), which no program array takes";
    if (candidate.type != owner.type)
        return "it is a " + typeName(candidate.type) + " program, the others " + typeName(owner.type);
    if (candidate.jited != owner.jited)
        return std::string("it is ") + (candidate.jited ? "jited" : "interpreted") + ", the others " +
               (owner.jited ? "jited" : "interpreted");
    if (candidate.xdpHasFrags && owner.xdpHasFrags && *candidate.xdpHasFrags != *owner.xdpHasFrags)
        return std::string("it was loaded ") + (*candidate.xdpHasFrags ? "with" : "without") +
               " frags support (BPF_F_XDP_HAS_FRAGS, SEC(\"xdp.frags\")), the others " +
               (*owner.xdpHasFrags ? "with" : "without");
    if (candidate.expectedAttachType && owner.expectedAttachType && *candidate.expectedAttachType != *owner.expectedAttachType)
        return "it was loaded with expected attach type " + attachTypeName(*candidate.expectedAttachType) +
               ", the others with " + attachTypeName(*owner.expectedAttachType) +
               " (libbpf 1.0 and later load SEC(\"xdp\") with BPF_XDP, older loaders and iproute2 with 0)";
    return "";
}

void insertTailCallTarget(int mapFd, uint32_t key, int progFd, const TailCallProfile& owner, const std::string& what) {
    const uint32_t value = uint32_t(progFd);
    if (bpf_map_update_elem(mapFd, &key, &value, BPF_ANY) == 0) return;
    const int err = errno;
    if (err != EINVAL) throwErrno(what + ": insert " + describeProgram(progFd) + " into the program array", err);
    std::string why;
    try {
        why = tailCallMismatch(owner, tailCallProfile(progFd));
    } catch (const Error& e) {
        why = "its profile could not be read (" + std::string(e.what()) + ")";
    }
    if (why.empty()) why = "the kernel found it unlike the array's programs (" + describe(owner) + ")";
    throw Error(what + ": " + describeProgram(progFd) + " cannot be tail-called beside programs that are " +
                    describe(owner) + ": " + why + " (" + errnoText(err) + ")",
                err);
}

UniqueFd openChainTarget(const std::filesystem::path& path, const TailCallProfile& dispatcher, const std::string& what) {
    UniqueFd fd;
    try {
        fd = openPinned(path);
    } catch (const Error& e) {
        throw Error(what + ": " + e.what() + (e.code() == ENOENT ? " (pin the program there first: bpftool prog pin)" : ""),
                    e.code());
    }
    switch (objectKind(fd.get())) {
    case ObjectKind::Program: break;
    case ObjectKind::Link:
        throw Error(what + ": '" + path.string() + "' holds a link, not a program (pin the program itself)", EINVAL);
    case ObjectKind::Map: throw Error(what + ": '" + path.string() + "' holds a map, not a program", EINVAL);
    case ObjectKind::Other: throw Error(what + ": '" + path.string() + "' holds no BPF program", EINVAL);
    }
    const TailCallProfile p = tailCallProfile(fd.get());
    if (p.type != BPF_PROG_TYPE_XDP)
        throw Error(what + ": " + describeProgram(fd.get()) + " pinned at '" + path.string() +
                        "' is not an XDP program: only an XDP program can decide an XDP frame's fate",
                    EINVAL);
    if (const std::string why = tailCallMismatch(dispatcher, p); !why.empty())
        throw Error(what + ": " + describeProgram(fd.get()) + " pinned at '" + path.string() +
                        "' cannot be tail-called from fizzhost's dispatcher (" + describe(dispatcher) + "): " + why,
                    EINVAL);
    return fd;
}

}  // namespace fizzhost::bpf
