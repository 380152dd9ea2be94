// Every plugin the host must refuse is refused with a message that names the file and the reason.
#include "bpf/test_run.hpp"
#include "plugin/catalog.hpp"
#include "runtime/instance/classifier.hpp"
#include "support/daemon_process.hpp"
#include "support/frame_builder.hpp"
#include "support/privilege.hpp"
#include "util/error.hpp"

#include <bpf/bpf.h>
#include <catch2/catch.hpp>
#include <linux/bpf.h>
#include <sys/stat.h>

#include <filesystem>

using namespace fizzhost;
using Catch::Matchers::Contains;
using fizzhost::test::requirePrivilege;

namespace {

const std::filesystem::path kTestPlugins = FIZZHOST_TEST_PLUGIN_DIR;

std::string loadError(const std::string& caseDir, const std::string& name) {
    plugin::Catalog catalog(kTestPlugins / caseDir, plugin::FilePolicy{});
    catalog.rescan();
    try {
        auto p = catalog.find(name);
        runtime::Classifier::load(p, {});
    } catch (const Error& e) {
        return e.what();
    }
    FAIL("plugin '" << name << "' in " << caseDir << " was not refused");
    return {};
}

}  // namespace

// Refusals decided before any kernel call (the module's descriptor, the BPF object's ELF against
// it) run unprivileged, as [unit] tests; only the verifier's needs the kernel.
TEST_CASE("a plugin built for another ABI is refused, naming the file and both versions", "[unit]") {
    auto msg = loadError("bad-abi", "bad-abi");
    CHECK_THAT(msg, Contains("bad-abi.so"));
    CHECK_THAT(msg, Contains("built for plugin ABI 99.0"));
    CHECK_THAT(msg, Contains("expects ABI 1.1"));
}

TEST_CASE("a module that is not a fizzhost plugin is refused", "[unit]") {
    auto msg = loadError("not-a-plugin", "not-a-plugin");
    CHECK_THAT(msg, Contains("not-a-plugin.so"));
    CHECK_THAT(msg, Contains("not a fizzhost plugin"));
    CHECK_THAT(msg, Contains("fizzhost_plugin_entry"));
}

TEST_CASE("a decoder whose message size differs from the map's value size is refused", "[unit]") {
    auto msg = loadError("size-mismatch", "size-mismatch");
    CHECK_THAT(msg, Contains("plugin 'size-mismatch'"));
    CHECK_THAT(msg, Contains("size-mismatch.so"));
    CHECK_THAT(msg, Contains("message size mismatch: the decoder expects 12 bytes"));
    CHECK_THAT(msg, Contains("8-byte values"));
}

TEST_CASE("a missing program or message map is refused", "[unit]") {
    auto noProgram = loadError("no-program", "no-program");
    CHECK_THAT(noProgram, Contains("no program 'absent_xdp'"));
    CHECK_THAT(noProgram, Contains("fizz_xdp"));  // lists what is there
    auto noMap = loadError("no-map", "no-map");
    CHECK_THAT(noMap, Contains("no map 'fizz_events'"));
    // Built against the SDK from before the per-CPU regions: no fizz_regions.
    auto oldSdk = loadError("old-sdk", "old-sdk");
    CHECK_THAT(oldSdk, Contains("no map 'fizz_regions'"));
    CHECK_THAT(oldSdk, Contains("must be rebuilt"));
}

TEST_CASE("a program the verifier rejects is refused with the verifier's own log", "[bpf]") {
    if (!requirePrivilege("load BPF programs")) return;
    auto msg = loadError("rejected", "rejected");
    CHECK_THAT(msg, Contains("plugin 'rejected'"));
    CHECK_THAT(msg, Contains("Permission denied (EACCES)"));
    CHECK_THAT(msg, Contains("verifier log"));
    CHECK_THAT(msg, Contains("invalid access to packet"));
}

TEST_CASE("two files declaring the same plugin name are both refused for that name", "[unit]") {
    test::TempDir dir;
    std::filesystem::copy_file(std::filesystem::path(FIZZHOST_PLUGIN_DIR) / "fizz.so", dir.path() / "fizz.so");
    std::filesystem::copy_file(std::filesystem::path(FIZZHOST_PLUGIN_DIR) / "fizz.so", dir.path() / "fizz-copy.so");
    plugin::Catalog catalog(dir.path(), plugin::FilePolicy{});
    catalog.rescan();
    REQUIRE(catalog.problems().size() == 1);
    CHECK_THAT(catalog.problems()[0].message, Contains("already taken"));
    try {
        catalog.find("fizz");
        FAIL("a duplicated name was accepted");
    } catch (const Error& e) {
        CHECK_THAT(e.what(), Contains("fizz.so") && Contains("fizz-copy.so") && Contains("several files"));
    }
}

