#include "support/netns.hpp"

#include "config/host_config.hpp"
#include "support/daemon_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <thread>

namespace fizzhost::test {
namespace {

constexpr const char* kNetnsDir = "/var/run/netns";  // where `ip netns` keeps its bind mounts
constexpr std::string_view kNsPrefix = "fztns";
constexpr std::string_view kLinkPrefix = "fzt";
// A queue deep enough that a sender never waits on it in practice; see VethPair.
constexpr const char* kQueueLimit = "100000";
constexpr unsigned kSendChunk = 64;
constexpr auto kSendStallLimit = std::chrono::seconds(10);
constexpr int kReceiveBuffer = 32 << 20;

std::atomic<unsigned> nextId{0};

std::string errnoText(int err) { return std::string(std::strerror(err)) + " (errno " + std::to_string(err) + ")"; }

std::string joined(const std::vector<std::string>& argv) {
    std::string s;
    for (const auto& a : argv) s += (s.empty() ? "" : " ") + a;
    return s;
}

// The pid in "<prefix><digits><rest>", when `rest` is what follows the digits.
std::optional<long> ownerPid(std::string_view name, std::string_view prefix, std::string_view& rest) {
    if (name.substr(0, prefix.size()) != prefix) return std::nullopt;
    name.remove_prefix(prefix.size());
    size_t digits = 0;
    while (digits < name.size() && digits < 10 && name[digits] >= '0' && name[digits] <= '9') ++digits;
    if (digits == 0) return std::nullopt;
    rest = name.substr(digits);
    return std::strtol(std::string(name.substr(0, digits)).c_str(), nullptr, 10);
}

// "fzt<pid>a<n>" / "fzt<pid>b<n>": only names VethPair makes.
std::optional<long> vethOwner(std::string_view name) {
    std::string_view rest;
    auto pid = ownerPid(name, kLinkPrefix, rest);
    if (!pid || rest.size() < 2 || (rest[0] != 'a' && rest[0] != 'b')) return std::nullopt;
    for (char c : rest.substr(1))
        if (c < '0' || c > '9') return std::nullopt;
    return pid;
}

// "fztns<pid>-<n>": only names NetNs makes.
std::optional<long> netnsOwner(std::string_view name) {
    std::string_view rest;
    auto pid = ownerPid(name, kNsPrefix, rest);
    if (!pid || rest.empty() || rest[0] != '-') return std::nullopt;
    return pid;
}

void drain(int fd, std::string& into, bool& open) {
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) into.append(buf, size_t(n));
    else if (n == 0 || (errno != EINTR && errno != EAGAIN)) open = false;
}

int ifindexIn(const std::string& ns, const std::string& ifname) {
    ScopedNetns in(ns);
    const int index = int(if_nametoindex(ifname.c_str()));
    if (index == 0)
        throw std::runtime_error("interface '" + ifname + "' in namespace " + ns + ": " + errnoText(errno));
    return index;
}

void writeSysctl(const std::string& path, const char* value) {
    UniqueFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd && errno == ENOENT) return;  // no IPv6 in this kernel: nothing to turn off
    if (!fd || write(fd.get(), value, std::strlen(value)) < 0)
        throw std::runtime_error("write " + path + ": " + errnoText(errno));
}

}  // namespace

unsigned nextFixtureId() { return nextId++; }

