// The link one interface's classifier is attached through: an XDP link, or a tcx link at tc
// ingress (config `hook`). What the host does with it (swap, ask its ids, notice it was detached,
// detach or leave it to its pin) does not depend on which; only attaching does (hook_attach.hpp).
#pragma once

#include "bpf/tcx_link.hpp"
#include "bpf/xdp_link.hpp"

#include <cstdint>
#include <string>

namespace fizzhost::runtime {

class AttachedLink {
public:
    AttachedLink() = default;
    AttachedLink& operator=(bpf::XdpLink&& link) {
        tcx_ = bpf::TcxLink();
        xdp_ = std::move(link);
        return *this;
    }
    AttachedLink& operator=(bpf::TcxLink&& link) {
        xdp_ = bpf::XdpLink();
        tcx_ = std::move(link);
        return *this;
    }

    bool isTc() const { return bool(tcx_); }
    explicit operator bool() const { return bool(xdp_) || bool(tcx_); }
    /// The link, of either kind. Only while one is held.
    bpf::HookLink& hook() { return isTc() ? static_cast<bpf::HookLink&>(tcx_) : xdp_; }
    const bpf::HookLink& hook() const { return isTc() ? static_cast<const bpf::HookLink&>(tcx_) : xdp_; }

    /// bpf::HookLink::update: the expected program replaced atomically, the link id kept. Throws Error.
    void update(int newProgFd, int expectedProgFd) { hook().update(newProgFd, expectedProgFd); }
    uint32_t id() const { return hook().id(); }
    uint32_t programId() const { return hook().programId(); }
    int fd() const { return hook().fd(); }
    /// Someone else detached it (or the device went). One syscall. Throws Error.
    bool detached() const { return hook().detached(); }
    void detach() { hook().detach(); }
    void release() { hook().release(); }
    /// XDP's mode (Native for a tcx link: ask modeName()).
    bpf::XdpMode mode() const { return xdp_.mode(); }
    /// "native" | "generic" (XDP) | "tcx" (tc ingress): as status and the pinned record name it.
    const char* modeName() const { return isTc() ? kTcxMode : xdp_.mode() == bpf::XdpMode::Native ? "native" : "generic"; }

    static constexpr const char* kTcxMode = "tcx";

private:
    bpf::XdpLink xdp_;
    bpf::TcxLink tcx_;
};

}  // namespace fizzhost::runtime
