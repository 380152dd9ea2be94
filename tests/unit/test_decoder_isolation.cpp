// Confined decoders with real misbehaving plugins (tests/plugins/misbehaving_decoder.cpp): each one
// misbehaves on one marked message. Through DecoderService/DecoderChannel the marked message is
// retried once and then counted undecodable with the right reason, every other message before and
// after it is decoded, the worker is restarted, and a healthy plugin's channel in the same service
// loses nothing. Root only (the worker chroots and changes user): tag [decoder].
#include "decoder/decoder_service.hpp"
#include "decoder/worker_host.hpp"
#include "support/cli_run.hpp"
#include "support/privilege.hpp"
#include "unit/decoder_harness.hpp"
#include "util/error.hpp"

#include <catch2/catch.hpp>
#include <pwd.h>

#include <fstream>

using namespace fizzhost;
using namespace fizzhost::test;
using Catch::Matchers::Contains;
using Outcome = decoder::DecodeResult::Outcome;

namespace {

struct Misbehaviour {
    const char* plugin;
    Outcome outcome;     // of the marked message
    const char* reason;  // in its reason
    const char* category;  // under which the service counts it
};

// What the host must say about each (its own words, from how the worker ended).
const Misbehaviour kMisbehaviours[] = {
    {"bad-throws-noexcept", Outcome::WorkerFailed,
     "called std::terminate while decoding (an exception left a noexcept function: std::runtime_error: marked message)",
     "std::terminate"},
    {"bad-segv", Outcome::WorkerFailed, "crashed with SIGSEGV", "SIGSEGV"},
    {"bad-abort", Outcome::WorkerFailed, "aborted (SIGABRT", "SIGABRT"},
    {"bad-loop", Outcome::WorkerFailed, "hung for", "hung"},
    {"bad-alloc", Outcome::WorkerFailed, "ran out of memory (memory_limit 128 MiB) while decoding", "out of memory"},
    {"bad-open", Outcome::WorkerFailed, "made a forbidden system call: openat (257) while decoding",
     "forbidden system call openat"},
    {"bad-socket", Outcome::WorkerFailed, "made a forbidden system call: socket (41) while decoding",
     "forbidden system call socket"},
    {"bad-bpf", Outcome::WorkerFailed, "made a forbidden system call: bpf (321) while decoding",
     "forbidden system call bpf"},
};

uid_t nobodyUid() {
    const passwd* pw = ::getpwnam("nobody");
    REQUIRE(pw);
    return pw->pw_uid;
}

}  // namespace

TEST_CASE("each misbehaving decoder costs its worker, its marked message after one retry, and nothing else",
          "[decoder]") {
    if (!requirePrivilege("start confined decoder workers (chroot, setuid)")) return;
    auto catalog = codeFreeCatalog(kDecoderPlugins);
    auto healthy = codeFreeCatalog(FIZZHOST_PLUGIN_DIR).find("fizz");
    for (const auto& m : kMisbehaviours) {
        INFO("plugin " << m.plugin);
        TempDir root;
        decoder::DecoderService service(testDecoderSettings(root));
        auto bad = service.open(catalog.find(m.plugin));
        auto good = service.open(healthy);
        const auto badMessages = around(kMarked, 20, 20);
        std::vector<FizzMsg> goodMessages;
        for (uint32_t i = 0; i < 500; ++i) goodMessages.push_back({0, 0xC6130000 + i * 3});
        auto results = decodeAll(service, {bad.get(), good.get()}, {badMessages, goodMessages});

        // The bad plugin's channel: every message back, in order; only the marked one undecodable.
        REQUIRE(results[0].size() == badMessages.size());
        for (size_t i = 0; i < badMessages.size(); ++i) {
            INFO("message " << i);
            const auto& r = results[0][i];
            if (badMessages[i].saddr == kMarked) {
                CHECK(r.outcome == m.outcome);
                CHECK_THAT(r.reason, Contains(m.reason) && Contains("twice on this message"));
            } else {
                CHECK(r.outcome == Outcome::Decoded);
                CHECK(r.src == badMessages[i].saddr);
            }
        }
        // The healthy plugin's channel in the same service: nothing lost, nothing undecodable.
        REQUIRE(results[1].size() == goodMessages.size());
        for (size_t i = 0; i < goodMessages.size(); ++i) {
            CHECK(results[1][i].outcome == Outcome::Decoded);
            CHECK(results[1][i].src == goodMessages[i].saddr);
        }
        // Retried once: two workers died on it, both counted, one message undecodable.
        decoder::DecoderStats badStats;
        for (const auto& s : service.stats())
            if (s.plugin == m.plugin) badStats = s;
        CHECK(badStats.restarts == 2);
        CHECK(badStats.starts == 3);
        CHECK(badStats.undecodable == std::map<std::string, uint64_t>{{m.category, 1}});
        CHECK_THAT(badStats.lastReason, Contains(m.reason));
        CHECK_FALSE(badStats.disabled);
        // The healthy plugin has a worker of its own, never restarted.
        for (const auto& s : service.stats())
            if (s.plugin == "fizz") CHECK(s.restarts == 0);
    }
}

