#include "util/failpoint.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <set>
#include <string_view>
#include <thread>

namespace fizzhost {
namespace {

constexpr const char* kVariable = "FIZZHOST_FAILPOINTS";
constexpr std::string_view kStallSuffix = ":stall";

std::atomic<int> armed{0};

struct Registry {
    bool any = false;
    std::vector<std::string> named;
    std::mutex mutex;
    std::set<std::string> pending;  // named and not fired yet
    std::set<std::string> kills;    // named NAME=kill: SIGKILL there instead of an Error
    std::set<std::string> stalls;   // named with ":stall": block instead of failing

    Registry() {
        const char* env = std::getenv(kVariable);
        if (!env || !*env) return;
        std::string text = env;
        for (size_t start = 0; start <= text.size();) {
            const size_t comma = std::min(text.find(',', start), text.size());
            std::string name = text.substr(start, comma - start);
            constexpr std::string_view kKill = "=kill";
            if (name.size() > kKill.size() && name.ends_with(kKill)) {
                name.resize(name.size() - kKill.size());
                kills.insert(name);
            } else if (name.size() > kStallSuffix.size() && name.ends_with(kStallSuffix)) {
                name.resize(name.size() - kStallSuffix.size());
                stalls.insert(name);
            }
            if (!name.empty()) named.push_back(name);
            start = comma + 1;
        }
        pending.insert(named.begin(), named.end());
        any = !named.empty();
    }
};

Registry& registry() {
    static Registry r;  // the environment is read once
    return r;
}

}  // namespace

const std::vector<std::string>& knownFailpoints() {
    static const std::vector<std::string> all = {failpoints::kCatalogRead,     failpoints::kInstanceLoaded,
                                                 failpoints::kDispatcherBuilt, failpoints::kSourcesAdded,
                                                 failpoints::kBeforeMapWrite,  failpoints::kBeforeLinkUpdate};
    return all;
}

const std::vector<std::string>& knownCrashpoints() {
    static const std::vector<std::string> all = {failpoints::kAfterLinkUpdate, failpoints::kDuringRetire,
                                                 failpoints::kBeforeRecordOutcome};
    return all;
}

void failpoint(const char* name) {
    Registry& r = registry();
    if (!r.any || armed.load(std::memory_order_relaxed) == 0) return;
    {
        std::lock_guard lock(r.mutex);
        if (r.pending.erase(name) == 0) return;
        if (r.kills.count(name)) ::raise(SIGKILL);
        if (r.stalls.count(name)) {
            std::fprintf(stderr, "failure point '%s' stalls this reload for good (%s)\n", name, kVariable);
            std::fflush(stderr);
        }
    }
    if (r.stalls.count(name))
        for (;;) std::this_thread::sleep_for(std::chrono::hours(1));  // only the process's end stops it
    throw Error(std::string("failure injected at '") + name + "' (" + kVariable + ")", ECANCELED);
}

void crashpoint(const char* name) noexcept {
    Registry& r = registry();
    if (!r.any || armed.load(std::memory_order_relaxed) == 0) return;
    std::lock_guard lock(r.mutex);
    if (r.kills.count(name) && r.pending.erase(name)) ::raise(SIGKILL);
}

std::vector<std::string> enabledFailpoints() { return registry().named; }

FailpointArm::FailpointArm() { armed.fetch_add(1, std::memory_order_relaxed); }
FailpointArm::~FailpointArm() { armed.fetch_sub(1, std::memory_order_relaxed); }

}  // namespace fizzhost
