// The writer thread's side of the events output: writing a batch within its deadline, counting
// its lines, the rate-limited log, and reopening the events file (after rotation, on request, or
// when a FIFO's reader comes back).
#include "runtime/output/output_sink.hpp"

#include "util/error.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cmath>

namespace fizzhost::runtime {

using Clock = std::chrono::steady_clock;

ssize_t OutputSink::put(const char* p, size_t n) noexcept {
    if (socket_) return ::send(fd_, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    return ::write(fd_, p, n);
}

void OutputSink::writeBatch(OutputBatch& b, Clock::time_point deadline) noexcept {
    if (b.empty()) return;
    if (fd_ < 0) {  // no sink now (see closeSink): every line is lost, counted
        count(b, 0, sinkError_, LossReason::NoSink);
        return;
    }
    // A line cut short by an earlier failure would glue itself to the next one: end it first.
    if (brokenLine_ && put("\n", 1) == 1) brokenLine_ = false;
    size_t off = 0;
    int err = 0;
    while (off < b.used) {
        const ssize_t n = put(b.data.data() + off, b.used - off);
        if (n > 0) {
            off += size_t(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            // Full: wait for room, but only until the batch's deadline.
            const auto left = std::chrono::duration<double, std::milli>(deadline - Clock::now()).count();
            if (left <= 0) {
                err = ETIMEDOUT;
                break;
            }
            pollfd p{fd_, POLLOUT, 0};
            ::poll(&p, 1, int(std::ceil(std::min(left, 60000.0))));
            continue;  // the next write says whether there is room, or why not (EPIPE, ...)
        }
        err = n < 0 ? errno : EIO;  // 0 for a non-empty write: the sink takes nothing more
        break;
    }
    if (off != 0 && off < b.used && b.data[off - 1] != '\n') brokenLine_ = true;
    count(b, off, err, err == ETIMEDOUT ? LossReason::WriteTimeout : LossReason::WriteError);
    if (err == EPIPE && kind_ == OutputKind::Fifo && file_)
        closeSink(EPIPE, nullptr, "the FIFO's reader went away (EPIPE)");
}

void OutputSink::count(const OutputBatch& b, size_t done, int err, LossReason why) noexcept {
    const Settled s = settleBatch(b, done);
    if (s.written) written_.fetch_add(s.written, std::memory_order_relaxed);
    if (s.lost) {
        lost_.fetch_add(s.lost, std::memory_order_relaxed);
        lostBy_[size_t(why)].fetch_add(s.lost, std::memory_order_relaxed);
    }
    if (why == LossReason::QueueFull) return;  // the pump's thread: the writer's log says it (logQueueDrops)
    if (err != 0) {
        writeErrors_.fetch_add(1, std::memory_order_relaxed);
        lastError_.store(err, std::memory_order_relaxed);
        logWriteError(err, s.lost);
    } else if (lostSinceLog_ != 0 || nextErrorLog_ != Clock::time_point{}) {
        try {
            spdlog::info("events output {}: writing again; {} event(s) lost in all", name_, lost());
        } catch (...) {
        }
        lostSinceLog_ = 0;
        nextErrorLog_ = {};
    }
}

std::string outputLossText(int err, std::chrono::milliseconds timeout) {
    if (err == ETIMEDOUT)
        return "no room within write_timeout_ms = " + std::to_string(timeout.count()) +
               " (the reader does not keep up, or is stopped)";
    return errnoText(err);
}

void OutputSink::logWriteError(int err, uint64_t lostNow) noexcept {
    lostSinceLog_ += lostNow;
    const auto now = Clock::now();
    if (now < nextErrorLog_) return;
    nextErrorLog_ = now + kErrorLogInterval;
    try {
        spdlog::error("events output {}: {}: {}; {} event(s) lost since the last report, {} lost and {} "
                      "written in all; classification goes on (failures are reported at most every {} s)",
                      name_, fd_ < 0 ? "not open" : "write failed", fd_ < 0 ? sinkReason_ : outputLossText(err, settings_.writeTimeout),
                      lostSinceLog_, lost(), written(), kErrorLogInterval.count());
    } catch (...) {
    }
    lostSinceLog_ = 0;
}

void OutputSink::logQueueDrops() noexcept {
    const uint64_t drops = lost(LossReason::QueueFull);
    if (drops == dropsLogged_) return;
    const auto now = Clock::now();
    if (now < nextDropLog_) return;
    nextDropLog_ = now + kErrorLogInterval;
    try {
        spdlog::error("events output {}: {} event(s) dropped since the last report ({} in all): the output's queue "
                      "was full, the writer being behind the pump (the sink takes events slower than they come); "
                      "counted lost (reported at most every {} s)",
                      name_, drops - dropsLogged_, drops, kErrorLogInterval.count());
    } catch (...) {
    }
    dropsLogged_ = drops;
}

void OutputSink::maintain() noexcept {
    if (!file_) return;
    if (reopenRequested_.exchange(false, std::memory_order_relaxed))
        reopen("on request (SIGUSR1)");
    else
        checkPath();
}

// logrotate without copytruncate renames the file (and may create a new one at the path): the fd
// we hold then writes into the old file forever. Noticed by comparing the file behind the fd with
// the one at the name in the held folder (no symlink followed), at most once per
// kPathCheckInterval; a sink that is not open (a FIFO nobody reads, a refused file) is tried again
// as often.
void OutputSink::checkPath() noexcept {
    const auto now = Clock::now();
    if (now < nextPathCheck_) return;
    nextPathCheck_ = now + kPathCheckInterval;
    if (fd_ < 0) return reopen(nullptr);
    struct stat held {};
    if (::fstat(fd_, &held) != 0) return;
    if (held.st_nlink == 0) return reopen("it was deleted");
    switch (file_->compare(held)) {
    case OutputFile::Name::Gone: return reopen("it was renamed or deleted");
    case OutputFile::Name::Other: return reopen("another file took its name");
    case OutputFile::Name::Same: return;
    }
}

void OutputSink::reopen(const char* why) noexcept {
    try {
        OutputOpen opened = file_->open();
        if (opened.fd) {
            const bool wasClosed = fd_ < 0;
            take(std::move(opened));
            reopens_.fetch_add(1, std::memory_order_relaxed);
            if (why) spdlog::info("events file {} reopened ({})", name_, why);
            else if (wasClosed)
                spdlog::info("events output {}: open again{}", name_,
                             kind_ == OutputKind::Fifo ? ": a reader has the FIFO" : "");
            return;
        }
        // A file we may not write to (a symlink, another user's file, ...) or no FIFO reader: the
        // file held before is not the events file any more, so nothing more goes there.
        if (opened.refused || fd_ < 0 || kind_ == OutputKind::Fifo) return closeSink(opened.err, why, opened.reason);
        // Keep writing to the file we have; the next check tries again.
        spdlog::error("events file {}: reopen {}: {}; still writing to the file opened before", name_, why ? why : "",
                      opened.reason);
    } catch (...) {
    }
}

void OutputSink::take(OutputOpen&& opened) noexcept {
    kind_ = opened.kind;
    owned_ = std::move(opened.fd);
    fd_ = owned_.get();
    brokenLine_ = false;
    sinkError_ = 0;
    sinkReason_.clear();
    try {
        if (opened.created) spdlog::info("events file {} created (mode {})", name_, octalMode(opened.st.st_mode));
        if (!opened.note.empty()) spdlog::warn("{}", opened.note);
    } catch (...) {
    }
}

// No sink until a later open succeeds: events are counted lost meanwhile (writeBatch), and the
// reason is logged once for as long as it stays the same.
void OutputSink::closeSink(int err, const char* why, const std::string& reason) noexcept {
    const bool news = fd_ >= 0 || reason != sinkReason_;
    owned_.reset();
    fd_ = -1;
    sinkError_ = err;
    try {
        if (!news) return;
        sinkReason_ = reason;
        spdlog::error("events output {}: {}{}; its events are counted lost until it can be written again (tried "
                      "every {} s)",
                      name_, why ? std::string("not reopened (") + why + "): " : std::string(), reason,
                      kPathCheckInterval.count());
    } catch (...) {
    }
}

}  // namespace fizzhost::runtime
