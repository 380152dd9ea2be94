// ABI 1.0 modules as first-class plugins: two versions of "parity" built from the frozen 1.0
// headers, under file names that say nothing (parity-1.1.0.so holds 1.2.0, x.so holds 1.1.0). A
// confined worker reads each descriptor when the folder is listed, so both are listed under their
// real name and version, NAME@VERSION finds each, `fizzhost plugins` shows them, and nothing of
// theirs ran as root (their constructor would leave a marker file; it ran as nobody).
#include "decoder/decoder_service.hpp"
#include "decoder/legacy_describer.hpp"
#include "support/cli_run.hpp"
#include "support/privilege.hpp"
#include "unit/decoder_harness.hpp"
#include "util/error.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <pwd.h>

#include <fstream>

using namespace fizzhost;
using namespace fizzhost::test;
using Catch::Matchers::Contains;

namespace {

const std::filesystem::path kPair = std::filesystem::path(FIZZHOST_TEST_PLUGIN_DIR) / "legacy-pair";
const std::filesystem::path kMarker = FIZZHOST_LEGACY_MARKER;

// The two modules in a folder of their own, with fizz 1.0.0 (ABI 1.1) beside them.
void fillFolder(const std::filesystem::path& dir) {
    std::filesystem::copy_file(kPair / "parity-1.1.0.so", dir / "parity-1.1.0.so");
    std::filesystem::copy_file(kPair / "x.so", dir / "x.so");
    std::filesystem::copy_file(std::filesystem::path(FIZZHOST_PLUGIN_DIR) / "fizz.so", dir / "fizz.so");
}

// Whether this process has a module of that file name mapped (an in-process load's memfd is
// named "fizzplugin:<file>").
bool mappedHere(const std::string& file) {
    std::ifstream maps("/proc/self/maps");
    for (std::string line; std::getline(maps, line);)
        if (line.find("fizzplugin:" + file) != std::string::npos) return true;
    return false;
}

}  // namespace

TEST_CASE("two ABI 1.0 versions under odd file names are listed by their real name and version", "[decoder]") {
    if (!requirePrivilege("describe ABI 1.0 modules in confined workers (chroot, setuid)")) return;
    std::filesystem::remove(kMarker);
    TempDir root, dir;
    fillFolder(dir.path());
    const auto settings = testDecoderSettings(root);
    size_t described = 0;
    plugin::CatalogOptions options;
    auto describe = decoder::legacyDescriber(settings, false);
    REQUIRE(describe);
    options.describe = [&](const plugin::ModuleFile& m, const std::string& sha) {
        ++described;
        return describe(m, sha);
    };
    options.code = plugin::LoadCode::None;
    plugin::Catalog catalog(dir.path(), plugin::FilePolicy{}, options);
    catalog.rescan();
    INFO((catalog.problems().empty() ? "" : catalog.problems().front().message));
    REQUIRE(catalog.problems().empty());
    std::vector<std::string> refs;
    for (const auto& e : catalog.entries()) refs.push_back(e.ref());
    CHECK(refs == std::vector<std::string>{"fizz@1.0.0", "parity@1.2.0", "parity@1.1.0"});
    const auto& newest = catalog.entries()[1];
    CHECK(newest.described);
    CHECK_FALSE(newest.hasMetadata);
    CHECK(newest.abiVersion() == "1.0");
    CHECK(newest.program == "fizz_xdp");
    CHECK(newest.messageSize == 8);
    CHECK(newest.kinds == std::vector<std::string>{"Fizz"});
    CHECK(described == 2);

    CHECK(catalog.find("parity@1.1.0")->path().filename() == "x.so");
    CHECK(catalog.find("parity@1.2.0")->path().filename() == "parity-1.1.0.so");
    CHECK(catalog.find("parity")->version() == "1.2.0");
    CHECK_THROWS_WITH(catalog.find("parity@1.0.0"), Contains("has no version 1.0.0") && Contains("1.2.0, 1.1.0"));
    // The BPF object came back from the worker: what the descriptor points at, a whole ELF object.
    const auto object = catalog.find("parity@1.1.0")->bpfObject();
    REQUIRE(object.size() > 64);
    CHECK(std::string(object.begin(), object.begin() + 4) == "\x7f" "ELF");

    // A rescan of unchanged files starts no worker.
    catalog.rescan();
    CHECK(described == 2);
    // Nothing of theirs ran here, and what ran elsewhere could not write the marker.
    CHECK_FALSE(mappedHere("x.so"));
    CHECK_FALSE(mappedHere("parity-1.1.0.so"));
    CHECK_FALSE(std::filesystem::exists(kMarker));

    // Decoding goes through a confined worker too; the marked message reports the constructor's uid.
    decoder::DecoderService service(settings);
    auto channel = service.open(catalog.find("parity@1.1.0"));
    auto results = decodeAll(service, {channel.get()}, {{{0, 0xC6120003}, {0, kMarked}}})[0];
    REQUIRE(results.size() == 2);
    CHECK(results[0].src == 0xC6120003);
    CHECK(results[1].src == ::getpwnam("nobody")->pw_uid);
    CHECK_FALSE(std::filesystem::exists(kMarker));
}

