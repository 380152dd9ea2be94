// The config file is judged by the one trust rule (util/file_trust) when it is read: one that others
// can write is refused unless the command line (never the config itself) allows insecure mode.
#include "config/config_loader.hpp"
#include "support/daemon_process.hpp"
#include "util/error.hpp"

#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

using namespace fizzhost;
using Catch::Matchers::Contains;

TEST_CASE("a config file or folder others can write is refused unless the command line allows insecure mode", "[unit]") {
    test::TempDir dir;
    auto cfg = dir.path() / "fizz.toml";
    std::ofstream(cfg) << "[interface.lo]\nclassifier = \"fizz\"\n";
    ::chmod(cfg.c_str(), 0644);
    const auto load = [&](config::FileTrust trust) { return config::loadConfig(cfg, "/usr/lib/fizzhost/plugins", trust); };
    const auto strict = config::FileTrust::Strict, relaxed = config::FileTrust::Insecure;
    CHECK_NOTHROW(load(strict));
    ::chmod(cfg.c_str(), 0666);
    CHECK_THROWS_WITH(load(strict), Contains("config file '" + cfg.string() + "' is writable by others (mode 0666)") &&
                                        Contains("--allow-insecure-plugins on the command line"));
    CHECK_NOTHROW(load(relaxed));
    ::chmod(cfg.c_str(), 0620);
    CHECK_THROWS_WITH(load(strict), Contains("writable by group"));
    ::chmod(cfg.c_str(), 0644);
    // The config's own allow_insecure_plugins does not vouch for itself.
    std::ofstream(cfg) << "allow_insecure_plugins = true\n[interface.lo]\nclassifier = \"fizz\"\n";
    ::chmod(cfg.c_str(), 0666);
    CHECK_THROWS_WITH(load(strict), Contains("is writable by others"));
    ::chmod(cfg.c_str(), 0644);
    // Judged where it really is: a symlink to it from a safe place does not help.
    auto open = dir.path() / "open";
    std::filesystem::create_directory(open);
    ::chmod(open.c_str(), 0777);
    std::filesystem::rename(cfg, open / "fizz.toml");
    std::filesystem::create_symlink(open / "fizz.toml", cfg);
    CHECK_THROWS_WITH(load(strict), Contains("config folder '" + open.string() + "' is writable by others"));
    CHECK_NOTHROW(load(relaxed));
}
