// The host's progressive rollouts: one controller per interface whose rollout table has steps,
// with the table it was started from. A reload that leaves an interface's classifier and rollout
// table unchanged keeps its controller, and so its progress (or its rollback); a changed table
// starts the plan again. The book also says what the host should run for a configured interface
// at the controller's stage. No kernel calls.
#pragma once

#include "config/host_config.hpp"
#include "runtime/rollout_controller.hpp"

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

    Entry* find(const std::string& iface);
    const Entry* find(const std::string& iface) const;
    std::map<std::string, Entry>& entries() { return entries_; }

private:
    std::map<std::string, Entry> entries_;
};

}  // namespace fizzhost::runtime
