// Many veth pairs between two namespaces at once, for hosts with tens of interfaces. One `ip -batch`
// per namespace and step instead of five commands per pair (VethPair), so 64 pairs take about a
// second. Names and cleanup follow VethPair ("fzt<pid>a<n>" / "fzt<pid>b<n>", swept when stale).
#pragma once

#include "support/netns.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace fizzhost::test {

class VethSet {
public:
    /// `count` pairs, end A of each in `a`, end B in `b`, all up with a pfifo queue (see VethPair).
    /// The namespaces must outlive the set. Throws std::runtime_error (removing what it made).
    VethSet(const NetNs& a, const NetNs& b, size_t count);
    ~VethSet();  // deletes every pair still there
    VethSet(const VethSet&) = delete;
    VethSet& operator=(const VethSet&) = delete;

    size_t size() const { return namesA_.size(); }
    const std::string& nameA(size_t i) const { return namesA_.at(i); }
    const std::string& nameB(size_t i) const { return namesB_.at(i); }
    const std::vector<std::string>& namesA() const { return namesA_; }
    /// Interface indexes, each as seen inside its own namespace.
    int ifindexA(size_t i) const { return ifindexA_.at(i); }
    int ifindexB(size_t i) const { return ifindexB_.at(i); }

private:
    void batch(const std::string& tool, const std::string& ns, const std::vector<std::string>& lines, bool force);

    std::string nsA_, nsB_;
    std::vector<std::string> namesA_, namesB_;
    std::vector<int> ifindexA_, ifindexB_;
};

}  // namespace fizzhost::test
