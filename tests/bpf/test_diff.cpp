// `fizzhost diff A B`, run as a plugin author's CI would: the confusion table of two real programs on
// captures and shaped frames, predicted cell by cell from the reference rules; expected cells for a
// deliberate rule change; the cost comparison and its --max-slowdown verdict; the exit statuses;
// Bencher Metric Format from diff and bench.
#include "support/capture_writer.hpp"
#include "support/cli_run.hpp"
#include "support/daemon_process.hpp"
#include "support/frame_builder.hpp"
#include "support/packet_reference.hpp"
#include "support/privilege.hpp"
#include "support/reference.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <set>

using namespace fizzhost::test;
using Catch::Matchers::Contains;

namespace {

namespace fs = std::filesystem;

const fs::path kPlugins = FIZZHOST_PLUGIN_DIR;
const fs::path kTestPlugins = FIZZHOST_TEST_PLUGIN_DIR;

// A plugin folder holding the given modules (source -> name in the folder).
fs::path pluginFolder(const TempDir& dir, const std::vector<std::pair<fs::path, std::string>>& modules) {
    const fs::path folder = dir.path() / "plugins";
    fs::create_directories(folder);
    for (const auto& [from, name] : modules) fs::copy_file(from, folder / name);
    return folder;
}

std::string kindOr(const std::optional<std::string>& kind) { return kind ? *kind : "none"; }

struct Cell {
    uint64_t frames = 0;
    std::vector<nlohmann::json> examples;  // {"frame", "src"} of the first ones
};
using Cells = std::map<std::pair<std::string, std::string>, Cell>;

// The cells `out` (diff --json) reports, in the same shape as a prediction.
Cells reported(const nlohmann::json& out) {
    Cells cells;
    for (const auto& c : out["cells"]) {
        Cell& cell = cells[{c["a"].get<std::string>(), c["b"].get<std::string>()}];
        cell.frames = c["frames"].get<uint64_t>();
        for (const auto& e : c["examples"]) cell.examples.push_back(e);
    }
    return cells;
}

// Every metric of a Bencher Metric Format document: an object of benchmark names, each an object
// of measure names, each {value, lower_value, upper_value} numbers with lower <= value <= upper.
// Returns the number of metrics.
size_t checkBmf(const nlohmann::json& bmf) {
    REQUIRE(bmf.is_object());
    size_t metrics = 0;
    for (const auto& [benchmark, measures] : bmf.items()) {
        INFO("benchmark " << benchmark);
        REQUIRE(measures.is_object());
        REQUIRE_FALSE(measures.empty());
        for (const auto& [measure, m] : measures.items()) {
            INFO("measure " << measure);
            REQUIRE(m.is_object());
            for (const char* key : {"value", "lower_value", "upper_value"}) REQUIRE(m.contains(key));
            for (const auto& [key, v] : m.items()) {
                INFO(key);
                CHECK(v.is_number());
            }
            CHECK(m["lower_value"].get<double>() <= m["value"].get<double>());
            CHECK(m["value"].get<double>() <= m["upper_value"].get<double>());
            ++metrics;
        }
    }
    return metrics;
}

}  // namespace

