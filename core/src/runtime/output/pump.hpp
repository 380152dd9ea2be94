// The message pump: one thread that drains every active message source into the event writer.
// Each source hands its messages to its plugin's decoder (a confined worker by default) and writes
// the results as they come back; each round the pump also supervises the workers (restarts,
// deadlines, strikes), so a worker that died is replaced from this thread, which lives as long as
// the host's pump. While any message is in flight in a worker the pump does not sleep (it yields
// the CPU between rounds): a result is written as soon as it is there.
// No transport signals it (the ring's heads are polled through mmap, queue maps cannot signal), so
// while any source exists it polls: without pause while messages arrive, else on a backoff from
// 1 ms doubling to kMaxIdleMs = 16 ms, which keeps an idle host far below 1% of a core.
//
// Latency bound, frame to event: a message waits at most one idle interval (16 ms) before a pass
// drains it, and every pass ends with a flush of the event writer: under 16 ms plus the time to
// decode and write what waits (microseconds at a trickle). The ring's default size holds 20 ms at
// line rate, more than one idle interval.
#pragma once

#include "decoder/decoder_service.hpp"
#include "runtime/output/event_writer.hpp"
#include "runtime/output/message_source.hpp"
#include "util/unique_fd.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace fizzhost::runtime {

class Pump {
public:
    /// `writer` and `decoders` must outlive the pump.
    Pump(EventWriter& writer, decoder::DecoderService& decoders);
    ~Pump();  // stops (final drain) if still running

    void start();
    /// Drains everything still waiting, flushes and joins the thread.
    void stop();

    /// Starts draining `source`. Thread-safe.
    void add(std::shared_ptr<MessageSource> source);
    /// Stops draining `source` after emptying it completely and once every message taken from it
    /// is settled (written or counted lost, and freed in its transport: within the write timeout
    /// when the output stalls), then releases it (and with it the program, its maps and, when
    /// last, the plugin module). Call only once nothing can push into it any more (after
    /// bpf::waitForInflightPrograms()). Blocks until done. Thread-safe.
    void retire(const std::shared_ptr<MessageSource>& source);

    /// The service the sources' decoders run in (MessageSource takes its channel from it).
    decoder::DecoderService& decoders() { return decoders_; }

    /// Makes the thread run a pass (and so flush the writer) now, even with no source. Thread-safe.
    void wake();

private:
    void run();
    size_t drainAll(const std::vector<std::shared_ptr<MessageSource>>& sources);
    // Drains `sources` until nothing waits in their transports and nothing is in flight in a
    // decoder (a result, or the verdict on a message a worker died on twice), supervising the
    // workers meanwhile.
    void empty(const std::vector<std::shared_ptr<MessageSource>>& sources);

    EventWriter& writer_;
    decoder::DecoderService& decoders_;
    UniqueFd epoll_, wakeFd_;
    std::thread thread_;
    std::mutex mutex_;
    std::condition_variable retired_;
    std::vector<std::shared_ptr<MessageSource>> sources_, retiring_;
    std::vector<MessageSource*> unretired_;  // retire() waits for its source to leave this
    uint64_t version_ = 0;
    bool stopping_ = false, running_ = false;
};

}  // namespace fizzhost::runtime
