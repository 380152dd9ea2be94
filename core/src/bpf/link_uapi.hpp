// The parts of the kernel's BPF UAPI that tcx needs (Linux 6.6+) and that the headers this tree
// builds against lack: linux-libc-dev 6.1 has no BPF_TCX_* attach types, no link_create.tcx fields
// and no revision in BPF_PROG_QUERY, and libbpf 1.1 has no bpf_program__attach_tcx. Defined here
// once, with the attr layouts checked against the 6.1 union where the two overlap, so that a
// mistake fails the build instead of sending the kernel garbage.
#pragma once

#include <linux/bpf.h>

#include <cstddef>
#include <cstdint>

namespace fizzhost::bpf::uapi {

// enum bpf_attach_type, after BPF_LSM_CGROUP (43): BPF_STRUCT_OPS, BPF_NETFILTER, then these.
constexpr uint32_t kTcxIngress = 46;  // BPF_TCX_INGRESS
constexpr uint32_t kTcxEgress = 47;   // BPF_TCX_EGRESS
static_assert(BPF_LSM_CGROUP == 43, "the attach types tcx follows are where 6.6 put them");
// enum bpf_link_type, after BPF_LINK_TYPE_STRUCT_OPS (9) and BPF_LINK_TYPE_NETFILTER (10).
constexpr uint32_t kLinkTypeTcx = 11;  // BPF_LINK_TYPE_TCX
static_assert(BPF_LINK_TYPE_STRUCT_OPS == 9, "the link types tcx follows are where 6.6 put them");

// bpf_mprog placement flags of BPF_LINK_CREATE / BPF_PROG_ATTACH (6.6). BPF_F_REPLACE is in 6.1.
constexpr uint32_t kFBefore = 1u << 3;  // BPF_F_BEFORE
constexpr uint32_t kFAfter = 1u << 4;   // BPF_F_AFTER
constexpr uint32_t kFId = 1u << 5;      // BPF_F_ID: the relative object is given by id, not fd
constexpr uint32_t kFLink = 1u << 13;   // BPF_F_LINK: the relative object is a link, not a program
static_assert(BPF_F_REPLACE == 1u << 2, "the placement flags follow BPF_F_REPLACE");

// union bpf_attr.link_create with the 6.6 tcx member: { relative_fd | relative_id; expected_revision }
// in the union that starts after attach_type and flags.
struct LinkCreateTcx {
    uint32_t progFd;
    uint32_t targetIfindex;
    uint32_t attachType;
    uint32_t flags;
    uint32_t relative;  // relative_fd, or relative_id with kFId
    uint32_t pad;
    uint64_t expectedRevision;  // 0: whatever the revision
};
static_assert(offsetof(LinkCreateTcx, targetIfindex) == offsetof(bpf_attr, link_create.target_ifindex));
static_assert(offsetof(LinkCreateTcx, attachType) == offsetof(bpf_attr, link_create.attach_type));
static_assert(offsetof(LinkCreateTcx, flags) == offsetof(bpf_attr, link_create.flags));
// tcx shares its union with tracing { target_btf_id; cookie }, which has the same shape in 6.1.
static_assert(offsetof(LinkCreateTcx, relative) == offsetof(bpf_attr, link_create.tracing.target_btf_id));
static_assert(offsetof(LinkCreateTcx, expectedRevision) == offsetof(bpf_attr, link_create.tracing.cookie));

// union bpf_attr.query with the 6.6 members after prog_attach_flags: link_ids, link_attach_flags,
// revision. Queried with target_ifindex and BPF_TCX_INGRESS, it lists the programs on the hook in
// the order they run.
struct ProgQuery {
    uint32_t targetIfindex;
    uint32_t attachType;
    uint32_t queryFlags;
    uint32_t attachFlags;
    uint64_t progIds;  // user pointer to uint32_t[count]
    uint32_t count;    // in: room in the arrays; out: programs on the hook
    uint32_t pad;
    uint64_t progAttachFlags;  // user pointer, or 0
    uint64_t linkIds;          // user pointer to uint32_t[count] (0 for a program attached without a link)
    uint64_t linkAttachFlags;  // user pointer, or 0
    uint64_t revision;         // out: changes with every change of the hook's programs
};
static_assert(offsetof(ProgQuery, attachType) == offsetof(bpf_attr, query.attach_type));
static_assert(offsetof(ProgQuery, progIds) == offsetof(bpf_attr, query.prog_ids));
static_assert(offsetof(ProgQuery, count) == offsetof(bpf_attr, query.prog_cnt));
static_assert(offsetof(ProgQuery, progAttachFlags) == offsetof(bpf_attr, query.prog_attach_flags));
static_assert(sizeof(ProgQuery) == 64, "link_ids, link_attach_flags and revision follow prog_attach_flags");

// struct bpf_link_info: the XDP and the tcx member both start with the ifindex, which the kernel
// reports as 0 once the link is detached (device gone, or BPF_LINK_DETACH by anyone).
struct LinkInfoNetdev {
    uint32_t type;
    uint32_t id;
    uint32_t progId;
    uint32_t pad;
    uint32_t ifindex;
    uint32_t attachType;  // tcx: BPF_TCX_INGRESS / BPF_TCX_EGRESS; XDP: not reported (0)
};
static_assert(offsetof(LinkInfoNetdev, ifindex) == offsetof(bpf_link_info, xdp.ifindex));
static_assert(sizeof(LinkInfoNetdev) <= sizeof(bpf_link_info), "read out of the 6.1 struct, which is larger");

// enum tcx_action_base (6.6) lives in <fizz/shared.h> as FIZZ_TCX_*, shared with the BPF side.

/// bpf(2) itself, for the commands libbpf 1.1 cannot express. Returns what the syscall returns.
long sys(int cmd, void* attr, unsigned size);

}  // namespace fizzhost::bpf::uapi
