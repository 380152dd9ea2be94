// Which version ran, said by the commands that choose one: classify and check name the version a
// bare NAME resolved to (and why), plugins shows each module's SHA-256 prefix, and check holds a
// rollout's expected cells against the kinds the two plugins declare.
#include "support/cli_run.hpp"
#include "support/daemon_process.hpp"
#include "support/netns.hpp"
#include "support/privilege.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>

using namespace fizzhost::test;
using Catch::Matchers::Contains;

namespace {

namespace fs = std::filesystem;

// fizz 1.0.0 and 1.1.0 side by side.
fs::path twoFizzes(const TempDir& dir) {
    const fs::path plugins = dir.path() / "plugins";
    fs::create_directory(plugins);
    fs::copy_file(fs::path(FIZZHOST_PLUGIN_DIR) / "fizz.so", plugins / "fizz-1.0.0.so");
    fs::copy_file(fs::path(FIZZHOST_TEST_PLUGIN_DIR) / "fizz-1.1.0" / "fizz.so", plugins / "fizz-1.1.0.so");
    return plugins;
}

// The file's SHA-256 as coreutils computes it: independent of the host's own hashing.
std::string sha256sum(const fs::path& file) {
    auto r = runToEnd("/usr/bin/sha256sum", {file.string()});
    REQUIRE(r.status == 0);
    return r.out.substr(0, 64);
}

}  // namespace

TEST_CASE("classify says which version it ran: the highest of several, or the one asked for", "[bpf]") {
    if (!requirePrivilege("fizzhost classify")) return;
    TempDir dir;
    const auto plugins = twoFizzes(dir);
    auto highest = runFizzhost({"classify", "--plugin", "fizz", "--plugin-dir", plugins.string(), "198.18.0.3"});
    CHECK(highest.status == 0);
    CHECK(highest.out == "{\"src\":\"198.18.0.3\",\"kind\":\"Fizz\"}\n");  // stdout stays the events alone
    CHECK_THAT(highest.err, Contains("classify: using fizz 1.1.0 (highest of 1.1.0, 1.0.0; sha256 " +
                                     sha256sum(plugins / "fizz-1.1.0.so").substr(0, 12) + ")"));
    auto asked = runFizzhost({"classify", "--plugin", "fizz@1.0.0", "--plugin-dir", plugins.string(), "198.18.0.3"});
    CHECK(asked.status == 0);
    CHECK_THAT(asked.err, Contains("classify: using fizz 1.0.0 (as asked; sha256 " +
                                   sha256sum(plugins / "fizz-1.0.0.so").substr(0, 12) + ")"));
}

TEST_CASE("plugins shows each module's SHA-256: a prefix in the table, the whole in JSON", "[bpf]") {
    TempDir dir;
    const auto plugins = twoFizzes(dir);
    const std::string old = sha256sum(plugins / "fizz-1.0.0.so"), current = sha256sum(plugins / "fizz-1.1.0.so");
    REQUIRE(old != current);
    auto table = runFizzhost({"plugins", "--plugin-dir", plugins.string()});
    CHECK(table.status == 0);
    CHECK_THAT(table.out, Contains("SHA256") && Contains(" " + old.substr(0, 12) + " ") &&
                              Contains(" " + current.substr(0, 12) + " "));
    auto json = runFizzhost({"plugins", "--json", "--plugin-dir", plugins.string()});
    CHECK(json.status == 0);
    const auto j = nlohmann::json::parse(json.out);
    REQUIRE(j["plugins"].size() == 2);
    CHECK(j["plugins"][0]["version"] == "1.1.0");
    CHECK(j["plugins"][0]["sha256"] == current);
    CHECK(j["plugins"][1]["sha256"] == old);
}

TEST_CASE("check names the versions a config resolves to and holds expected cells against the plugins' kinds",
          "[bpf]") {
    if (!requirePrivilege("fizzhost check")) return;
    NetNs ns;
    TempDir dir;
    const auto plugins = twoFizzes(dir);
    const auto cfg = dir.path() / "fizz.toml";
    auto write = [&](const std::string& expected) {
        std::ofstream(cfg) << "plugin_dir = \"" << plugins.string() << "\"\n[interface.lo]\nclassifier = \"fizz\"\n"
                           << "[interface.lo.rollout]\ncandidate = \"fizz@1.0.0\"\nmode = \"shadow\"\nexpected = ["
                           << expected << "]\n";
    };
    write("\"Fizz -> none\"");
    auto ok = runFizzhost({"check", "--config", cfg.string()}, ns.name());
    INFO(ok.err);
    CHECK(ok.status == 0);
    CHECK_THAT(ok.err, Contains("interface 'lo': classifier fizz: using fizz 1.1.0 (highest of 1.1.0, 1.0.0; sha256 ") &&
                           Contains("interface 'lo': candidate fizz@1.0.0: using fizz 1.0.0 (as asked"));

    write("\"none -> Fizz\", \"Fizz -> Buzz\"");
    auto bad = runFizzhost({"check", "--config", cfg.string()}, ns.name());
    CHECK(bad.status == 1);
    CHECK_THAT(bad.err, Contains(cfg.string() + ":7:29: interface.lo.rollout.expected[1]: expected cell 'Fizz -> Buzz': "
                                                "the candidate (fizz 1.0.0) declares no kind 'Buzz' (it declares Fizz)"));
}
