// RAII fixtures for network tests: namespaces, veth pairs between them, raw frame senders and
// receivers. Test traffic only ever exists inside namespaces these fixtures create: a veth pair is
// created inside its namespaces (never in the root namespace), and senders are bound to one of its
// ends. Every name starts with "fzt" and carries the creating pid, so a sweep can remove what a
// crashed run left behind without touching a live run's objects.
#pragma once

#include "util/unique_fd.hpp"

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fizzhost::test {

struct CommandResult {
    int status = -1;  // exit status, or 128 + signal
    std::string out;  // stdout
    std::string err;  // stderr
};
/// Runs argv (no shell; PATH lookup) with stdin from /dev/null and captures its output. Throws
/// std::runtime_error naming the command, its status and its stderr when it cannot be started or
/// exits non-zero. Safe to call from any thread (the child only execs).
CommandResult run(const std::vector<std::string>& argv);
/// As run(), but a non-zero exit is returned rather than thrown (cleanup, probing). Still throws
/// when the command cannot be started.
CommandResult runUnchecked(const std::vector<std::string>& argv);

/// A number no other fixture of this process has taken: names carry it, so they never collide.
unsigned nextFixtureId();

/// A named network namespace ("fztns<pid>-<n>", via `ip netns add`) with lo up and IPv6 off, so
/// no neighbour discovery or router solicitation frames show up in packet counts. Deleted in the
/// destructor. Throws std::runtime_error when it cannot be created (needs CAP_SYS_ADMIN).
class NetNs {
public:
    NetNs();
    ~NetNs();
    NetNs(const NetNs&) = delete;
    NetNs& operator=(const NetNs&) = delete;
    const std::string& name() const { return name_; }
    /// The bind mount `ip netns` keeps: /var/run/netns/<name>.
    std::string path() const;

    /// Removes fzt namespaces, and fzt links in the calling thread's namespace, whose creating
    /// process is gone (a crashed or killed earlier run). Returns how many it removed. Objects of
    /// live processes, and every name not made by these fixtures, are left alone.
    static size_t sweepStale();

private:
    std::string name_;
};

/// Enters a namespace for the calling thread only (setns); restores the previous one on
/// destruction. Sockets created meanwhile stay in the entered namespace for their whole life.
class ScopedNetns {
public:
    explicit ScopedNetns(const NetNs& ns);
    explicit ScopedNetns(const std::string& name);
    /// Aborts the process if the previous namespace cannot be restored: carrying on would run
    /// the remaining tests in the wrong namespace.
    ~ScopedNetns();
    ScopedNetns(const ScopedNetns&) = delete;
    ScopedNetns& operator=(const ScopedNetns&) = delete;

private:
    UniqueFd previous_;
};

/// A veth pair created inside the namespaces: end A ("fzt<pid>a<n>") in `a`, end B
/// ("fzt<pid>b<n>") in `b`, both up, with a pfifo queue on each (see the .cpp) and an optional MTU.
/// The namespaces must outlive the pair, or the kernel removes it with them, which the destructor
/// tolerates.
class VethPair {
public:
    VethPair(const NetNs& a, const NetNs& b, std::optional<unsigned> mtu = std::nullopt);
    ~VethPair();
    VethPair(const VethPair&) = delete;
    VethPair& operator=(const VethPair&) = delete;
    const std::string& nameA() const { return nameA_; }
    const std::string& nameB() const { return nameB_; }
    /// Interface indexes, each as seen inside its own namespace.
    int ifindexA() const { return ifindexA_; }
    int ifindexB() const { return ifindexB_; }
    /// Deletes the pair (both ends) now, as `ip link del` of end A does. Throws std::runtime_error.
    void remove();
    /// Creates the pair again under the same names, in the same namespaces, set up as the
    /// constructor does (the ifindexes change). Throws std::runtime_error.
    void create();

private:
    std::string nsA_, nsB_, nameA_, nameB_;
    std::optional<unsigned> mtu_;
    int ifindexA_ = 0, ifindexB_ = 0;
};

/// Sends raw Ethernet frames out of one interface of a namespace (an AF_PACKET socket made inside
/// it, bound to the interface, receiving nothing).
class RawSender {
public:
    RawSender(const NetNs& ns, const std::string& ifname);
    /// Sends every frame in order with sendmmsg, waiting and retrying while the device queue is
    /// full (ENOBUFS/EAGAIN), so each frame counted was handed to the device. Returns the number
    /// sent (all of them). Throws std::runtime_error on other errors or after 10 s without progress.
    size_t sendBatch(const std::vector<std::vector<uint8_t>>& frames);
    void send(const std::vector<uint8_t>& frame) { sendBatch({frame}); }
    int ifindex() const { return ifindex_; }

private:
    UniqueFd fd_;
    int ifindex_ = 0;
    std::string where_;  // "ifname in ns", for messages
};

/// Receives every frame arriving on one interface of a namespace (AF_PACKET, ETH_P_ALL, the
/// frames this namespace sends itself ignored), with a large socket buffer so a burst is kept.
class RawReceiver {
public:
    RawReceiver(const NetNs& ns, const std::string& ifname);
    /// The next frame as it was on the wire (a VLAN tag the kernel took out is put back), or
    /// nullopt when none arrives within `timeout`.
    std::optional<std::vector<uint8_t>> receive(std::chrono::milliseconds timeout);
    /// Frames the kernel dropped for lack of socket buffer since the previous call.
    unsigned dropped();

private:
    std::vector<uint8_t> withVlanTag(const msghdr& msg, size_t length) const;

    UniqueFd fd_;
    std::vector<uint8_t> buffer_;
};

}  // namespace fizzhost::test
