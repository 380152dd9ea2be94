// Progressive rollouts judged on live traffic with the real daemon on a veth pair: a shadow stage
// before the split steps (both variants on every frame, their decisions compared), rolled back by
// max_disagreement or passed on to the steps, and a split step rolled back by max_slowdown.
#include "netns/daemon_lab.hpp"
#include "netns/rollout_traffic.hpp"
#include "support/cli_run.hpp"
#include "support/frame_builder.hpp"
#include "support/privilege.hpp"
#include "support/reference.hpp"
#include "plugins/web_tag_msg.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <set>
#include <sstream>
#include <thread>

using namespace fizzhost::test;
using Catch::Matchers::Contains;

namespace {

constexpr uint32_t kSourceBase = 0xC6120000;  // 198.18.0.0

std::filesystem::path pluginFolder(const DaemonLab& lab) {
    const std::filesystem::path built = FIZZHOST_PLUGIN_DIR, test = FIZZHOST_TEST_PLUGIN_DIR;
    auto dir = lab.dir() / "plugins";
    std::filesystem::create_directory(dir);
    std::filesystem::copy_file(built / "fibonacci.so", dir / "fibonacci.so");
    std::filesystem::copy_file(built / "fizz.so", dir / "fizz-1.0.0.so");
    std::filesystem::copy_file(test / "fizz-1.1.0" / "fizz.so", dir / "fizz-1.1.0.so");
    std::filesystem::copy_file(test / "fibonacci-naive" / "fibonacci-naive.so", dir / "fibonacci-naive.so");
    std::filesystem::copy_file(test / "web-tag-1.0.0" / "web-tag.so", dir / "web-tag-1.0.0.so");
    std::filesystem::copy_file(test / "web-tag-1.1.0" / "web-tag.so", dir / "web-tag-1.1.0.so");
    return dir;
}

const nlohmann::json& variantOf(const nlohmann::json& ifc, const std::string& name) {
    for (const auto& v : ifc["variants"])
        if (v["variant"] == name) return v;
    FAIL("no variant " << name << " in " << ifc.dump());
    throw std::logic_error("unreachable");
}

// web-tag traffic: UDP from `count` sources from 198.18.0.1 on (1.0.0 and 1.1.0 decide alike: Fizz on
// sources divisible by 3, none otherwise) and TCP to port 8080 from `web` (1.1.0 tags them Web).
std::vector<std::vector<uint8_t>> webTagFrames(uint32_t count, const std::vector<uint32_t>& web) {
    std::vector<std::vector<uint8_t>> frames;
    for (uint32_t k = 1; k <= count; ++k) frames.push_back(FrameBuilder().ipv4(kSourceBase + k).udp().build());
    for (uint32_t src : web) frames.push_back(FrameBuilder().ipv4(src).tcp(40000, WEB_TAG_PORT).build());
    return frames;
}

// The frames of an events-file-free rollout: paced like RolloutTraffic, until stopped.
class FrameTraffic {
public:
    FrameTraffic(DaemonLab& lab, std::vector<std::vector<uint8_t>> frames)
        : thread_([this, &lab, f = std::move(frames)] {
              while (!stop_) {
                  sent_ += lab.sendFrames(f);
                  std::this_thread::sleep_for(std::chrono::milliseconds(2));
              }
          }) {}
    ~FrameTraffic() { stop(); }
    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }
    uint64_t sent() const { return sent_; }

private:
    std::atomic<bool> stop_{false};
    std::atomic<uint64_t> sent_{0};
    std::thread thread_;
};

}  // namespace

