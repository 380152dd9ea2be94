// The reload guard's shape: what a reload asks before it swaps a program (measure/reload_guard.hpp
// makes one from the [guard] config).
#pragma once

#include "plugin/plugin.hpp"

#include <functional>

namespace fizzhost::runtime {

/// Decides whether `incoming` may replace `running`; throws Error with both figures when not.
/// Installed by the host when [guard] is configured.
using ReloadGuard = std::function<void(const plugin::Plugin& running, const plugin::Plugin& incoming)>;

}  // namespace fizzhost::runtime
