// LinkWatch on its own: real rtnetlink notifications from a namespace the test makes.
#include "runtime/lifecycle/link_watch.hpp"
#include "support/netns.hpp"
#include "support/privilege.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <vector>

using namespace fizzhost;
using namespace fizzhost::test;

namespace {

// Changes as the watch thread reports them, waited for by the test thread.
class Recorder {
public:
    void operator()(const runtime::LinkChange& c) {
        std::lock_guard lock(mutex_);
        changes_.push_back(c);
        cv_.notify_all();
    }
    // The first change of `kind` for `name` (and `ifindex`, when given), waiting up to 5 s.
    std::optional<runtime::LinkChange> waitFor(runtime::LinkChange::Kind kind, const std::string& name, int ifindex = 0) {
        std::unique_lock lock(mutex_);
        std::optional<runtime::LinkChange> found;
        cv_.wait_for(lock, std::chrono::seconds(5), [&] {
            for (const auto& c : changes_)
                if (c.kind == kind && c.name == name && (ifindex == 0 || c.ifindex == ifindex)) {
                    found = c;
                    return true;
                }
            return false;
        });
        return found;
    }
    bool seen(const std::string& name) {
        std::lock_guard lock(mutex_);
        for (const auto& c : changes_)
            if (c.name == name) return true;
        return false;
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<runtime::LinkChange> changes_;
};

}  // namespace

TEST_CASE("LinkWatch reports links added and deleted in its namespace, with name and ifindex", "[netns]") {
    if (!requirePrivilege("create links in a network namespace")) return;
    NetNs ns, peer, far1, far2;
    Recorder recorder;
    std::optional<runtime::LinkWatch> watch;
    {
        ScopedNetns in(ns);  // the netlink socket belongs to the namespace it is made in
        watch.emplace([&](const runtime::LinkChange& c) { recorder(c); });
    }
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
    watch.reset();  // joins the thread: everything it will ever report is recorded
    CHECK_FALSE(recorder.seen(elsewhere.nameA()));
    CHECK_FALSE(recorder.seen(elsewhere.nameB()));
    CHECK_FALSE(recorder.seen(pair.nameB()));
}