TEST_CASE("a shadow stage passes a declared rule change (an expected cell) and fails an undeclared difference "
          "by max_unexpected",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    // web-tag 1.1.0 tags TCP/8080 as Web on purpose: "none -> Web" on sources not divisible by 3
    // is the declared change. On a source divisible by 3 the same rule turns Fizz into Web: a
    // difference nobody declared.
    const uint32_t noneSource = kSourceBase + 1, fizzSource = kSourceBase + 3;
    const std::string table = "candidate = \"web-tag@1.1.0\"\nsteps = [50]\nstep_seconds = 1\nshadow_seconds = 3\n"
                              "min_samples = 200\nmax_disagreement = 0.001\nexpected = [\"none -> Web\"]\n"
                              "confidence = 0.99\n";
    SECTION("only the declared change: the stage passes, the table marks the cell expected") {
        DaemonLab lab;
        const auto plugins = pluginFolder(lab);
        lab.writeConfig(rolloutTable(lab.ifname(), "web-tag@1.0.0", table), plugins);
        lab.start();
        FrameTraffic traffic(lab, webTagFrames(240, {noneSource, noneSource + 3, noneSource + 6}));
        const auto split = waitForInterfaceStatus(
            lab, [](const nlohmann::json& s) { return rolloutStage(s) == "step" || rolloutStage(s) == "rolled_back"; },
            "the end of the shadow stage");
        traffic.stop();
        REQUIRE(rolloutStage(split) == "step");
        const auto rec = waitForDecision(lab, "advance");
        CHECK(rec["from_stage"] == "shadow");
        CHECK(rec.contains("time"));
        for (const char* name : {"max_disagreement", "max_unexpected"}) {
            INFO(name << ": " << rec["figures"][name].dump());
            CHECK(rec["figures"][name]["verdict"] == "pass");
            CHECK(rec["figures"][name]["figure"] == 0.0);
            CHECK(rec["figures"][name]["upper"].get<double>() <= 0.001);
            CHECK(rec["figures"][name]["samples"].get<uint64_t>() >= 200);
        }
        CHECK(rec["figures"]["max_unexpected"]["limit"] == 0.0);  // the default with an expected list
        std::fprintf(stderr, "shadow stage with an expected cell passed: %s\n", rec["figures"].dump().c_str());
        CHECK(lab.stop() == 0);
    }
    SECTION("an undeclared difference beside it: rolled back by max_unexpected, the cells told apart") {
        DaemonLab lab;
        const auto plugins = pluginFolder(lab);
        lab.writeConfig(rolloutTable(lab.ifname(), "web-tag@1.0.0", "shadow_events = false\n" + table), plugins);
        lab.start();
        FrameTraffic traffic(lab, webTagFrames(240, {noneSource, noneSource + 3, noneSource + 6}));
        // The stage sees the declared change first: it is not held against the candidate.
        const auto during = waitForInterfaceStatus(
            lab,
            [](const nlohmann::json& s) {
                return s.contains("shadow") && s["shadow"]["disagreed"].get<uint64_t>() >= 100;
            },
            "declared differences in the shadow table");
        CHECK(during["shadow"]["unexpected"] == 0);
        CHECK(rolloutStage(during) == "shadow");
        const auto text = runFizzhost({"status", "--socket", (lab.dir() / "control.sock").string()});
        CHECK_THAT(text.out, Contains("(expected)"));
        CHECK_THAT(text.out, Contains("~  none"));
        // Now one Fizz source sends TCP/8080 too.
        traffic.stop();
        FrameTraffic bad(lab, webTagFrames(240, {noneSource, fizzSource}));
        const auto back = waitForInterfaceStatus(
            lab, [](const nlohmann::json& s) { return rolloutStage(s) == "rolled_back"; }, "rollback");
        bad.stop();
        const auto rec = waitForDecision(lab, "rollback");
        CHECK(rec["from_stage"] == "shadow");
        const auto& gate = rec["figures"]["max_unexpected"];
        CHECK(gate["verdict"] == "fail");
        CHECK(gate["limit"] == 0.0);
        CHECK(gate["figure"].get<double>() > 0.0);
        // max_disagreement may fail on the same frames at the same look: the reason names both then.
        CHECK_THAT(back["progressive"]["reason"].get<std::string>(),
                   Contains("rolled back in the shadow stage: ") && Contains("max_unexpected "));
        std::fprintf(stderr, "shadow stage with an undeclared difference: %s\n", rec["figures"].dump().c_str());
        CHECK(lab.stop() == 0);
    }
}