TEST_CASE("a decoder that throws without noexcept is refused by the SDK's trampoline, its worker unharmed",
          "[decoder]") {
    if (!requirePrivilege("start confined decoder workers (chroot, setuid)")) return;
    TempDir root;
    decoder::DecoderService service(testDecoderSettings(root));
    auto channel = service.open(codeFreeCatalog(kDecoderPlugins).find("bad-throws"));
    const auto messages = around(kMarked, 3, 3);
    auto results = decodeAll(service, {channel.get()}, {messages})[0];
    REQUIRE(results.size() == messages.size());
    for (size_t i = 0; i < messages.size(); ++i) {
        if (messages[i].saddr == kMarked) {
            CHECK(results[i].outcome == Outcome::Refused);
            CHECK(results[i].rc == FIZZHOST_DECODE_THREW);
        } else {
            CHECK(results[i].outcome == Outcome::Decoded);
        }
    }
    CHECK(service.stats().front().restarts == 0);
}

TEST_CASE("a confined decoder runs as the configured user, without capabilities, chrooted and filtered",
          "[decoder]") {
    if (!requirePrivilege("start confined decoder workers (chroot, setuid)")) return;
    TempDir root;
    decoder::DecoderService service(testDecoderSettings(root));
    auto probe = codeFreeCatalog(kDecoderPlugins).find("probe");
    auto channel = service.open(probe);
    auto results = decodeAll(service, {channel.get()}, {{{0, 0xC6120003}}})[0];
    REQUIRE(results.size() == 1);
    REQUIRE(results[0].outcome == Outcome::Decoded);
    const auto& f = results[0].fields;  // uid, gid, cap_eff, ctor_uid, ctor_open_errno
    REQUIRE(f.size() == 5);
    for (const auto& v : f) CHECK(v.set);
    const uid_t nobody = nobodyUid();
    CHECK(f[0].bits == nobody);
    CHECK(f[1].bits == ::getpwnam("nobody")->pw_gid);
    CHECK(f[2].bits == 0);  // CapEff, as the decoder's capget reads it
    CHECK(f[3].bits == nobody);  // the constructor already ran unprivileged...
    CHECK(int64_t(f[4].bits) == ENOENT);  // ...in a chroot where /etc/shadow does not exist

    // The kernel's view of the worker, independent of anything the worker says.
    const pid_t pid = service.stats().front().pid;
    REQUIRE(pid > 0);
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::map<std::string, std::string> fields;
    for (std::string line; std::getline(status, line);)
        if (auto colon = line.find(':'); colon != std::string::npos) {
            auto value = line.substr(colon + 1);
            value.erase(0, value.find_first_not_of(" \t"));
            fields[line.substr(0, colon)] = value;
        }
    const std::string id = std::to_string(nobody);
    CHECK(fields["Uid"] == id + "\t" + id + "\t" + id + "\t" + id);
    CHECK(fields["CapInh"] == "0000000000000000");
    CHECK(fields["CapPrm"] == "0000000000000000");
    CHECK(fields["CapEff"] == "0000000000000000");
    CHECK(fields["CapAmb"] == "0000000000000000");
    CHECK(fields["NoNewPrivs"] == "1");
    CHECK(fields["Seccomp"] == "2");          // filter mode
    CHECK(fields["Seccomp_filters"] == "2");  // stage 1 and stage 2
    std::error_code ec;
    const auto chrootDir = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/root", ec);
    CHECK(chrootDir.parent_path() == root.path());
    CHECK(std::filesystem::exists(chrootDir / (probe->sha256() + ".so")));
}

TEST_CASE("in-process decoding (isolation none) runs the same probe as this process", "[decoder]") {
    if (!requirePrivilege("compare with a root process")) return;
    TempDir root;
    auto settings = testDecoderSettings(root);
    settings.isolation = DecoderIsolation::None;
    decoder::DecoderService service(settings);
    auto channel = service.open(codeFreeCatalog(kDecoderPlugins).find("probe"));
    CHECK_FALSE(channel->confined());
    auto results = decodeAll(service, {channel.get()}, {{{0, 0xC6120003}}})[0];
    REQUIRE(results.size() == 1);
    REQUIRE(results[0].outcome == Outcome::Decoded);
    CHECK(results[0].fields[0].bits == ::getuid());  // 0: what confinement takes away
    CHECK(results[0].fields[3].bits == ::getuid());
    CHECK(service.stats().empty());  // no worker
}

TEST_CASE("a module whose constructor makes a forbidden call is not loaded, and the error says why", "[decoder]") {
    if (!requirePrivilege("start confined decoder workers (chroot, setuid)")) return;
    TempDir root;
    decoder::DecoderService service(testDecoderSettings(root));
    CHECK_THROWS_WITH(service.open(codeFreeCatalog(kDecoderPlugins).find("ctor-socket")),
                      Contains("plugin 'ctor-socket' 1.0.0") && Contains("ctor-socket.so") &&
                          Contains("could not start in a confined worker (user 'nobody')") &&
                          Contains("made a forbidden system call: socket (41) while loading the module"));
    CHECK(service.stats().empty());
}

