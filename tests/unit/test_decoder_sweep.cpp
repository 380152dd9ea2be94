// The decoder root's sweep at host start: the chroot folders a process that died left behind go;
// a folder whose owner lives (it holds a lock on it), one made a moment ago, and anything not
// named like ours stay.
#include "decoder/module_root.hpp"
#include "support/daemon_process.hpp"

#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <vector>

using namespace fizzhost;
using namespace fizzhost::test;

namespace {

void age(const std::filesystem::path& p) {
    std::filesystem::last_write_time(p, std::filesystem::file_time_type::clock::now() - std::chrono::hours(1));
}

}  // namespace

TEST_CASE("the decoder root's sweep removes only folders a dead process left", "[unit]") {
    TempDir root;
    const std::vector<unsigned char> bytes = {0x7f, 'E', 'L', 'F'};
    const std::string sha(64, 'a');
    // Alive: made by a ModuleRoot that still exists, and old.
    auto alive = std::make_unique<decoder::ModuleRoot>(root.path(), bytes, sha, "plugin 'x'");
    age(alive->dir());
    // Left by a dead process: our name, old, nobody holds it.
    const auto stale = root.path() / "m-0123456789ab-Q1w2E3";
    std::filesystem::create_directory(stale);
    std::ofstream(stale / (sha + ".so")) << "x";
    age(stale);
    // Young: may be a folder another process just made and has not locked yet.
    const auto young = root.path() / "m-0123456789ab-Zz9Yy8";
    std::filesystem::create_directory(young);
    // Not ours by name, however old.
    const auto other = root.path() / "m-not-ours";
    std::filesystem::create_directory(other);
    age(other);

    CHECK(decoder::ModuleRoot::sweepStale(root.path()) == 1);
    CHECK_FALSE(std::filesystem::exists(stale));
    CHECK(std::filesystem::exists(alive->dir() / alive->fileName()));
    CHECK(std::filesystem::exists(young));
    CHECK(std::filesystem::exists(other));

    // Once its owner is gone (here: the lock released, the folder left behind), it goes too.
    const auto dir = alive->dir();
    alive.reset();  // removes its own folder
    CHECK_FALSE(std::filesystem::exists(dir));
    CHECK(decoder::ModuleRoot::sweepStale(root.path()) == 0);
    // A root that does not exist is nothing to sweep.
    CHECK(decoder::ModuleRoot::sweepStale(root.path() / "absent") == 0);
}