TEST_CASE("a shadow stage whose candidate disagrees more than max_disagreement is rolled back to the baseline "
          "alone with one link update, before any frame is split",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    const auto plugins = pluginFolder(lab);
    // Every last octet: the naive loop is wrong on some of them, derived from the reference rules.
    const auto sources = benchmarkSources(0, 256);
    uint64_t wrong = 0;
    for (uint32_t s : sources) wrong += referenceKind("fibonacci", s) != referenceKind("fibonacci-naive", s);
    REQUIRE(wrong > 0);
    const double expected = double(wrong) / double(sources.size());
    // A stage far longer than the test: the gate fails it mid-window, as soon as enough frames were compared.
    lab.writeConfig(rolloutTable(lab.ifname(), "fibonacci",
                           "candidate = \"fibonacci-naive\"\nsteps = [50, 100]\nstep_seconds = 1\n"
                           "shadow_seconds = 600\nmin_samples = 1024\nmax_disagreement = 0.001\npromote = true\n"),
                    plugins);
    lab.start();
    const auto first = lab.interfaceStatus();
    const auto linkId = first["link_id"];
    CHECK(rolloutStage(first) == "shadow");
    CHECK(first["progressive"]["step"] == 0);
    CHECK(first["progressive"]["percent"] == 0);
    CHECK_FALSE(first.contains("percent"));  // no split: every frame meets both
    REQUIRE(first.contains("shadow"));
    CHECK(variantOf(first, "shadow")["plugin"] == "fibonacci-naive");
    CHECK(variantOf(first, "baseline")["plugin"] == "fibonacci");
    CHECK(first["progressive"]["gates"][0]["name"] == "max_disagreement");

    RolloutTraffic traffic(lab, sources);
    const auto back = waitForInterfaceStatus(
        lab, [](const nlohmann::json& s) { return rolloutStage(s) == "rolled_back"; }, "rollback");
    traffic.stop();

    // The dispatcher left with one bpf_link_update: the same link runs a plain baseline.
    CHECK(back["link_id"] == linkId);
    CHECK_FALSE(back.contains("shadow"));
    CHECK_FALSE(back.contains("percent"));
    REQUIRE(back["variants"].size() == 1);
    CHECK(back["variants"][0]["plugin"] == "fibonacci");
    CHECK(back["variants"][0]["variant"] == "baseline");
    CHECK(back["program_id"] == back["variants"][0]["program_id"]);
    CHECK(back["progressive"]["step"] == 0);  // it never split

    // The record says why, with the figure over the stage's window.
    const auto rec = waitForDecision(lab, "rollback");
    CHECK(rec["from_stage"] == "shadow");
    CHECK(rec["to_stage"] == "rolled_back");
    CHECK(rec["from"] == 0);
    CHECK(rec["to"] == 0);
    const auto& gate = rec["figures"]["max_disagreement"];
    CHECK(gate["verdict"] == "fail");
    CHECK(gate["limit"] == 0.001);
    const uint64_t compared = gate["samples"];
    CHECK(compared >= 1024);
    const double figure = gate["figure"];
    // Any run of N frames of the repeating 256 holds the wrong ones in proportion, give or take one round.
    CHECK(figure == Approx(expected).margin(double(wrong) / double(compared) + 1e-9));
    std::fprintf(stderr, "shadow stage: disagreement %.4f over %llu frames (reference %.4f), limit 0.001\n", figure,
                 (unsigned long long)compared, expected);
    CHECK(gate["lower"].get<double>() > 0.001);  // judged on its interval: the whole of it past the limit
    const std::string why = fmt::format("rolled back in the shadow stage: max_disagreement {:.4g} [", figure);
    CHECK_THAT(rec["reason"].get<std::string>(), Contains(why));
    CHECK_THAT(back["progressive"]["reason"].get<std::string>(), Contains(why));
    CHECK_THAT(lab.daemon().stderrText(), Contains("rollout rollback shadow -> 0%: " + why));
    std::istringstream log(lab.daemon().stderrText());
    for (std::string line; std::getline(log, line);)
        if (line.find(": rollout ") != std::string::npos || line.find(" -> fibonacci") != std::string::npos)
            std::fprintf(stderr, "%s\n", line.c_str());
    const auto d = rolloutDecisions(lab);
    REQUIRE(d.size() == 2);
    CHECK(d[0]["decision"] == "start");
    CHECK(d[0]["to_stage"] == "shadow");

    // Every event, in the stage and after, is the baseline's: the shadow's were withheld.
    REQUIRE(lab.waitForPackets(traffic.sent()) == traffic.sent());
    for (const auto& e : lab.events()) {
        CHECK(e.variant == "baseline");
        CHECK(e.plugin == "fibonacci");
        CHECK(referenceKind("fibonacci", e.src) == std::optional<std::string>(e.kind));
    }

    const auto text = runFizzhost({"status", "--socket", (lab.dir() / "control.sock").string()});
    CHECK(text.status == 0);
    CHECK_THAT(text.out, Contains("progressive rollout: rolled_back"));
    CHECK_THAT(text.out, Contains("max_disagreement"));
    CHECK_THAT(text.out, Contains("verdict: rolled back: the baseline runs alone until the rollout table changes"));
    CHECK(lab.stop() == 0);
}

