// Waiting for a condition a test can name, never for a fixed time.
#pragma once

#include <chrono>
#include <thread>

namespace fizzhost::test {

/// Polls `pred` every `poll` until it holds (true) or `timeout` passes (false, after one last look).
template <typename Pred>
bool waitUntil(Pred&& pred, std::chrono::milliseconds timeout,
               std::chrono::milliseconds poll = std::chrono::milliseconds(5)) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
        if (std::chrono::steady_clock::now() >= until) return pred();
        std::this_thread::sleep_for(poll);
    }
    return true;
}

}  // namespace fizzhost::test
