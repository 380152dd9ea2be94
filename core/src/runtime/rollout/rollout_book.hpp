// The host's progressive rollouts: one controller per interface whose rollout table has steps,
// with the table it was started from. A reload that leaves an interface's classifier and rollout
// table unchanged keeps its controller, and so its progress (or its rollback); a changed table
// starts the plan again. The book also says what the host should run for a configured interface
// at the controller's stage. No kernel calls.
#pragma once

#include "config/host_config.hpp"
#include "runtime/rollout/rollout_controller.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace fizzhost::runtime {

class RolloutBook {
public:
    struct Entry {
        config::Interface configured;  // as the config file states it
        std::shared_ptr<RolloutController> controller;
        bool started = false;  // new in this book: its start is still to be announced
        bool resumed = false;  // resumed from a predecessor's progress (logged as such, not as a start)
        RolloutClock::time_point retryAt{};  // a failed action is tried again from then
    };

    /// The book for `interfaces`: entries whose classifier and rollout table are unchanged keep
    /// their controller, the others start at `now`. This book is left as it is (a reload that fails
    /// keeps it). Never throws but std::bad_alloc.
    RolloutBook next(const std::vector<config::Interface>& interfaces, RolloutClock::time_point now) const;

    /// What the host runs for `configured`: shadow mode in the shadow stage, the split at the
    /// controller's percent in a step, the baseline alone after a rollback, the candidate alone
    /// after a promotion. Without a plan: `configured`.
    config::Interface effective(const config::Interface& configured) const;

    /// Where `iface`'s plan stands, for the pinned record (null without a plan): the table it runs,
    /// the stage, the step and the reason. A successor resumes from it.
    nlohmann::json progress(const std::string& iface) const;
    /// Resumes `iface`'s plan from a predecessor's progress() when it ran the same table (the same
    /// classifier and rollout table); returns the log line, or "" when nothing was resumed (another
    /// table, unreadable progress, or no plan here).
    std::string resume(const std::string& iface, const nlohmann::json& progress, RolloutClock::time_point now);

    Entry* find(const std::string& iface);
    const Entry* find(const std::string& iface) const;
    std::map<std::string, Entry>& entries() { return entries_; }

private:
    std::map<std::string, Entry> entries_;
};

}  // namespace fizzhost::runtime
