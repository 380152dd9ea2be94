// The host's side of a link someone else detached. The kernel lets any process holding our link
// (by id, or through a pin) call BPF_LINK_DETACH on it: bpftool link detach does, and libxdp's
// xdp_detach_link() does when `xdp-loader unload` meets our link on an interface. Nothing tells
// the holder of the link, which stays open with ifindex 0; so the daemon's loop polls each link
// (one syscall) a few times a second, and the interface's on_detach policy decides: attach the
// running programs again (unless a foreign program now holds the XDP hook: then it is refused as
// any foreign program is), or stay off until a reload.
#include "bpf/xdp_owner.hpp"
#include "runtime/attachment/hook_attach.hpp"
#include "runtime/host/host.hpp"
#include "util/error.hpp"

#include <net/if.h>
#include <spdlog/spdlog.h>

namespace fizzhost::runtime {

void Host::checkLinks() {
    std::lock_guard lock(mutex_);
    if (!pump_) return;
    for (auto& [name, a] : attachments_) {
        if (a->off || !a->link) continue;
        try {
            if (!a->link.detached()) continue;
        } catch (const Error& e) {
            spdlog::debug("interface '{}': {}", name, e.what());
            continue;
        }
        // A deleted or renamed device detaches the link too: the link watch retires that one.
        if (if_nametoindex(name.c_str()) != unsigned(a->ifindex)) continue;
        onForeignDetach(name, *a);
    }
}

void Host::onForeignDetach(const std::string& name, Attachment& a) {
    ++a.detaches;
    uint32_t linkId = 0;
    try {
        linkId = a.link.id();
    } catch (const Error&) {
    }
    spdlog::warn("interface '{}': link id {} ({}) was detached by another process (BPF_LINK_DETACH: bpftool link "
                 "detach, or libxdp's xdp-loader unload); frames ran no classifier since then (detach {} on this "
                 "interface; on_detach = \"{}\")",
                 name, linkId, describeHook(a), a.detaches, config::toString(a.cfg.onDetach));
    if (a.cfg.onDetach == config::OnDetach::StayOff) {
        a.off = true;
        a.offReason = "link id " + std::to_string(linkId) +
                      " was detached by another process; on_detach = \"stay_off\": off until a reload";
        spdlog::warn("interface '{}': staying off until a reload (SIGHUP) attaches it again", name);
        return;
    }
    try {
        reattach(a);
        spdlog::info("interface '{}': attached again ({}): link id {}, program id {}", name, describeHook(a),
                     a.link.id(), a.link.programId());
    } catch (const Error& e) {
        a.off = true;
        a.offReason = std::string("re-attaching after a detach by another process failed: ") + e.what();
        spdlog::error("interface '{}': {}; it stays off until a reload", name, a.offReason);
    }
}

void Host::reattach(Attachment& a) {
    attachHook(a);  // refuses (EBUSY) when a foreign XDP program took the hook meanwhile
    a.off = false;
    a.offReason.clear();
    savePins(a);  // the new link replaces the detached one's pin
}

}  // namespace fizzhost::runtime
