// The plugin ABI compatibility rule, branch by branch, and the plugins that prove it with real
// modules: one built from the frozen ABI 1.0 headers, one whose decoder throws, one whose metadata
// record and descriptor disagree.
#include "plugin/catalog.hpp"
#include "plugin/plugin.hpp"
#include "support/daemon_process.hpp"
#include "util/error.hpp"

#include <catch2/catch.hpp>

using namespace fizzhost;
using Catch::Matchers::Contains;

namespace {

const std::filesystem::path kPlugins = FIZZHOST_PLUGIN_DIR;
const std::filesystem::path kTestPlugins = FIZZHOST_TEST_PLUGIN_DIR;

const char* const kKinds[] = {"Fizz"};
const unsigned char kObject[] = {1};
int decode10(const void*, uint32_t, fizzhost_event*) { return 0; }
int decode11(const void*, uint32_t, fizzhost_event*, fizzhost_field_value*, uint32_t) { return 0; }

fizzhost_plugin_descriptor descriptor(uint16_t major, uint16_t minor, uint32_t size) {
    return {FIZZHOST_PLUGIN_MAGIC, major, minor, size, 0, "p", "1.0.0", "p_xdp", "fizz_events", 8, 1, kKinds,
            kObject, 1, decode10, 0, 0, nullptr, decode11};
}

std::string refusal(const fizzhost_plugin_descriptor& d) {
    try {
        plugin::Plugin::validate(d, "p.so");
    } catch (const Error& e) {
        return e.what();
    }
    return "accepted";
}

}  // namespace

TEST_CASE("ABI rule: same major, older or equal minor at exactly its own descriptor size", "[unit]") {
    const uint32_t size10 = FIZZHOST_DESCRIPTOR_SIZE_1_0, size11 = FIZZHOST_DESCRIPTOR_SIZE_1_1;
    REQUIRE(size10 < size11);
    CHECK(refusal(descriptor(1, 1, size11)) == "accepted");
    CHECK(refusal(descriptor(1, 0, size10)) == "accepted");  // an older minor is read as that minor
    // A size that is not the one its minor defines is refused, even when it is "big enough".
    CHECK_THAT(refusal(descriptor(1, 0, size11)),
               Contains("descriptor is " + std::to_string(size11) + " bytes, ABI 1.0 defines " + std::to_string(size10)));
    CHECK_THAT(refusal(descriptor(1, 1, size10)), Contains("ABI 1.1 defines " + std::to_string(size11)));
    // A newer minor: refused, naming both versions.
    CHECK_THAT(refusal(descriptor(1, 2, size11 + 8)),
               Contains("built for plugin ABI 1.2, newer than this host's ABI 1.1"));
    // Another major, older or newer.
    CHECK_THAT(refusal(descriptor(2, 0, size11)), Contains("built for plugin ABI 2.0, this host expects ABI 1.1"));
    CHECK_THAT(refusal(descriptor(0, 9, size11)), Contains("built for plugin ABI 0.9"));
    // A 1.1 descriptor must bring the 1.1 decoder; a 1.0 one is never asked for it.
    auto d = descriptor(1, 1, size11);
    d.decode_fields = nullptr;
    CHECK_THAT(refusal(d), Contains("no decode_fields"));
    d = descriptor(1, 0, size10);
    d.decode_fields = nullptr;
    d.field_count = 99;  // beyond a 1.0 descriptor: must not be read
    CHECK(refusal(d) == "accepted");
    // The metadata record follows the same rule; minor 0 has none.
    CHECK_THROWS_WITH(plugin::checkAbi(1, 0, 0, plugin::metadataSizes(), "metadata record", "f"),
                      Contains("ABI 1.0 has no metadata record"));
    CHECK_THROWS_WITH(plugin::checkAbi(1, 3, sizeof(fizzhost_plugin_metadata), plugin::metadataSizes(),
                                       "metadata record", "f"),
                      Contains("ABI 1.3, newer than this host's ABI 1.1"));
    CHECK_NOTHROW(plugin::checkAbi(1, 1, sizeof(fizzhost_plugin_metadata), plugin::metadataSizes(), "metadata record", "f"));
}

