// A message leaves its transport only once its event line is written out or counted lost: a host
// killed with messages in its decoder or its output queue leaves them in the pinned regions for the
// next start (ring), or leaves a count the next start reports as lost (queue). Real fizz program,
// run with BPF_PROG_TEST_RUN; the events go into a real pipe that is not read until the test says.
#include "bpf/cpu_regions.hpp"
#include "bpf/test_run.hpp"
#include "decoder/decoder_service.hpp"
#include "measure/frames.hpp"
#include "plugin/catalog.hpp"
#include "runtime/instance/classifier.hpp"
#include "runtime/instance/transport_reader.hpp"
#include "runtime/output/event_writer.hpp"
#include "runtime/output/message_source.hpp"
#include "support/privilege.hpp"
#include "support/wait.hpp"
#include "util/unique_fd.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <string>

using namespace fizzhost;

namespace {

constexpr uint32_t kFizzSource = 0xC6120003;  // 198.18.0.3: a Fizz, one message per run

// The fizz plugin's program, loaded with `opts`.
struct Fizz {
    explicit Fizz(runtime::ClassifierOptions opts) : catalog(FIZZHOST_PLUGIN_DIR, plugin::FilePolicy{}) {
        catalog.rescan();
        classifier = runtime::Classifier::load(catalog.find("fizz"), opts);
    }
    plugin::Catalog catalog;
    std::unique_ptr<runtime::Classifier> classifier;
};

runtime::ClassifierOptions ringOptions() {
    runtime::ClassifierOptions opts;
    opts.ringSlots = 4096;
    return opts;
}

// Messages the ring holds (head - tail) over every CPU, read through a mapping of our own.
struct RingView {
    explicit RingView(const runtime::Classifier& c)
        : regions(c.regionsFd(), c.cpus(), c.regionSize(), c.ringSlots(), FIZZ_SLOT_SIZE(c.plugin().messageSize())) {}
    uint64_t heads() const { return sum(&fizz_region_header::head); }
    uint64_t tails() const { return sum(&fizz_region_header::tail); }
    uint64_t sum(__u64 fizz_region_header::*field) const {
        uint64_t n = 0;
        for (unsigned cpu = 0; cpu < regions.cpus(); ++cpu)
            n += std::atomic_ref<__u64>(regions.header(cpu).*field).load(std::memory_order_acquire);
        return n;
    }
    bpf::CpuRegions regions;
};

// Reads what the pipe holds without waiting; returns the bytes read.
size_t readAvailable(int fd, std::string& into) {
    char buf[65536];
    size_t total = 0;
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) return total;
        into.append(buf, size_t(n));
        total += size_t(n);
    }
}

size_t countOf(const std::string& s, const std::string& what) {
    size_t n = 0;
    for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
    return n;
}

}  // namespace

TEST_CASE("a ring message is freed only once its event line is written out", "[bpf][output]") {
    if (!test::requirePrivilege("loads a BPF program and runs it with BPF_PROG_TEST_RUN")) return;
    Fizz fizz(ringOptions());
    auto& classifier = fizz.classifier;
    const RingView ring(*classifier);

    // A pipe whose reader does not read yet: filled up first, so the writer thread cannot write.
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0);
    UniqueFd readEnd(fds[0]), writeEnd(fds[1]);
    const std::string filler(4096, '#');
    while (::write(writeEnd.get(), filler.data(), filler.size()) > 0) {
    }
    runtime::OutputSettings settings;
    settings.writeTimeout = std::chrono::seconds(60);
    runtime::EventWriter writer(writeEnd.get(), runtime::EventFormat::Json, settings);
    DecoderSettings decoding;
    decoding.isolation = DecoderIsolation::None;
    decoder::DecoderService decoders(decoding);
    runtime::MessageSource source(std::move(classifier), {"fzsettle0", "fizz", "1.0.0", "baseline"}, writer, decoders);

    constexpr uint32_t kMessages = 300;
    bpf::testRun(source.classifier().programFd(), measure::udpFrame(kFizzSource), kMessages);
    REQUIRE(ring.heads() == kMessages);
    // Taken, decoded and queued for the writer: nothing is freed while the line is not written.
    while (source.drain(SIZE_MAX) != 0) {
    }
    writer.flush();
    REQUIRE(source.inFlight() == 0);
    CHECK(test::holdsFor([&] { return ring.tails() == 0 && !source.settled(); }, std::chrono::milliseconds(200)));
    CHECK(source.delivered() == 0);

    // The reader reads: the lines go out, and only then the slots are freed.
    std::string out;
    REQUIRE(test::waitUntil(
        [&] {
            readAvailable(readEnd.get(), out);
            return source.delivered() == kMessages;
        },
        std::chrono::seconds(20)));
    REQUIRE(test::waitUntil([&] { return source.settled(); }, std::chrono::seconds(20)));
    CHECK(ring.tails() == kMessages);
    readAvailable(readEnd.get(), out);
    CHECK(countOf(out, "\"kind\":\"Fizz\"") == kMessages);
}

