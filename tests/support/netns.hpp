// RAII fixtures for network tests: namespaces, veth pairs between them, and raw frame senders.
// Every name starts with "fzt" so a sweep can remove what a crashed run left behind.
#pragma once

#include "bpf/unique_fd.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace fizzhost::test {

struct CommandResult {
    int status = -1;
    std::string output;  // stdout and stderr
};
/// Runs argv (no shell) and returns its exit status and output.
CommandResult run(const std::vector<std::string>& argv);
/// Runs argv and throws std::runtime_error with its output when it fails.
std::string runChecked(const std::vector<std::string>& argv);

/// A named network namespace with lo up and IPv6 off (no stray neighbour discovery frames in
/// packet counts); deleted in the destructor.
class NetNs {
public:
    NetNs();
    ~NetNs();
    NetNs(const NetNs&) = delete;
    NetNs& operator=(const NetNs&) = delete;
    const std::string& name() const { return name_; }
    /// Removes fzt namespaces whose creating process is gone.
    static void sweepStale();

private:
    std::string name_;
};

/// Enters a namespace for the calling thread; restores the previous one on destruction.
class ScopedNetns {
public:
    explicit ScopedNetns(const NetNs& ns);
    ~ScopedNetns();
    ScopedNetns(const ScopedNetns&) = delete;
    ScopedNetns& operator=(const ScopedNetns&) = delete;

private:
    UniqueFd previous_;
};

/// A veth pair: end A in namespace `a`, end B in namespace `b`, both up.
class VethPair {
public:
    VethPair(const NetNs& a, const NetNs& b);
    ~VethPair();
    VethPair(const VethPair&) = delete;
    VethPair& operator=(const VethPair&) = delete;
    const std::string& nameA() const { return nameA_; }
    const std::string& nameB() const { return nameB_; }

private:
    std::string nsA_, nameA_, nameB_;
};

/// Raw AF_PACKET sender bound to one interface of a namespace (the socket keeps the namespace).
class RawSender {
public:
    RawSender(const NetNs& ns, const std::string& ifname);
    /// Sends every frame (retrying while the device queue is full); returns the number sent.
    size_t sendBatch(const std::vector<std::vector<uint8_t>>& frames);
    void send(const std::vector<uint8_t>& frame) { sendBatch({frame}); }

private:
    UniqueFd fd_;
    int ifindex_ = 0;
};

}  // namespace fizzhost::test
