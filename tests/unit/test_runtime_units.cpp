// Userspace logic of the runtime that needs no kernel: event formatting, addresses, the split hash.
#include "bpf/cpu_regions.hpp"
#include "measure/frames.hpp"
#include "runtime/instance/classifier.hpp"
#include "runtime/rollout/dispatcher.hpp"
#include "runtime/output/event_writer.hpp"
#include "support/frame_builder.hpp"
#include "support/reference.hpp"
#include "util/address.hpp"

#include <catch2/catch.hpp>
#include <fizz/shared.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <ctime>
#include <regex>

using namespace fizzhost;

namespace {

std::string writeAndRead(runtime::EventFormat format, const std::vector<fizzhost_event>& events) {
    // A file, not a pipe: a large batch would fill a pipe nobody reads yet.
    char path[] = "/tmp/fizzhost-events-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    unlink(path);
    {
        runtime::EventWriter w(fd, format);
        runtime::EventTemplate tpl(format, {"fzlab0", "fizzbuzz", "2.0.0", "candidate"}, {"Fizz", "Buzz", "FizzBuzz"});
        for (const auto& e : events) w.write(tpl, e);
        REQUIRE(w.sync(std::chrono::steady_clock::now() + std::chrono::seconds(30)));
        CHECK(w.written() == events.size());
    }
    std::string out;
    char buf[4096];
    ssize_t n;
    REQUIRE(lseek(fd, 0, SEEK_SET) == 0);
    while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, size_t(n));
    close(fd);
    return out;
}

}  // namespace

