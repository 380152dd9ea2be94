// A batch of event lines on its way from the pump to the events output, and the per-source counts
// its lines settle into. The pump fills a batch; the output's writer thread writes it and counts
// each line written or lost, then stores the batch's settle words (the transports' tails: the
// messages behind those lines are done with); then the batch is filled again. Nothing in it is
// allocated per line.
#pragma once

#include "runtime/instance/settle_word.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace fizzhost::runtime {

/// What became of one message source's events at the output: written (the write that carried them
/// succeeded) or lost (it failed, timed out, or found the queue full). Shared between the source
/// and the batches that still carry its lines, so a source retired meanwhile is still counted.
struct OutputCounters {
    std::atomic<uint64_t> written{0}, lost{0};
};

/// Why lines were lost, for the counters by reason (status, metrics, the log).
enum class LossReason { WriteError, WriteTimeout, QueueFull, NoSink };

struct OutputBatch {
    static constexpr uint32_t kNoOwner = UINT32_MAX;      // an event nobody counts but the writer
    static constexpr uint32_t kRecord = UINT32_MAX - 1;   // a control-plane record, not an event
    struct Line {
        uint32_t owner;  // index into owners, or kNoOwner / kRecord
        size_t end;      // offset just past the line's newline
    };

    OutputBatch(size_t bytes, size_t maxLines) : data(bytes), lines(std::make_unique<Line[]>(maxLines)), maxLines(maxLines) {
        owners.reserve(maxLines);  // one entry per run of lines of one source: never more than the lines
        marks.reserve(kMaxMarks);
    }
    static constexpr size_t kMaxMarks = 1024;  // settle words per batch (a word per source and CPU moved)
    static constexpr size_t kCoalesceLookback = 64;

    bool empty() const { return lineCount == 0 && marks.empty(); }
    /// Room for `bytes` more bytes and one more line.
    bool fits(size_t bytes) const { return used + bytes <= data.size() && lineCount < maxLines; }
    /// Pump thread: the owner index for `c`, added when it differs from the last line's. Never
    /// allocates (owners has room for maxLines entries).
    uint32_t ownerOf(const std::shared_ptr<OutputCounters>& c) noexcept {
        if (!c) return kNoOwner;
        if (owners.empty() || owners.back() != c) owners.push_back(c);
        return uint32_t(owners.size() - 1);
    }
    /// Empties the lines; the settle words stay (see settle()).
    void clearLines() noexcept {
        used = 0;
        lineCount = 0;
        owners.clear();
    }
    /// Any thread, once the lines are counted: stores the settle words in order, then empties the batch.
    void settle() noexcept {
        for (const SettleWord& w : marks) w.apply();
        marks.clear();
        clearLines();
    }
    /// Pump thread: adds a settle word to apply after the lines before it; false when the batch
    /// has no room for one more (try again after a hand-over). Never allocates.
    bool mark(SettleWord&& w) noexcept {
        // The words are stored together once the whole batch is settled, so a later value of a
        // word already here replaces it: a source that settles a few messages per pass (a
        // confined decoder's results) adds no word per pass, and the batch is not handed over
        // early for want of room. Looked for among the last few only (the words of the sources
        // and CPUs active now).
        const size_t from = marks.size() > kCoalesceLookback ? marks.size() - kCoalesceLookback : 0;
        if (supersede(marks.data() + from, marks.data() + marks.size(), w)) return true;
        if (marks.size() == kMaxMarks) return false;
        marks.push_back(std::move(w));
        return true;
    }

    std::vector<char> data;
    size_t used = 0;
    std::unique_ptr<Line[]> lines;
    size_t lineCount = 0;
    const size_t maxLines;
    std::vector<std::shared_ptr<OutputCounters>> owners;
    std::vector<SettleWord> marks;  // in the order named; after every line of this batch
    std::chrono::steady_clock::time_point handed{};  // when the pump handed it over: its write deadline starts
};

/// Counts the batch's event lines ending within the first `done` bytes as written, the others as
/// lost, per owner (one atomic add per run of lines of one source and fate). Returns {written, lost}.
/// Any thread; never throws.
struct Settled {
    uint64_t written = 0, lost = 0;
};
Settled settleBatch(const OutputBatch& b, size_t done) noexcept;

}  // namespace fizzhost::runtime
