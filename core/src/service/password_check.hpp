// Basic auth's bcrypt check, off the /metrics event loop. bcrypt is slow on purpose (tens of ms at
// cost 10); run on the loop, a client sending wrong passwords would stall every scrape behind it.
// One worker thread takes checks from a bounded queue and hands the verdicts back through an
// eventfd the loop polls. The loop keeps the successes (bounded), so a scraper's repeated
// credentials cost one bcrypt, not one per scrape, as the exporter toolkit does.
#pragma once

#include "util/unique_fd.hpp"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace fizzhost::service {

/// Whether `password` matches the bcrypt `hash` (crypt_r, libxcrypt: $2a$, $2b$, $2y$). Constant
/// time in the comparison; false for a hash the library does not take.
bool bcryptMatches(const std::string& hash, const std::string& password);

class PasswordCheck {
public:
    /// Checks waiting at most; beyond, submit() says no (the client is answered 503).
    static constexpr size_t kMaxQueued = 16;

    PasswordCheck();
    ~PasswordCheck();
    PasswordCheck(const PasswordCheck&) = delete;
    PasswordCheck& operator=(const PasswordCheck&) = delete;

    /// Readable (POLLIN) while verdicts wait for results().
    int fd() const { return ready_.get(); }
    /// Queues a check of `password` against `hash` under `ticket`; false when kMaxQueued wait.
    bool submit(uint64_t ticket, std::string hash, std::string password);
    /// The verdicts made since the last call: (ticket, matched).
    std::vector<std::pair<uint64_t, bool>> results();

private:
    struct Job {
        uint64_t ticket;
        std::string hash, password;
    };
    void run();

    UniqueFd ready_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Job> jobs_;
    std::vector<std::pair<uint64_t, bool>> done_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace fizzhost::service