TEST_CASE("the marker check can fail: loading an ABI 1.0 module in process runs its constructor as root", "[decoder]") {
    if (!requirePrivilege("compare with a root process")) return;
    std::filesystem::remove(kMarker);
    TempDir dir;
    fillFolder(dir.path());
    plugin::Catalog catalog(dir.path(), plugin::FilePolicy{});  // no describer, code in process
    catalog.rescan();
    // Without a describer the module whose file name is no plugin name is refused, as before.
    CHECK_THAT(catalog.problems().at(0).message, Contains("plugin name 'parity-1.1.0' is not [A-Za-z0-9_-]{1,63}"));
    // Known by its file name, read by running it here: refused, but only after its constructor ran.
    CHECK_THROWS_WITH(catalog.find("x"), Contains("descriptor names plugin 'parity'"));
    CHECK(std::filesystem::exists(kMarker));
    std::filesystem::remove(kMarker);
}

TEST_CASE("fizzhost plugins lists ABI 1.0 modules by their real name and version", "[decoder]") {
    if (!requirePrivilege("describe ABI 1.0 modules in confined workers (chroot, setuid)")) return;
    std::filesystem::remove(kMarker);
    TempDir dir;  // the command's workers use $FIZZHOST_DECODER_ROOT, which the test binary sets
    fillFolder(dir.path());
    const auto r = runFizzhost({"plugins", "--plugin-dir", dir.path().string(), "--json"});
    INFO(r.err);
    CHECK(r.status == 0);
    const auto json = nlohmann::json::parse(r.out);
    std::vector<std::string> listed;
    for (const auto& p : json["plugins"])
        listed.push_back(p["name"].get<std::string>() + "@" + p["version"].get<std::string>() + " " +
                         std::filesystem::path(p["file"].get<std::string>()).filename().string() + " " +
                         p["abi"].get<std::string>());
    CHECK(listed == std::vector<std::string>{"fizz@1.0.0 fizz.so 1.1", "parity@1.2.0 parity-1.1.0.so 1.0",
                                             "parity@1.1.0 x.so 1.0"});
    CHECK(json["problems"].empty());
    const auto text = runFizzhost({"plugins", "--plugin-dir", dir.path().string()});
    // NAME, VERSION, ABI, the module's SHA-256 prefix, KINDS.
    CHECK_THAT(text.out, Catch::Matches("[^]*\\nparity +1\\.2\\.0 +1\\.0 +[0-9a-f]{12} Fizz [^]*"));
    CHECK_FALSE(std::filesystem::exists(kMarker));
}