TEST_CASE("a shadow stage whose candidate agrees moves on to the split steps with one link update and is promoted; "
          "a SIGHUP in the stage keeps it",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    const auto plugins = pluginFolder(lab);
    // Version against version, the same code: not one frame may be decided differently.
    const std::string table = "candidate = \"fizz@1.1.0\"\nsteps = [50, 100]\nstep_seconds = 1\nshadow_seconds = 3\n"
                              "min_samples = 100\nmax_disagreement = 0\nmax_drop_rate = 0.01\nshadow_events = true\n"
                              "promote = true\n";
    lab.writeConfig(rolloutTable(lab.ifname(), "fizz@1.0.0", table), plugins);
    lab.start();
    const auto first = lab.interfaceStatus();
    const auto linkId = first["link_id"];
    const auto shadowDispatcher = first["program_id"];
    CHECK(rolloutStage(first) == "shadow");
    REQUIRE(first.contains("shadow"));
    CHECK(first["shadow"]["events"] == true);
    CHECK(variantOf(first, "shadow")["version"] == "1.1.0");

    RolloutTraffic traffic(lab, [](uint64_t n) { return benchmarkSources(uint32_t(n * 256 % 60000), 256); });
    traffic.waitForMore(2000);
    // The same table again, in the stage: the same dispatcher and variants, the stage's clock running on.
    const double inStage = lab.interfaceStatus()["progressive"]["seconds_in_step"];
    REQUIRE(lab.reload());
    const auto kept = lab.interfaceStatus();
    CHECK(rolloutStage(kept) == "shadow");
    CHECK(kept["program_id"] == shadowDispatcher);
    CHECK(kept["progressive"]["seconds_in_step"].get<double>() > inStage);
    CHECK_THAT(lab.daemon().stderrText(), Contains("rollout table unchanged: the shadow stage goes on"));
    const auto text = runFizzhost({"status", "--socket", (lab.dir() / "control.sock").string()});
    CHECK_THAT(text.out, Contains("progressive rollout: shadow stage (both variants on every frame)"));
    CHECK_THAT(text.out, Contains("(judged every 3 s), then 2 step(s) of 1 s"));
    CHECK_THAT(text.out, Contains("max_disagreement"));

    const auto split = waitForInterfaceStatus(
        lab, [](const nlohmann::json& s) { return rolloutStage(s) == "step"; }, "the first split step");
    // A new dispatcher in split mode took the same link from the shadow one.
    CHECK(split["link_id"] == linkId);
    CHECK(split["program_id"] != shadowDispatcher);
    CHECK_FALSE(split.contains("shadow"));
    CHECK(split["percent"] == 50);
    CHECK(variantOf(split, "candidate")["version"] == "1.1.0");

    const auto done = waitForInterfaceStatus(
        lab, [](const nlohmann::json& s) { return rolloutStage(s) == "promoted"; }, "promotion");
    traffic.waitForMore(2000);
    traffic.stop();
    CHECK(done["link_id"] == linkId);
    REQUIRE(done["variants"].size() == 1);
    CHECK(done["variants"][0]["version"] == "1.1.0");
    // Across both link updates not a frame went unclassified (the shadow's frames count once).
    CHECK(lab.waitForPackets(traffic.sent()) == traffic.sent());

    waitForDecision(lab, "promote");
    const auto d = rolloutDecisions(lab);
    REQUIRE(d.size() == 4);
    CHECK(d[0]["decision"] == "start");
    CHECK(d[0]["to_stage"] == "shadow");
    CHECK(d[1]["decision"] == "advance");
    CHECK(d[1]["from_stage"] == "shadow");
    CHECK(d[1]["to"] == 50);
    const auto& gate = d[1]["figures"]["max_disagreement"];
    CHECK(gate["verdict"] == "pass");
    CHECK(gate["figure"] == 0.0);
    CHECK(gate["samples"].get<uint64_t>() >= 100);
    CHECK(d[1]["window_seconds"].get<double>() >= 3.0);
    std::fprintf(stderr, "shadow stage passed: 0 of %llu frames disagreed over %.1f s\n",
                 (unsigned long long)gate["samples"].get<uint64_t>(), d[1]["window_seconds"].get<double>());
    CHECK(d[2]["decision"] == "advance");
    CHECK(d[2]["from"] == 50);
    CHECK(d[2]["to"] == 100);
    CHECK_FALSE(d[2]["figures"].contains("max_disagreement"));  // split steps compare nothing
    CHECK(d[3]["decision"] == "promote");
    CHECK_THAT(lab.daemon().stderrText(), Contains("rollout advance shadow -> 50%: every gate held in the shadow stage"));
    // The whole rollout as the log tells it, for whoever reads the test's output.
    std::istringstream log(lab.daemon().stderrText());
    for (std::string line; std::getline(log, line);)
        if (line.find(": rollout ") != std::string::npos || line.find(" -> fizz") != std::string::npos)
            std::fprintf(stderr, "%s\n", line.c_str());

    // shadow_events: the candidate's events as "shadow" in the stage, as "candidate" in the split.
    std::set<std::string> seen;
    for (const auto& e : lab.events()) {
        if (e.variant != "baseline") CHECK(e.version == "1.1.0");
        seen.insert(e.variant);
    }
    CHECK(seen == std::set<std::string>{"baseline", "candidate", "shadow"});
    CHECK(lab.stop() == 0);
}

