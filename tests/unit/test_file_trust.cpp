// The one trust rule for files that choose what runs (util/file_trust): the config file and plugin
// modules, their folders walked by descriptor, judged on the descriptor that is read.
#include "config/config_loader.hpp"
#include "plugin/file_policy.hpp"
#include "support/daemon_process.hpp"
#include "util/error.hpp"
#include "util/file_trust.hpp"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <functional>

using namespace fizzhost;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
namespace fs = std::filesystem;

namespace {

constexpr const char* kDefaultPlugins = "/usr/lib/fizzhost/plugins";

std::string errorOf(const std::function<void()>& fn, int* code = nullptr) {
    try {
        fn();
    } catch (const Error& e) {
        if (code) *code = e.code();
        return e.what();
    }
    return "";
}

std::string readAll(int fd) {
    std::string out;
    char buf[256];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, size_t(n));
    return out;
}

// A private folder (0700, ours) holding a config; TempDir itself sits under sticky /tmp.
struct ConfigDir {
    test::TempDir tmp;
    fs::path dir = tmp.path() / "etc";
    fs::path file = dir / "fizz.toml";
    ConfigDir() {
        fs::create_directory(dir);
        REQUIRE(::chmod(tmp.path().c_str(), 0700) == 0);
        REQUIRE(::chmod(dir.c_str(), 0755) == 0);
        std::ofstream(file) << "[interface.a]\nclassifier = \"fizz\"\n";
        REQUIRE(::chmod(file.c_str(), 0644) == 0);
    }
};

}  // namespace

TEST_CASE("a config in a group-writable folder is refused, naming the folder and the rule", "[unit]") {
    ConfigDir c;
    CHECK(config::loadConfig(c.file, kDefaultPlugins).interfaces.size() == 1);
    REQUIRE(::chmod(c.dir.c_str(), 0775) == 0);
    int code = 0;
    const std::string err = errorOf([&] { config::loadConfig(c.file, kDefaultPlugins); }, &code);
    CHECK(code == EPERM);
    CHECK(err == "config folder '" + c.dir.string() + "' is writable by group (mode 0775); " + trustRule() +
                     ". Refusing it (--allow-insecure-plugins on the command line relaxes this, for development only)");
    CHECK_THAT(err, Contains("the rule: a file that chooses what runs") && Contains("every folder above it"));
    // Insecure mode (the command line only) loads it, as it loads an unsafe file.
    CHECK(config::loadConfig(c.file, kDefaultPlugins, config::FileTrust::Insecure).interfaces.size() == 1);
    // A folder further up counts too; sticky /tmp above the temp folder does not.
    REQUIRE(::chmod(c.dir.c_str(), 0755) == 0);
    REQUIRE(::chmod(c.tmp.path().c_str(), 0777) == 0);
    CHECK_THAT(errorOf([&] { config::loadConfig(c.file, kDefaultPlugins); }),
               StartsWith("config folder '" + c.tmp.path().string() + "' is writable by others (mode 0777)"));
    // Sticky is no excuse for the file's own folder (anyone may add files to it), only for folders
    // above it owned by root, like /tmp.
    REQUIRE(::chmod(c.tmp.path().c_str(), 0700) == 0);
    REQUIRE(::chmod(c.dir.c_str(), 01777) == 0);
    CHECK_THAT(errorOf([&] { config::loadConfig(c.file, kDefaultPlugins); }),
               StartsWith("config folder '" + c.dir.string() + "' is writable by others (mode 1777)"));
}

