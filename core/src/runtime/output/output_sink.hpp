// The events output's writing side: the sink (the events file, a FIFO, stdout or a caller's fd),
// the writer thread that writes batches to it, and the bounded queue between the pump and that
// thread.
//
// Why a thread: a write to a consumer that stalls (a FIFO whose reader is stopped, stdout into a
// pipe nobody reads, journald under load, a file on a hung network share) must never hold up the
// pump, whose pass also retires old state for a reload, and so the reload, the control socket's
// status and /metrics behind it. The pump only formats into a batch and hands it over; it never
// waits for the writer. Where the sink allows it the writer thread writes without blocking too
// (pipes, FIFOs, terminals and sockets; a regular file does not honour O_NONBLOCK) and waits for
// room at most write_timeout_ms from the moment the batch was handed over: what is not written by
// then is counted lost (reason "write timeout"), so a stop also ends within that bound. When every
// batch is taken (the writer is behind), the pump keeps filling the one it holds; when that is full
// too its lines are counted lost (reason "queue full"). Nothing is dropped uncounted.
#pragma once

#include "runtime/output/output_batch.hpp"
#include "util/output_file.hpp"
#include "util/unique_fd.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace fizzhost::runtime {

struct OutputSettings {
    /// How long a handed-over batch may wait for the sink to take it ([output] write_timeout_ms).
    std::chrono::milliseconds writeTimeout{1000};
    /// false: no thread; a hand-over writes at once on the caller's thread, blocking as the sink
    /// does (the benchmark's reference for the writer thread's cost).
    bool threaded = true;
};

/// A failed write's reason in words: errno text, or for ETIMEDOUT the write timeout that passed.
std::string outputLossText(int err, std::chrono::milliseconds writeTimeout);

class OutputSink : public std::enable_shared_from_this<OutputSink> {
public:
    static constexpr size_t kBatchBytes = 256 * 1024;
    // Lines per batch at most: a line is at least a timestamp, a prefix, an address and a newline,
    // well over 16 bytes, so this bound is reached only by lines shorter than any template makes.
    static constexpr size_t kMaxLines = kBatchBytes / 16;
    static constexpr size_t kBatches = 4;  // handed over at once at most, besides the one the pump fills
    static constexpr std::chrono::seconds kErrorLogInterval{5};
    static constexpr std::chrono::seconds kPathCheckInterval{1};

    /// `target` is "-" for stdout or a file path opened by util/output_file's rules. Throws Error.
    static std::shared_ptr<OutputSink> open(const std::string& target, OutputFileMode mode, OutputSettings settings);
    /// Writes to an fd the caller owns (tests, benchmarks); a socket is sent to without blocking.
    static std::shared_ptr<OutputSink> adopt(int fd, OutputSettings settings);
    ~OutputSink();
    OutputSink(const OutputSink&) = delete;
    OutputSink& operator=(const OutputSink&) = delete;

    /// Pump thread: the batch being filled.
    OutputBatch& fill() noexcept { return *fill_; }
    /// Pump thread: hands the batch being filled to the writer when a free one can take its place
    /// (true). Otherwise, with `full` (the batch has no room left) its lines are counted lost
    /// (queue full) and it is emptied; without, it is kept to be filled further. Never blocks.
    bool handOff(bool full) noexcept;
    /// Any thread: the events file is opened again by path before the next write (SIGUSR1).
    void requestReopen() noexcept;
    /// Any thread but the pump's while it runs: waits until every batch handed over is written or
    /// counted; false when `deadline` came first.
    bool waitIdle(std::chrono::steady_clock::time_point deadline);
    /// Hands over what the pump left (waiting for room until `deadline`, else counted lost), lets
    /// the writer finish (each batch bounded by the write timeout and `deadline`) and ends the
    /// thread. A thread stuck in a write the kernel does not interrupt (a regular file on a hung
    /// share) is left behind, logged, and what it holds counted lost. Never throws.
    void close(std::chrono::steady_clock::time_point deadline) noexcept;

    uint64_t written() const { return written_.load(std::memory_order_relaxed); }
    uint64_t lost() const { return lost_.load(std::memory_order_relaxed); }
    uint64_t lost(LossReason r) const { return lostBy_[size_t(r)].load(std::memory_order_relaxed); }
    uint64_t writeErrors() const { return writeErrors_.load(std::memory_order_relaxed); }
    int lastError() const { return lastError_.load(std::memory_order_relaxed); }
    uint64_t reopens() const { return reopens_.load(std::memory_order_relaxed); }
    const std::string& name() const { return name_; }
    std::chrono::milliseconds writeTimeout() const { return settings_.writeTimeout; }

private:
    explicit OutputSink(OutputSettings settings);
    void start();
    void run() noexcept;
    /// Writer thread (or the caller, unthreaded): writes the batch, waiting for room until its
    /// deadline, and settles its lines.
    void writeBatch(OutputBatch& b, std::chrono::steady_clock::time_point deadline) noexcept;
    ssize_t put(const char* p, size_t n) noexcept;
    void count(const OutputBatch& b, size_t done, int err, LossReason why) noexcept;
    void logWriteError(int err, uint64_t lostNow) noexcept;
    void logQueueDrops() noexcept;
    void maintain() noexcept;  // reopen on request, notice a renamed file, retry a sink that is not open
    void checkPath() noexcept;
    void reopen(const char* why) noexcept;
    void take(OutputOpen&& opened) noexcept;
    void closeSink(int err, const char* why, const std::string& reason) noexcept;

    const OutputSettings settings_;
    std::string name_;
    // Writer thread only (or the caller, unthreaded), after construction.
    std::unique_ptr<OutputFile> file_;  // the events file's folder and name; null for stdout or a caller's fd
    OutputKind kind_ = OutputKind::Regular;
    UniqueFd owned_;
    int fd_ = -1;
    bool socket_ = false;     // send(MSG_DONTWAIT) rather than write
    int sinkError_ = 0;       // while fd_ < 0: why there is no sink (ENXIO, EPIPE, ELOOP, EPERM, ...)
    std::string sinkReason_;  // ... in words, logged once per change
    bool brokenLine_ = false;  // a partial write left a line without its newline in the sink
    std::chrono::steady_clock::time_point nextPathCheck_{}, nextErrorLog_{}, nextDropLog_{};
    uint64_t lostSinceLog_ = 0, dropsLogged_ = 0;
    // The queue.
    std::vector<std::unique_ptr<OutputBatch>> all_;
    OutputBatch* fill_ = nullptr;             // pump thread
    std::mutex mutex_;
    std::condition_variable ready_, idle_;
    std::vector<OutputBatch*> free_;           // under mutex_
    std::deque<OutputBatch*> queued_;          // under mutex_, oldest first
    bool writing_ = false, closing_ = false;   // under mutex_
    std::chrono::steady_clock::time_point closeDeadline_{};  // under mutex_
    std::thread thread_;
    // Counters, any thread.
    std::atomic<uint64_t> written_{0}, lost_{0}, writeErrors_{0}, reopens_{0};
    std::array<std::atomic<uint64_t>, 4> lostBy_{};
    std::atomic<int> lastError_{0};
    std::atomic<bool> reopenRequested_{false};
};

}  // namespace fizzhost::runtime