TEST_CASE("a candidate measurably slower than the baseline on live traffic is rolled back by max_slowdown = 1.2",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    const auto plugins = pluginFolder(lab);
    // Sources ending in .255: the naive loop's longest walk (381 steps) where fibonacci looks one
    // bit up. Both run on the same cores in the same seconds: a ratio, no wall-clock figure.
    std::vector<uint32_t> sources;
    for (uint32_t k = 0; k < 512; ++k) sources.push_back(kSourceBase + (k << 8) + 255);
    lab.writeConfig(rolloutTable(lab.ifname(), "fibonacci",
                           "candidate = \"fibonacci-naive\"\nsteps = [50, 100]\nstep_seconds = 600\n"
                           "min_samples = 200\nmax_slowdown = 1.2\npromote = true\n"),
                    plugins);
    lab.start();
    const auto first = lab.interfaceStatus();
    const auto linkId = first["link_id"];
    const auto baselineProgram = variantOf(first, "baseline")["program_id"];
    CHECK(first["percent"] == 50);

    RolloutTraffic traffic(lab, sources);
    const auto back = waitForInterfaceStatus(
        lab, [](const nlohmann::json& s) { return rolloutStage(s) == "rolled_back"; }, "rollback", std::chrono::seconds(60));
    traffic.stop();
    CHECK(back["link_id"] == linkId);
    REQUIRE(back["variants"].size() == 1);
    CHECK(back["program_id"] == baselineProgram);  // the running baseline, as it was

    const auto rec = waitForDecision(lab, "rollback");
    CHECK(rec["from"] == 50);
    CHECK(rec["from_stage"] == "step");
    const auto& gate = rec["figures"]["max_slowdown"];
    CHECK(gate["verdict"] == "fail");
    CHECK(gate["samples"].get<uint64_t>() >= 200);
    const double slowdown = gate["figure"];
    // Rolled back on the interval of the ratio (Welch on log batch means): its lower bound is past the limit.
    CHECK(gate["lower"].get<double>() > 1.2);
    CHECK(gate["upper"].get<double>() >= slowdown);
    CHECK(gate["confidence"].get<double>() > 0.99);
    std::fprintf(stderr,
                 "max_slowdown rollback: candidate/baseline ns per run %.2f [%.2f, %.2f] at %.5f over %llu timed runs "
                 "(limit 1.2)\n",
                 slowdown, gate["lower"].get<double>(), gate["upper"].get<double>(), gate["confidence"].get<double>(),
                 (unsigned long long)gate["samples"].get<uint64_t>());
    const std::string why = fmt::format("rolled back at 50%: max_slowdown {:.4g} [", slowdown);
    CHECK_THAT(back["progressive"]["reason"].get<std::string>(), Contains(why));
    CHECK_THAT(lab.daemon().stderrText(), Contains("rollout rollback 50% -> 0%: " + why));
    CHECK(lab.waitForPackets(traffic.sent()) == traffic.sent());
    CHECK(lab.stop() == 0);
}