TEST_CASE("fizzhost diff: fibonacci against fibonacci-naive on a capture, exactly the cells the reference predicts",
          "[bpf]") {
    if (!requirePrivilege("fizzhost diff")) return;
    TempDir dir;
    const auto plugins = pluginFolder(dir, {{kPlugins / "fibonacci.so", "fibonacci.so"},
                                            {kTestPlugins / "fibonacci-naive" / "fibonacci-naive.so", "fibonacci-naive.so"}});
    // Every last octet twice (two upper parts, so the fizzbuzz residues vary), some of them tagged,
    // then frames without an IPv4 source and one too short to run a program on.
    Frames frames;
    for (uint32_t upper : {0x000u, 0x1a5u})
        for (uint32_t octet = 0; octet < 256; ++octet) {
            FrameBuilder b;
            if (octet % 7 == 0) b.vlan(uint16_t(octet));
            frames.push_back(b.ipv4(kTestNet | upper << 8 | octet).udp().build());
        }
    frames.push_back(ipv6Frame());
    frames.push_back(arpFrame());
    frames.push_back(std::vector<uint8_t>(10, 0));
    writePcap(dir.path() / "lab.pcap", frames);

    // The prediction, from the reference rules and the reference parser alone.
    constexpr size_t kExamples = 3;
    Cells want;
    uint64_t differ = 0;
    std::set<uint32_t> wrongOctets;
    for (size_t i = 0; i + 1 < frames.size(); ++i) {
        const auto view = referencePacket(frames[i]);
        const std::string a = view ? kindOr(referenceKind("fibonacci", view->saddr)) : "none";
        const std::string b = view ? kindOr(referenceKind("fibonacci-naive", view->saddr)) : "none";
        Cell& cell = want[{a, b}];
        ++cell.frames;
        if (a != b) {
            ++differ;
            wrongOctets.insert(view->saddr & 0xff);
            if (cell.examples.size() < kExamples)
                cell.examples.push_back({{"frame", i + 1}, {"src", formatIpv4(view->saddr)}});
        }
    }
    // The octets the naive loop gets wrong (README, examples/fibonacci-naive), as the reference has them.
    REQUIRE(wrongOctets == std::set<uint32_t>{0, 241, 245, 247, 253, 255});

    auto r = runFizzhost({"diff", "fibonacci", "fibonacci-naive", "--plugin-dir", plugins.string(), "--pcap",
                          (dir.path() / "lab.pcap").string(), "--no-cost", "--json", "--examples",
                          std::to_string(kExamples)});
    INFO(r.err);
    CHECK(r.status == 1);  // unexpected differences
    const auto out = nlohmann::json::parse(r.out);
    CHECK(out["frames"] == frames.size());
    CHECK(out["compared"] == frames.size() - 1);
    CHECK(out["not_run"] == 1);
    CHECK(out["unexpected"] == differ);
    CHECK(out["expected"] == 0);
    CHECK(out["exit"] == 1);
    CHECK(out["cost"].is_null());
    CHECK(out["a"]["plugin"] == "fibonacci");
    CHECK(out["b"]["version"] == FIZZHOST_NAIVE_VERSION);
    const Cells got = reported(out);
    CHECK(got.size() == want.size());
    for (const auto& [key, cell] : want) {
        INFO(key.first << " -> " << key.second);
        REQUIRE(got.count(key));
        CHECK(got.at(key).frames == cell.frames);
        CHECK(got.at(key).examples == cell.examples);
    }
    // Differing cells come first and none of them is expected.
    bool agreeing = false;
    for (const auto& c : out["cells"]) {
        CHECK_FALSE(c["expected"].get<bool>());
        CHECK(c["agree"].get<bool>() == (c["a"] == c["b"]));
        if (agreeing) CHECK(c["agree"].get<bool>());
        agreeing = c["agree"].get<bool>();
    }
    CHECK_THAT(r.err, Contains("diff: A: using fibonacci 3.0.0 (the only version; sha256 ") &&
                          Contains("diff: B: using fibonacci-naive " FIZZHOST_NAIVE_VERSION " (the only version"));

    // The same as text: the marks, and the result line with the count.
    auto text = runFizzhost({"diff", "fibonacci", "fibonacci-naive", "--plugin-dir", plugins.string(), "--pcap",
                             (dir.path() / "lab.pcap").string(), "--no-cost"});
    CHECK(text.status == 1);
    CHECK_THAT(text.out, Contains("!= none") && Contains("Fibonacci") &&
                             Contains("result: " + std::to_string(differ) + " frame(s) differ unexpectedly (exit 1)"));
}

