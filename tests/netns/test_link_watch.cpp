// LinkWatch on its own: real rtnetlink notifications from a namespace the test makes, drained as
// its fd turns readable.
#include "runtime/lifecycle/link_watch.hpp"
#include "support/netns.hpp"
#include "support/privilege.hpp"

#include <catch2/catch.hpp>

#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <vector>

using namespace fizzhost;
using namespace fizzhost::test;

namespace {

// Changes as the watch hands them over when drained, waited for by polling its fd.
class Recorder {
public:
    explicit Recorder(runtime::LinkWatch& watch) : watch_(watch) {}
    // The first change of `kind` for `name` (and `ifindex`, when given), draining the watch as its
    // fd turns readable, for up to 5 s.
    std::optional<runtime::LinkChange> waitFor(runtime::LinkChange::Kind kind, const std::string& name, int ifindex = 0) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        for (;;) {
            for (const auto& c : changes_)
                if (c.kind == kind && c.name == name && (ifindex == 0 || c.ifindex == ifindex)) return c;
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return std::nullopt;
            pollfd p{watch_.fd(), POLLIN, 0};
            if (::poll(&p, 1, int(left.count())) > 0) drain();
        }
    }
    // Everything waiting now.
    void drain() {
        watch_.drain([&](const runtime::LinkChange& c) { changes_.push_back(c); });
    }
    bool seen(const std::string& name) const {
        for (const auto& c : changes_)
            if (c.name == name) return true;
        return false;
    }

private:
    runtime::LinkWatch& watch_;
    std::vector<runtime::LinkChange> changes_;
};

}  // namespace

TEST_CASE("LinkWatch reports links added and deleted in its namespace, with name and ifindex", "[netns]") {
    if (!requirePrivilege("create links in a network namespace")) return;
    NetNs ns, peer, far1, far2;
    std::optional<runtime::LinkWatch> watch;
    {
        ScopedNetns in(ns);  // the netlink socket belongs to the namespace it is made in
        watch.emplace();
    }
    Recorder recorder(*watch);
    using Kind = runtime::LinkChange::Kind;
    VethPair pair(ns, peer);  // end A in the watched namespace, end B in another
    auto added = recorder.waitFor(Kind::Added, pair.nameA());
    REQUIRE(added);
    CHECK(added->ifindex == pair.ifindexA());

    pair.remove();
    auto removed = recorder.waitFor(Kind::Removed, pair.nameA());
    REQUIRE(removed);
    CHECK(removed->ifindex == added->ifindex);

    VethPair elsewhere(far1, far2);  // neither end in the watched namespace
    pair.create();                   // after it: once this is reported, so would that have been
    CHECK(pair.ifindexA() != added->ifindex);
    CHECK(recorder.waitFor(Kind::Added, pair.nameA(), pair.ifindexA()));
    recorder.drain();  // everything the kernel queued for the watch so far
    CHECK_FALSE(recorder.seen(elsewhere.nameA()));
    CHECK_FALSE(recorder.seen(elsewhere.nameB()));
    CHECK_FALSE(recorder.seen(pair.nameB()));
}