TEST_CASE("the config file's own mode and owner follow the same rule and wording", "[unit]") {
    ConfigDir c;
    REQUIRE(::chmod(c.file.c_str(), 0620) == 0);
    CHECK_THAT(errorOf([&] { config::loadConfig(c.file, kDefaultPlugins); }),
               StartsWith("config file '" + c.file.string() + "' is writable by group (mode 0620); the rule:"));
    REQUIRE(::chmod(c.file.c_str(), 0644) == 0);
    if (geteuid() != 0) return;  // chown to another user needs root
    REQUIRE(::chown(c.file.c_str(), 65534, 65534) == 0);
    CHECK_THAT(errorOf([&] { config::loadConfig(c.file, kDefaultPlugins); }),
               StartsWith("config file '" + c.file.string() + "' is owned by uid 65534, not root; the rule:"));
    REQUIRE(::chown(c.file.c_str(), 0, 0) == 0);
    REQUIRE(::chown(c.dir.c_str(), 65534, 65534) == 0);
    CHECK_THAT(errorOf([&] { config::loadConfig(c.file, kDefaultPlugins); }),
               StartsWith("config folder '" + c.dir.string() + "' is owned by uid 65534, not root; the rule:"));
}

TEST_CASE("a symlink to a config is judged where the config really is", "[unit]") {
    ConfigDir c;
    const fs::path open = c.tmp.path() / "open";
    fs::create_directory(open);
    REQUIRE(::chmod(open.c_str(), 0777) == 0);
    fs::rename(c.file, open / "fizz.toml");
    fs::create_symlink(open / "fizz.toml", c.file);
    CHECK_THAT(errorOf([&] { config::loadConfig(c.file, kDefaultPlugins); }),
               StartsWith("config folder '" + open.string() + "' is writable by others (mode 0777)"));
}

TEST_CASE("a symlink swapped after the check cannot make the host read another file", "[unit]") {
    ConfigDir c;
    const fs::path good = c.dir / "good.toml", evil = c.dir / "evil.toml";
    fs::rename(c.file, good);
    std::ofstream(evil) << "evil\n";
    REQUIRE(::chmod(evil.c_str(), 0644) == 0);
    fs::create_symlink(good, c.file);

    // Swapped after the check: what is read is the descriptor that was checked.
    CheckedFile checked = openChecked(c.file, "config file", "config folder", "read");
    CHECK(checked.problems.empty());
    fs::remove(c.file);
    fs::create_symlink(evil, c.file);
    CHECK_THAT(readAll(checked.fd.get()), StartsWith("[interface.a]"));

    // Swapped between the open and the check: the path no longer leads to the opened file, and the
    // check says so instead of judging the other file's folders in its place.
    fs::remove(c.file);
    fs::create_symlink(good, c.file);
    UniqueFd fd(::open(c.file.c_str(), O_RDONLY | O_CLOEXEC));
    REQUIRE(fd);
    struct stat st {};
    REQUIRE(::fstat(fd.get(), &st) == 0);
    fs::remove(c.file);
    fs::create_symlink(evil, c.file);
    int code = 0;
    CHECK_THAT(errorOf([&] { checkOpenedFile("config file", "config folder", c.file, st); }, &code),
               StartsWith("config file '" + c.file.string() + "' changed while being checked"));
    CHECK(code == EAGAIN);
}

TEST_CASE("the folder walk follows no symlink and judges each folder it opened", "[unit]") {
    ConfigDir c;
    const fs::path link = c.tmp.path() / "link";
    fs::create_directory_symlink(c.dir, link);
    CHECK(checkFolderChain("config folder", c.dir).problems.empty());
    int code = 0;
    CHECK_THAT(errorOf([&] { checkFolderChain("config folder", link); }, &code),
               StartsWith("config folder '" + link.string() + "'"));
    CHECK(code == ENOTDIR);
    CHECK_THROWS_WITH(checkFolderChain("config folder", "relative/dir"), Contains("not an absolute path"));
}

TEST_CASE("the plugin folder is checked by the same walk, with the same wording", "[unit]") {
    ConfigDir c;
    const plugin::FilePolicy strict{true};
    CHECK_NOTHROW(plugin::checkFolder(strict, c.dir));
    REQUIRE(::chmod(c.dir.c_str(), 0775) == 0);
    CHECK_THAT(errorOf([&] { plugin::checkFolder(strict, c.dir); }),
               StartsWith("plugin folder '" + c.dir.string() + "' is writable by group (mode 0775); " + trustRule()));
    CHECK_NOTHROW(plugin::checkFolder(plugin::FilePolicy{false}, c.dir));
}
