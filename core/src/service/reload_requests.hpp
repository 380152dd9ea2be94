// Reload requests from the control socket's thread to the daemon's main thread, which runs every
// reload (SIGHUP, config watch and these) one after another on the same path. A requester waits
// until a reload that began after its request has finished, and gets that reload's record:
// requests that arrive while one waits are served by the same reload.
#pragma once

#include "util/unique_fd.hpp"
#include "service/reload_record.hpp"

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>

namespace fizzhost::service {

class ReloadRequests {
public:
    ReloadRequests();  // throws Error when no eventfd can be made

    /// Main thread: readable while a request waits to be taken.
    int fd() const { return ready_.get(); }
    /// Main thread: takes every request waiting (never blocks). True when there was one: run a
    /// reload now and pass its record to finish().
    bool take();
    /// Main thread: answers the requests the last take() took.
    void finish(const ReloadRecord& record);
    /// Any thread: the host is stopping; every waiting and later request gets nullopt.
    void close();

    /// Control thread: asks for a reload and waits for its record; nullopt when closed first.
    std::optional<ReloadRecord> request();

private:
    UniqueFd ready_;
    std::mutex mutex_;
    std::condition_variable done_;
    uint64_t requested_ = 0, taken_ = 0, finished_ = 0;  // request numbers: all up to finished_ are answered
    std::map<uint64_t, ReloadRecord> answers_;           // by request number, until its requester takes it
    bool closed_ = false;
};

}  // namespace fizzhost::service
