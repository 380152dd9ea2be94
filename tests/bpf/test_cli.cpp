// The fizzhost binary's offline commands, run as a user would: classify, plugins, check.
#include "support/cli_run.hpp"
#include "support/daemon_process.hpp"
#include "support/netns.hpp"
#include "support/privilege.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <fstream>

#include <nlohmann/json.hpp>

using namespace fizzhost::test;
using Catch::Matchers::Contains;

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
    CHECK_THAT(unknown.err, Contains("unknown plugin 'nope'") && Contains("found: fibonacci@3.0.0, fizz@1.0.0, fizzbuzz@2.0.0"));

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
    CHECK(j["plugins"][2]["abi"] == "1.1");
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

TEST_CASE("fizzhost check rolls out one version against another, runs no unselected plugin, and refuses a candidate "
          "that resolves to the classifier",
          "[bpf]") {
    if (!requirePrivilege("fizzhost check")) return;
    NetNs ns;
    TempDir dir;
    auto plugins = dir.path() / "plugins";
    std::filesystem::create_directory(plugins);
    std::filesystem::copy_file(std::filesystem::path(FIZZHOST_PLUGIN_DIR) / "fizz.so", plugins / "fizz-1.0.0.so");
    std::filesystem::copy_file(std::filesystem::path(FIZZHOST_TEST_PLUGIN_DIR) / "fizz-1.1.0" / "fizz.so",
                               plugins / "fizz-1.1.0.so");
    std::filesystem::copy_file(std::filesystem::path(FIZZHOST_TEST_PLUGIN_DIR) / "marker" / "marker.so",
                               plugins / "marker.so");
    // A half-copied module in the folder: refused, and nothing else stops.
    std::filesystem::copy_file(std::filesystem::path(FIZZHOST_PLUGIN_DIR) / "fizzbuzz.so", plugins / "fizzbuzz.so");
    std::filesystem::resize_file(plugins / "fizzbuzz.so", std::filesystem::file_size(plugins / "fizzbuzz.so") / 2);
    auto marker = dir.path() / "constructor-ran";
    ::setenv("FIZZTEST_MARKER", marker.c_str(), 1);  // inherited by the fizzhost processes below
    auto cfg = dir.path() / "fizz.toml";
    std::ofstream(cfg) << "plugin_dir = \"" << plugins.string() << "\"\n[interface.lo]\nclassifier = \"fizz@1.0.0\"\n"
                       << "[interface.lo.rollout]\ncandidate = \"fizz@1.1.0\"\npercent = 10\n";
    auto ok = runFizzhost({"check", "--config", cfg.string()}, ns.name());
    CHECK(ok.status == 0);
    CHECK_THAT(ok.err, Contains("fizz 1.0.0 loads") && Contains("candidate fizz 1.1.0 and the dispatcher"));
    CHECK_THAT(ok.err, Contains("fizzbuzz.so") && Contains("truncated: "));

    std::ofstream(cfg) << "plugin_dir = \"" << plugins.string() << "\"\n[interface.lo]\nclassifier = \"fizz\"\n"
                       << "[interface.lo.rollout]\ncandidate = \"fizz@1.1.0\"\npercent = 10\n";
    auto same = runFizzhost({"check", "--config", cfg.string()}, ns.name());
    CHECK(same.status == 1);
    CHECK_THAT(same.err, Contains("rollout candidate 'fizz@1.1.0' and classifier 'fizz' are the same plugin (fizz@1.1.0)"));

    auto list = runFizzhost({"plugins", "--plugin-dir", plugins.string()});
    CHECK(list.status == 1);  // the truncated module is a problem worth an exit code
    CHECK_THAT(list.out, Contains("1.1.0") && Contains("1.0.0") && Contains("marker"));
    CHECK_FALSE(std::filesystem::exists(marker));
    ::unsetenv("FIZZTEST_MARKER");
}

TEST_CASE("fizzhost classify and plugins --json show a plugin's typed fields", "[bpf]") {
    if (!requirePrivilege("run BPF programs")) return;
    const std::string dir = std::string(FIZZHOST_TEST_PLUGIN_DIR) + "/fields-probe";
    auto r = runFizzhost({"classify", "--plugin", "fields-probe", "--plugin-dir", dir, "198.18.0.7", "198.18.0.8"});
    CHECK(r.status == 0);
    std::istringstream lines(r.out);
    std::string line;
    std::vector<nlohmann::json> out;
    while (std::getline(lines, line)) out.push_back(nlohmann::json::parse(line));
    REQUIRE(out.size() == 2);
    CHECK(out[0]["kind"] == "Odd");
    CHECK(out[0]["fields"] == nlohmann::json::parse(R"({"src":"198.18.0.7","big":3323078392205269,"delta":-121,
                                                        "odd":true,"label":"odd \"q\"","ratio":-30.25,"only_odd":7})"));
    CHECK(out[1]["fields"]["odd"] == false);
    CHECK(out[1]["fields"]["only_odd"].is_null());
    CHECK(out[1]["fields"]["label"] == "even\\");

    auto list = runFizzhost({"plugins", "--json", "--plugin-dir", dir});
    auto j = nlohmann::json::parse(list.out);
    CHECK(j["plugins"][0]["fields"][4] == nlohmann::json({{"name", "label"}, {"type", "string"}}));
    CHECK(j["plugins"][0]["fields"].size() == 7);
}

TEST_CASE("fizzhost check refuses a config others can write unless the command line allows insecure mode, and "
          "warns when it does",
          "[bpf]") {
    if (!requirePrivilege("fizzhost check")) return;
    NetNs ns;
    TempDir dir;
    auto cfg = dir.path() / "fizz.toml";
    std::ofstream(cfg) << "plugin_dir = \"" FIZZHOST_PLUGIN_DIR "\"\n[interface.lo]\nclassifier = \"fizz\"\n";
    ::chmod(cfg.c_str(), 0666);
    auto refused = runFizzhost({"check", "--config", cfg.string()}, ns.name());
    CHECK(refused.status == 1);
    CHECK_THAT(refused.err, Contains("config file '" + cfg.string() + "' is writable by others (mode 0666)"));
    // The config cannot vouch for itself.
    std::ofstream(cfg) << "allow_insecure_plugins = true\nplugin_dir = \"" FIZZHOST_PLUGIN_DIR
                          "\"\n[interface.lo]\nclassifier = \"fizz\"\n";
    CHECK(runFizzhost({"check", "--config", cfg.string()}, ns.name()).status == 1);
    auto allowed = runFizzhost({"check", "--allow-insecure-plugins", "--config", cfg.string()}, ns.name());
    CHECK(allowed.status == 0);
    CHECK_THAT(allowed.err, Contains("INSECURE"));
    auto plugins = runFizzhost({"plugins", "--allow-insecure-plugins", "--plugin-dir", FIZZHOST_PLUGIN_DIR});
    CHECK_THAT(plugins.err, Contains("INSECURE"));
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
