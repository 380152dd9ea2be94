// The state root's folder on bpffs: made by the host that locks it, removed by it when empty as it
// leaves, kept while anything is pinned in it; the next host makes and locks it again.
#include "bpf/pin.hpp"
#include "runtime/pinned/pin_store.hpp"
#include "support/bpffs_dir.hpp"
#include "support/privilege.hpp"
#include "util/error.hpp"

#include <catch2/catch.hpp>

using namespace fizzhost;
using namespace fizzhost::test;
namespace fs = std::filesystem;

TEST_CASE("a host's state root goes with its last pin, and stays while one is left", "[bpf]") {
    if (!requirePrivilege("state root on bpffs")) return;
    BpffsDir parent;
    const fs::path root = parent.path() / "state";

    { runtime::PinStore store(root); CHECK(fs::is_directory(root)); }
    CHECK_FALSE(fs::exists(root));

    {
        runtime::PinStore store(root);
        fs::create_directory(root / "eth0");  // what an interface's pins live in
    }
    CHECK(fs::is_directory(root / "eth0"));

    // An unlocked store (fizzhost detach, status readers) never removes the root.
    fs::remove(root / "eth0");
    { auto store = runtime::PinStore::openUnlocked(root); }
    CHECK(fs::is_directory(root));
}

TEST_CASE("one lock per state root; after its holder removed it, the next host makes and locks it again", "[bpf]") {
    if (!requirePrivilege("state root on bpffs")) return;
    BpffsDir parent;
    const fs::path root = parent.path() / "state";
    fs::create_directory(root);
    bpf::DirLock first(root);
    CHECK_FALSE(bpf::DirLock::tryLock(root));
    CHECK_THROWS_WITH(runtime::PinStore(root), Catch::Matchers::Contains("in use by another fizzhost"));
    first = bpf::DirLock();
    CHECK(bpf::removeIfEmpty(root));
    CHECK_FALSE(fs::exists(root));
    runtime::PinStore next(root);
    CHECK(fs::is_directory(root));
    CHECK_FALSE(bpf::DirLock::tryLock(root));
}
