#include "service/password_check.hpp"

#include "util/error.hpp"

#include <crypt.h>
#include <openssl/crypto.h>
#include <sys/eventfd.h>

#include <cstring>
#include <memory>

namespace fizzhost::service {

bool bcryptMatches(const std::string& hash, const std::string& password) {
    auto data = std::make_unique<crypt_data>();  // 32 KiB: not for the stack
    const char* out = crypt_r(password.c_str(), hash.c_str(), data.get());
    // libxcrypt answers a hash it cannot use with "*0" or "*1", never a string of the hash's length.
    if (!out || out[0] == '*' || std::strlen(out) != hash.size()) return false;
    return CRYPTO_memcmp(out, hash.data(), hash.size()) == 0;
}

PasswordCheck::PasswordCheck() : ready_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (!ready_) throwErrno("metrics: basic auth: eventfd", errno);
    thread_ = std::thread([this] { run(); });
}

PasswordCheck::~PasswordCheck() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

bool PasswordCheck::submit(uint64_t ticket, std::string hash, std::string password) {
    {
        std::lock_guard lock(mutex_);
        if (jobs_.size() >= kMaxQueued) return false;
        jobs_.push_back({ticket, std::move(hash), std::move(password)});
    }
    wake_.notify_one();
    return true;
}

std::vector<std::pair<uint64_t, bool>> PasswordCheck::results() {
    uint64_t n;
    [[maybe_unused]] ssize_t r = ::read(ready_.get(), &n, sizeof n);
    std::lock_guard lock(mutex_);
    return std::exchange(done_, {});
}

void PasswordCheck::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        if (stopping_) return;
        Job job = std::move(jobs_.front());
        jobs_.pop_front();
        lock.unlock();
        const bool ok = bcryptMatches(job.hash, job.password);
        OPENSSL_cleanse(job.password.data(), job.password.size());
        lock.lock();
        done_.emplace_back(job.ticket, ok);
        const uint64_t one = 1;
        [[maybe_unused]] ssize_t w = ::write(ready_.get(), &one, sizeof one);
    }
}

}  // namespace fizzhost::service