TEST_CASE("a plugin built from the frozen ABI 1.0 headers is listed by file name, loads when selected and decodes",
          "[unit]") {
    test::TempDir dir;
    std::filesystem::copy_file(kTestPlugins / "legacy" / "legacy.so", dir.path() / "legacy.so");
    std::filesystem::copy_file(kPlugins / "fizz.so", dir.path() / "fizz.so");
    plugin::Catalog catalog(dir.path(), plugin::FilePolicy{});
    catalog.rescan();
    REQUIRE(catalog.problems().empty());
    REQUIRE(catalog.entries().size() == 2);
    const auto& legacy = catalog.entries()[1];
    CHECK(legacy.name == "legacy");
    CHECK_FALSE(legacy.hasMetadata);
    CHECK(legacy.abiVersion() == "1.0");

    auto p = catalog.find("legacy");
    CHECK(p->abiVersion() == "1.0");
    CHECK(p->version() == "1.0.0");
    CHECK(p->kinds() == std::vector<std::string>{"Fizz"});
    CHECK(p->fields().empty());
    CHECK(!p->bpfObject().empty());
    fizzhost_event e{};
    const uint32_t msg[2] = {0, 0xC6120003};
    CHECK(p->decode(msg, sizeof msg, e) == 0);
    CHECK(e.src_addr == 0xC6120003);
    const uint32_t bad[2] = {5, 1};
    CHECK(p->decode(bad, sizeof bad, e) == -EINVAL);
    CHECK_THROWS_WITH(catalog.find("legacy@1.0.0"), Contains("has no version 1.0.0"));

    // Renamed, its descriptor no longer matches the name it was listed under: refused.
    std::filesystem::rename(dir.path() / "legacy.so", dir.path() / "other.so");
    catalog.rescan();
    CHECK_THROWS_WITH(catalog.find("other"), Contains("descriptor names plugin 'legacy'"));
}

TEST_CASE("a decoder that throws is stopped at the ABI boundary and reported as such", "[unit]") {
    auto p = plugin::Plugin::load(kTestPlugins / "throws" / "throws.so", plugin::FilePolicy{});
    fizzhost_event e{};
    const uint32_t even[2] = {0, 0xC6120002}, odd[2] = {0, 0xC6120003};
    CHECK(p->decode(even, sizeof even, e) == 0);
    CHECK(p->decode(odd, sizeof odd, e) == FIZZHOST_DECODE_THREW);
    CHECK(p->decode(even, sizeof even, e) == 0);  // and the module still works afterwards
}

TEST_CASE("a module whose descriptor disagrees with its metadata record is refused when selected", "[unit]") {
    plugin::Catalog catalog(kTestPlugins / "disagree", plugin::FilePolicy{});
    catalog.rescan();
    REQUIRE(catalog.entries().size() == 1);
    CHECK(catalog.entries()[0].ref() == "disagree@9.9.9");
    CHECK_THROWS_WITH(catalog.find("disagree"),
                      Contains("disagree.so") && Contains("descriptor disagrees with the metadata record: version "
                                                          "'1.0.0' vs '9.9.9'"));
}

TEST_CASE("loading every listed plugin leaves out one that fails and reports it", "[unit]") {
    test::TempDir dir;
    std::filesystem::copy_file(kTestPlugins / "disagree" / "disagree.so", dir.path() / "disagree.so");
    std::filesystem::copy_file(kPlugins / "fizz.so", dir.path() / "fizz.so");
    plugin::Catalog catalog(dir.path(), plugin::FilePolicy{});
    catalog.rescan();
    REQUIRE(catalog.problems().empty());
    auto loaded = catalog.plugins();
    REQUIRE(loaded.size() == 1);
    CHECK(loaded[0]->name() == "fizz");
    REQUIRE(catalog.problems().size() == 1);
    CHECK_THAT(catalog.problems()[0].message, Contains("disagrees with the metadata record"));
}
