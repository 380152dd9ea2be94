// The plugin catalog reads plugins without running them: truncated, empty, garbage files, FIFOs and
// symlinks are refused with clear messages; a module's constructor never runs when listed; several
// versions of one plugin sit side by side and are found by NAME or NAME@VERSION.
#include "plugin/catalog.hpp"
#include "support/daemon_process.hpp"
#include "util/error.hpp"
#include "util/plugin_ref.hpp"
#include "util/semver.hpp"

#include <catch2/catch.hpp>
#include <elf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

using namespace fizzhost;
using Catch::Matchers::Contains;

namespace {

const std::filesystem::path kPlugins = FIZZHOST_PLUGIN_DIR;
const std::filesystem::path kTestPlugins = FIZZHOST_TEST_PLUGIN_DIR;

std::string problemFor(const plugin::Catalog& c, const std::string& filename) {
    for (const auto& p : c.problems())
        if (p.file.filename() == filename) return p.message;
    return "(no problem reported for " + filename + ")";
}

std::vector<std::string> refs(const plugin::Catalog& c) {
    std::vector<std::string> out;
    for (const auto& e : c.entries()) out.push_back(e.ref());
    return out;
}

void writeBytes(const std::filesystem::path& p, const std::string& bytes) {
    std::ofstream(p, std::ios::binary) << bytes;
}

}  // namespace

TEST_CASE("a truncated copy of a plugin is refused with where it ends; the other plugins still list", "[unit]") {
    test::TempDir dir;
    std::filesystem::copy_file(kPlugins / "fizz.so", dir.path() / "fizz.so");
    const auto full = std::filesystem::file_size(kPlugins / "fizzbuzz.so");
    for (uintmax_t cut : {full / 2, full - 1, uintmax_t(40)}) {
        {
            std::ifstream in(kPlugins / "fizzbuzz.so", std::ios::binary);
            std::string bytes(cut, '\0');
            in.read(bytes.data(), std::streamsize(cut));
            writeBytes(dir.path() / "fizzbuzz.so", bytes);
        }
        plugin::Catalog catalog(dir.path(), plugin::FilePolicy{});
        REQUIRE_NOTHROW(catalog.rescan());
        CHECK(refs(catalog) == std::vector<std::string>{"fizz@1.0.0"});
        auto msg = problemFor(catalog, "fizzbuzz.so");
        INFO("cut at " << cut);
        CHECK_THAT(msg, Contains("fizzbuzz.so") && Contains("truncated: ") &&
                            Contains("file has " + std::to_string(cut) + " bytes"));
        CHECK(catalog.find("fizz")->name() == "fizz");
    }
}

TEST_CASE("empty, garbage and non-regular files in the plugin folder get messages that say what they are", "[unit]") {
    test::TempDir dir;
    writeBytes(dir.path() / "empty.so", "");
    writeBytes(dir.path() / "garbage.so", "this is no module\n");
    writeBytes(dir.path() / "script.so", "\x7f" "ELF");
    REQUIRE(::mkfifo((dir.path() / "x.so").c_str(), 0644) == 0);  // opening it blocking would hang forever
    std::filesystem::create_directory(dir.path() / "folder.so");
    std::filesystem::create_symlink(kPlugins / "fizz.so", dir.path() / "link.so");

    plugin::Catalog catalog(dir.path(), plugin::FilePolicy{});
    catalog.rescan();
    CHECK(catalog.entries().empty());
    CHECK_THAT(problemFor(catalog, "empty.so"), Contains("is empty (0 bytes)"));
    CHECK_THAT(problemFor(catalog, "garbage.so"), Contains("not an ELF file (starts with 74 68 69 73"));
    CHECK_THAT(problemFor(catalog, "script.so"), Contains("another word size") || Contains("truncated"));
    CHECK_THAT(problemFor(catalog, "x.so"), Contains("is a FIFO, not a regular file"));
    CHECK_THAT(problemFor(catalog, "folder.so"), Contains("is a folder, not a regular file"));
    CHECK_THAT(problemFor(catalog, "link.so"), Contains("is a symbolic link"));
    for (const auto& p : catalog.problems()) {
        CHECK_THAT(p.message, !Contains("Bad file descriptor"));
        CHECK_THAT(p.message, !Contains("ELOOP"));
    }
}

