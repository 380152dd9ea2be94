// The events output's accounting, kernel-free: a write that fails or takes only part of a batch
// counts exactly the lines that reached the sink as written and the rest as lost, per source; the
// events file is reopened after a rename; the counters are read from other threads while the pump
// thread writes.
#include "runtime/output/event_writer.hpp"
#include "support/daemon_process.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

using namespace fizzhost;
using runtime::EventFormat;

namespace {

runtime::EventTemplate templateFor(const std::string& variant) {
    return runtime::EventTemplate(EventFormat::Json, {"fzlab0", "fizzbuzz", "2.0.0", variant}, {"Fizz", "Buzz"});
}

fizzhost_event eventFrom(uint32_t i) {
    fizzhost_event e{};
    e.kind = i % 2;
    e.src_addr = 0xC6120000u + i;
    return e;
}

std::string readAll(int fd) {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, size_t(n));
    return out;
}

std::vector<std::string> linesOf(const std::string& text) {
    std::vector<std::string> out;
    size_t at = 0;
    for (size_t nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1) out.push_back(text.substr(at, nl - at));
    return out;
}

// A bound for sync(), far beyond what a write to a file or a pipe with room takes: reached only
// when the writer is broken.
std::chrono::steady_clock::time_point kDeadline() { return std::chrono::steady_clock::now() + std::chrono::seconds(30); }

size_t linesFile(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return linesOf(all).size();
}

}  // namespace

TEST_CASE("a write that takes part of a batch counts exactly the lines it wrote, per source", "[unit]") {
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    // A non-blocking pipe of one page: the batch's first write takes 4096 bytes, the next says EAGAIN.
    REQUIRE(::fcntl(p[1], F_SETPIPE_SZ, 4096) >= 4096);
    const size_t capacity = size_t(::fcntl(p[1], F_GETPIPE_SZ));
    REQUIRE(::fcntl(p[1], F_SETFL, O_NONBLOCK) == 0);
    REQUIRE(::fcntl(p[0], F_SETFL, O_NONBLOCK) == 0);

    // Nobody reads until the batch's write timeout passed: what did not fit is counted lost.
    runtime::EventWriter w(p[1], EventFormat::Json, runtime::OutputSettings{std::chrono::milliseconds(50), true});
    const auto base = templateFor("baseline"), cand = templateFor("candidate");
    auto ca = std::make_shared<runtime::OutputCounters>(), cb = std::make_shared<runtime::OutputCounters>();
    auto &a = *ca, &b = *cb;
    constexpr uint32_t kEvents = 300;  // about 130 bytes each: far more than the pipe holds
    for (uint32_t i = 0; i < kEvents; ++i)
        i % 3 == 0 ? w.write(cand, eventFrom(i), nullptr, cb) : w.write(base, eventFrom(i), nullptr, ca);
    REQUIRE(w.sync(kDeadline()));

    const std::string got = readAll(p[0]);
    CHECK(got.size() == capacity);
    const auto lines = linesOf(got);  // the complete lines; a cut one has no newline
    size_t inA = 0, inB = 0;
    for (const auto& l : lines) (l.find("\"candidate\"") != std::string::npos ? inB : inA)++;
    INFO("pipe took " << got.size() << " bytes, " << lines.size() << " complete lines");
    CHECK(lines.size() > 0);
    CHECK(w.written() == lines.size());
    CHECK(w.lost() == kEvents - lines.size());
    CHECK(a.written == inA);
    CHECK(b.written == inB);
    CHECK(a.written + a.lost + b.written + b.lost == kEvents);
    CHECK(b.written + b.lost == kEvents / 3);
    CHECK(w.writeErrors() == 1);
    CHECK(w.lastError() == ETIMEDOUT);
    CHECK(w.lost(runtime::LossReason::WriteTimeout) == w.lost());

    // Room again: the cut line is ended before the next batch, so that batch's lines stay whole.
    const bool cut = got.back() != '\n';
    for (uint32_t i = 0; i < 5; ++i) w.write(base, eventFrom(i), nullptr, ca);
    REQUIRE(w.sync(kDeadline()));
    const auto next = linesOf(readAll(p[0]));
    CHECK(next.size() == (cut ? 6u : 5u));
    for (size_t i = cut ? 1 : 0; i < next.size(); ++i) CHECK(next[i].rfind("{\"ts\":", 0) == 0);
    CHECK(w.written() == lines.size() + 5);
    CHECK(w.writeErrors() == 1);
    ::close(p[0]);
    ::close(p[1]);
}