TEST_CASE("as root, plugin files or folders writable by others or not owned by root are refused", "[unit]") {
    test::TempDir dir;
    auto file = dir.path() / "fizz.so";
    std::filesystem::copy_file(std::filesystem::path(FIZZHOST_PLUGIN_DIR) / "fizz.so", file);
    const plugin::FilePolicy strict{true};
    ::chmod(dir.path().c_str(), 0755);
    ::chmod(file.c_str(), 0644);
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    const bool rootOwned = st.st_uid == 0;
    if (rootOwned) CHECK_NOTHROW(plugin::Plugin::load(file, strict));

    // The rules themselves, on stat values as a root-owned file would have them: no privilege
    // needed to check them (a non-root user's own files would fail the owner rule first).
    ::chmod(file.c_str(), 0666);
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0666);
    st.st_uid = 0;
    CHECK_THROWS_WITH(plugin::checkOwnership(strict, file, st),
                      Contains("fizz.so") && Contains("writable by others") && Contains("0666"));
    st.st_mode = S_IFREG | 0664;
    CHECK_THROWS_WITH(plugin::checkOwnership(strict, file, st), Contains("writable by group"));
    st.st_mode = S_IFREG | 0644;
    st.st_uid = geteuid() + 1;  // another user than the one running the test (root's files are not it)
    CHECK_THROWS_WITH(plugin::checkOwnership(strict, file, st),
                      Contains("owned by uid " + std::to_string(st.st_uid) + ", not root"));
    st.st_mode = S_IFDIR | 0777;
    st.st_uid = 0;
    CHECK_THROWS_WITH(plugin::checkOwnership(strict, dir.path(), st), Contains("plugin folder"));
    // Relaxed for development: nothing is checked.
    CHECK_NOTHROW(plugin::checkOwnership(plugin::FilePolicy{false}, file, st));
    if (rootOwned && geteuid() == 0) {
        ::chmod(dir.path().c_str(), 0777);
        CHECK_THROWS_WITH(plugin::Plugin::load(file, strict), Contains("writable by others"));
    }
}

TEST_CASE("a rebuilt plugin file at the same path is really loaded anew", "[unit]") {
    // The loader keys modules by path and inode; the host loads a private copy so that a new build
    // dropped in place runs its new code. Swap fizz.so for fizzbuzz.so under one name and see.
    test::TempDir dir;
    auto file = dir.path() / "classifier.so";
    std::filesystem::copy_file(std::filesystem::path(FIZZHOST_PLUGIN_DIR) / "fizz.so", file);
    auto first = plugin::Plugin::load(file, plugin::FilePolicy{});
    REQUIRE(first->name() == "fizz");
    auto replacement = dir.path() / "new.so";
    std::filesystem::copy_file(std::filesystem::path(FIZZHOST_PLUGIN_DIR) / "fizzbuzz.so", replacement);
    std::filesystem::rename(replacement, file);
    auto second = plugin::Plugin::load(file, plugin::FilePolicy{});
    CHECK(second->name() == "fizzbuzz");
    CHECK(second->kinds().size() == 3);
    // The old module is still loaded and runs its own code while referenced: its decoder knows
    // kind 0 as Fizz and nothing else (names are copied at load, so comparing them proves nothing).
    fizzhost_event e{};
    const uint32_t fizzMsg[2] = {0, 3};
    REQUIRE(first->decode(fizzMsg, sizeof fizzMsg, e) == 0);
    CHECK(e.kind == 0);
    CHECK(e.src_addr == 3);
    const uint32_t msg[2] = {2, 15};
    CHECK(second->decode(msg, sizeof msg, e) == 0);
    CHECK(second->kindName(e.kind) == "FizzBuzz");
    CHECK(first->decode(msg, sizeof msg, e) == -EINVAL);  // fizz knows kind 0 only
}

// The host's own load path (not the bpf layer's helpers): a plugin built before the tc hook has a
// 16-byte configuration section and must still run on XDP, and be refused for tc before the kernel
// is asked, with the advice to rebuild.
TEST_CASE("the host loads a plugin built before the tc hook on XDP and refuses it for tc with the advice to rebuild",
          "[bpf]") {
    if (!requirePrivilege("load a pre-tc plugin through the host's classifier load")) return;
    plugin::Catalog catalog(kTestPlugins / "pre-tc-sdk", plugin::FilePolicy{});
    catalog.rescan();
    auto p = catalog.find("pre-tc-sdk");
    runtime::ClassifierOptions opts;
    opts.transport = FIZZ_TRANSPORT_QUEUE;
    auto xdp = runtime::Classifier::load(p, opts);
    CHECK(xdp->hook() == FIZZ_HOOK_XDP);
    const auto run = bpf::testRun(xdp->programFd(), test::FrameBuilder().ipv4(0xC6120003).udp().build());
    CHECK(run.retval == XDP_PASS);
    uint8_t msg[64] = {};
    REQUIRE(p->messageSize() <= sizeof msg);
    CHECK(bpf_map_lookup_and_delete_elem(xdp->queueFd(), nullptr, msg) == 0);  // it classified the frame

    opts.hook = FIZZ_HOOK_TC;
    try {
        runtime::Classifier::load(p, opts);
        FAIL("a plugin built before the tc hook was loaded for tc");
    } catch (const Error& e) {
        CHECK(e.code() == ENOTSUP);
        CHECK_THAT(e.what(), Contains("plugin 'pre-tc-sdk'"));
        CHECK_THAT(e.what(), Contains("built with an SDK without the tc hook"));
        CHECK_THAT(e.what(), Contains("rebuild it against this fizzhost's SDK"));
    }
}