TEST_CASE("a host killed in the shadow stage leaves it classifying; the next host adopts the link, delivers the "
          "baseline's backlog and runs the stage again",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    const auto plugins = pluginFolder(lab);
    lab.writeConfig(rolloutTable(lab.ifname(), "fizz@1.0.0",
                           "candidate = \"fizz@1.1.0\"\nsteps = [50]\nshadow_seconds = 600\nmax_disagreement = 0\n"),
                    plugins);
    lab.start();
    const auto before = lab.interfaceStatus();
    REQUIRE(rolloutStage(before) == "shadow");
    const auto linkId = before["link_id"];
    auto expected = [](uint32_t first, size_t count) {
        size_t n = 0;
        for (uint32_t s : benchmarkSources(first, count)) n += referenceKind("fizz", s).has_value();
        return n;
    };
    lab.send(benchmarkSources(0, 300));
    REQUIRE(lab.waitForPackets(300) == 300);
    REQUIRE(lab.waitForEvents(expected(0, 300)).size() == expected(0, 300));
    lab.daemon().signal(SIGKILL);
    REQUIRE(lab.daemon().waitExit(std::chrono::seconds(10)) == 128 + SIGKILL);
    lab.send(benchmarkSources(300, 300));  // both variants still run on every frame; nobody drains

    lab.start();
    const auto log = lab.daemon().stderrText();
    CHECK_THAT(log, !Contains("cannot adopt"));
    CHECK_THAT(log, Contains("a pinned rollout is rebuilt"));
    const auto after = lab.interfaceStatus();
    CHECK(after["link_id"] == linkId);
    CHECK(rolloutStage(after) == "shadow");
    REQUIRE(after.contains("shadow"));
    CHECK(lab.packetsCounted() == 600);
    // The baseline's messages of the 300 frames no host saw are decoded and written; the
    // shadow's stay withheld.
    const size_t want = expected(0, 600);
    const auto events = lab.waitForEvents(want);
    CHECK(events.size() == want);
    for (const auto& e : events) {
        CHECK(e.variant == "baseline");
        CHECK(e.version == "1.0.0");
    }
    CHECK(lab.stop() == 0);
}
