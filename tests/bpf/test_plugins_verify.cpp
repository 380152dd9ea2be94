// `fizzhost plugins --verify`: every plugin version in a folder loaded and put to the kernel's
// verifier without a config, never attached.
#include "support/cli_run.hpp"
#include "support/daemon_process.hpp"
#include "support/privilege.hpp"

#include <catch2/catch.hpp>

#include <sstream>

using namespace fizzhost::test;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

std::vector<std::string> linesOf(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

}  // namespace

TEST_CASE("fizzhost plugins --verify loads every plugin version and shows the verifier's refusal", "[bpf]") {
    if (!requirePrivilege("fizzhost plugins --verify")) return;
    TempDir dir;
    const auto plugins = dir.path() / "plugins";
    std::filesystem::create_directory(plugins);
    const std::filesystem::path built = FIZZHOST_PLUGIN_DIR, test = FIZZHOST_TEST_PLUGIN_DIR;
    std::filesystem::copy_file(built / "fizz.so", plugins / "fizz-1.0.0.so");
    std::filesystem::copy_file(test / "fizz-1.1.0" / "fizz.so", plugins / "fizz-1.1.0.so");

    auto good = runFizzhost({"plugins", "--verify", "--plugin-dir", plugins.string()});
    CHECK(good.status == 0);
    auto lines = linesOf(good.out);
    REQUIRE(lines.size() == 3);
    CHECK_THAT(lines[0], StartsWith("OK      fizz 1.1.0") && Contains("fizz-1.1.0.so") && Contains("'fizz_xdp'"));
    CHECK_THAT(lines[1], StartsWith("OK      fizz 1.0.0") && Contains("fizz-1.0.0.so"));
    CHECK(lines[2] == "2 of 2 plugin file(s) verified");

    std::filesystem::copy_file(test / "rejected" / "rejected.so", plugins / "rejected.so");
    auto bad = runFizzhost({"plugins", "--verify", "--plugin-dir", plugins.string()});
    CHECK(bad.status == 1);
    lines = linesOf(bad.out);
    // The rejected plugin's line carries the verifier's log, which spans lines of its own.
    CHECK_THAT(bad.out, Contains("OK      fizz 1.1.0") && Contains("OK      fizz 1.0.0"));
    CHECK_THAT(bad.out, Contains("FAILED  rejected 1.0.0 (" + (plugins / "rejected.so").string() + "): plugin 'rejected'") &&
                            Contains("verifier log") && Contains("invalid access to packet"));
    CHECK(lines.back() == "2 of 3 plugin file(s) verified");
}