TEST_CASE("fizzhost diff: a rule change declared expected reports only expected differences", "[bpf]") {
    if (!requirePrivilege("fizzhost diff")) return;
    TempDir dir;
    const auto plugins = pluginFolder(dir, {{kTestPlugins / "web-tag-1.0.0" / "web-tag.so", "web-tag-1.0.0.so"},
                                            {kTestPlugins / "web-tag-1.1.0" / "web-tag.so", "web-tag-1.1.0.so"}});
    // Per source: TCP to 8080 (1.1.0's new rule), TCP to 443 and UDP to 8080 (neither is Web).
    struct Sent {
        uint32_t src;
        bool tcp;
        uint16_t dport;
    };
    std::vector<Sent> sent;
    Frames frames;
    for (uint32_t i = 0; i < 60; ++i)
        for (const Sent s : {Sent{kTestNet | i, true, 8080}, Sent{kTestNet | i, true, 443}, Sent{kTestNet | i, false, 8080}}) {
            sent.push_back(s);
            FrameBuilder b;
            b.ipv4(s.src);
            s.tcp ? b.tcp(51000, s.dport) : b.udp(51000, s.dport);
            frames.push_back(b.build());
        }
    writePcapng(dir.path() / "web.pcapng", frames);
    // The rules as web-tag's source states them: 1.0.0 Fizz on multiples of 3; 1.1.0 Web for TCP to
    // 8080 first.
    Cells want;
    uint64_t web = 0, fizzWeb = 0;
    for (const auto& s : sent) {
        const std::string a = s.src % 3 == 0 ? "Fizz" : "none";
        const std::string b = s.tcp && s.dport == 8080 ? "Web" : a;
        ++want[{a, b}].frames;
        web += b == "Web";
        fizzWeb += a == "Fizz" && b == "Web";
    }
    REQUIRE(fizzWeb > 0);
    REQUIRE(web > fizzWeb);
    const std::vector<std::string> base = {"diff",  "web-tag@1.0.0", "web-tag@1.1.0", "--plugin-dir", plugins.string(),
                                           "--pcap", (dir.path() / "web.pcapng").string(), "--no-cost", "--json"};
    auto with = [&](std::vector<std::string> more) {
        auto args = base;
        args.insert(args.end(), more.begin(), more.end());
        return runFizzhost(args);
    };

    auto declared = with({"--expect", "none -> Web", "--expect", "Fizz->Web", "--expect", "Fizz -> none"});
    INFO(declared.err);
    CHECK(declared.status == 0);
    auto out = nlohmann::json::parse(declared.out);
    CHECK(out["unexpected"] == 0);
    CHECK(out["expected"] == web);
    CHECK(out["expected_unseen"] == nlohmann::json::array({"Fizz -> none"}));
    const Cells got = reported(out);
    CHECK(got.size() == want.size());
    for (const auto& [key, cell] : want) {
        INFO(key.first << " -> " << key.second);
        REQUIRE(got.count(key));
        CHECK(got.at(key).frames == cell.frames);
    }
    for (const auto& c : out["cells"]) CHECK(c["expected"].get<bool>() == (c["b"] == "Web"));

    // Only one of the two cells declared (from a file): the other is unexpected and fails the check.
    std::ofstream(dir.path() / "expected.txt") << "# web-tag 1.1.0\nnone -> Web  # the new rule\n";
    auto partly = with({"--expect-file", (dir.path() / "expected.txt").string()});
    CHECK(partly.status == 1);
    out = nlohmann::json::parse(partly.out);
    CHECK(out["unexpected"] == fizzWeb);
    CHECK(out["expected"] == web - fizzWeb);
    CHECK(out["cells"][0]["a"] == "Fizz");
    CHECK(out["cells"][0]["b"] == "Web");
    CHECK_FALSE(out["cells"][0]["expected"].get<bool>());

    auto text = runFizzhost({"diff", "web-tag@1.0.0", "web-tag@1.1.0", "--plugin-dir", plugins.string(), "--pcap",
                             (dir.path() / "web.pcapng").string(), "--no-cost", "--expect", "none -> Web"});
    CHECK(text.status == 1);
    CHECK_THAT(text.out, Contains("~= none") && Contains("!= Fizz"));
    CHECK_THAT(text.err, Contains("using web-tag 1.0.0 (as asked") && Contains("using web-tag 1.1.0 (as asked"));

    // A kind neither plugin declares: no verdict, and the nearest name.
    auto typo = with({"--expect", "none -> Webb"});
    CHECK(typo.status == 4);
    CHECK(typo.out.empty());
    CHECK_THAT(typo.err, Contains("expected cell 'none -> Webb': the candidate (B web-tag 1.1.0) declares no kind 'Webb' "
                                  "(it declares Fizz, Web; did you mean 'Web'?)"));
    // A bad line in the file: its place.
    std::ofstream(dir.path() / "bad.txt") << "none -> Web\nFizz Web\n";
    auto badFile = with({"--expect-file", (dir.path() / "bad.txt").string()});
    CHECK(badFile.status == 4);
    CHECK_THAT(badFile.err, Contains((dir.path() / "bad.txt").string() + ":2:1: expected BASELINE -> CANDIDATE"));
}