TEST_CASE("a symlinked plugin folder is listed and judged along its real path", "[unit]") {
    test::TempDir dir;
    auto real = dir.path() / "real";
    std::filesystem::create_directory(real);
    std::filesystem::copy_file(kPlugins / "fizz.so", real / "fizz.so");
    std::filesystem::create_symlink(real, dir.path() / "plugins");

    plugin::Catalog relaxed(dir.path() / "plugins", plugin::FilePolicy{});
    relaxed.rescan();
    CHECK(refs(relaxed) == std::vector<std::string>{"fizz@1.0.0"});
    CHECK(relaxed.entries()[0].path.parent_path() == std::filesystem::canonical(real));

    // The real folder is writable by others: the strict policy must see that through the link.
    ::chmod(real.c_str(), 0777);
    plugin::Catalog strict(dir.path() / "plugins", plugin::FilePolicy{true});
    try {
        strict.rescan();
        FAIL("a world-writable folder behind a symlink was accepted");
    } catch (const Error& e) {
        CHECK_THAT(e.what(), Contains(std::filesystem::canonical(real).string()));
    }
    ::chmod(real.c_str(), 0755);
}

TEST_CASE("listing a plugin folder runs no module code; selecting a plugin does", "[unit]") {
    test::TempDir dir;
    auto marker = dir.path() / "constructor-ran";
    ::setenv("FIZZTEST_MARKER", marker.c_str(), 1);
    auto plugins = dir.path() / "plugins";
    std::filesystem::create_directory(plugins);
    std::filesystem::copy_file(kTestPlugins / "marker" / "marker.so", plugins / "marker.so");
    std::filesystem::copy_file(kPlugins / "fizz.so", plugins / "fizz.so");

    plugin::Catalog catalog(plugins, plugin::FilePolicy{});
    catalog.rescan();
    CHECK(refs(catalog) == std::vector<std::string>{"fizz@1.0.0", "marker@1.0.0"});
    catalog.find("fizz");
    catalog.rescan();
    CHECK_FALSE(std::filesystem::exists(marker));

    // The real binary too, as a user runs it.
    test::DaemonProcess p({FIZZHOST_BINARY, "plugins", "--json", "--plugin-dir", plugins.string()});
    auto st = p.waitExit(std::chrono::seconds(30));
    REQUIRE(st);
    CHECK(*st == 0);
    CHECK_THAT(p.stdoutText(), Contains("\"marker\""));
    CHECK_FALSE(std::filesystem::exists(marker));

    // Selecting it loads it: the marker appears (this is what makes the checks above able to fail).
    catalog.find("marker");
    CHECK(std::filesystem::exists(marker));
    ::unsetenv("FIZZTEST_MARKER");
}

TEST_CASE("versions of one plugin side by side: NAME is the highest, NAME@VERSION exactly that one", "[unit]") {
    test::TempDir dir;
    std::filesystem::copy_file(kPlugins / "fizz.so", dir.path() / "fizz-1.0.0.so");
    std::filesystem::copy_file(kTestPlugins / "fizz-1.1.0" / "fizz.so", dir.path() / "fizz-1.1.0.so");
    std::filesystem::copy_file(kPlugins / "fizzbuzz.so", dir.path() / "fizzbuzz.so");
    plugin::Catalog catalog(dir.path(), plugin::FilePolicy{});
    catalog.rescan();
    CHECK(catalog.problems().empty());
    CHECK(refs(catalog) == std::vector<std::string>{"fizz@1.1.0", "fizz@1.0.0", "fizzbuzz@2.0.0"});

    auto latest = catalog.find("fizz");
    CHECK(latest->version() == "1.1.0");
    auto old = catalog.find("fizz@1.0.0");
    CHECK(old->version() == "1.0.0");
    CHECK(old != latest);
    CHECK(catalog.find("fizz@1.1.0") == latest);  // cached: one module per file
    catalog.rescan();
    CHECK(catalog.find("fizz@1.1.0") == latest);  // kept across a rescan while the file is unchanged

    CHECK_THROWS_WITH(catalog.find("fizz@2.0.0"),
                      Contains("plugin 'fizz' has no version 2.0.0") && Contains("found: 1.1.0, 1.0.0"));
    CHECK_THROWS_WITH(catalog.find("fizz@1.0"), Contains("is not semver"));
    CHECK_THROWS_WITH(catalog.find("fi zz"), Contains("is not [A-Za-z0-9_-]"));

    // The same name and version twice: both files named, that version refused, others still fine.
    std::filesystem::copy_file(kPlugins / "fizz.so", dir.path() / "fizz-again.so");
    catalog.rescan();
    CHECK_THAT(problemFor(catalog, "fizz-again.so"), Contains("'fizz@1.0.0' is already taken"));
    CHECK_THROWS_WITH(catalog.find("fizz@1.0.0"), Contains("fizz-1.0.0.so") && Contains("fizz-again.so") &&
                                                      Contains("several files"));
    CHECK(catalog.find("fizz")->version() == "1.1.0");
}

