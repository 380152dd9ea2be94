#include "runtime/output/output_sink.hpp"

#include "util/error.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>

namespace fizzhost::runtime {
namespace {

using Clock = std::chrono::steady_clock;

// How long close() waits past its deadline for a writer that should have given up by then.
constexpr auto kCloseGrace = std::chrono::milliseconds(500);
// With every batch taken and the pump's own full, the pump waits for a free batch while the oldest
// one queued was handed over less than this long ago: a writer that is only busy or briefly off
// the CPU frees one in time, and a burst waits instead of being dropped. A writer that has held
// its batches longer is stalled on its sink: then the pump's lines are dropped at once, counted,
// so a stall costs the pump at most this once per write timeout.
constexpr auto kPatience = std::chrono::milliseconds(50);

}  // namespace

Settled settleBatch(const OutputBatch& b, size_t done) noexcept {
    Settled s;
    uint32_t runOwner = OutputBatch::kNoOwner;
    bool runWritten = false;
    uint64_t run = 0;
    auto closeRun = [&] {
        if (run && runOwner < b.owners.size()) {
            auto& c = *b.owners[runOwner];
            (runWritten ? c.written : c.lost).fetch_add(run, std::memory_order_relaxed);
        }
        run = 0;
    };
    for (size_t i = 0; i < b.lineCount; ++i) {
        const OutputBatch::Line& line = b.lines[i];
        if (line.owner == OutputBatch::kRecord) continue;  // not an event: neither written nor lost in the counts
        const bool w = line.end <= done;
        w ? ++s.written : ++s.lost;
        if (line.owner != runOwner || w != runWritten) {
            closeRun();
            runOwner = line.owner;
            runWritten = w;
        }
        ++run;
    }
    closeRun();
    return s;
}

OutputSink::OutputSink(OutputSettings settings) : settings_(settings) {
    for (size_t i = 0; i < kBatches + 1; ++i) all_.push_back(std::make_unique<OutputBatch>(kBatchBytes, kMaxLines));
    fill_ = all_[0].get();
    for (size_t i = 1; i < all_.size(); ++i) free_.push_back(all_[i].get());
}

OutputSink::~OutputSink() {
    // close() joined the thread, or left it behind detached; this runs on it only when it was
    // left behind and let go last.
    if (thread_.joinable()) thread_.detach();
}

std::shared_ptr<OutputSink> OutputSink::open(const std::string& target, OutputFileMode mode, OutputSettings settings) {
    std::shared_ptr<OutputSink> s(new OutputSink(settings));
    if (target == "-") {
        s->name_ = "stdout";
        s->fd_ = STDOUT_FILENO;
        struct stat st {};
        if (::fstat(STDOUT_FILENO, &st) == 0) {
            if (S_ISSOCK(st.st_mode)) {
                // journald's stream under systemd: send(MSG_DONTWAIT) never blocks, and leaves the
                // descriptor, shared with whoever else holds it, as it is.
                s->socket_ = true;
            } else if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
                // A pipe or a terminal: O_NONBLOCK set on fd 1 itself would change the open file
                // description the shell and every other writer share. Opening /proc/self/fd/1
                // again gives the same pipe or terminal a description of our own to make
                // non-blocking.
                UniqueFd own(::open("/proc/self/fd/1", O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
                if (own) {
                    s->fd_ = own.get();
                    s->owned_ = std::move(own);
                } else {
                    spdlog::warn("events output stdout: cannot open /proc/self/fd/1 without blocking ({}); writing to "
                                 "fd 1 as it is: a stalled reader then holds up the output's writer thread, not the "
                                 "pump (its events are counted lost when the queue is full)",
                                 errnoText(errno));
                }
            }
            // A regular file is written as it is: writes to it do not wait for a reader.
        }
    } else {
        s->name_ = "'" + target + "'";
        s->file_ = std::make_unique<OutputFile>(target, std::move(mode));
        OutputOpen opened = s->file_->open();
        if (opened.fd) {
            s->take(std::move(opened));
        } else {
            if (opened.kind != OutputKind::Fifo || opened.err != ENXIO) throw Error(opened.reason, opened.err);
            // A FIFO whose reader starts later: the host starts anyway.
            s->kind_ = OutputKind::Fifo;
            s->closeSink(ENXIO, nullptr, opened.reason);
        }
    }
    s->start();
    return s;
}

std::shared_ptr<OutputSink> OutputSink::adopt(int fd, OutputSettings settings) {
    std::shared_ptr<OutputSink> s(new OutputSink(settings));
    s->name_ = "fd " + std::to_string(fd);
    s->fd_ = fd;
    struct stat st {};
    s->socket_ = ::fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
    s->start();
    return s;
}

void OutputSink::start() {
    if (!settings_.threaded) return;
    // The thread holds the sink too: one left behind in a write (see close) never outlives it.
    thread_ = std::thread([self = shared_from_this()] { self->run(); });
}

bool OutputSink::handOff(bool full) noexcept {
    OutputBatch& f = *fill_;
    if (f.empty()) return true;
    if (!settings_.threaded) {
        maintain();
        writeBatch(f, Clock::now() + settings_.writeTimeout);
        f.settle();
        return true;
    }
    {
        std::unique_lock lock(mutex_);
        if (full && free_.empty() && !closing_ && !queued_.empty()) {
            const auto until = queued_.front()->handed + std::min<Clock::duration>(kPatience, settings_.writeTimeout);
            idle_.wait_until(lock, until, [&] { return !free_.empty() || closing_; });
        }
        if (!free_.empty() && !closing_) {
            f.handed = Clock::now();
            queued_.push_back(fill_);
            fill_ = free_.back();
            free_.pop_back();
            ready_.notify_one();
            return true;
        }
    }
    if (!full) return false;
    // The lines go, counted; the settle words stay in the batch, to be stored after the batches
    // queued before it (whose messages they would otherwise free first).
    count(f, 0, 0, LossReason::QueueFull);
    f.clearLines();
    return false;
}

void OutputSink::requestReopen() noexcept {
    reopenRequested_.store(true, std::memory_order_relaxed);
    ready_.notify_one();
}

bool OutputSink::waitIdle(Clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    return idle_.wait_until(lock, deadline, [&] { return queued_.empty() && !writing_; });
}

void OutputSink::run() noexcept {
    std::unique_lock lock(mutex_);
    for (;;) {
        // Woken for a batch, a reopen request or the close; at least every kPathCheckInterval to
        // notice a renamed file and to retry a sink that is not open.
        ready_.wait_for(lock, kPathCheckInterval, [&] {
            return !queued_.empty() || closing_ || reopenRequested_.load(std::memory_order_relaxed);
        });
        OutputBatch* b = nullptr;
        if (!queued_.empty()) {
            b = queued_.front();
            queued_.pop_front();
            writing_ = true;
        } else if (closing_) {
            closing_ = false;  // the mark that the thread has ended (see close)
            idle_.notify_all();
            return;
        }
        const bool closing = closing_;
        lock.unlock();
        maintain();
        logQueueDrops();
        if (b) {
            Clock::time_point deadline = b->handed + settings_.writeTimeout;
            if (closing) deadline = std::min(deadline, closeDeadline_);
            writeBatch(*b, deadline);
            b->settle();
        }
        lock.lock();
        if (b) {
            free_.push_back(b);
            writing_ = false;
        }
        idle_.notify_all();
    }
}

void OutputSink::close(Clock::time_point deadline) noexcept {
    if (!settings_.threaded) {
        maintain();
        writeBatch(*fill_, deadline);
        fill_->settle();
        return;
    }
    if (!thread_.joinable()) return;
    // What the pump left in its batch goes too: wait for room, but not past the deadline.
    std::unique_lock lock(mutex_);
    while (!fill_->empty()) {
        lock.unlock();
        if (handOff(false)) {
            lock.lock();
            break;
        }
        lock.lock();
        if (!idle_.wait_until(lock, deadline, [&] { return !free_.empty(); })) {
            lock.unlock();
            count(*fill_, 0, ETIMEDOUT, LossReason::WriteTimeout);
            fill_->settle();
            lock.lock();
        }
    }
    closeDeadline_ = deadline;
    closing_ = true;
    ready_.notify_all();
    // The thread resets closing_ as it ends.
    if (idle_.wait_until(lock, deadline + kCloseGrace, [&] { return !closing_; })) {
        lock.unlock();
        thread_.join();
        logQueueDrops();
        return;
    }
    // Stuck in a write the kernel does not cut short (a regular file on a hung share): left behind
    // (it holds the sink), and what still waits for it counted lost now. Their settle words are
    // not stored: the batch in that write is not settled, and the transports keep its messages
    // and every later one for the next start (the ring's; the queue's are counted lost there).
    uint64_t waiting = 0;
    for (OutputBatch* b : queued_) {
        const Settled s = settleBatch(*b, 0);
        waiting += s.lost;
        lost_.fetch_add(s.lost, std::memory_order_relaxed);
        lostBy_[size_t(LossReason::WriteTimeout)].fetch_add(s.lost, std::memory_order_relaxed);
        b->marks.clear();
        b->clearLines();
        free_.push_back(b);
    }
    queued_.clear();
    lock.unlock();
    thread_.detach();
    try {
        spdlog::error("events output {}: its writer is still in a write the kernel does not interrupt; left behind at "
                      "exit: {} queued event(s) counted lost, the batch in that write is lost with the process",
                      name_, waiting);
    } catch (...) {
    }
}

}  // namespace fizzhost::runtime
