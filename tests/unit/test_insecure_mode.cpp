// The config file is judged like a plugin file: as root, one that others can write is refused unless
// the command line (never the config itself) allows insecure mode.
#include "plugin/file_policy.hpp"
#include "support/daemon_process.hpp"
#include "util/error.hpp"

#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

using namespace fizzhost;
using Catch::Matchers::Contains;

TEST_CASE("a config file or folder others can write is refused under the strict policy", "[unit]") {
    test::TempDir dir;
    auto cfg = dir.path() / "fizz.toml";
    std::ofstream(cfg) << "[interface.lo]\nclassifier = \"fizz\"\n";
    ::chmod(cfg.c_str(), 0644);
    const plugin::FilePolicy strict{true}, relaxed{false};
    if (geteuid() != 0) {  // a file we own is not root's: the first rule already refuses it
        CHECK_THROWS_WITH(plugin::checkConfigFile(strict, cfg), Contains("config file") && Contains("not root"));
        return;
    }
    CHECK_NOTHROW(plugin::checkConfigFile(strict, cfg));
    ::chmod(cfg.c_str(), 0666);
    CHECK_THROWS_WITH(plugin::checkConfigFile(strict, cfg),
                      Contains("config file '" + cfg.string() + "' is writable by others (mode 0666)") &&
                          Contains("--allow-insecure-plugins on the command line"));
    CHECK_NOTHROW(plugin::checkConfigFile(relaxed, cfg));
    ::chmod(cfg.c_str(), 0620);
    CHECK_THROWS_WITH(plugin::checkConfigFile(strict, cfg), Contains("writable by group"));
    ::chmod(cfg.c_str(), 0644);
    // Judged where it really is: a symlink to it from a safe place does not help.
    auto open = dir.path() / "open";
    std::filesystem::create_directory(open);
    ::chmod(open.c_str(), 0777);
    std::filesystem::rename(cfg, open / "fizz.toml");
    std::filesystem::create_symlink(open / "fizz.toml", cfg);
    CHECK_THROWS_WITH(plugin::checkConfigFile(strict, cfg),
                      Contains("config folder '" + open.string() + "' is writable by others"));
}
