// The events output's writer thread against a real FIFO whose reader stopped: the pump's side
// (write, flush) never waits for it, what the sink does not take within the write timeout is
// counted lost for that reason, the pump's lines beyond the bounded queue are counted lost as
// queue full (never silently), close() ends within the write timeout, and events flow again
// once the reader reads.
#include "runtime/output/event_writer.hpp"
#include "support/daemon_process.hpp"
#include "util/unique_fd.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

using namespace fizzhost;
using runtime::EventFormat;
using runtime::LossReason;

namespace {

auto deadline() { return std::chrono::steady_clock::now() + std::chrono::seconds(30); }

fizzhost_event eventFrom(uint32_t i) {
    fizzhost_event e{};
    e.kind = i % 2;
    e.src_addr = 0xC6120000u + (i & 0xffff);
    return e;
}

// Everything the FIFO holds now, as complete lines (a line cut by a timed-out write is left out).
size_t readLines(int fd, std::string& partial) {
    size_t lines = 0;
    char buf[65536];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) {
        partial.append(buf, size_t(n));
        for (size_t nl; (nl = partial.find('\n')) != std::string::npos; partial.erase(0, nl + 1))
            lines += partial.compare(0, 7, "{\"ts\":\"") == 0 ? 1 : 0;
    }
    return lines;
}

}  // namespace

TEST_CASE("a FIFO whose reader stopped never holds up the pump: lines are counted lost for the write timeout or "
          "a full queue, and flow again when the reader reads",
          "[unit][threads]") {
    test::TempDir dir;
    const auto path = dir.path() / "events.fifo";
    REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
    UniqueFd reader(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    REQUIRE(reader);
    runtime::EventWriter w(path.string(), EventFormat::Json, {},
                           runtime::OutputSettings{std::chrono::milliseconds(1000), true});
    runtime::EventTemplate tpl(EventFormat::Json, {"fzlab0", "fizz", "1.0.0", "baseline"}, {"Fizz", "Buzz"});
    auto counts = std::make_shared<runtime::OutputCounters>();

    // Far more than the pipe (1 MiB at most) and the queue (five batches of 256 KiB) hold: the
    // writer finds the pipe full and waits; the pump goes on, its lines beyond the queue dropped.
    constexpr uint32_t kEvents = 200000;  // about 30 MB
    for (uint32_t i = 0; i < kEvents; ++i) {
        w.write(tpl, eventFrom(i), nullptr, counts);
        if (i % 512 == 511) w.flush();  // the pump's batch
    }
    w.flush();
    REQUIRE(w.sync(deadline()));  // the writer gave up on what waited past the write timeout
    CHECK(w.written() + w.lost() == kEvents);
    CHECK(counts->written + counts->lost == kEvents);
    CHECK(w.lost(LossReason::WriteTimeout) > 0);
    CHECK(w.lost(LossReason::QueueFull) > 0);
    CHECK(w.lost() == w.lost(LossReason::WriteTimeout) + w.lost(LossReason::QueueFull));
    CHECK(w.lastError() == ETIMEDOUT);
    CHECK_THAT(w.lastErrorText(), Catch::Matchers::Contains("write_timeout_ms = 1000"));
    std::string partial;
    const size_t inPipe = readLines(reader.get(), partial);
    CHECK(inPipe == w.written());
    partial.clear();  // a line cut by the timed-out write: the writer ends it with a newline first

    // The reader reads again: the next events all arrive, whole.
    const uint64_t writtenBefore = w.written(), lostBefore = w.lost();
    for (uint32_t i = 0; i < 1000; ++i) w.write(tpl, eventFrom(i), nullptr, counts);
    REQUIRE(w.sync(deadline()));
    CHECK(w.written() == writtenBefore + 1000);
    CHECK(w.lost() == lostBefore);
    CHECK(readLines(reader.get(), partial) == 1000);
}

TEST_CASE("close() with a stalled reader ends after the write timeout and counts what it could not write",
          "[unit][threads]") {
    test::TempDir dir;
    const auto path = dir.path() / "events.fifo";
    REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
    UniqueFd reader(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    REQUIRE(reader);
    runtime::EventWriter w(path.string(), EventFormat::Text, {},
                           runtime::OutputSettings{std::chrono::milliseconds(100), true});
    runtime::EventTemplate tpl(EventFormat::Text, {"fzlab0", "fizz", "1.0.0", "baseline"}, {"Fizz", "Buzz"});
    constexpr uint32_t kEvents = 50000;
    for (uint32_t i = 0; i < kEvents; ++i) w.write(tpl, eventFrom(i));
    w.close();  // the pump has stopped: what it left is written within the timeout, or counted
    CHECK(w.written() + w.lost() == kEvents);
    CHECK(w.lost() > 0);
    CHECK(w.written() > 0);
}
