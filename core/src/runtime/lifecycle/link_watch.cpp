#include "runtime/lifecycle/link_watch.hpp"

#include "util/error.hpp"

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <spdlog/spdlog.h>

#include <vector>

namespace fizzhost::runtime {
namespace {

// A link message with all its attributes fits easily; MNL_SOCKET_BUFFER_SIZE is the page-sized
// minimum libmnl recommends, and a bigger buffer lets one recv take a burst of changes.
constexpr size_t kReceiveBuffer = 64 * 1024;

struct Parsed {
    const nlattr* name = nullptr;
};

int attributeCallback(const nlattr* attr, void* data) {
    if (mnl_attr_type_valid(attr, IFLA_MAX) < 0) return MNL_CB_OK;  // newer kernel attribute: ignore
    if (mnl_attr_get_type(attr) == IFLA_IFNAME) {
        if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0) return MNL_CB_OK;
        static_cast<Parsed*>(data)->name = attr;
    }
    return MNL_CB_OK;
}

struct BatchContext {
    std::vector<LinkChange>* changes;
};

int messageCallback(const nlmsghdr* nlh, void* data) {
    const auto type = nlh->nlmsg_type;
    if (type != RTM_NEWLINK && type != RTM_DELLINK) return MNL_CB_OK;
    if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(ifinfomsg))) return MNL_CB_OK;
    const auto* ifm = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
    Parsed parsed;
    if (mnl_attr_parse(nlh, sizeof *ifm, attributeCallback, &parsed) < 0) return MNL_CB_OK;
    LinkChange change{type == RTM_NEWLINK ? LinkChange::Kind::Added : LinkChange::Kind::Removed, ifm->ifi_index,
                      parsed.name ? mnl_attr_get_str(parsed.name) : ""};
    static_cast<BatchContext*>(data)->changes->push_back(std::move(change));
    return MNL_CB_OK;
}

}  // namespace

void LinkWatch::SocketCloser::operator()(mnl_socket* s) const noexcept { mnl_socket_close(s); }

LinkWatch::LinkWatch() {
    socket_.reset(mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!socket_) throwErrno("link watch: open rtnetlink socket", errno);
    if (mnl_socket_bind(socket_.get(), RTMGRP_LINK, MNL_SOCKET_AUTOPID) < 0)
        throwErrno("link watch: subscribe to rtnetlink link changes (RTMGRP_LINK)", errno);
}

LinkWatch::~LinkWatch() = default;

int LinkWatch::fd() const { return mnl_socket_get_fd(socket_.get()); }

size_t LinkWatch::drain(const std::function<void(const LinkChange&)>& fn) {
    std::vector<char> buf(kReceiveBuffer);
    std::vector<LinkChange> changes;
    for (;;) {
        const ssize_t n = mnl_socket_recvfrom(socket_.get(), buf.data(), buf.size());
        if (n > 0) {
            BatchContext ctx{&changes};
            // seq 0 and portid 0: kernel notifications carry neither.
            if (mnl_cb_run(buf.data(), size_t(n), 0, 0, messageCallback, &ctx) < 0 && errno != EINTR)
                spdlog::warn("link watch: unreadable rtnetlink message: {}", errnoText(errno));
            continue;
        }
        if (n < 0 && errno == ENOBUFS) {
            // The kernel dropped notifications for us: what we know may be stale.
            spdlog::warn("link watch: rtnetlink overflow, some interface changes were missed; re-reading");
            changes.push_back(LinkChange{LinkChange::Kind::Lost, 0, {}});
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) spdlog::warn("link watch: receive: {}", errnoText(errno));
        break;
    }
    for (const auto& c : changes) fn(c);
    return changes.size();
}

}  // namespace fizzhost::runtime
