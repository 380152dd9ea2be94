// DecoderChannel without a worker (isolation "none", the same ring and the same checks as a confined
// channel): results in submission order, back-pressure, a message too large for a slot, a kind out
// of range, typed fields; the shared layout; the [decoders] config table.
#include "config/config_loader.hpp"
#include "decoder/decoder_service.hpp"
#include "decoder/protocol.hpp"
#include "support/daemon_process.hpp"
#include "unit/decoder_harness.hpp"
#include "util/error.hpp"

#include <catch2/catch.hpp>

#include "plugins/fields_probe_msg.h"

using namespace fizzhost;
using namespace fizzhost::test;
using Catch::Matchers::Contains;
using Outcome = decoder::DecodeResult::Outcome;

namespace {

decoder::DecoderService inProcessService() {
    DecoderSettings s;
    s.isolation = DecoderIsolation::None;
    return decoder::DecoderService(s);
}

std::shared_ptr<const plugin::Plugin> testPlugin(const std::string& folder, const std::string& name) {
    return codeFreeCatalog(std::filesystem::path(FIZZHOST_TEST_PLUGIN_DIR) / folder).find(name);
}

}  // namespace

TEST_CASE("the shared layout: power-of-two rings of whole slots, inputs apart from outputs, inside the area",
          "[unit]") {
    using namespace decoder::protocol;
    for (uint32_t size : {1u, 8u, 12u, 64u, 4096u, 100000u})
        for (uint32_t fields : {0u, 3u, 16u}) {
            INFO(size << " bytes, " << fields << " fields");
            const Layout l = layoutFor(Mode::Decode, size, fields);
            CHECK(l.messageCapacity >= size);
            CHECK(l.messageCapacity % 8 == 0);
            CHECK(l.inputSize == sizeof(SlotInput) + l.messageCapacity);
            CHECK(l.outputSize == sizeof(SlotOutput) + fields * sizeof(fizzhost_field_value));
            CHECK((l.slotCount & (l.slotCount - 1)) == 0);
            CHECK(l.slotCount >= kMinSlots);
            CHECK(l.outputsOffset % 64 == 0);  // the outputs start on a cache line of their own
            CHECK(l.outputsOffset >= sizeof(ChannelHeader) + uint64_t(l.slotCount) * l.inputSize);
            CHECK(l.channelStride >= l.outputsOffset + uint64_t(l.slotCount) * l.outputSize);
            CHECK(l.channelStride % 4096 == 0);
            CHECK(l.size == l.channelsOffset + l.channelStride * kMaxChannels);
        }
    // fizz's 8-byte messages: 16-byte inputs, 24-byte outputs, 2048 slots: 84 KiB a channel, 21 MiB
    // of address space for 256 (touched only where used).
    const Layout fizz = layoutFor(Mode::Decode, 8, 0);
    CHECK(fizz.inputSize == 16);
    CHECK(fizz.outputSize == 24);
    CHECK(fizz.slotCount == 2048);
    CHECK(fizz.channelStride == 86016);
    CHECK(fizz.size == 4096 + 256ull * 86016);
}

TEST_CASE("a channel hands results back in order, holds back when full, refuses oversized messages", "[unit]") {
    auto service = inProcessService();
    auto channel = service.open(testPlugin("fizz-1.1.0", "fizz"));
    CHECK_FALSE(channel->confined());
    const size_t slots = channel->space();
    REQUIRE(slots == 2048);
    // Fill the ring: one more does not fit until results are taken.
    std::vector<FizzMsg> sent;
    for (size_t i = 0; i < slots; ++i) {
        FizzMsg m{0, uint32_t(0xC6120000 + i)};
        REQUIRE(channel->submit(&m, sizeof m));
        sent.push_back(m);
    }
    FizzMsg extra{0, 1};
    CHECK_FALSE(channel->submit(&extra, sizeof extra));
    CHECK(channel->inFlight() == slots);
    CHECK(channel->collect(SIZE_MAX, [](const decoder::DecodeResult&) {}) == 0);  // nothing published yet
    channel->publish();
    size_t n = 0;
    channel->collect(100, [&](const decoder::DecodeResult& r) {
        CHECK(r.ok());
        CHECK(r.event->src_addr == sent[n].saddr);
        CHECK(r.seq == n);
        ++n;
    });
    CHECK(n == 100);
    CHECK(channel->space() == 100);
    channel->collect(SIZE_MAX, [&](const decoder::DecodeResult& r) { CHECK(r.event->src_addr == sent[n++].saddr); });
    CHECK(n == slots);
    CHECK(channel->inFlight() == 0);

    // fizz refuses a kind it does not know; a message larger than a slot never reaches the decoder.
    const FizzMsg badKind{7, 1};
    const unsigned char big[64] = {};
    REQUIRE(channel->submit(&badKind, sizeof badKind));
    REQUIRE(channel->submit(big, sizeof big));
    REQUIRE(channel->submit(&badKind, 4));  // shorter than the message: the trampoline refuses it
    channel->publish();
    std::vector<int> rcs;
    channel->collect(SIZE_MAX, [&](const decoder::DecodeResult& r) {
        CHECK(r.outcome == Outcome::Refused);
        rcs.push_back(r.rc);
    });
    CHECK(rcs == std::vector<int>{-EINVAL, -EINVAL, -EINVAL});
}

