#include "runtime/output/pump.hpp"

#include "util/error.hpp"

#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

namespace fizzhost::runtime {
namespace {

constexpr size_t kBatch = 512;  // per source per pass, so one busy source cannot starve the others
constexpr int kMinIdleMs = 1, kMaxIdleMs = 16;

}  // namespace

Pump::Pump(EventWriter& writer, decoder::DecoderService& decoders) : writer_(writer), decoders_(decoders) {
    epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
    if (!epoll_) throwErrno("pump: epoll_create1", errno);
    wakeFd_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wakeFd_) throwErrno("pump: eventfd", errno);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wakeFd_.get();
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wakeFd_.get(), &ev) != 0) throwErrno("pump: epoll_ctl", errno);
}

Pump::~Pump() { stop(); }

void Pump::start() {
    std::lock_guard lock(mutex_);
    if (running_) return;
    running_ = true;
    stopping_ = false;
    thread_ = std::thread([this] { run(); });
}

void Pump::stop() {
    {
        std::lock_guard lock(mutex_);
        if (!running_) return;
        stopping_ = true;
    }
    wake();
    thread_.join();
    std::lock_guard lock(mutex_);
    running_ = false;
}

void Pump::wake() {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wakeFd_.get(), &one, sizeof one);
}

void Pump::add(std::shared_ptr<MessageSource> source) {
    {
        std::lock_guard lock(mutex_);
        sources_.push_back(std::move(source));
        ++version_;
    }
    wake();
}

void Pump::retire(const std::shared_ptr<MessageSource>& source) {
    std::unique_lock lock(mutex_);
    auto it = std::find(sources_.begin(), sources_.end(), source);
    if (it == sources_.end()) return;
    sources_.erase(it);
    if (!running_) {
        // No thread: empty it here, and wait for the writer to settle it.
        empty({source});
        while (!source->settled()) {
            writer_.flush();
            writer_.sync(std::chrono::steady_clock::now() + std::chrono::milliseconds(kMaxIdleMs));
        }
        source->reportProblems();
        return;
    }
    retiring_.push_back(source);
    unretired_.push_back(source.get());
    ++version_;
    lock.unlock();
    wake();
    lock.lock();
    retired_.wait(lock, [&] {
        return !running_ || std::find(unretired_.begin(), unretired_.end(), source.get()) == unretired_.end();
    });
}

size_t Pump::drainAll(const std::vector<std::shared_ptr<MessageSource>>& sources) {
    size_t n = 0;
    for (const auto& s : sources) n += s->drain(kBatch);
    return n;
}

namespace {

size_t inFlight(const std::vector<std::shared_ptr<MessageSource>>& sources) {
    size_t n = 0;
    for (const auto& s : sources) n += s->inFlight();
    return n;
}

}  // namespace

void Pump::empty(const std::vector<std::shared_ptr<MessageSource>>& sources) {
    for (;;) {
        size_t moved = 0;
        for (const auto& s : sources) moved += s->drain(SIZE_MAX);
        if (moved) continue;
        if (inFlight(sources) == 0) return;
        // A worker is still on them: it finishes, or supervision notices it died or hung (the
        // deadline) and restarts it or writes the verdict. Either way this ends.
        decoders_.supervise(std::chrono::steady_clock::now());
        sched_yield();
    }
}

void Pump::run() {
    std::vector<std::shared_ptr<MessageSource>> active, retiring, settling;
    uint64_t seen = ~uint64_t(0);
    int idleMs = kMinIdleMs;
    for (;;) {
        bool stopping;
        {
            std::lock_guard lock(mutex_);
            stopping = stopping_;
            if (seen != version_) {
                active = sources_;
                retiring.swap(retiring_);
                seen = version_;
            }
        }
        if (!retiring.empty()) {
            // Nothing pushes into these any more: empty them completely; they go once settled.
            empty(retiring);
            settling.insert(settling.end(), retiring.begin(), retiring.end());
            retiring.clear();
        }
        if (!settling.empty()) {
            // The writer thread stores their last settle words once it has written (or counted)
            // their lines: within the write timeout. The pump goes on meanwhile.
            writer_.flush();
            std::vector<MessageSource*> done;
            std::erase_if(settling, [&](const std::shared_ptr<MessageSource>& s) {
                if (!s->settled()) return false;
                s->reportProblems();
                done.push_back(s.get());
                return true;
            });
            if (!done.empty()) {
                std::lock_guard lock(mutex_);
                std::erase_if(unretired_, [&](MessageSource* s) { return std::find(done.begin(), done.end(), s) != done.end(); });
                retired_.notify_all();
            }
        }
        decoders_.supervise(std::chrono::steady_clock::now());
        if (stopping) {
            // What is taken now is settled by the writer's close (EventWriter::close).
            empty(active);
            writer_.flush();
            for (auto& s : active) s->reportProblems();
            for (auto& s : settling) s->reportProblems();
            std::lock_guard lock(mutex_);
            unretired_.clear();
            retired_.notify_all();
            return;
        }
        if (drainAll(active) > 0) {
            idleMs = kMinIdleMs;
            writer_.flush();  // one write per pass: events leave in batches, never held back
            continue;
        }
        writer_.flush();
        if (inFlight(active) > 0) {
            // Messages are in a worker: their results come without a signal either; look again
            // as soon as the CPU allows, never after a sleep.
            idleMs = kMinIdleMs;
            sched_yield();
            continue;
        }
        // Neither transport signals (no wakeup per message is the point of the ring): poll on a
        // backoff while any source exists, and sleep until woken when there is none.
        epoll_event events[16];
        // A retired source waiting to be settled is looked at every kMinIdleMs.
        const int timeout = !settling.empty() ? kMinIdleMs : active.empty() ? -1 : idleMs;
        int n = epoll_wait(epoll_.get(), events, 16, timeout);
        idleMs = std::min(idleMs * 2, kMaxIdleMs);
        for (int i = 0; i < n; ++i)
            if (events[i].data.fd == wakeFd_.get()) {
                uint64_t v;
                [[maybe_unused]] ssize_t r = ::read(wakeFd_.get(), &v, sizeof v);
            }
    }
}

}  // namespace fizzhost::runtime