TEST_CASE("events written to /dev/full are counted lost with ENOSPC, none written", "[unit]") {
    runtime::EventWriter w(std::string("/dev/full"), EventFormat::Text);
    runtime::EventTemplate tpl(EventFormat::Text, {"fzlab0", "fizz", "1.0.0", "baseline"}, {"Fizz"});
    auto cc = std::make_shared<runtime::OutputCounters>();
    auto& c = *cc;
    for (uint32_t i = 0; i < 20; ++i) w.write(tpl, eventFrom(i * 2), nullptr, cc);
    REQUIRE(w.sync(kDeadline()));
    CHECK(w.written() == 0);
    CHECK(w.lost() == 20);
    CHECK(c.lost == 20);
    CHECK(c.written == 0);
    CHECK(w.lastError() == ENOSPC);
}

TEST_CASE("the events file is opened again when asked and when it was renamed", "[unit]") {
    test::TempDir dir;
    const auto path = dir.path() / "events.jsonl";
    runtime::EventWriter w(path.string(), EventFormat::Json);
    const auto tpl = templateFor("baseline");
    auto one = [&](uint32_t i) {
        w.write(tpl, eventFrom(i));
        REQUIRE(w.sync(kDeadline()));
    };
    one(1);
    std::filesystem::rename(path, dir.path() / "events.jsonl.1");
    one(2);  // the rename is not checked again within the interval: still the old file
    CHECK(linesFile(dir.path() / "events.jsonl.1") == 2);
    CHECK_FALSE(std::filesystem::exists(path));

    w.requestReopen();  // SIGUSR1's way: at once
    one(3);
    CHECK(linesFile(path) == 1);
    CHECK(w.reopens() == 1);

    // Unasked: the check notices the rename within the interval.
    std::filesystem::rename(path, dir.path() / "events.jsonl.2");
    std::this_thread::sleep_for(runtime::EventWriter::kPathCheckInterval + std::chrono::milliseconds(100));
    one(4);
    CHECK(linesFile(path) == 1);
    CHECK(linesFile(dir.path() / "events.jsonl.2") == 1);
    CHECK(w.reopens() == 2);
    CHECK(w.written() == 4);
    CHECK(w.lost() == 0);
}

TEST_CASE("the output's counters are read from other threads while the pump thread writes", "[unit][threads]") {
    test::TempDir dir;
    runtime::EventWriter w((dir.path() / "events.jsonl").string(), EventFormat::Json);
    const auto tpl = templateFor("baseline");
    auto cc = std::make_shared<runtime::OutputCounters>();
    auto& c = *cc;
    constexpr uint32_t kEvents = 20000;
    std::atomic<bool> done{false};
    std::atomic<uint64_t> reads{0}, backwards{0};
    std::thread reader([&] {
        uint64_t last = 0;
        while (!done) {
            const uint64_t now = w.written() + w.lost() + c.written + w.writeErrors() + w.reopens();
            if (now < last) ++backwards;
            last = now;
            if (++reads % 64 == 0) w.requestReopen();
        }
    });
    while (reads == 0) std::this_thread::yield();  // both at work at once
    for (uint32_t i = 0; i < kEvents; ++i) {
        w.write(tpl, eventFrom(i), nullptr, cc);
        if (i % 100 == 99) w.flush();
    }
    REQUIRE(w.sync(kDeadline()));
    done = true;
    reader.join();
    CHECK(reads > 0);
    CHECK(backwards == 0);
    // This loop outruns any writer (no decoding between lines): what did not fit the output's
    // queue is counted lost for that reason, never silently gone.
    CHECK(w.written() > 0);
    CHECK(w.written() + w.lost() == kEvents);
    CHECK(w.lost() == w.lost(runtime::LossReason::QueueFull));
    CHECK(c.written + c.lost == kEvents);
    CHECK(c.written == w.written());
}
