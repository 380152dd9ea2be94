// Wall-clock times as status, events and logs show them.
#pragma once

#include <chrono>
#include <string>

namespace fizzhost {

/// `t` in UTC as ISO 8601 to the second, e.g. "2026-11-25T20:01:40Z".
std::string isoTime(std::chrono::system_clock::time_point t);

}  // namespace fizzhost