TEST_CASE("a decoder that keeps dying is disabled: every message undecodable with the reason, no fork bomb",
          "[decoder]") {
    if (!requirePrivilege("start confined decoder workers (chroot, setuid)")) return;
    TempDir root;
    decoder::DecoderService service(testDecoderSettings(root));
    auto channel = service.open(codeFreeCatalog(kDecoderPlugins).find("bad-abort"));
    // Every message is marked: each costs two workers, until the restart bound is reached.
    const size_t n = decoder::WorkerHost::kMaxRestarts;  // more than enough to reach the bound
    std::vector<FizzMsg> messages(n, FizzMsg{0, kMarked});
    auto results = decodeAll(service, {channel.get()}, {messages}, std::chrono::seconds(120))[0];
    REQUIRE(results.size() == n);
    const auto stats = service.stats().front();
    CHECK(stats.restarts == decoder::WorkerHost::kMaxRestarts);
    CHECK(stats.disabled);
    CHECK_THAT(stats.disabledReason, Contains("ended 30 times within 60 s") && Contains("aborted"));
    // The first fifteen were struck twice; the rest are refused by the disabled decoder.
    CHECK(stats.undecodable.at("SIGABRT") == 15);
    CHECK(stats.undecodable.at("disabled") == n - 15);
    for (const auto& r : results) CHECK(r.outcome == Outcome::WorkerFailed);
    CHECK_THAT(results.back().reason, Contains("its decoder is disabled"));
}

TEST_CASE("fizzhost classify survives a crashing decoder: the frame's line says undecodable and why", "[decoder]") {
    if (!requirePrivilege("run fizzhost classify (BPF_PROG_TEST_RUN, confined decoders)")) return;
    // 198.18.0.15, .99 (the marked one) and .21 are all divisible by 3: fizz's program emits each.
    const auto r = runFizzhost({"classify", "--plugin", "bad-segv", "--plugin-dir", kDecoderPlugins.string(),
                                "198.18.0.15", "198.18.0.99", "198.18.0.21"});
    INFO(r.err);
    CHECK(r.status == 1);
    CHECK(r.out == "{\"src\":\"198.18.0.15\",\"kind\":\"Fizz\"}\n"
                   "{\"src\":\"198.18.0.99\",\"kind\":null,\"undecodable\":\"its decoder crashed with SIGSEGV "
                   "(Segmentation fault) while decoding, twice on this message\"}\n"
                   "{\"src\":\"198.18.0.21\",\"kind\":\"Fizz\"}\n");
    CHECK_THAT(r.err, Contains("1 message(s) from bad-segv could not be decoded"));
}

TEST_CASE("a decoder that forges its worker's progress and writes past a string gets no more than was sent",
          "[decoder]") {
    if (!requirePrivilege("start confined decoder workers (chroot, setuid)")) return;
    TempDir root;
    decoder::DecoderService service(testDecoderSettings(root));
    auto channel = service.open(codeFreeCatalog(kDecoderPlugins).find("hostile"));
    const size_t slots = channel->space();
    const auto messages = around(kMarked, 10, 10);
    // The marked message moves `done` a million past what was published and holds it there 50 ms.
    auto results = decodeAll(service, {channel.get()}, {messages})[0];
    CHECK(results.size() == messages.size());  // never more results than messages
    CHECK(channel->inFlight() == 0);
    CHECK(channel->space() == slots);
    for (const auto& r : results)
        if (r.outcome == Outcome::Decoded) {
            REQUIRE(r.fields.size() == 1);
            CHECK(r.fields[0].length <= FIZZHOST_FIELD_TEXT_MAX);  // its 5000 is cut to the array
        }
    // While `done` is forged the host may take back results the worker has not written yet: they are
    // this decoder's own output, as untrusted as anything else it says. Once the forgery stops, the
    // channel goes on by itself (no restart), every message right again.
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    uint32_t src = 0xC6120300;
    for (bool right = false; !right; src += 3) {
        REQUIRE(std::chrono::steady_clock::now() < until);  // waiting for: a message decoded right again
        auto one = decodeAll(service, {channel.get()}, {{{0, src}}})[0];
        right = one.size() == 1 && one[0].outcome == Outcome::Decoded && one[0].src == src;
    }
    std::vector<FizzMsg> after;
    for (uint32_t i = 0; i < 100; ++i) after.push_back({0, src + 3 * i});
    auto more = decodeAll(service, {channel.get()}, {after})[0];
    REQUIRE(more.size() == after.size());
    for (size_t i = 0; i < after.size(); ++i) CHECK(more[i].src == after[i].saddr);
    CHECK(service.stats().front().restarts == 0);
}
