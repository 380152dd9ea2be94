// The fizzhost binary's offline commands, run as a user would: classify, plugins, check.
#include "support/daemon_process.hpp"
#include "support/netns.hpp"
#include "support/privilege.hpp"

#include <catch2/catch.hpp>

#include <fstream>

#include <nlohmann/json.hpp>

using namespace fizzhost::test;
using Catch::Matchers::Contains;

namespace {

struct Run {
    int status;
    std::string out, err;
};

Run runFizzhost(const std::vector<std::string>& args, const std::string& netns = "") {
    std::vector<std::string> argv = {FIZZHOST_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    DaemonProcess p(argv, {}, netns);
    auto st = p.waitExit(std::chrono::seconds(60));
    REQUIRE(st);
    return {*st, p.stdoutText(), p.stderrText()};
}

}  // namespace

TEST_CASE("fizzhost classify prints one JSON line per address and fails clearly on bad input", "[bpf]") {
    if (!requirePrivilege("fizzhost classify")) return;
    auto ok = runFizzhost({"classify", "--plugin", "fibonacci", "--plugin-dir", FIZZHOST_PLUGIN_DIR, "198.18.0.15",
                        "198.18.0.233", "198.18.0.10", "0xC6120004"});
    CHECK(ok.status == 0);
    CHECK(ok.out == "{\"src\":\"198.18.0.15\",\"kind\":\"Fizz\"}\n"
                    "{\"src\":\"198.18.0.233\",\"kind\":\"Fibonacci\"}\n"
                    "{\"src\":\"198.18.0.10\",\"kind\":null}\n"
                    "{\"src\":\"198.18.0.4\",\"kind\":\"Buzz\"}\n");

    auto badAddress = runFizzhost({"classify", "--plugin", "fizz", "--plugin-dir", FIZZHOST_PLUGIN_DIR, "198.18.0.300"});
    CHECK(badAddress.status == 2);
    CHECK(badAddress.out.empty());
    CHECK_THAT(badAddress.err, Contains("'198.18.0.300' is not an IPv4 address"));

    auto unknown = runFizzhost({"classify", "--plugin", "nope", "--plugin-dir", FIZZHOST_PLUGIN_DIR, "1.2.3.4"});
    CHECK(unknown.status == 1);
    CHECK_THAT(unknown.err, Contains("unknown plugin 'nope'") && Contains("found: fibonacci, fizz, fizzbuzz"));

    auto rejected = runFizzhost({"classify", "--plugin", "rejected", "--plugin-dir",
                              std::string(FIZZHOST_TEST_PLUGIN_DIR) + "/rejected", "1.2.3.4"});
    CHECK(rejected.status == 1);
    CHECK_THAT(rejected.err, Contains("verifier log"));
}

TEST_CASE("fizzhost plugins lists name, version, ABI and kinds", "[bpf]") {
    auto r = runFizzhost({"plugins", "--json", "--plugin-dir", FIZZHOST_PLUGIN_DIR});
    CHECK(r.status == 0);
    auto j = nlohmann::json::parse(r.out);
    REQUIRE(j["plugins"].size() == 3);
    CHECK(j["plugins"][2]["name"] == "fizzbuzz");
    CHECK(j["plugins"][2]["version"] == "2.0.0");
    CHECK(j["plugins"][2]["abi"] == "1.0");
    CHECK(j["plugins"][2]["kinds"] == nlohmann::json({"Fizz", "Buzz", "FizzBuzz"}));
}

TEST_CASE("fizzhost check loads every program a config names without attaching, and says what is wrong", "[bpf]") {
    if (!requirePrivilege("fizzhost check")) return;
    NetNs ns;
    TempDir dir;
    auto cfg = dir.path() / "fizz.toml";
    std::ofstream(cfg) << "plugin_dir = \"" FIZZHOST_PLUGIN_DIR "\"\n[interface.lo]\nclassifier = \"fizzbuzz\"\n"
                       << "[interface.lo.rollout]\ncandidate = \"fibonacci\"\npercent = 10\n";
    auto ok = runFizzhost({"check", "--config", cfg.string()}, ns.name());
    CHECK(ok.status == 0);
    CHECK_THAT(ok.err, Contains("OK (1 interface(s))"));
    std::ofstream(cfg) << "plugin_dir = \"" FIZZHOST_PLUGIN_DIR "\"\n[interface.lo]\nclassifier = \"fizzbuzz\"\n"
                       << "[interface.lo.rollout]\ncandidate = \"fibonaci\"\npercent = 10\n";
    auto bad = runFizzhost({"check", "--config", cfg.string()}, ns.name());
    CHECK(bad.status == 1);
    CHECK_THAT(bad.err, Contains("interface 'lo': unknown plugin 'fibonaci'"));
    std::ofstream(cfg) << "[interface.lo]\nclassifier = \"fizz\"\nmode = \"turbo\"\n";
    auto syntax = runFizzhost({"check", "--config", cfg.string()}, ns.name());
    CHECK(syntax.status == 1);
    CHECK_THAT(syntax.err, Contains(cfg.string() + ":3:8: interface.lo.mode"));
}

TEST_CASE("fizzhost bench --breakdown measures every stage per plugin and transport, messages counted exactly",
          "[bpf]") {
    if (!requirePrivilege("fizzhost bench")) return;
    auto r = runFizzhost({"bench", "--breakdown", "--json", "--rounds", "1", "--repeat", "200", "--plugin-dir",
                          FIZZHOST_PLUGIN_DIR, "fizz", "fibonacci"});
    REQUIRE(r.status == 0);
    auto j = nlohmann::json::parse(r.out);
    std::vector<std::pair<std::string, std::string>> stages;
    for (const auto& s : j["stages"]) {
        stages.emplace_back(s["plugin"], s["stage"]);
        INFO(s.dump());
        CHECK(s["ns_per_packet"].get<double>() > 0);
        CHECK(s["dropped"] == 0);
        // Only the full stages emit; classify runs with fizz_emit turned off, parse+count has none.
        if (s["stage"].get<std::string>().starts_with("full")) {
            CHECK(s["messages_per_packet"].get<double>() > 0);
            CHECK(s.contains("ns_per_message"));
        } else {
            CHECK(s["messages_per_packet"] == 0);
        }
    }
    const std::vector<std::pair<std::string, std::string>> want = {
        {"-", "floor"},          {"-", "parse+count"},          {"fizz", "classify"},
        {"fizz", "full, ring"},  {"fizz", "full, queue"},       {"fibonacci", "classify"},
        {"fibonacci", "full, ring"}, {"fibonacci", "full, queue"}};
    CHECK(stages == want);
    // Both transports carry the same messages: fizz on the uniform mix, the sources divisible by 3.
    CHECK(j["stages"][3]["messages_per_packet"] == j["stages"][4]["messages_per_packet"]);
}