TEST_CASE("fizzhost diff: cost from interleaved rounds, --max-slowdown fails on the whole interval only, BMF",
          "[bpf]") {
    if (!requirePrivilege("fizzhost diff")) return;
    TempDir dir;
    const auto plugins = pluginFolder(dir, {{kPlugins / "fibonacci.so", "fibonacci.so"},
                                            {kTestPlugins / "fibonacci-naive" / "fibonacci-naive.so", "fibonacci-naive.so"}});
    // Sources ending in .255, where the naive loop walks 381 steps (and decides Fibonacci by
    // wrap-around): every frame differs, and the cells are declared expected so the exit status
    // speaks of the cost alone.
    std::vector<std::string> sources;
    std::set<std::string> expected;
    for (uint32_t i = 0; i < 64; ++i) {
        const uint32_t src = kTestNet | i << 8 | 0xff;
        sources.push_back(formatIpv4(src));
        expected.insert(kindOr(referenceKind("fibonacci", src)) + " -> " + kindOr(referenceKind("fibonacci-naive", src)));
    }
    {
        std::ofstream file(dir.path() / "expected.txt");
        for (const auto& e : expected) file << e << "\n";
    }
    auto diff = [&](const std::string& a, const std::string& b, std::vector<std::string> more) {
        std::vector<std::string> args = {"diff", a, b, "--plugin-dir", plugins.string(), "--rounds", "6", "--repeat", "500"};
        args.insert(args.end(), more.begin(), more.end());
        args.push_back("--");
        args.insert(args.end(), sources.begin(), sources.end());
        return runFizzhost(args);
    };

    auto slow = diff("fibonacci", "fibonacci-naive",
                     {"--expect-file", (dir.path() / "expected.txt").string(), "--max-slowdown", "1.5", "--json"});
    INFO(slow.err);
    CHECK(slow.status == 2);  // slower beyond the limit, and only expected differences
    auto out = nlohmann::json::parse(slow.out);
    CHECK(out["unexpected"] == 0);
    CHECK(out["expected"] == sources.size());
    const auto& cost = out["cost"];
    CHECK(cost["rounds"] == 6);
    CHECK(cost["frames"] == sources.size());
    CHECK(cost["verdict"] == "fail");
    CHECK(cost["b_over_a"]["lower"].get<double>() > 1.5);
    CHECK(cost["b_over_a"]["lower"].get<double>() <= cost["b_over_a"]["value"].get<double>());
    CHECK(cost["b_over_a"]["value"].get<double>() <= cost["b_over_a"]["upper"].get<double>());
    CHECK(cost["a_ns_per_packet"]["value"].get<double>() > 0);

    // One program against itself, over and over, on a machine shared with other builds: never
    // failed by noise at a limit of 1.2.
    for (int run = 0; run < 4; ++run) {
        auto same = diff("fibonacci", "fibonacci@3.0.0", {"--max-slowdown", "1.2", "--json"});
        INFO("run " << run << ": " << same.err);
        CHECK(same.status == 0);
        const auto j = nlohmann::json::parse(same.out);
        CHECK(j["compared"] == sources.size());
        CHECK(j["unexpected"] == 0);
        CHECK(j["cost"]["verdict"] != "fail");
        CHECK(j["cost"]["b_over_a"]["lower"].get<double>() <= 1.2);
    }

    // Bencher Metric Format: each program's ns per packet and B over A, each with its interval.
    auto bmf = diff("fibonacci", "fibonacci-naive", {"--expect-file", (dir.path() / "expected.txt").string(), "--format", "bmf"});
    CHECK(bmf.status == 0);  // no limit given, only expected differences
    const auto doc = nlohmann::json::parse(bmf.out);
    CHECK(checkBmf(doc) == 3);
    CHECK(doc.contains("fibonacci"));
    CHECK(doc["fibonacci-naive"].contains("latency"));
    CHECK(doc["fibonacci-naive vs fibonacci"]["ratio"]["lower_value"].get<double>() > 1.5);

    auto text = diff("fibonacci", "fibonacci-naive", {"--max-slowdown", "1.5"});
    CHECK(text.status == 3);  // unexpected differences and slower
    CHECK_THAT(text.out, Contains("B over A") && Contains("B is slower beyond the limit") && Contains("(exit 3)"));
}