TEST_CASE("a kind the plugin did not declare is reported, not delivered", "[unit]") {
    auto service = inProcessService();
    auto channel = service.open(testPlugin("no-program", "no-program"));  // its decoder copies the kind as is
    const FizzMsg m{5, 0xC6120003};
    REQUIRE(channel->submit(&m, sizeof m));
    channel->publish();
    size_t n = channel->collect(SIZE_MAX, [](const decoder::DecodeResult& r) {
        CHECK(r.outcome == Outcome::KindOutOfRange);
        CHECK(r.event->kind == 5);
        CHECK(r.rc == 0);
    });
    CHECK(n == 1);
}

TEST_CASE("typed fields come back through a channel, as the plugin declared them", "[unit]") {
    auto service = inProcessService();
    auto channel = service.open(testPlugin("fields-probe", "fields-probe"));
    fields_probe_msg m{};
    m.kind = 1;
    m.saddr = 0xC6120007;
    m.big = 42;
    m.odd = 1;
    std::memcpy(m.label, "odd", 3);
    REQUIRE(channel->submit(&m, sizeof m));
    channel->publish();
    channel->collect(SIZE_MAX, [](const decoder::DecodeResult& r) {
        REQUIRE(r.ok());
        REQUIRE(r.fields != nullptr);
        CHECK(r.fields[1].set);
        CHECK(r.fields[1].bits == 42);
        CHECK(r.fields[4].length == 3);
        CHECK(std::string(r.fields[4].text, 3) == "odd");
    });
}

TEST_CASE("[decoders] reads isolation, user, memory_limit, deadline_ms and root, with positions on errors", "[unit]") {
    const std::string ifc = "\n[interface.eth0]\nclassifier = \"fizz\"\n";
    auto cfg = config::parseConfig("[decoders]\nisolation = \"none\"\nuser = \"fizzdec\"\nmemory_limit = \"512M\"\n"
                                   "deadline_ms = 250\nroot = \"/srv/fizz/dec\"\n" + ifc,
                                   "/etc/f.toml", "/p");
    CHECK(cfg.decoders.isolation == DecoderIsolation::None);
    CHECK(cfg.decoders.user == "fizzdec");
    CHECK(cfg.decoders.memoryLimit == 512ull << 20);
    CHECK(cfg.decoders.deadline == std::chrono::milliseconds(250));
    CHECK(cfg.decoders.root == "/srv/fizz/dec");
    const auto defaults = config::parseConfig(ifc, "/etc/f.toml", "/p").decoders;
    CHECK(defaults == DecoderSettings{});
    CHECK(defaults.isolation == DecoderIsolation::Process);
    CHECK(config::parseConfig("[decoders]\nmemory_limit = 134217728\n" + ifc, "f", "/p").decoders.memoryLimit ==
          128ull << 20);
    auto refusal = [&](const std::string& table) {
        try {
            config::parseConfig("[decoders]\n" + table + ifc, "/etc/f.toml", "/p");
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    CHECK_THAT(refusal("isolation = \"proces\"\n"),
               Contains("/etc/f.toml:2:13: decoders.isolation") && Contains("did you mean \"process\"?"));
    CHECK_THAT(refusal("user = \"root\"\n"), Contains("/etc/f.toml:2:8: decoders.user: decoders never run as root"));
    CHECK_THAT(refusal("memory_limit = \"1M\"\n"), Contains("/etc/f.toml:2:16: decoders.memory_limit: expected a size"));
    CHECK_THAT(refusal("memory_limit = \"lots\"\n"), Contains("decoders.memory_limit"));
    CHECK_THAT(refusal("deadline_ms = 1\n"), Contains("decoders.deadline_ms: 1 is out of range 10..600000"));
    CHECK_THAT(refusal("users = \"x\"\n"), Contains("unknown key 'users' (did you mean 'user'?)"));
}