TEST_CASE("semver precedence orders versions, pre-releases included", "[unit]") {
    auto v = [](const char* s) {
        auto p = SemVer::parse(s);
        REQUIRE(p);
        return *p;
    };
    const char* ordered[] = {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
                             "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.2.0", "1.10.0", "2.0.0"};
    for (size_t i = 0; i + 1 < std::size(ordered); ++i) {
        INFO(ordered[i] << " < " << ordered[i + 1]);
        CHECK(compare(v(ordered[i]), v(ordered[i + 1])) < 0);
        CHECK(compare(v(ordered[i + 1]), v(ordered[i])) > 0);
    }
    CHECK(compare(v("1.0.0+build.5"), v("1.0.0")) == 0);
    for (const char* bad : {"1.0", "1.0.0-", "01.0.0", "1.0.0-01", "1.0.0-a..b", "v1.0.0", ""})
        CHECK_FALSE(SemVer::parse(bad));
    CHECK(parsePluginRef("primes@1.1.0")->version == "1.1.0");
    CHECK_FALSE(parsePluginRef("primes")->version);
    CHECK_FALSE(parsePluginRef("primes@latest"));
}

TEST_CASE("the metadata reader survives corrupted and cut modules: an error or a valid record, never a crash",
          "[unit]") {
    plugin::ModuleFile good;
    {
        std::ifstream in(kPlugins / "fizzbuzz.so", std::ios::binary);
        good.bytes.assign(std::istreambuf_iterator<char>(in), {});
        good.path = "fizzbuzz.so";
    }
    REQUIRE(good.bytes.size() > 4096);
    auto readAll = [](const plugin::ModuleFile& m) -> std::string {
        try {
            auto info = plugin::readPluginInfo(m, plugin::inspectElf(m.bytes, "f"));
            return "ok " + info.ref();
        } catch (const Error& e) {
            return e.what();
        }
    };
    CHECK(readAll(good) == "ok fizzbuzz@2.0.0");
    // Every cut point on a coarse grid: each one names what is missing.
    for (size_t cut = 0; cut < good.bytes.size(); cut += good.bytes.size() / 97 + 1) {
        plugin::ModuleFile m = good;
        m.bytes.resize(cut);
        auto r = readAll(m);
        INFO("cut at " << cut << ": " << r);
        CHECK(r.rfind("ok ", 0) != 0);
    }
    // A section that claims more bytes than the file has is named.
    {
        plugin::ModuleFile m = good;
        Elf64_Ehdr eh;
        std::memcpy(&eh, m.bytes.data(), sizeof eh);
        const auto elf = plugin::inspectElf(good.bytes, "f");  // owns what find() points into
        const auto* bpfObject = elf.find(FIZZHOST_OBJECT_SECTION);
        REQUIRE(bpfObject);
        for (size_t i = 0; i < eh.e_shnum; ++i) {
            Elf64_Shdr sh;
            std::memcpy(&sh, m.bytes.data() + eh.e_shoff + i * sizeof sh, sizeof sh);
            if (sh.sh_offset != bpfObject->offset || sh.sh_type != SHT_PROGBITS) continue;
            sh.sh_size = m.bytes.size();
            std::memcpy(m.bytes.data() + eh.e_shoff + i * sizeof sh, &sh, sizeof sh);
        }
        CHECK(readAll(m) == "f: truncated: section '.fizzhost.bpf' ends at " +
                                std::to_string(bpfObject->offset + m.bytes.size()) + ", file has " +
                                std::to_string(m.bytes.size()) +
                                " bytes (a partial copy? install plugins by copying to a temporary name and renaming)");
    }
    // Random corruption of headers and the metadata record (fixed seed: reproducible).
    uint64_t state = 0x9e3779b97f4a7c15ull;
    auto next = [&] {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    };
    size_t accepted = 0;
    const auto elf = plugin::inspectElf(good.bytes, "f");
    const auto* meta = elf.find(FIZZHOST_METADATA_SECTION);
    REQUIRE(meta);
    for (int round = 0; round < 3000; ++round) {
        plugin::ModuleFile m = good;
        for (int k = 0; k < 4; ++k) {
            const uint64_t r = next();
            // Half the flips in the ELF header and program headers, half in the metadata record.
            const size_t at = (r & 1) ? (r >> 8) % 512 : meta->offset + (r >> 8) % meta->size;
            m.bytes[at] ^= uint8_t(1u << ((r >> 4) & 7));
        }
        accepted += readAll(m).rfind("ok ", 0) == 0;
    }
    INFO("corrupted copies still accepted: " << accepted);
    CHECK(accepted < 3000);
}