TEST_CASE("events are written as one JSON object or text line each, with every field", "[unit]") {
    auto json = writeAndRead(runtime::EventFormat::Json, {{2, 0xC612000F, 0}, {1, 0xC6120005, 0}, {9, 1, 0}});
    std::istringstream lines(json);
    std::string line;
    std::vector<nlohmann::json> parsed;
    while (std::getline(lines, line)) parsed.push_back(nlohmann::json::parse(line));
    REQUIRE(parsed.size() == 3);
    // Each event carries the wall clock's time when it was written out of the pump, RFC 3339 in
    // UTC with microseconds, and the lines are in time order.
    const std::regex stamp(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)");
    for (auto& p : parsed) {
        REQUIRE(p.contains("ts"));
        CHECK(std::regex_match(p["ts"].get<std::string>(), stamp));
    }
    CHECK(parsed[0]["ts"].get<std::string>() <= parsed[2]["ts"].get<std::string>());
    const auto t0 = parsed[0]["ts"].get<std::string>();
    const time_t now = time(nullptr);
    char today[16];
    strftime(today, sizeof today, "%Y-%m-%d", gmtime(&now));
    CHECK((t0.rfind(today, 0) == 0 || now % 86400 < 5));  // UTC, today (unless the day just turned)
    for (auto& p : parsed) p.erase("ts");
    CHECK(parsed[0] == nlohmann::json{{"iface", "fzlab0"}, {"plugin", "fizzbuzz"}, {"version", "2.0.0"},
                                      {"variant", "candidate"}, {"kind", "FizzBuzz"}, {"src", "198.18.0.15"}});
    CHECK(parsed[1]["kind"] == "Buzz");
    CHECK(parsed[2]["kind"] == "unknown");
    CHECK(parsed[2]["src"] == "0.0.0.1");
    const auto text = writeAndRead(runtime::EventFormat::Text, {{0, 0xC6120003, 0}});
    CHECK(std::regex_match(text.substr(0, 28), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z )")));
    CHECK(text.substr(28) == "fzlab0 fizzbuzz 2.0.0 candidate Fizz 198.18.0.3\n");
}

TEST_CASE("a large batch of events is written completely", "[unit]") {
    std::vector<fizzhost_event> many(20000, fizzhost_event{0, 0xffffffff, 0});
    auto out = writeAndRead(runtime::EventFormat::Text, many);
    CHECK(std::count(out.begin(), out.end(), '\n') == 20000);
}

TEST_CASE("addresses parse and format in both notations", "[unit]") {
    CHECK(parseAddress("198.18.0.15") == 0xC612000Fu);
    CHECK(parseAddress("3323068431") == 0xC612000Fu);
    CHECK(parseAddress("0xC612000F") == 0xC612000Fu);
    CHECK_FALSE(parseAddress("198.18.0.256"));
    CHECK_FALSE(parseAddress("4294967296"));
    CHECK_FALSE(parseAddress("fizz"));
    CHECK(formatAddress(0) == "0.0.0.0");
    CHECK(formatAddress(0xffffffff) == "255.255.255.255");
}

TEST_CASE("the split hash sends about percent of sources to the candidate, 0 none and 100 all", "[unit]") {
    for (unsigned pct : {0u, 1u, 10u, 50u, 99u, 100u}) {
        size_t candidate = 0;
        for (uint32_t s = 0; s < 100000; ++s)
            candidate += test::referenceToCandidate(0xC6120000 + s, pct);
        if (pct == 0) CHECK(candidate == 0);
        else if (pct == 100) CHECK(candidate == 100000);
        else CHECK(std::abs(double(candidate) / 1000.0 - pct) < 1.0);
    }
}

TEST_CASE("the test frame builder makes valid headers", "[unit]") {
    using namespace fizzhost::test;
    auto f = FrameBuilder().ipv4(0xC612000F).ipOptions(2).udp().build();
    CHECK(f[12] == 0x08);
    CHECK(f[14] == 0x47);  // IHL 7
    CHECK(ipChecksum(&f[14], 28) == 0);
    auto q = FrameBuilder().vlan(10).vlan(20).ipv4(1).udp().build();
    CHECK((q[12] << 8 | q[13]) == 0x88a8);
    CHECK((q[16] << 8 | q[17]) == 0x8100);
    CHECK((q[20] << 8 | q[21]) == 0x0800);
    CHECK(referenceKind("fizzbuzz", 0xC612000F) == std::optional<std::string>("Fizz"));  // 3323068431: /3, not /5
    CHECK(referenceKind("fizzbuzz", 15) == std::optional<std::string>("FizzBuzz"));
    CHECK(referenceKind("fibonacci", 0xC61200E9) == std::optional<std::string>("Fibonacci"));  // .233
    CHECK(referenceKind("fizz", 4) == std::nullopt);
}

TEST_CASE("ring sizes: the default rate holds a 20 ms stall at 10 GbE line rate over 8 CPUs, bounded at 128 CPUs",
          "[unit]") {
    // 14.88 M minimum-size frames a second, one message each, for 20 ms, spread over 8 receiving
    // CPUs: 37,200 slots per CPU; with fewer possible CPUs the rate is spread over those.
    const config::RingRate rate;
    CHECK(rate.slotsPerCpu(128) == 37200);
    CHECK(rate.slotsPerCpu(8) == 37200);
    CHECK(rate.slotsPerCpu(2) == 148800);
    CHECK(rate.slotsPerCpu(1) == 297600);
    CHECK(config::RingRate{1000, 1, 3}.slotsPerCpu(64) == 1);     // 1/3 of a message still needs a slot
    CHECK(config::RingRate{1e6, 7, 3}.slotsPerCpu(64) == 2334);   // 2333.3 rounded up
    CHECK(runtime::ringSlotsFor(8, 0, rate, 128) == 37200);
    // The issue's bound: at most 64 MB of regions per interface at 128 possible CPUs in the steady
    // state, at most twice that during a rollout (baseline and candidate); no spare at that size.
    const uint64_t at128 = runtime::regionsMapBytes(8, 37200, 128);
    CHECK(at128 == 128 * (256 + 37200 * 8));  // 38,125,568 bytes
    CHECK(at128 <= 64'000'000);
    CHECK(2 * at128 <= 128'000'000);
    CHECK(at128 > config::kAutoSpareMaxBytes);
    // Larger messages: a rate-sized ring is lowered to what fits, an explicit size that does not fit is refused.
    const config::RingRate fast{1e9, 20, 1};
    const uint32_t big = runtime::ringSlotsFor(16, 0, fast, 1);
    CHECK(big < fast.slotsPerCpu(1));
    CHECK(bpf::regionBytes(16, big) <= runtime::kMaxRegionBytes);
    CHECK(bpf::regionBytes(16, uint64_t(big) + 1) > runtime::kMaxRegionBytes);
    // An explicit ring_slots wins over the rate.
    CHECK(runtime::ringSlotsFor(16, 1000, fast, 1) == 1000);
    CHECK_THROWS_WITH(runtime::ringSlotsFor(16, 300000, rate, 2),
                      Catch::Contains("at most " + std::to_string(big) + " slots fit"));
    // A region is the 256-byte header plus 8-byte-rounded slots, rounded up to a cache line.
    CHECK(bpf::regionBytes(8, 0) == 256);
    CHECK(bpf::regionBytes(12, 3) == 256 + 64);
    CHECK(bpf::regionBytes(8, 8) == 256 + 64);
}
