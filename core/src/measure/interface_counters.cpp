#include "measure/interface_counters.hpp"

#include "util/error.hpp"

#include <libmnl/libmnl.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

namespace fizzhost::measure {
namespace {

// ioctl(SIOCETHTOOL) with `command` on `ifname`; `data` starts with the command word.
void ethtool(int fd, const std::string& ifname, void* data, const char* what) {
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
    ifr.ifr_data = static_cast<char*>(data);
    if (ioctl(fd, SIOCETHTOOL, &ifr) != 0) throwErrno("interface '" + ifname + "': " + what, errno);
}

bool ioctlOk(int fd, const std::string& ifname, void* data) {
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
    ifr.ifr_data = static_cast<char*>(data);
    return ioctl(fd, SIOCETHTOOL, &ifr) == 0;
}

// A struct with a flexible array after it, sized for `n` elements.
template <typename Head, typename Element>
std::unique_ptr<Head, void (*)(void*)> withArray(size_t n) {
    void* p = std::calloc(1, sizeof(Head) + n * sizeof(Element));
    if (!p) throw Error("interface counters: out of memory", ENOMEM);
    return {static_cast<Head*>(p), std::free};
}

}  // namespace

InterfaceCounters::InterfaceCounters(std::string ifname) : ifname_(std::move(ifname)) {
    if (ifname_.size() >= IFNAMSIZ) throw Error("interface name '" + ifname_ + "' is too long", EINVAL);
    socket_.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!socket_) throwErrno("interface counters: socket", errno);
    auto info = withArray<ethtool_sset_info, uint32_t>(1);
    info->cmd = ETHTOOL_GSSET_INFO;
    info->sset_mask = 1ull << ETH_SS_STATS;
    ifindex_ = int(if_nametoindex(ifname_.c_str()));
    if (ifindex_ == 0) throwErrno("interface '" + ifname_ + "'", errno);
    // A driver without counters (ethtool -S empty) refuses the query or returns none: read() is empty.
    if (ioctlOk(socket_.get(), ifname_, info.get()) && (info->sset_mask & (1ull << ETH_SS_STATS)))
        count_ = info->data[0];
    netlink_.reset(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (!netlink_) throwErrno("interface counters: netlink socket", errno);
}

InterfaceCounters::LinkStats InterfaceCounters::link() const {
    alignas(nlmsghdr) char buf[16384];
    nlmsghdr* request = mnl_nlmsg_put_header(buf);
    request->nlmsg_type = RTM_GETLINK;
    request->nlmsg_flags = NLM_F_REQUEST;
    request->nlmsg_seq = 1;
    auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(request, sizeof(ifinfomsg)));
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = ifindex_;
    const std::string what = "interface '" + ifname_ + "': RTM_GETLINK";
    if (::send(netlink_.get(), request, request->nlmsg_len, 0) < 0) throwErrno(what, errno);
    const ssize_t n = ::recv(netlink_.get(), buf, sizeof buf, 0);
    if (n < 0) throwErrno(what, errno);
    const auto* reply = reinterpret_cast<const nlmsghdr*>(buf);
    if (!mnl_nlmsg_ok(reply, int(n))) throw Error(what + ": a reply that does not parse", EPROTO);
    if (reply->nlmsg_type == NLMSG_ERROR)
        throwErrno(what, -static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(reply))->error);
    LinkStats out;
    const auto* end = static_cast<const char*>(mnl_nlmsg_get_payload_tail(reply));
    for (auto* attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(reply, sizeof(ifinfomsg)));
         mnl_attr_ok(attr, int(end - reinterpret_cast<const char*>(attr))); attr = mnl_attr_next(attr)) {
        if (mnl_attr_get_type(attr) != IFLA_STATS64 || mnl_attr_get_payload_len(attr) < sizeof(rtnl_link_stats64))
            continue;
        rtnl_link_stats64 st;
        std::memcpy(&st, mnl_attr_get_payload(attr), sizeof st);
        out = {st.rx_packets, st.tx_packets, st.rx_dropped, st.tx_dropped};
        return out;
    }
    throw Error(what + ": no IFLA_STATS64 in the answer", EPROTO);
}

std::map<std::string, uint64_t> InterfaceCounters::read() const {
    if (count_ == 0) return {};
    auto names = withArray<ethtool_gstrings, char[ETH_GSTRING_LEN]>(count_);
    names->cmd = ETHTOOL_GSTRINGS;
    names->string_set = ETH_SS_STATS;
    names->len = count_;
    ethtool(socket_.get(), ifname_, names.get(), "ETHTOOL_GSTRINGS");
    auto values = withArray<ethtool_stats, uint64_t>(count_);
    values->cmd = ETHTOOL_GSTATS;
    values->n_stats = count_;
    ethtool(socket_.get(), ifname_, values.get(), "ETHTOOL_GSTATS");
    std::map<std::string, uint64_t> out;
    const uint32_t n = std::min(names->len, values->n_stats);
    for (uint32_t i = 0; i < n; ++i) {
        const char* name = reinterpret_cast<const char*>(names->data) + size_t(i) * ETH_GSTRING_LEN;
        out[std::string(name, strnlen(name, ETH_GSTRING_LEN))] = values->data[i];
    }
    return out;
}

uint64_t InterfaceCounters::sum(const std::string& prefix, const std::string& suffix) const {
    uint64_t total = 0;
    for (const auto& [name, value] : read())
        if (name.size() >= prefix.size() + suffix.size() && name.compare(0, prefix.size(), prefix) == 0 &&
            name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
            total += value;
    return total;
}

}  // namespace fizzhost::measure
