#include "runtime/attachment/hook_attach.hpp"

#include "bpf/xdp_owner.hpp"
#include "util/error.hpp"

#include <spdlog/spdlog.h>

namespace fizzhost::runtime {

bpf::TcxAnchor anchorOf(const config::TcPlace& place) {
    bpf::TcxAnchor anchor;
    switch (place.where) {
    case config::TcPlace::Where::First: anchor.where = bpf::TcxPlacement::Where::First; break;
    case config::TcPlace::Where::Last: anchor.where = bpf::TcxPlacement::Where::Last; break;
    case config::TcPlace::Where::Before: anchor.where = bpf::TcxPlacement::Where::Before; break;
    case config::TcPlace::Where::After: anchor.where = bpf::TcxPlacement::Where::After; break;
    }
    anchor.programName = place.program;
    anchor.pinnedPath = place.pinned;
    return anchor;
}

void attachHook(Attachment& a) {
    const int fd = a.attachedProgramFd();
    if (a.cfg.hook == config::Hook::Tc) {
        a.link = bpf::attachTcxAt(fd, a.ifindex, a.cfg.name, anchorOf(a.cfg.place));
        return;
    }
    // The XDP hook holds one program: someone else's is never replaced, and the refusal says what
    // it is, how it is attached and how to run beside it.
    if (const std::string refusal = bpf::foreignXdpRefusal(a.cfg.name, a.ifindex); !refusal.empty())
        throw Error(refusal, EBUSY);
    switch (a.cfg.mode) {
    case config::AttachMode::Native: a.link = bpf::XdpLink::attach(fd, a.ifindex, a.cfg.name, bpf::XdpMode::Native); return;
    case config::AttachMode::Generic: a.link = bpf::XdpLink::attach(fd, a.ifindex, a.cfg.name, bpf::XdpMode::Generic); return;
    case config::AttachMode::Auto: break;
    }
    try {
        a.link = bpf::XdpLink::attach(fd, a.ifindex, a.cfg.name, bpf::XdpMode::Native);
    } catch (const Error& e) {
        if (e.code() == EBUSY || e.code() == EEXIST) throw;
        spdlog::warn("interface '{}': native XDP failed ({}); falling back to generic mode", a.cfg.name, e.what());
        a.link = bpf::XdpLink::attach(fd, a.ifindex, a.cfg.name, bpf::XdpMode::Generic);
    }
}

std::string describeHook(const Attachment& a) {
    if (a.cfg.hook == config::Hook::Tc) return "tc ingress (" + config::describe(a.cfg.place) + ")";
    return std::string("xdp ") + (a.link ? a.link.modeName() : std::string(config::toString(a.cfg.mode)));
}

}  // namespace fizzhost::runtime