CommandResult runUnchecked(const std::vector<std::string>& argv) {
    if (argv.empty()) throw std::invalid_argument("run: empty argv");
    // Everything the child needs is prepared here: after fork() in a threaded process only
    // async-signal-safe calls are allowed, so no allocation happens in the child.
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);

    int out[2], err[2], execErr[2];
    if (pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("run " + joined(argv) + ": pipe: " + errnoText(errno));
    UniqueFd outRead(out[0]), outWrite(out[1]);
    if (pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("run " + joined(argv) + ": pipe: " + errnoText(errno));
    UniqueFd errRead(err[0]), errWrite(err[1]);
    // Closed by a successful exec; carries errno when exec fails.
    if (pipe2(execErr, O_CLOEXEC) != 0) throw std::runtime_error("run " + joined(argv) + ": pipe: " + errnoText(errno));
    UniqueFd execErrRead(execErr[0]), execErrWrite(execErr[1]);
    UniqueFd devNull(open("/dev/null", O_RDONLY | O_CLOEXEC));

    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("run " + joined(argv) + ": fork: " + errnoText(errno));
    if (pid == 0) {
        childStdio(devNull.get(), outWrite.get(), errWrite.get());
        execvp(args[0], args.data());
        const int e = errno;
        (void)!write(execErrWrite.get(), &e, sizeof e);
        _exit(127);
    }
    outWrite.reset();
    errWrite.reset();
    execErrWrite.reset();

    CommandResult r;
    bool outOpen = true, errOpen = true;
    while (outOpen || errOpen) {
        pollfd fds[2] = {{outOpen ? outRead.get() : -1, POLLIN, 0}, {errOpen ? errRead.get() : -1, POLLIN, 0}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (fds[0].revents) drain(outRead.get(), r.out, outOpen);
        if (fds[1].revents) drain(errRead.get(), r.err, errOpen);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

    int execErrno = 0;
    if (read(execErrRead.get(), &execErrno, sizeof execErrno) == ssize_t(sizeof execErrno))
        throw std::runtime_error("cannot run '" + argv[0] + "': " + errnoText(execErrno));
    return r;
}

CommandResult run(const std::vector<std::string>& argv) {
    auto r = runUnchecked(argv);
    if (r.status != 0)
        throw std::runtime_error("command failed with status " + std::to_string(r.status) + ": " + joined(argv) +
                                 (r.err.empty() ? "" : "\n" + r.err));
    return r;
}

NetNs::NetNs()
    : name_(std::string(kNsPrefix) + std::to_string(getpid()) + "-" + std::to_string(nextId++)) {
    run({"ip", "netns", "add", name_});
    try {
        run({"ip", "-n", name_, "link", "set", "lo", "up"});
        ScopedNetns in(*this);  // /proc/sys/net is the calling thread's namespace
        writeSysctl("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
        writeSysctl("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
    } catch (...) {
        runUnchecked({"ip", "netns", "del", name_});
        throw;
    }
}

NetNs::~NetNs() {
    try {
        auto r = runUnchecked({"ip", "netns", "del", name_});
        if (r.status != 0) std::fprintf(stderr, "warning: ip netns del %s: %s\n", name_.c_str(), r.err.c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "warning: deleting network namespace %s: %s\n", name_.c_str(), e.what());
    }
}

std::string NetNs::path() const { return std::string(kNetnsDir) + "/" + name_; }

size_t NetNs::sweepStale() {
    size_t removed = 0;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(kNetnsDir, ec)) {
        const std::string name = entry.path().filename().string();
        auto pid = netnsOwner(name);
        if (!pid || processAlive(*pid)) continue;
        if (runUnchecked({"ip", "netns", "del", name}).status == 0) ++removed;
    }
    // VethPair never creates links here, but a crash between a move and a delete, or a fixture of
    // an older version, could leave one; our names cannot collide with anything real.
    if (struct if_nameindex* links = if_nameindex()) {
        std::vector<std::string> stale;
        for (auto* l = links; l->if_index != 0; ++l)
            if (auto pid = vethOwner(l->if_name); pid && !processAlive(*pid)) stale.emplace_back(l->if_name);
        if_freenameindex(links);
        for (const auto& name : stale)
            if (runUnchecked({"ip", "link", "del", name}).status == 0) ++removed;
    }
    return removed;
}

ScopedNetns::ScopedNetns(const NetNs& ns) : ScopedNetns(ns.name()) {}

ScopedNetns::ScopedNetns(const std::string& name) {
    previous_.reset(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!previous_) throw std::runtime_error("open /proc/thread-self/ns/net: " + errnoText(errno));
    const std::string path = std::string(kNetnsDir) + "/" + name;
    UniqueFd target(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!target) throw std::runtime_error("open network namespace " + path + ": " + errnoText(errno));
    if (setns(target.get(), CLONE_NEWNET) != 0)
        throw std::runtime_error("enter network namespace " + name + ": " + errnoText(errno));
}

ScopedNetns::~ScopedNetns() {
    if (setns(previous_.get(), CLONE_NEWNET) != 0) {
        std::fprintf(stderr, "fatal: cannot return to the previous network namespace: %s\n", std::strerror(errno));
        std::abort();
    }
}

VethPair::VethPair(const NetNs& a, const NetNs& b, std::optional<unsigned> mtu)
    : nsA_(a.name()), nsB_(b.name()), mtu_(mtu) {
    const std::string stem = std::string(kLinkPrefix) + std::to_string(getpid());
    const std::string n = std::to_string(nextId++ % 10000);  // unique among this process's live pairs
    nameA_ = stem + "a" + n;
    nameB_ = stem + "b" + n;
    if (nameA_.size() > config::kMaxIfname) throw std::logic_error("veth name too long: " + nameA_);
    create();
}

void VethPair::create() {
    // Created inside namespace A with the peer placed straight into B: neither end ever exists
    // in the root namespace, even for a moment.
    run({"ip", "-n", nsA_, "link", "add", nameA_, "type", "veth", "peer", "name", nameB_, "netns", nsB_});
    try {
        for (const auto& [ns, dev] : {std::pair{nsA_, nameA_}, std::pair{nsB_, nameB_}}) {
            if (mtu_) run({"ip", "-n", ns, "link", "set", dev, "mtu", std::to_string(*mtu_)});
            // veth has no queue by default, and then a frame the peer cannot take (its XDP ring
            // is full) is dropped silently. With a qdisc, recent kernels (6.16+) stop the queue
            // instead, and a full qdisc returns ENOBUFS to RawSender, which retries: a frame
            // counted as sent reaches the peer.
            run({"tc", "-n", ns, "qdisc", "replace", "dev", dev, "root", "pfifo", "limit", kQueueLimit});
            run({"ip", "-n", ns, "link", "set", dev, "up"});
        }
        ifindexA_ = ifindexIn(nsA_, nameA_);
        ifindexB_ = ifindexIn(nsB_, nameB_);
    } catch (...) {
        runUnchecked({"ip", "-n", nsA_, "link", "del", nameA_});
        throw;
    }
}

void VethPair::remove() { run({"ip", "-n", nsA_, "link", "del", nameA_}); }

VethPair::~VethPair() {
    // Deleting one end removes both. When namespace A is already gone, so is the pair.
    try {
        if (access((std::string(kNetnsDir) + "/" + nsA_).c_str(), F_OK) != 0) return;
        auto r = runUnchecked({"ip", "-n", nsA_, "link", "del", nameA_});
        if (r.status != 0 && r.err.find("Cannot find device") == std::string::npos)
            std::fprintf(stderr, "warning: ip -n %s link del %s: %s\n", nsA_.c_str(), nameA_.c_str(), r.err.c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "warning: deleting veth %s: %s\n", nameA_.c_str(), e.what());
    }
}

RawSender::RawSender(const NetNs& ns, const std::string& ifname) : where_(ifname + " in " + ns.name()) {
    ScopedNetns in(ns);
    // Protocol 0: the socket can send but is hooked into no receive path, so it never queues
    // copies of the traffic it watches go by.
    fd_.reset(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
    if (!fd_) throw std::runtime_error("AF_PACKET socket in " + ns.name() + ": " + errnoText(errno));
    ifindex_ = int(if_nametoindex(ifname.c_str()));
    if (ifindex_ == 0) throw std::runtime_error("no interface " + where_ + ": " + errnoText(errno));
    sockaddr_ll addr{};
    addr.sll_family = AF_PACKET;
    addr.sll_ifindex = ifindex_;
    if (bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        throw std::runtime_error("bind AF_PACKET socket to " + where_ + ": " + errnoText(errno));
}

size_t RawSender::sendBatch(const std::vector<std::vector<uint8_t>>& frames) {
    std::vector<iovec> iov(frames.size());
    std::vector<mmsghdr> msgs(frames.size());
    for (size_t i = 0; i < frames.size(); ++i) {
        iov[i] = {const_cast<uint8_t*>(frames[i].data()), frames[i].size()};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    size_t sent = 0;
    auto lastProgress = std::chrono::steady_clock::now();
    while (sent < frames.size()) {
        const unsigned chunk = unsigned(std::min<size_t>(kSendChunk, frames.size() - sent));
        const int n = sendmmsg(fd_.get(), &msgs[sent], chunk, 0);
        if (n > 0) {
            sent += size_t(n);
            lastProgress = std::chrono::steady_clock::now();
            continue;
        }
        // sendmmsg stops at the first frame that fails and reports how many went before it; an
        // error is reported only when the very first one fails, and that frame was not sent.
        if (n < 0 && errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
            throw std::runtime_error("send frame " + std::to_string(sent) + " on " + where_ + ": " + errnoText(errno));
        if (std::chrono::steady_clock::now() - lastProgress > kSendStallLimit)
            throw std::runtime_error("send on " + where_ + ": device queue full for 10 s");
        std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    return sent;
}

RawReceiver::RawReceiver(const NetNs& ns, const std::string& ifname) : buffer_(65536) {
    ScopedNetns in(ns);
    // Created with protocol 0 and hooked in by bind, so it only ever sees this interface.
    fd_.reset(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
    if (!fd_) throw std::runtime_error("AF_PACKET socket in " + ns.name() + ": " + errnoText(errno));
    // FORCE goes past net.core.rmem_max (CAP_NET_ADMIN); without it, take what the limit allows.
    if (setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUFFORCE, &kReceiveBuffer, sizeof kReceiveBuffer) != 0)
        setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &kReceiveBuffer, sizeof kReceiveBuffer);
    const int one = 1;
    setsockopt(fd_.get(), SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
    if (setsockopt(fd_.get(), SOL_PACKET, PACKET_AUXDATA, &one, sizeof one) != 0)
        throw std::runtime_error("PACKET_AUXDATA on " + ifname + " in " + ns.name() + ": " + errnoText(errno));
    sockaddr_ll addr{};
    addr.sll_family = AF_PACKET;
    addr.sll_protocol = htons(ETH_P_ALL);
    addr.sll_ifindex = int(if_nametoindex(ifname.c_str()));
    if (addr.sll_ifindex == 0) throw std::runtime_error("no interface " + ifname + " in " + ns.name());
    if (bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        throw std::runtime_error("bind AF_PACKET socket to " + ifname + " in " + ns.name() + ": " + errnoText(errno));
    dropped();  // start counting from here
}

std::optional<std::vector<uint8_t>> RawReceiver::receive(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        iovec iov{buffer_.data(), buffer_.size()};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(tpacket_auxdata))];
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        const ssize_t n = recvmsg(fd_.get(), &msg, MSG_DONTWAIT);
        if (n >= 0) return withVlanTag(msg, size_t(n));
        if (errno != EAGAIN && errno != EINTR) throw std::runtime_error("recv on AF_PACKET socket: " + errnoText(errno));
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return std::nullopt;
        pollfd p{fd_.get(), POLLIN, 0};
        poll(&p, 1, int(left.count()) + 1);
    }
}

std::vector<uint8_t> RawReceiver::withVlanTag(const msghdr& msg, size_t length) const {
    std::vector<uint8_t> frame(buffer_.begin(), buffer_.begin() + std::min(length, buffer_.size()));
    // The receive path takes the outer VLAN tag out of the frame (VLAN acceleration, veth
    // included) and hands it over as auxdata; put it back where it was on the wire, as libpcap does.
    for (auto* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(const_cast<msghdr*>(&msg), c)) {
        if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA) continue;
        tpacket_auxdata aux;
        std::memcpy(&aux, CMSG_DATA(c), sizeof aux);
        if (!(aux.tp_status & TP_STATUS_VLAN_VALID) || frame.size() < 12) continue;
        const uint16_t tpid = (aux.tp_status & TP_STATUS_VLAN_TPID_VALID) ? aux.tp_vlan_tpid : ETH_P_8021Q;
        const uint8_t tag[4] = {uint8_t(tpid >> 8), uint8_t(tpid), uint8_t(aux.tp_vlan_tci >> 8), uint8_t(aux.tp_vlan_tci)};
        frame.insert(frame.begin() + 12, tag, tag + 4);
    }
    return frame;
}

unsigned RawReceiver::dropped() {
    tpacket_stats stats{};
    socklen_t len = sizeof stats;
    // Reading the statistics resets them.
    if (getsockopt(fd_.get(), SOL_PACKET, PACKET_STATISTICS, &stats, &len) != 0) return 0;
    return stats.tp_drops;
}

}  // namespace fizzhost::test
