// Tests say what they wait for: a condition polled until it holds (or a deadline passes), or
// watched for a span in which it must keep holding. Never a fixed sleep used for ordering.
#pragma once

#include <chrono>
#include <thread>

namespace fizzhost::test {

/// How often waitUntil() and holdsFor() look.
inline constexpr std::chrono::milliseconds kPollEvery{10};

/// Polls `pred` until it returns true (true) or `timeout` passes (false, after one last look).
template <typename Pred>
bool waitUntil(Pred&& pred, std::chrono::milliseconds timeout = std::chrono::seconds(10),
               std::chrono::milliseconds every = kPollEvery) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (pred()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return pred();
        std::this_thread::sleep_for(every);
    }
}

/// Polls `pred` for `span`: false as soon as it returns false, true when it held every time.
template <typename Pred>
bool holdsFor(Pred&& pred, std::chrono::milliseconds span, std::chrono::milliseconds every = kPollEvery) {
    const auto end = std::chrono::steady_clock::now() + span;
    for (;;) {
        if (!pred()) return false;
        if (std::chrono::steady_clock::now() >= end) return true;
        std::this_thread::sleep_for(every);
    }
}

}  // namespace fizzhost::test