TEST_CASE("fizzhost bench A B: each plugin over the first with its interval; --format bmf", "[bpf]") {
    if (!requirePrivilege("fizzhost bench")) return;
    TempDir dir;
    const auto plugins = pluginFolder(dir, {{kPlugins / "fibonacci.so", "fibonacci.so"},
                                            {kTestPlugins / "fibonacci-naive" / "fibonacci-naive.so", "fibonacci-naive.so"}});
    const std::vector<std::string> base = {"bench", "--plugin-dir", plugins.string(), "--mix", "worst", "--rounds", "4",
                                           "--repeat", "300", "fibonacci", "fibonacci-naive"};
    auto with = [&](std::vector<std::string> more) {
        auto args = base;
        args.insert(args.end(), more.begin(), more.end());
        return runFizzhost(args);
    };
    auto bmf = with({"--format", "bmf"});
    INFO(bmf.err);
    CHECK(bmf.status == 0);
    const auto doc = nlohmann::json::parse(bmf.out);
    CHECK(checkBmf(doc) == 4);
    for (const char* name : {"floor", "fibonacci", "fibonacci-naive"}) CHECK(doc[name].contains("latency"));
    CHECK(doc["fibonacci-naive vs fibonacci"]["ratio"]["lower_value"].get<double>() > 1.0);
    CHECK_THAT(bmf.err, Contains("bench: using fibonacci 3.0.0 (the only version"));

    auto json = with({"--json"});
    CHECK(json.status == 0);
    const auto j = nlohmann::json::parse(json.out);
    REQUIRE(j["plugins"].size() == 2);
    CHECK_FALSE(j["plugins"][0].contains("over_first"));
    const auto& over = j["plugins"][1]["over_first"];
    CHECK(over["interval"][0].get<double>() <= over["ratio"].get<double>());
    CHECK(over["ratio"].get<double>() <= over["interval"][1].get<double>());
    CHECK(j["confidence"] == 0.99);

    auto text = with({});
    CHECK(text.status == 0);
    CHECK_THAT(text.out, Contains("fibonacci-naive " FIZZHOST_NAIVE_VERSION " over fibonacci 3.0.0: ") &&
                             Contains("(99% interval, geometric mean of 4 interleaved rounds)"));
    auto breakdown = with({"--breakdown", "--format", "bmf"});
    CHECK(breakdown.status == 2);
}

TEST_CASE("fizzhost diff: usage and input errors exit 4, apart from the verdicts", "[bpf]") {
    auto diff = [](std::vector<std::string> more) {
        std::vector<std::string> args = {"diff", "fibonacci", "fizz", "--plugin-dir", FIZZHOST_PLUGIN_DIR};
        args.insert(args.end(), more.begin(), more.end());
        return runFizzhost(args);
    };
    const auto format = diff({"--format", "xml", "198.18.0.1"});
    CHECK(format.status == 4);
    CHECK_THAT(format.err, Contains("unknown format 'xml' (known: text, json, bmf)"));
    const auto both = diff({"--pcap", "x.pcap", "198.18.0.1"});
    CHECK(both.status == 4);
    CHECK_THAT(both.err, Contains("give either --pcap or addresses, not both"));
    const auto limit = diff({"--no-cost", "--max-slowdown", "1.2", "198.18.0.1"});
    CHECK(limit.status == 4);
    CHECK_THAT(limit.err, Contains("--max-slowdown judges the cost: leave out --no-cost"));
    const auto syntax = diff({"--expect", "none Web", "198.18.0.1"});
    CHECK(syntax.status == 4);
    CHECK_THAT(syntax.err, Contains("--expect 'none Web': expected BASELINE -> CANDIDATE"));
    const auto rounds = diff({"--rounds", "1", "198.18.0.1"});
    CHECK(rounds.status == 4);
    CHECK_THAT(rounds.err, Contains("--rounds 2 or more"));
    const auto unknown = runFizzhost({"diff", "nope", "fizz", "--plugin-dir", FIZZHOST_PLUGIN_DIR, "--no-cost", "198.18.0.1"});
    CHECK(unknown.status == 4);
    CHECK_THAT(unknown.err, Contains("unknown plugin 'nope'"));
    const auto address = diff({"--no-cost", "198.18.0.300"});
    CHECK(address.status == 4);
    CHECK_THAT(address.err, Contains("'198.18.0.300' is not an IPv4 address"));
    const auto missing = diff({"--no-cost", "--pcap", "/nonexistent/lab.pcap"});
    CHECK(missing.status == 4);
    CHECK_THAT(missing.err, Contains("/nonexistent/lab.pcap") && Contains("ENOENT"));
    // A command line diff cannot read is no verdict either.
    const auto noB = runFizzhost({"diff", "fibonacci"});
    CHECK(noB.status == 4);
    CHECK_THAT(noB.err, Contains("b is required"));
    const auto badNumber = runFizzhost({"diff", "fibonacci", "fizz", "--max-slowdown", "fast"});
    CHECK(badNumber.status == 4);
    CHECK(runFizzhost({"diff", "--help"}).status == 0);
    // Other commands keep their own statuses for a command line they cannot read.
    CHECK(runFizzhost({"bench", "--rounds", "many"}).status != 4);
}
