#include "support/veth_set.hpp"

#include "support/daemon_process.hpp"

#include <net/if.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace fizzhost::test {

VethSet::VethSet(const NetNs& a, const NetNs& b, size_t count) : nsA_(a.name()), nsB_(b.name()) {
    const std::string stem = "fzt" + std::to_string(getpid());
    std::vector<std::string> add, upA, upB, queueA, queueB;
    for (size_t i = 0; i < count; ++i) {
        const std::string n = std::to_string(nextFixtureId() % 10000);
        namesA_.push_back(stem + "a" + n);
        namesB_.push_back(stem + "b" + n);
        if (namesA_.back().size() >= IFNAMSIZ) throw std::logic_error("veth name too long: " + namesA_.back());
        // Made inside A with the peer placed straight into B: no end ever exists in the root namespace.
        add.push_back("link add " + namesA_.back() + " type veth peer name " + namesB_.back() + " netns " + nsB_);
        upA.push_back("link set " + namesA_.back() + " up");
        upB.push_back("link set " + namesB_.back() + " up");
        queueA.push_back("qdisc replace dev " + namesA_.back() + " root pfifo limit 100000");
        queueB.push_back("qdisc replace dev " + namesB_.back() + " root pfifo limit 100000");
    }
    try {
        batch("ip", nsA_, add, false);
        batch("tc", nsA_, queueA, false);
        batch("tc", nsB_, queueB, false);
        batch("ip", nsA_, upA, false);
        batch("ip", nsB_, upB, false);
        for (size_t i = 0; i < count; ++i) {
            {
                ScopedNetns in(nsA_);
                ifindexA_.push_back(int(if_nametoindex(namesA_[i].c_str())));
            }
            ScopedNetns in(nsB_);
            ifindexB_.push_back(int(if_nametoindex(namesB_[i].c_str())));
            if (ifindexA_.back() == 0 || ifindexB_.back() == 0)
                throw std::runtime_error("veth pair " + namesA_[i] + "/" + namesB_[i] + " is missing after creation");
        }
    } catch (...) {
        std::vector<std::string> del;
        for (const auto& name : namesA_) del.push_back("link del " + name);
        try {
            batch("ip", nsA_, del, true);
        } catch (...) {
        }
        throw;
    }
}

VethSet::~VethSet() {
    // Deleting one end removes both; when namespace A is gone, so are the pairs.
    if (access(("/var/run/netns/" + nsA_).c_str(), F_OK) != 0) return;
    std::vector<std::string> del;
    for (const auto& name : namesA_) del.push_back("link del " + name);
    try {
        batch("ip", nsA_, del, true);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "warning: deleting %zu veth pairs in %s: %s\n", namesA_.size(), nsA_.c_str(), e.what());
    }
}

void VethSet::batch(const std::string& tool, const std::string& ns, const std::vector<std::string>& lines, bool force) {
    if (lines.empty()) return;
    TempDir dir;
    const auto file = dir.path() / "batch";
    {
        std::ofstream out(file);
        for (const auto& l : lines) out << l << "\n";
        if (!out) throw std::runtime_error("write " + file.string() + ": " + std::strerror(errno));
    }
    std::vector<std::string> argv = {tool, "-n", ns};
    if (force) argv.push_back("-force");  // go on past a line that fails (a pair already gone)
    argv.insert(argv.end(), {"-batch", file.string()});
    if (force)
        runUnchecked(argv);
    else
        run(argv);
}

}  // namespace fizzhost::test