TEST_CASE("a ring message whose line is counted lost is freed; one taken and never settled is read again",
          "[bpf][output]") {
    if (!test::requirePrivilege("loads a BPF program and runs it with BPF_PROG_TEST_RUN")) return;
    Fizz fizz(ringOptions());
    auto& classifier = fizz.classifier;
    const RingView ring(*classifier);
    bpf::testRun(classifier->programFd(), measure::udpFrame(kFizzSource), 40);

    // A reader that takes and never settles (a host killed before its writes): the next reader of
    // the same regions hands the same messages on again.
    {
        runtime::TransportReader first(*classifier);
        CHECK(first.take(SIZE_MAX, [](const void*, uint32_t) {}) == 40);
        CHECK(first.unsettled() == 40);
    }
    CHECK(ring.tails() == 0);
    runtime::TransportReader second(*classifier);
    CHECK(second.lostBeforeOpen() == 0);
    CHECK(second.take(SIZE_MAX, [](const void*, uint32_t) {}) == 40);

    // Settled (counted lost, say): the words named are stored by whoever applies them, in order.
    std::vector<runtime::SettleWord> words;
    second.settle(25, [&](runtime::SettleWord&& w) { words.push_back(std::move(w)); });
    CHECK(ring.tails() == 0);  // named, not yet applied
    for (const auto& w : words) w.apply();
    CHECK(ring.tails() == 25);
    CHECK(second.unsettled() == 15);
    words.clear();
    second.settle(15, [&](runtime::SettleWord&& w) { words.push_back(std::move(w)); });
    for (const auto& w : words) w.apply();
    CHECK(ring.tails() == 40);
    CHECK(second.unsettled() == 0);
}

TEST_CASE("queue messages popped and never settled are counted lost by the next reader, once", "[bpf][output]") {
    if (!test::requirePrivilege("loads a BPF program and runs it with BPF_PROG_TEST_RUN")) return;
    runtime::ClassifierOptions opts;
    opts.transport = FIZZ_TRANSPORT_QUEUE;
    opts.queueSize = 256;
    Fizz fizz(opts);
    auto& classifier = fizz.classifier;
    bpf::testRun(classifier->programFd(), measure::udpFrame(kFizzSource), 30);
    {
        runtime::TransportReader first(*classifier);
        CHECK(first.lostBeforeOpen() == 0);
        CHECK(first.take(20, [](const void*, uint32_t) {}) == 20);
        std::vector<runtime::SettleWord> words;
        first.settle(12, [&](runtime::SettleWord&& w) { words.push_back(std::move(w)); });
        for (const auto& w : words) w.apply();
        CHECK(first.unsettled() == 8);
    }  // gone with 8 popped and not settled
    runtime::TransportReader second(*classifier);
    CHECK(second.lostBeforeOpen() == 8);
    CHECK(second.drain(SIZE_MAX, [](const void*, uint32_t) {}) == 10);  // the rest, still queued
    CHECK(second.unsettled() == 0);
    runtime::TransportReader third(*classifier);
    CHECK(third.lostBeforeOpen() == 0);  // counted once
}
