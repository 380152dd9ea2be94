#include "service/reload_requests.hpp"

#include "util/error.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

namespace fizzhost::service {

ReloadRequests::ReloadRequests() : ready_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (!ready_) throwErrno("reload requests: eventfd", errno);
}

bool ReloadRequests::take() {
    uint64_t n;
    [[maybe_unused]] ssize_t r = ::read(ready_.get(), &n, sizeof n);
    std::lock_guard lock(mutex_);
    if (closed_ || requested_ == finished_) return false;
    taken_ = requested_;
    return true;
}

void ReloadRequests::finish(const ReloadRecord& record) {
    {
        std::lock_guard lock(mutex_);
        for (uint64_t r = finished_ + 1; r <= taken_; ++r) answers_.emplace(r, record);
        finished_ = taken_;
    }
    done_.notify_all();
}

void ReloadRequests::close() {
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
    }
    done_.notify_all();
}

std::optional<ReloadRecord> ReloadRequests::request() {
    std::unique_lock lock(mutex_);
    if (closed_) return std::nullopt;
    const uint64_t mine = ++requested_;
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(ready_.get(), &one, sizeof one);
    done_.wait(lock, [&] { return closed_ || finished_ >= mine; });
    auto it = answers_.find(mine);
    if (it == answers_.end()) return std::nullopt;
    ReloadRecord record = std::move(it->second);
    answers_.erase(it);
    return record;
}

}  // namespace fizzhost::service
